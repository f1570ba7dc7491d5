// The ops HTTP server against clients that do not play along: idle ones,
// one that drips its request a byte at a time, one that never finishes its
// head, one whose head is too large, one that stops reading its response,
// and more connections than the cap. The operator's POST /kill must get
// through all of them.
//
// Deadlines are short options here (hundreds of milliseconds), never
// seconds of sleeping. Latency is measured and printed; a test fails on
// time only when an answer takes over 1 s, ten times the 100 ms target,
// because this runs on a shared, loaded 2-core machine where a thread can
// wait tens of milliseconds for a core. The old one-connection-at-a-time
// server took 2 s per idle client (10 s for five), and never answered while
// a client kept dripping.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "http_client_support.hpp"
#include "synthusd/engine/http_ops.hpp"

namespace synthusd::engine {
namespace {

using namespace std::chrono_literals;
using http_testing::Client;
using http_testing::eventually;
using http_testing::have_descriptors;
using Clock = std::chrono::steady_clock;

constexpr auto kTarget = 100ms;     // what an operator should see
constexpr auto kHardLimit = 1000ms; // what fails the test (see the top of the file)
const std::string kKill = "POST /kill HTTP/1.1\r\nAuthorization: Bearer s3cret-token\r\n\r\n";

double milliseconds(Clock::duration duration) { return std::chrono::duration<double, std::milli>(duration).count(); }

struct Server {
  explicit Server(HttpOpsOptions options = {}, std::string metrics = "synthusd_liability_usd_cents 1000\n")
      : metrics_text(std::move(metrics)) {
    options.port = 0;
    options.token = "s3cret-token";
    HttpOpsHandlers handlers;
    handlers.metrics = [this] {
      ++metrics_calls;
      return metrics_text;
    };
    handlers.health_problems = [] { return std::string(); };
    handlers.kill = [this] { ++kills; };
    ops = std::make_unique<HttpOps>(options, handlers);
  }
  [[nodiscard]] int port() const { return ops->port(); }
  [[nodiscard]] HttpOpsCounters counters() const { return ops->counters(); }

  std::string metrics_text;
  std::atomic<int> metrics_calls{0};
  std::atomic<int> kills{0};
  std::unique_ptr<HttpOps> ops;
};

// Sends a request head one byte every 50 ms, never finishing it while the test runs.
class Dripper {
public:
  explicit Dripper(int port) : client_(port) {
    thread_ = std::thread([this] {
      const std::string head = "GET /metrics HTTP/1.1\r\nX-Slow: ";
      for (std::size_t i = 0; !stop_.load(); ++i) {
        if (!client_.send(std::string(1, i < head.size() ? head[i] : 'a'))) {
          return; // closed by the server
        }
        ++sent_;
        std::this_thread::sleep_for(50ms);
      }
    });
  }
  ~Dripper() {
    stop_.store(true);
    thread_.join();
  }
  Dripper(const Dripper&) = delete;
  Dripper& operator=(const Dripper&) = delete;

  [[nodiscard]] int sent() const { return sent_.load(); }
  Client& client() { return client_; }

private:
  Client client_;
  std::atomic<bool> stop_{false};
  std::atomic<int> sent_{0};
  std::thread thread_;
};

// The response to `text`, and how long it took from the send to the server's close.
struct Timed {
  std::string response;
  Clock::duration took;
};
Timed timed_request(int port, const std::string& text) {
  Client client(port);
  EXPECT_TRUE(client.connected());
  const auto started = Clock::now();
  EXPECT_TRUE(client.send(text));
  const Client::Reply reply = client.read(10s);
  const Timed timed{reply.text, Clock::now() - started};
  EXPECT_TRUE(reply.closed) << "no complete response within 10 s";
  return timed;
}

TEST(HttpOpsSlowClients, kill_is_answered_with_500_idle_clients_and_a_dripping_one_connected) {
  constexpr int kIdle = 500;
  // Both ends of every connection live in this process.
  if (!have_descriptors(2 * (kIdle + 2) + 64)) {
    GTEST_SKIP() << "needs " << 2 * (kIdle + 2) + 64 << " file descriptors (RLIMIT_NOFILE hard limit too low)";
  }
  HttpOpsOptions options;
  // Long enough that no idle client is closed while this test sets up, however slow the machine.
  options.head_deadline = 60s;
  Server server(options);
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < kIdle; ++i) {
    idle.push_back(std::make_unique<Client>(server.port()));
    ASSERT_TRUE(idle.back()->connected()) << "client " << i;
  }
  const Dripper dripper(server.port());
  // Connected is enough: the kill's connection queues behind all of them
  // (the kernel's accept queue is first in, first out), whether or not the
  // server already took them.
  EXPECT_TRUE(eventually([&] { return dripper.sent() >= 3; }));

  const Timed kill = timed_request(server.port(), kKill);
  EXPECT_EQ(kill.response.rfind("HTTP/1.1 200 OK", 0), 0u) << kill.response;
  EXPECT_EQ(server.kills.load(), 1);
  std::printf("POST /kill: %.3f ms from request to complete response, with %d idle clients and a dripping "
              "one connected (target %lld ms)\n",
              milliseconds(kill.took), kIdle, static_cast<long long>(kTarget.count()));
  ::testing::Test::RecordProperty(
      "kill_latency_microseconds",
      static_cast<int>(std::chrono::duration_cast<std::chrono::microseconds>(kill.took).count()));
  EXPECT_LT(kill.took, kHardLimit);
  // They were all admitted before it and were all still there: nobody was
  // evicted or timed out to let the kill through.
  const HttpOpsCounters counters = server.counters();
  EXPECT_EQ(counters.connections_accepted, kIdle + 2u);
  EXPECT_EQ(counters.connections_evicted, 0u);
  EXPECT_EQ(counters.connections_timed_out, 0u);
  EXPECT_TRUE(eventually([&] { return server.counters().open_connections == kIdle + 1; }));
  for (const auto& client : idle) {
    EXPECT_FALSE(client->heard_from_server());
  }
}

TEST(HttpOpsSlowClients, five_idle_connections_do_not_delay_metrics) {
  HttpOpsOptions options;
  options.head_deadline = 60s;
  Server server(options);
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < 5; ++i) {
    idle.push_back(std::make_unique<Client>(server.port()));
    ASSERT_TRUE(idle.back()->connected());
  }
  const Timed metrics = timed_request(server.port(), "GET /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(metrics.response.rfind("HTTP/1.1 200 OK", 0), 0u) << metrics.response;
  EXPECT_NE(metrics.response.find("synthusd_liability_usd_cents 1000"), std::string::npos);
  std::printf("GET /metrics: %.3f ms from request to complete response, with 5 idle clients connected\n",
              milliseconds(metrics.took));
  EXPECT_LT(metrics.took, kHardLimit);
  EXPECT_EQ(server.counters().open_connections, 5u);
}

TEST(HttpOpsSlowClients, a_head_that_does_not_arrive_in_time_is_closed_at_its_deadline_even_while_dripping) {
  HttpOpsOptions options;
  options.head_deadline = 300ms;
  Server server(options);
  const auto started = Clock::now();
  Client silent(server.port());
  ASSERT_TRUE(silent.send("GET /metrics HTTP/1.1\r\nHost: x\r\n")); // no blank line: the head never ends
  Dripper dripper(server.port());

  const Client::Reply reply = silent.read(10s);
  EXPECT_TRUE(reply.closed);
  EXPECT_EQ(reply.text.rfind("HTTP/1.1 408 Request Timeout", 0), 0u) << reply.text;
  // Not before the deadline: it runs from the server's accept, which follows our connect.
  EXPECT_GE(Clock::now() - started, options.head_deadline);
  // Bytes arriving do not extend the deadline: the dripper is closed too.
  const Client::Reply dripped = dripper.client().read(10s);
  EXPECT_TRUE(dripped.closed);
  EXPECT_GE(Clock::now() - started, options.head_deadline);
  EXPECT_TRUE(eventually([&] { return server.counters().connections_timed_out == 2; }));
  EXPECT_EQ(server.counters().open_connections, 0u);
  EXPECT_EQ(server.metrics_calls.load(), 0);
}

TEST(HttpOpsSlowClients, an_oversize_head_is_refused_with_431_at_once) {
  HttpOpsOptions options;
  options.head_deadline = 60s; // the refusal must not wait for a deadline
  Server server(options);
  ASSERT_EQ(options.max_head_bytes, 8u * 1024u);
  const std::string padding(9000, 'a');
  const std::string complete = "GET /metrics HTTP/1.1\r\nX-Padding: " + padding + "\r\n\r\n";
  EXPECT_EQ(http_testing::request(server.port(), complete).rfind("HTTP/1.1 431", 0), 0u);
  const std::string unfinished = "GET /metrics HTTP/1.1\r\nX-Padding: " + padding;
  EXPECT_EQ(http_testing::request(server.port(), unfinished).rfind("HTTP/1.1 431", 0), 0u);
  EXPECT_EQ(server.counters().oversize_requests, 2u);
  EXPECT_EQ(server.metrics_calls.load(), 0);
  // Just under the limit is a request like any other.
  const std::string fits = "GET /metrics HTTP/1.1\r\nX-Padding: " + std::string(8000, 'a') + "\r\n\r\n";
  EXPECT_EQ(http_testing::request(server.port(), fits).rfind("HTTP/1.1 200 OK", 0), 0u);
}

TEST(HttpOpsSlowClients, at_the_cap_the_oldest_connection_still_sending_its_head_makes_room) {
  HttpOpsOptions options;
  options.head_deadline = 60s;
  options.max_connections = 4;
  Server server(options);
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(std::make_unique<Client>(server.port()));
    // One at a time, so that the order of admission is the order here.
    ASSERT_TRUE(
        eventually([&] { return server.counters().connections_accepted == static_cast<std::uint64_t>(i + 1); }));
  }
  const Timed kill = timed_request(server.port(), kKill);
  EXPECT_EQ(kill.response.rfind("HTTP/1.1 200 OK", 0), 0u) << kill.response;
  EXPECT_EQ(server.kills.load(), 1);
  const Client::Reply evicted = idle[0]->read(10s);
  EXPECT_TRUE(evicted.closed);
  EXPECT_EQ(evicted.text.rfind("HTTP/1.1 503", 0), 0u) << evicted.text;
  for (std::size_t i = 1; i < idle.size(); ++i) {
    EXPECT_FALSE(idle[i]->heard_from_server()) << "client " << i;
  }
  const HttpOpsCounters counters = server.counters();
  EXPECT_EQ(counters.connections_evicted, 1u);
  EXPECT_EQ(counters.connections_refused, 0u);
  EXPECT_EQ(counters.connections_accepted, 5u);
}

// 16 MiB of metrics against a client whose receive buffer is a few KiB:
// the server cannot finish the response while the client does not read.
constexpr std::size_t kLargePage = 16u << 20;
constexpr int kSmallReceiveBuffer = 4096;

TEST(HttpOpsSlowClients, at_the_cap_with_every_connection_being_answered_a_new_one_is_refused) {
  HttpOpsOptions options;
  options.write_deadline = 60s;
  options.max_connections = 1;
  Server server(options, std::string(kLargePage, '#'));
  Client stalled(server.port(), kSmallReceiveBuffer);
  ASSERT_TRUE(stalled.send("GET /metrics HTTP/1.1\r\n\r\n"));
  // Its response has started: the server is answering it, and it stops reading here.
  EXPECT_EQ(stalled.read(10s, 15).text, "HTTP/1.1 200 OK");
  const Client::Reply refused = Client(server.port()).read(10s);
  EXPECT_TRUE(refused.closed);
  EXPECT_EQ(refused.text.rfind("HTTP/1.1 503", 0), 0u) << refused.text;
  const HttpOpsCounters counters = server.counters();
  EXPECT_EQ(counters.connections_refused, 1u);
  EXPECT_EQ(counters.connections_evicted, 0u);
  EXPECT_EQ(counters.open_connections, 1u);
}

TEST(HttpOpsSlowClients, a_client_that_stops_reading_holds_nobody_up_and_is_closed_at_its_write_deadline) {
  HttpOpsOptions options;
  options.write_deadline = 300ms;
  Server server(options, std::string(kLargePage, '#'));
  Client stalled(server.port(), kSmallReceiveBuffer);
  const auto started = Clock::now(); // before the response exists, so before its deadline starts
  ASSERT_TRUE(stalled.send("GET /metrics HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(stalled.read(10s, 15).text, "HTTP/1.1 200 OK");
  // Meanwhile the server answers others.
  const Timed health = timed_request(server.port(), "GET /health HTTP/1.1\r\n\r\n");
  EXPECT_EQ(health.response.rfind("HTTP/1.1 200 OK", 0), 0u) << health.response;
  EXPECT_LT(health.took, kHardLimit);
  // The stalled one is cut off at its deadline with most of its page unsent.
  EXPECT_TRUE(eventually([&] { return server.counters().connections_timed_out == 1; }));
  const Client::Reply rest = stalled.read(10s);
  EXPECT_TRUE(rest.closed);
  EXPECT_GE(Clock::now() - started, options.write_deadline);
  EXPECT_LT(rest.text.size(), kLargePage);
  EXPECT_EQ(server.counters().open_connections, 0u);
}

} // namespace
} // namespace synthusd::engine
