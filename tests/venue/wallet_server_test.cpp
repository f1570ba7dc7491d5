// The simulator wallet's HTTP listener over a real loopback socket: a
// request is answered once complete (body by Content-Length, header names in
// any case) and the connection closed; malformed and oversized requests get
// 400 and 413 instead of a handler call. Connections are bounded in time and
// number: the deadline tests hand the server its clock (`now`), so what is
// closed when is decided by the test, not by how fast this machine is; and a
// client hanging up before its answer is written does not end the process.

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/default_sigpipe.hpp"
#include "synthusd/venue/wallet_server.hpp"

namespace synthusd::venue {
namespace {

class WalletServerTest : public ::testing::Test {
protected:
  // Sends `request` (in pieces of `piece` bytes, the server polled between
  // them) and returns everything the server wrote before closing.
  std::string exchange(const std::string& request, std::size_t piece = 1 << 20) {
    const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(server_.port());
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(client, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
    for (std::size_t at = 0; at < request.size(); at += piece) {
      const std::string part = request.substr(at, piece);
      // The server may close early (413): a failed send ends the request.
      if (::send(client, part.data(), part.size(), MSG_NOSIGNAL) < 0) {
        break;
      }
      serve_once(20);
    }
    std::string answer;
    for (;;) {
      serve_once(20);
      pollfd readable{client, POLLIN, 0};
      if (::poll(&readable, 1, 20) <= 0) {
        continue; // waits on the condition (data or close), no fixed sleep
      }
      char buffer[4096];
      const ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
      if (n <= 0) {
        break;
      }
      answer.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(client);
    return answer;
  }

  void serve_once(int timeout_ms) {
    std::vector<pollfd> fds;
    server_.add_poll_fds(fds);
    if (::poll(fds.data(), fds.size(), timeout_ms) > 0) {
      server_.handle_ready(fds, [this](const WalletRequest& request) {
        seen_.push_back(request);
        return WalletAnswer{200, R"({"ok":true})"};
      });
    }
  }

  WalletServer server_{0};
  std::vector<WalletRequest> seen_;
};

TEST_F(WalletServerTest, ACompleteRequestReachesTheHandlerAndIsAnsweredThenClosed) {
  const std::string answer = exchange("POST /chain/broadcast HTTP/1.1\r\nHost: x\r\ncontent-LENGTH: 5\r\n"
                                      "AUTHORIZATION: Basic abc\r\n\r\nhello",
                                      7);
  ASSERT_EQ(seen_.size(), 1U);
  EXPECT_EQ(seen_[0].method, "POST");
  EXPECT_EQ(seen_[0].target, "/chain/broadcast");
  EXPECT_EQ(seen_[0].authorization, "Basic abc");
  EXPECT_EQ(seen_[0].body, "hello");
  EXPECT_EQ(answer.rfind("HTTP/1.1 200 OK\r\n", 0), 0U) << answer;
  EXPECT_NE(answer.find("Content-Length: 11\r\n"), std::string::npos);
  EXPECT_EQ(answer.substr(answer.size() - 11), R"({"ok":true})");
}

TEST_F(WalletServerTest, AMalformedRequestLineOrLengthIsAnswered400WithoutTheHandler) {
  EXPECT_EQ(exchange("NONSENSE\r\n\r\n").rfind("HTTP/1.1 400 ", 0), 0U);
  EXPECT_EQ(exchange("GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n").rfind("HTTP/1.1 400 ", 0), 0U);
  EXPECT_EQ(exchange("GET / HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n").rfind("HTTP/1.1 400 ", 0), 0U);
  EXPECT_TRUE(seen_.empty());
}

TEST_F(WalletServerTest, AnOversizedRequestIsAnswered413WithoutTheHandler) {
  const std::string huge = "GET / HTTP/1.1\r\nX-Padding: " + std::string(WalletServer::kMaxRequestBytes + 9000, 'a');
  EXPECT_EQ(exchange(huge, 16384).rfind("HTTP/1.1 413 ", 0), 0U);
  EXPECT_TRUE(seen_.empty());
}

} // namespace
} // namespace synthusd::venue

namespace synthusd::venue {
namespace {

using namespace std::chrono_literals;
using Clock = WalletServer::Clock;

constexpr std::chrono::milliseconds kTimeout = 200ms;
// Only bounds how long a broken server is waited for (rounds of 20 ms).
constexpr int kGenerousRounds = 500;

int connect_to(std::uint16_t port) {
  const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(client, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  return client;
}

enum class Peer { open, closed };

// What the client can tell without waiting: the server closed (end of
// stream or reset) or not. Bytes the server sent are consumed into `received`.
Peer peer_state(int client, std::string* received = nullptr) {
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::recv(client, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n > 0) {
      if (received != nullptr) {
        received->append(buffer, static_cast<std::size_t>(n));
      }
      continue;
    }
    if (n == 0 || errno == ECONNRESET) {
      return Peer::closed;
    }
    return Peer::open; // EAGAIN: nothing yet, still connected
  }
}

class WalletServerDeadlineTest : public ::testing::Test {
protected:
  // One round of the owner's loop at the simulated time `now`.
  void serve_at(Clock::time_point now) {
    std::vector<pollfd> fds;
    server_.add_poll_fds(fds);
    if (::poll(fds.data(), fds.size(), 20) > 0) {
      server_.handle_ready(fds, handler(), now);
    }
  }

  [[nodiscard]] WalletServer::Handler handler() {
    return [this](const WalletRequest& request) {
      seen_.push_back(request);
      return WalletAnswer{200, R"({"ok":true})"};
    };
  }

  // Serves at `now` until `done` holds; false if it never does.
  template <typename Done>
  bool serve_until(Clock::time_point now, Done done) {
    for (int round = 0; round < kGenerousRounds; ++round) {
      if (done()) {
        return true;
      }
      serve_at(now);
    }
    return done();
  }

  // Connects and serves at `now` until the server holds the connection.
  int accepted_client(Clock::time_point now) {
    const std::size_t before = server_.open_connections();
    const int client = connect_to(server_.port());
    EXPECT_TRUE(serve_until(now, [&] { return server_.open_connections() > before; }));
    return client;
  }

  // Waits (bounded) until the server has closed `client`; what it wrote is
  // returned.
  std::string wait_closed(int client, Clock::time_point now) {
    std::string received;
    EXPECT_TRUE(serve_until(now, [&] {
      pollfd readable{client, POLLIN, 0};
      ::poll(&readable, 1, 0);
      return peer_state(client, &received) == Peer::closed;
    })) << "the server never closed the connection";
    return received;
  }

  WalletServer server_{0, {}, {}, kTimeout};
  std::vector<WalletRequest> seen_;
  const Clock::time_point start_ = Clock::now();
};

TEST_F(WalletServerDeadlineTest, ASilentClientIsClosedAtItsDeadlineAndAnotherIsServedMeanwhile) {
  const int silent = accepted_client(start_);
  EXPECT_EQ(server_.next_deadline(), start_ + kTimeout);

  // A second client, served while the silent one holds its slot.
  const Clock::time_point meanwhile = start_ + kTimeout / 2;
  const int other = accepted_client(meanwhile);
  const std::string request = "GET /chain/transactions HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(other, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
  const std::string answer = wait_closed(other, meanwhile);
  EXPECT_EQ(answer.rfind("HTTP/1.1 200 OK\r\n", 0), 0U) << answer;
  ASSERT_EQ(seen_.size(), 1U);
  ::close(other);

  // Not before its deadline, and closed at it.
  server_.close_expired(start_ + kTimeout - 1ms);
  EXPECT_EQ(peer_state(silent), Peer::open);
  EXPECT_EQ(server_.timed_out_connections(), 0U);
  server_.close_expired(start_ + kTimeout);
  EXPECT_EQ(server_.timed_out_connections(), 1U);
  EXPECT_EQ(server_.open_connections(), 0U);
  EXPECT_FALSE(server_.next_deadline().has_value());
  EXPECT_EQ(wait_closed(silent, start_ + kTimeout), "") << "closed without an answer";
  ::close(silent);
}

TEST_F(WalletServerDeadlineTest, HalfARequestIsClosedAtTheDeadlineWithoutReachingTheHandler) {
  const std::string halves[] = {
      "POST /chain/broadcast HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n{\"txid\":", // body cut short
      "GET /api/v2/private/get_deposits?currency=BTC HTTP/1.1\r\nHost:",                   // head cut short
  };
  for (const std::string& half : halves) {
    const Clock::time_point accepted = Clock::now();
    const int client = accepted_client(accepted);
    ASSERT_EQ(::send(client, half.data(), half.size(), MSG_NOSIGNAL), static_cast<ssize_t>(half.size()));
    // Read and found incomplete: kept, unanswered, until the deadline.
    serve_at(accepted);
    serve_at(accepted);
    EXPECT_EQ(peer_state(client), Peer::open);
    server_.close_expired(accepted + kTimeout);
    EXPECT_EQ(wait_closed(client, accepted + kTimeout), "") << half;
    ::close(client);
  }
  EXPECT_TRUE(seen_.empty());
  EXPECT_EQ(server_.timed_out_connections(), 2U);
}

TEST_F(WalletServerDeadlineTest, AtTheCapNewClientsAreRefusedUntilTheDeadlineFreesTheSlots) {
  std::vector<int> silent;
  for (std::size_t i = 0; i < WalletServer::kMaxConnections; ++i) {
    silent.push_back(accepted_client(start_));
  }
  // One more: accepted and closed at once, counted.
  const int refused = connect_to(server_.port());
  EXPECT_TRUE(serve_until(start_, [&] { return server_.refused_connections() == 1; }));
  EXPECT_EQ(wait_closed(refused, start_), "");
  ::close(refused);
  EXPECT_EQ(server_.open_connections(), WalletServer::kMaxConnections);

  server_.close_expired(start_ + kTimeout);
  EXPECT_EQ(server_.timed_out_connections(), WalletServer::kMaxConnections);
  for (const int client : silent) {
    EXPECT_EQ(wait_closed(client, start_ + kTimeout), "");
    ::close(client);
  }

  // The slots are free again: a client is served.
  const int client = accepted_client(start_ + kTimeout);
  const std::string request = "GET /chain/transactions HTTP/1.1\r\n\r\n";
  ASSERT_EQ(::send(client, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
  EXPECT_EQ(wait_closed(client, start_ + kTimeout).rfind("HTTP/1.1 200 OK\r\n", 0), 0U);
  ::close(client);
  EXPECT_EQ(seen_.size(), 1U);
  EXPECT_EQ(server_.refused_connections(), 1U);
}

TEST(WalletServerTimeout, AnIdleTimeoutNotAboveZeroIsRefused) {
  EXPECT_THROW(WalletServer(0, {}, {}, 0ms), std::invalid_argument);
  EXPECT_THROW(WalletServer(0, {}, {}, -1ms), std::invalid_argument);
}

TEST_F(WalletServerDeadlineTest, AClientHangingUpBeforeItsAnswerIsWrittenDoesNotEndTheProcess) {
  // Without MSG_NOSIGNAL on the answer's send, this process dies of SIGPIPE here.
  const test_support::DefaultSigpipe default_sigpipe;
  const int client = accepted_client(start_);
  const std::string request = "GET /chain/transactions HTTP/1.1\r\n\r\n";
  ASSERT_EQ(::send(client, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
  bool hung_up = false;
  const WalletServer::Handler hang_up = [&](const WalletRequest& request_seen) {
    // Between the server reading the request and writing the answer.
    test_support::hang_up_after_fin(client);
    hung_up = true;
    seen_.push_back(request_seen);
    return WalletAnswer{200, R"({"ok":true})"};
  };
  for (int round = 0; round < kGenerousRounds && server_.open_connections() > 0; ++round) {
    std::vector<pollfd> fds;
    server_.add_poll_fds(fds);
    if (::poll(fds.data(), fds.size(), 20) > 0) {
      server_.handle_ready(fds, hang_up, start_);
    }
  }
  ASSERT_TRUE(hung_up);
  EXPECT_EQ(server_.open_connections(), 0U) << "the failed write closed the connection";

  // Still serving.
  const int next = accepted_client(start_);
  ASSERT_EQ(::send(next, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
  EXPECT_EQ(wait_closed(next, start_).rfind("HTTP/1.1 200 OK\r\n", 0), 0U);
  ::close(next);
  EXPECT_EQ(seen_.size(), 2U);
}

} // namespace
} // namespace synthusd::venue
