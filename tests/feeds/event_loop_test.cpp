#include "synthusd/feeds/event_loop.hpp"

#include "support/allocation_counter.hpp"
#include "synthusd/feeds/websocket_codec.hpp"
#include "transport_test_support.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace synthusd::feeds {
namespace {

using namespace std::chrono_literals;
using test::run_for;
using test::run_until;

// A loopback TCP listener driven with plain non-blocking system calls, so the
// loop under test is the only io_uring in play.
class Listener {
public:
  explicit Listener(int family, int receive_buffer = 0) : family_(family) {
    fd_ = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (receive_buffer > 0) {
      // Inherited by accepted sockets: a small window forces partial sends.
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
    }
    if (family == AF_INET) {
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    } else {
      sockaddr_in6 address{};
      address.sin6_family = AF_INET6;
      address.sin6_addr = in6addr_loopback;
      EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    }
    EXPECT_EQ(::listen(fd_, 64), 0);
    length_ = sizeof(address_);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address_), &length_);
  }
  ~Listener() {
    for (const int peer : peers_) {
      ::close(peer);
    }
    close_listener();
  }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  void close_listener() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  [[nodiscard]] const sockaddr* address() const { return reinterpret_cast<const sockaddr*>(&address_); }
  [[nodiscard]] socklen_t length() const { return length_; }
  // The next accepted peer, or -1 when none is waiting.
  int accept() {
    const int peer = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (peer >= 0) {
      peers_.push_back(peer);
    }
    return peer;
  }

private:
  int family_;
  int fd_ = -1;
  sockaddr_storage address_{};
  socklen_t length_ = 0;
  std::vector<int> peers_;
};

// Reads whatever a non-blocking peer socket has into `out`.
void drain_peer(int peer, std::string& out) {
  char buffer[65536];
  for (;;) {
    const ssize_t size = ::recv(peer, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (size <= 0) {
      return;
    }
    out.append(buffer, static_cast<std::size_t>(size));
  }
}

class RecordingConnection final : public ConnectionHandler {
public:
  RecordingConnection(EventLoop& loop, bool record = true)
      : loop_(loop), record_(record), id(loop.add_connection(*this)) {}

  void on_connected(int result) override {
    connected = result == 0;
    connect_result = result;
    if (connected) {
      loop_.start_receive(id);
    }
  }
  void on_received(const std::uint8_t* data, std::size_t size, std::size_t capacity) override {
    ++receives;
    bytes += size;
    if (capacity < size + websocket::kPadding) {
      ++short_capacity;
    }
    if (record_) {
      received.append(reinterpret_cast<const char*>(data), size);
    }
  }
  void on_receive_ended(int result) override {
    receive_ended = true;
    receive_end_result = result;
  }
  void on_send_failed(int result) override { send_failure = result; }
  void on_timer() override {
    ++timers;
    last_timer = Clock::now();
  }
  void on_closed() override { ++closes; }

private:
  EventLoop& loop_;
  bool record_;

public:
  ConnectionId id;
  bool connected = false;
  int connect_result = 1; // 1: not reported yet
  std::size_t receives = 0;
  std::size_t bytes = 0;
  std::size_t short_capacity = 0;
  std::string received;
  bool receive_ended = false;
  int receive_end_result = 1;
  int send_failure = 0;
  int timers = 0;
  Clock::time_point last_timer{};
  int closes = 0;
};

struct LoopMode {
  WaitMode wait;
  bool single_shot;
};

void PrintTo(const LoopMode& mode, std::ostream* out) {
  *out << (mode.wait == WaitMode::spin ? "spin" : "blocking") << (mode.single_shot ? ", single-shot" : ", multishot");
}

std::string mode_name(const testing::TestParamInfo<LoopMode>& info) {
  return std::string(info.param.wait == WaitMode::spin ? "Spin" : "Blocking") +
         (info.param.single_shot ? "SingleShot" : "Multishot");
}

class EventLoopTest : public testing::TestWithParam<LoopMode> {
protected:
  [[nodiscard]] EventLoopOptions options() const {
    EventLoopOptions options;
    options.force_single_shot_receive = GetParam().single_shot;
    return options;
  }
  [[nodiscard]] WaitMode wait() const { return GetParam().wait; }

  // Connects `connection` to `listener` and returns the accepted peer.
  int connect(EventLoop& loop, RecordingConnection& connection, Listener& listener) {
    EXPECT_EQ(loop.connect(connection.id, listener.address(), listener.length()), 0);
    int peer = -1;
    EXPECT_TRUE(run_until(loop, wait(), [&] {
      if (peer < 0) {
        peer = listener.accept();
      }
      return connection.connected && peer >= 0;
    }));
    return peer;
  }
};

std::string pattern(std::size_t size, std::size_t seed) {
  std::string text(size, '\0');
  for (std::size_t i = 0; i < size; ++i) {
    text[i] = static_cast<char>((i * 7 + seed) % 251);
  }
  return text;
}

std::span<const std::uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

TEST_P(EventLoopTest, ReportsKernelFeatures) {
  EventLoop loop(options());
  const EventLoopFeatures& features = loop.features();
  std::cout << "io_uring features: single_issuer=" << features.single_issuer
            << " coop_taskrun=" << features.cooperative_task_run << " taskrun_flag=" << features.task_run_flag
            << " ext_arg=" << features.extended_wait << " buf_ring=" << features.provided_buffer_ring
            << " multishot_recv=" << features.multishot_receive << '\n';
  if (GetParam().single_shot) {
    EXPECT_FALSE(features.multishot_receive);
    EXPECT_FALSE(features.provided_buffer_ring);
  } else {
    EXPECT_EQ(features.multishot_receive, features.provided_buffer_ring);
  }
}

// The engine's one-thread hot path sleeps in run_once() and is woken by the
// other threads' queue pushes through an eventfd (engine/src/run/hot_path_thread.cpp).
TEST_P(EventLoopTest, AWriteToTheWatchedEventfdEndsABlockingWaitAndIsConsumed) {
  EventLoop loop(options());
  const int event_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  ASSERT_GE(event_fd, 0);
  loop.watch_wakeup(event_fd);
  EXPECT_THROW(loop.watch_wakeup(event_fd), std::logic_error);
  (void)loop.run_once(WaitMode::spin); // submits the poll

  // Written from another thread while the loop sleeps: the wait ends long
  // before its 30 s limit (a missed wake-up would make this test hang for 30 s and fail).
  std::thread writer([event_fd] {
    std::this_thread::sleep_for(50ms);
    const std::uint64_t one = 1;
    EXPECT_EQ(::write(event_fd, &one, sizeof one), 8);
  });
  while (loop.wakeups() == 0) {
    ASSERT_GT(loop.run_once(WaitMode::blocking, 30s), 0U) << "the blocking wait ended without the wake-up";
  }
  writer.join();
  EXPECT_EQ(loop.wakeups(), 1U);

  // Read back to zero: a further wait is not ended by the old write.
  EXPECT_EQ(loop.run_once(WaitMode::blocking, 20ms), 0U);
  EXPECT_EQ(loop.wakeups(), 1U);

  // A write made before the wait begins still ends it.
  const std::uint64_t one = 1;
  ASSERT_EQ(::write(event_fd, &one, sizeof one), 8);
  while (loop.wakeups() == 1) {
    ASSERT_GT(loop.run_once(WaitMode::blocking, 30s), 0U);
  }
  EXPECT_EQ(loop.wakeups(), 2U);
  ::close(event_fd);
}

// The hot path also serves the liability intake's epoll descriptor: the
// loop reports it readable, the owner drains it, and only new input
// reports it again. Here an epoll descriptor watching a pipe, as the
// intake's watches its sockets.
TEST_P(EventLoopTest, AWatchedEpollDescriptorEndsABlockingWaitAndIsReportedOncePerReadiness) {
  EventLoop loop(options());
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC), 0);
  const int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  ASSERT_GE(epoll_fd, 0);
  epoll_event interest{EPOLLIN, {.fd = pipe_fds[0]}};
  ASSERT_EQ(::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, pipe_fds[0], &interest), 0);
  const auto drain = [&] {
    epoll_event ready[4];
    char bytes[64];
    while (::epoll_wait(epoll_fd, ready, 4, 0) > 0) {
      while (::read(pipe_fds[0], bytes, sizeof bytes) > 0) {
      }
    }
  };
  const std::size_t watch = loop.watch_readable(epoll_fd);
  EXPECT_THROW((void)loop.watch_readable(-1), std::invalid_argument);
  EXPECT_EQ(loop.run_once(WaitMode::blocking, 20ms), 0U); // nothing to read: the wait runs out
  EXPECT_FALSE(loop.take_readable(watch));

  // Written from another thread while the loop sleeps (a missed readiness
  // would make the wait run its 30 s and the assertion fail).
  std::thread writer([&] {
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(::write(pipe_fds[1], "a", 1), 1);
  });
  while (!loop.take_readable(watch)) {
    ASSERT_GT(loop.run_once(WaitMode::blocking, 30s), 0U) << "the blocking wait ended without the readiness";
  }
  writer.join();
  EXPECT_FALSE(loop.take_readable(watch)); // once per completion
  drain();
  EXPECT_EQ(loop.run_once(WaitMode::blocking, 20ms), 0U); // drained: the re-armed poll waits
  EXPECT_FALSE(loop.take_readable(watch));

  // Not drained before the next wait: the re-armed poll completes at once.
  ASSERT_EQ(::write(pipe_fds[1], "b", 1), 1);
  while (!loop.take_readable(watch)) {
    ASSERT_GT(loop.run_once(WaitMode::blocking, 30s), 0U);
  }
  EXPECT_GT(loop.run_once(WaitMode::blocking, 30s), 0U);
  EXPECT_TRUE(loop.take_readable(watch));
  drain();
  EXPECT_EQ(loop.readable_failures(), 0U);
  ::close(epoll_fd);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

TEST_P(EventLoopTest, ConnectsSendsAndReceivesOverIpv4AndIpv6Loopback) {
  for (const int family : {AF_INET, AF_INET6}) {
    SCOPED_TRACE(family == AF_INET ? "IPv4" : "IPv6");
    EventLoop loop(options());
    Listener listener(family);
    RecordingConnection connection(loop);
    const int peer = connect(loop, connection, listener);
    ASSERT_GE(peer, 0);

    ASSERT_TRUE(loop.send(connection.id, bytes_of("hello from the loop")));
    std::string at_peer;
    ASSERT_TRUE(run_until(loop, wait(), [&] {
      drain_peer(peer, at_peer);
      return at_peer.size() == 19;
    }));
    EXPECT_EQ(at_peer, "hello from the loop");

    const std::string reply = pattern(200'000, 3);
    std::size_t written = 0;
    ASSERT_TRUE(run_until(loop, wait(), [&] {
      if (written < reply.size()) {
        const ssize_t size = ::send(peer, reply.data() + written, reply.size() - written, MSG_DONTWAIT);
        written += size > 0 ? static_cast<std::size_t>(size) : 0;
      }
      return connection.received.size() == reply.size();
    }));
    EXPECT_TRUE(connection.received == reply);
    EXPECT_EQ(connection.short_capacity, 0U) << "capacity must leave kPadding after the data";
  }
}

// A slow reader with a small window holds sends back, so the queue fills
// and refuses data; 3000-byte chunks do not divide the 1 MiB queue, so they
// wrap around its end. Sends as large as the queue exceed the socket buffer:
// older kernels complete them partially (the loop sends the rest), while
// 6.x io_uring retries stream sends internally and completes them whole.
TEST_P(EventLoopTest, SendsEverythingInOrderThroughBackPressureAndWrapAround) {
  EventLoopOptions loop_options = options();
  loop_options.send_queue_size = 1024 * 1024;
  EventLoop loop(loop_options);
  Listener listener(AF_INET, 4096);
  RecordingConnection connection(loop);
  const int peer = connect(loop, connection, listener);
  ASSERT_GE(peer, 0);

  const std::string payload = pattern(6 * 1024 * 1024, 11);
  std::size_t queued = 0;
  std::size_t refusals = 0;
  std::string at_peer;
  ASSERT_TRUE(run_until(
      loop, wait(),
      [&] {
        while (queued < payload.size()) {
          const std::size_t chunk = std::min<std::size_t>(3000, payload.size() - queued);
          if (!loop.send(connection.id, bytes_of(std::string_view(payload).substr(queued, chunk)))) {
            ++refusals;
            break;
          }
          queued += chunk;
        }
        drain_peer(peer, at_peer);
        return at_peer.size() == payload.size();
      },
      20s));
  EXPECT_TRUE(at_peer == payload);
  EXPECT_GT(refusals, 0U) << "the queue never filled, so the test did not exercise back-pressure";
  std::cout << "partial sends: " << loop.stats().partial_sends << '\n';
  EXPECT_EQ(connection.send_failure, 0);
}

TEST_P(EventLoopTest, ReportsConnectionRefusedThenReusesTheSlot) {
  EventLoop loop(options());
  RecordingConnection connection(loop);
  {
    Listener closed(AF_INET);
    const sockaddr_storage address = *reinterpret_cast<const sockaddr_storage*>(closed.address());
    const socklen_t length = closed.length();
    closed.close_listener();
    ASSERT_EQ(loop.connect(connection.id, reinterpret_cast<const sockaddr*>(&address), length), 0);
    ASSERT_TRUE(run_until(loop, wait(), [&] { return connection.closes == 1; }));
    EXPECT_EQ(connection.connect_result, -ECONNREFUSED);
  }
  Listener listener(AF_INET);
  EXPECT_GE(connect(loop, connection, listener), 0);
}

TEST_P(EventLoopTest, ReportsPeerCloseAsEndOfStream) {
  EventLoop loop(options());
  Listener listener(AF_INET6);
  RecordingConnection connection(loop);
  const int peer = connect(loop, connection, listener);
  ASSERT_GE(peer, 0);
  ASSERT_EQ(::send(peer, "bye", 3, 0), 3);
  ::shutdown(peer, SHUT_WR);
  ASSERT_TRUE(run_until(loop, wait(), [&] { return connection.receive_ended; }));
  EXPECT_EQ(connection.receive_end_result, 0);
  EXPECT_EQ(connection.received, "bye");
  loop.close(connection.id);
  ASSERT_TRUE(run_until(loop, wait(), [&] { return connection.closes == 1; }));
}

TEST_P(EventLoopTest, CloseCancelsPendingOperationsAndReportsClosedOnce) {
  EventLoop loop(options());
  Listener listener(AF_INET);
  RecordingConnection connection(loop);
  const int peer = connect(loop, connection, listener);
  ASSERT_GE(peer, 0);
  loop.close(connection.id); // a receive is pending
  EXPECT_EQ(connection.closes, 0) << "on_closed comes from a completion, never from close()";
  ASSERT_TRUE(run_until(loop, wait(), [&] { return connection.closes == 1; }));
  ::send(peer, "late", 4, MSG_NOSIGNAL);
  run_for(loop, wait(), 50ms);
  EXPECT_EQ(connection.received, "");
  EXPECT_EQ(connection.closes, 1);
  EXPECT_FALSE(connection.receive_ended) << "a local close is not reported as the peer's";

  // Closing while the connect is still in flight.
  Listener second(AF_INET);
  ASSERT_EQ(loop.connect(connection.id, second.address(), second.length()), 0);
  loop.close(connection.id);
  ASSERT_TRUE(run_until(loop, wait(), [&] { return connection.closes == 2; }));

  EXPECT_EQ(loop.connection_count(), 1U);
  loop.remove_connection(connection.id);
  EXPECT_EQ(loop.connection_count(), 0U);
}

TEST_P(EventLoopTest, RemovingAnOpenConnectionFreesTheSlotWithoutCallbacks) {
  EventLoop loop(options());
  Listener listener(AF_INET);
  RecordingConnection connection(loop);
  ASSERT_GE(connect(loop, connection, listener), 0);
  loop.arm_timer(connection.id, Clock::now() + 10ms);
  loop.remove_connection(connection.id);
  ASSERT_TRUE(run_until(loop, wait(), [&] { return loop.connection_count() == 0; }));
  run_for(loop, wait(), 30ms);
  EXPECT_EQ(connection.closes, 0);
  EXPECT_EQ(connection.timers, 0);
}

TEST_P(EventLoopTest, TimerFiresAtItsDeadlineAndCanBeReplacedOrCancelled) {
  EventLoop loop(options());
  RecordingConnection connection(loop);

  const auto start = Clock::now();
  loop.arm_timer(connection.id, start + 30ms);
  ASSERT_TRUE(run_until(loop, wait(), [&] { return connection.timers == 1; }));
  EXPECT_GE(connection.last_timer - start, 30ms);

  loop.arm_timer(connection.id, Clock::now() + 200ms);
  const auto replaced = Clock::now();
  loop.arm_timer(connection.id, replaced + 20ms); // replaces the 200 ms one
  run_for(loop, wait(), 300ms);
  EXPECT_EQ(connection.timers, 2);
  EXPECT_LT(connection.last_timer - replaced, 150ms);

  loop.arm_timer(connection.id, Clock::now() + 20ms);
  loop.cancel_timer(connection.id);
  run_for(loop, wait(), 80ms);
  EXPECT_EQ(connection.timers, 2);
}

TEST_P(EventLoopTest, ServesManyConnectionsFromOneLoop) {
  constexpr int kConnections = 16;
  EventLoop loop(options());
  Listener listener(AF_INET);
  std::vector<std::unique_ptr<RecordingConnection>> connections;
  for (int i = 0; i < kConnections; ++i) {
    connections.push_back(std::make_unique<RecordingConnection>(loop));
    ASSERT_EQ(loop.connect(connections.back()->id, listener.address(), listener.length()), 0);
  }
  std::vector<int> peers;
  ASSERT_TRUE(run_until(loop, wait(), [&] {
    for (int peer = listener.accept(); peer >= 0; peer = listener.accept()) {
      peers.push_back(peer);
    }
    for (const auto& connection : connections) {
      if (!connection->connected) {
        return false;
      }
    }
    return peers.size() == kConnections;
  }));
  for (int i = 0; i < kConnections; ++i) {
    const std::string greeting = "client " + std::to_string(i) + ";";
    ASSERT_TRUE(loop.send(connections[i]->id, bytes_of(greeting)));
  }
  // Each peer answers on its own socket with what it heard, so every
  // connection must get back exactly its own greeting.
  std::vector<std::string> heard(peers.size());
  std::vector<bool> answered(peers.size(), false);
  ASSERT_TRUE(run_until(loop, wait(), [&] {
    for (std::size_t p = 0; p < peers.size(); ++p) {
      drain_peer(peers[p], heard[p]);
      if (!answered[p] && !heard[p].empty() && heard[p].back() == ';') {
        ::send(peers[p], heard[p].data(), heard[p].size(), MSG_NOSIGNAL);
        answered[p] = true;
      }
    }
    for (const auto& connection : connections) {
      if (connection->received.empty() || connection->received.back() != ';') {
        return false;
      }
    }
    return true;
  }));
  for (int i = 0; i < kConnections; ++i) {
    EXPECT_EQ(connections[i]->received, "client " + std::to_string(i) + ";");
  }
  EXPECT_EQ(loop.connection_count(), static_cast<std::size_t>(kConnections));
}

// 512-byte receive buffers against 256 KiB arriving at once. Multishot: two
// provided buffers run out (ENOBUFS ends the receive) and the loop re-arms
// once the handler has given them back. Single-shot: one re-arm per 512 bytes.
TEST_P(EventLoopTest, ReceivesEverythingThroughTinyBuffers) {
  EventLoopOptions loop_options = options();
  loop_options.receive_buffer_count = 2;
  loop_options.receive_buffer_size = 512;
  EventLoop loop(loop_options);
  Listener listener(AF_INET);
  RecordingConnection connection(loop);
  const int peer = connect(loop, connection, listener);
  ASSERT_GE(peer, 0);
  const std::string payload = pattern(256 * 1024, 5);
  std::size_t written = 0;
  ASSERT_TRUE(run_until(loop, wait(), [&] {
    if (written < payload.size()) {
      const ssize_t size = ::send(peer, payload.data() + written, payload.size() - written, MSG_DONTWAIT);
      written += size > 0 ? static_cast<std::size_t>(size) : 0;
    }
    return connection.received.size() == payload.size();
  }));
  EXPECT_TRUE(connection.received == payload);
  EXPECT_GE(connection.receives, payload.size() / 512);
  if (loop.features().multishot_receive) {
    EXPECT_GT(loop.stats().buffer_exhaustions, 0U);
    EXPECT_EQ(loop.stats().receive_rearms, loop.stats().buffer_exhaustions);
  } else {
    EXPECT_GE(loop.stats().receive_rearms, payload.size() / 512 - 1);
  }
  std::cout << "buffer exhaustions: " << loop.stats().buffer_exhaustions
            << ", receive re-arms: " << loop.stats().receive_rearms << '\n';
}

TEST_P(EventLoopTest, MakesNoAllocationPerReceiveOrSend) {
  EventLoop loop(options());
  Listener listener(AF_INET);
  RecordingConnection connection(loop, /*record=*/false);
  const int peer = connect(loop, connection, listener);
  ASSERT_GE(peer, 0);
  const std::string chunk = pattern(1500, 1);
  std::string sink;
  sink.reserve(1 << 20);
  // Warm up, then measure 200 round trips of 1500 bytes each way.
  for (int round = 0; round < 210; ++round) {
    const auto before = test_support::allocation_count();
    ASSERT_EQ(::send(peer, chunk.data(), chunk.size(), 0), static_cast<ssize_t>(chunk.size()));
    const std::size_t expected = connection.bytes + chunk.size();
    while (connection.bytes < expected) {
      loop.run_once(wait(), 5ms);
    }
    ASSERT_TRUE(loop.send(connection.id, bytes_of(chunk)));
    while (loop.send_queued(connection.id) != 0) {
      loop.run_once(wait(), 5ms);
    }
    const auto allocations = test_support::allocation_count() - before;
    if (round >= 10) {
      ASSERT_EQ(allocations, 0) << "round " << round;
    }
    sink.clear();
    drain_peer(peer, sink);
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, EventLoopTest,
                         testing::Values(LoopMode{WaitMode::spin, false}, LoopMode{WaitMode::spin, true},
                                         LoopMode{WaitMode::blocking, false}, LoopMode{WaitMode::blocking, true}),
                         mode_name);

} // namespace
} // namespace synthusd::feeds
