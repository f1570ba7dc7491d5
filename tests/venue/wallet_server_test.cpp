// The simulator wallet's HTTP listener over a real loopback socket: a
// request is answered once complete (body by Content-Length, header names in
// any case) and the connection closed; malformed and oversized requests get
// 400 and 413 instead of a handler call.

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

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
