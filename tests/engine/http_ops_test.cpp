#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "http_client_support.hpp"
#include "synthusd/engine/http_ops.hpp"

namespace synthusd::engine {
namespace {

using http_testing::request;

class HttpOpsTest : public ::testing::Test {
protected:
  HttpOpsTest() {
    HttpOpsOptions options;
    options.port = 0;
    options.token = "s3cret-token";
    HttpOpsHandlers handlers;
    handlers.metrics = [this] {
      if (metrics_throws_) {
        throw std::runtime_error("no metrics today");
      }
      return metrics_;
    };
    handlers.health_problems = [this] {
      const std::lock_guard<std::mutex> lock(mutex_); // read on the server's thread
      return problems_;
    };
    handlers.kill = [this] { ++kills_; };
    handlers.resume = [this] { ++resumes_; };
    handlers.approve_transfer = [this](std::uint64_t id) {
      approved_.store(id);
      return true;
    };
    handlers.list_transfers = [] { return std::optional<std::string>("{\"transfers\":[]}\n"); };
    handlers.settle_transfer = [this](std::uint64_t id, std::string_view body) {
      const std::lock_guard<std::mutex> lock(mutex_);
      settled_id_ = id;
      settled_body_ = body;
      return std::optional<std::pair<int, std::string>>({409, "transfer " + std::to_string(id) + " is completed\n"});
    };
    ops_ = std::make_unique<HttpOps>(options, handlers);
  }
  std::string metrics_ = "synthusd_liability_usd_cents 1000\n";
  std::atomic<bool> metrics_throws_{false};
  std::mutex mutex_;
  std::string problems_;
  std::atomic<int> kills_{0};
  std::atomic<int> resumes_{0};
  std::atomic<std::uint64_t> approved_{0};
  std::uint64_t settled_id_ = 0; // under mutex_
  std::string settled_body_;
  std::unique_ptr<HttpOps> ops_;
};

TEST_F(HttpOpsTest, serves_metrics_and_health_on_loopback) {
  const std::string metrics = request(ops_->port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(metrics.rfind("HTTP/1.1 200 OK", 0), 0u) << metrics;
  EXPECT_NE(metrics.find("synthusd_liability_usd_cents 1000"), std::string::npos);
  EXPECT_NE(request(ops_->port(), "GET /health HTTP/1.1\r\n\r\n").find("200 OK"), std::string::npos);
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    problems_ = "deribit feed stale";
  }
  const std::string degraded = request(ops_->port(), "GET /health HTTP/1.1\r\n\r\n");
  EXPECT_NE(degraded.find("503"), std::string::npos);
  EXPECT_NE(degraded.find("degraded: deribit feed stale"), std::string::npos);
  EXPECT_NE(request(ops_->port(), "GET /nope HTTP/1.1\r\n\r\n").find("404"), std::string::npos);
}

TEST_F(HttpOpsTest, approving_a_transfer_needs_the_token_and_a_positive_id) {
  EXPECT_NE(request(ops_->port(), "POST /transfers/approve/7 HTTP/1.1\r\n\r\n").find("401"), std::string::npos);
  EXPECT_NE(request(ops_->port(), "GET /transfers/approve/7 HTTP/1.1\r\nAuthorization: Bearer s3cret-token\r\n\r\n")
                .find("405"),
            std::string::npos);
  EXPECT_NE(request(ops_->port(), "POST /transfers/approve/7x HTTP/1.1\r\nAuthorization: Bearer s3cret-token\r\n\r\n")
                .find("400"),
            std::string::npos);
  EXPECT_NE(request(ops_->port(), "POST /transfers/approve/0 HTTP/1.1\r\nAuthorization: Bearer s3cret-token\r\n\r\n")
                .find("400"),
            std::string::npos);
  EXPECT_EQ(approved_.load(), 0U);
  EXPECT_NE(request(ops_->port(), "POST /transfers/approve/7 HTTP/1.1\r\nAuthorization: Bearer s3cret-token\r\n\r\n")
                .find("200 OK"),
            std::string::npos);
  EXPECT_EQ(approved_.load(), 7U);
}

TEST_F(HttpOpsTest, the_transfers_are_listed_without_the_token_as_json) {
  const std::string listing = request(ops_->port(), "GET /transfers HTTP/1.1\r\n\r\n");
  EXPECT_EQ(listing.rfind("HTTP/1.1 200 OK", 0), 0u) << listing;
  EXPECT_NE(listing.find("Content-Type: application/json"), std::string::npos);
  EXPECT_NE(listing.find("\r\n\r\n{\"transfers\":[]}\n"), std::string::npos);
  EXPECT_NE(request(ops_->port(), "POST /transfers HTTP/1.1\r\n\r\n").find("405"), std::string::npos);
}

TEST_F(HttpOpsTest, settling_a_transfer_needs_the_token_a_positive_id_and_hands_the_body_over) {
  const auto settled = [this] {
    const std::lock_guard<std::mutex> lock(mutex_);
    return std::pair<std::uint64_t, std::string>(settled_id_, settled_body_);
  };
  const std::string token = "Authorization: Bearer s3cret-token\r\n";
  EXPECT_NE(request(ops_->port(), "POST /transfers/settle/7 HTTP/1.1\r\nContent-Length: 8\r\n\r\nnot_sent").find("401"),
            std::string::npos);
  EXPECT_NE(request(ops_->port(), "GET /transfers/settle/7 HTTP/1.1\r\n" + token + "\r\n").find("405"),
            std::string::npos);
  for (const char* id : {"0", "x7", "7/", "", "99999999999999999999999"}) {
    const std::string answer = request(ops_->port(), "POST /transfers/settle/" + std::string(id) + " HTTP/1.1\r\n" +
                                                         token + "Content-Length: 8\r\n\r\nnot_sent");
    EXPECT_NE(answer.find("400 Bad Request"), std::string::npos) << id;
    EXPECT_NE(answer.find("the transfer id must be a positive integer"), std::string::npos) << id;
  }
  EXPECT_EQ(settled().first, 0u);
  EXPECT_EQ(ops_->counters().bad_requests, 5u);
  EXPECT_EQ(ops_->counters().unauthorized, 1u);

  // The body, sent after the head in a second write, reaches the handler
  // whole; the handler's status and text come back.
  http_testing::Client client(ops_->port());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.send("POST /transfers/settle/42 HTTP/1.1\r\n" + token + "Content-Length: 11\r\n\r\n"));
  ASSERT_TRUE(client.send("sent 1234\r\n"));
  const http_testing::Client::Reply reply = client.read();
  EXPECT_NE(reply.text.find("409 Conflict"), std::string::npos) << reply.text;
  EXPECT_NE(reply.text.find("transfer 42 is completed"), std::string::npos);
  EXPECT_EQ(settled(), (std::pair<std::uint64_t, std::string>(42, "sent 1234\r\n")));
}

TEST_F(HttpOpsTest, a_body_over_its_limit_or_a_malformed_length_is_refused_before_any_handler) {
  const std::string head = "POST /transfers/settle/7 HTTP/1.1\r\nAuthorization: Bearer s3cret-token\r\n";
  EXPECT_NE(request(ops_->port(), head + "Content-Length: 1025\r\n\r\n" + std::string(1025, 'a'))
                .find("413 Content Too Large"),
            std::string::npos);
  for (const char* length : {"-1", "8x", "", "8\r\nContent-Length: 8"}) {
    EXPECT_NE(request(ops_->port(), head + "Content-Length: " + length + "\r\n\r\nnot_sent").find("400 Bad Request"),
              std::string::npos)
        << length;
  }
  const std::lock_guard<std::mutex> lock(mutex_);
  EXPECT_EQ(settled_id_, 0u);
  EXPECT_EQ(ops_->counters().oversize_requests, 1u);
  EXPECT_EQ(ops_->counters().bad_requests, 4u);
}

TEST_F(HttpOpsTest, kill_and_resume_need_the_token) {
  EXPECT_NE(request(ops_->port(), "POST /kill HTTP/1.1\r\n\r\n").find("401"), std::string::npos);
  EXPECT_NE(request(ops_->port(), "POST /kill HTTP/1.1\r\nAuthorization: Bearer wrong-token!\r\n\r\n").find("401"),
            std::string::npos);
  EXPECT_NE(request(ops_->port(), "GET /kill HTTP/1.1\r\nAuthorization: Bearer s3cret-token\r\n\r\n").find("405"),
            std::string::npos);
  EXPECT_EQ(kills_.load(), 0);
  EXPECT_EQ(ops_->unauthorized(), 2u);
  EXPECT_NE(request(ops_->port(), "POST /kill HTTP/1.1\r\nauthorization: Bearer s3cret-token\r\n\r\n").find("200 OK"),
            std::string::npos);
  EXPECT_EQ(kills_.load(), 1);
  EXPECT_NE(request(ops_->port(), "POST /resume HTTP/1.1\r\nAuthorization: Bearer s3cret-token\r\n\r\n").find("200"),
            std::string::npos);
  EXPECT_EQ(resumes_.load(), 1);
}

TEST_F(HttpOpsTest, metrics_carry_the_servers_own_counters) {
  EXPECT_NE(request(ops_->port(), "POST /kill HTTP/1.1\r\n\r\n").find("401"), std::string::npos);
  const std::string metrics = request(ops_->port(), "GET /metrics HTTP/1.1\r\n\r\n");
  EXPECT_NE(metrics.find("synthusd_liability_usd_cents 1000\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("synthusd_ops_http_unauthorized_total 1\n"), std::string::npos) << metrics;
  // The scrape's own connection is the second one admitted, and still open while the page is written.
  EXPECT_NE(metrics.find("synthusd_ops_http_connections_accepted_total 2\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("synthusd_ops_http_open_connections 1\n"), std::string::npos) << metrics;
  for (const char* family : {"connections_evicted_total", "connections_refused_total", "connections_timed_out_total",
                             "oversize_requests_total"}) {
    EXPECT_NE(metrics.find("# TYPE synthusd_ops_http_" + std::string(family) + " counter"), std::string::npos)
        << family;
  }
  const HttpOpsCounters counters = ops_->counters();
  EXPECT_EQ(counters.unauthorized, 1u);
  EXPECT_EQ(counters.connections_accepted, 2u);
}

TEST_F(HttpOpsTest, a_handler_that_throws_fails_its_request_not_the_server) {
  metrics_throws_ = true;
  EXPECT_EQ(request(ops_->port(), "GET /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 500", 0), 0u);
  EXPECT_NE(request(ops_->port(), "GET /health HTTP/1.1\r\n\r\n").find("200 OK"), std::string::npos);
}

TEST(HttpOpsConfig, without_a_token_mutating_calls_are_refused) {
  HttpOpsOptions options;
  options.port = 0;
  int kills = 0;
  HttpOps ops(options, {nullptr, nullptr, [&] { ++kills; }, nullptr, nullptr, nullptr, nullptr});
  EXPECT_NE(request(ops.port(), "POST /kill HTTP/1.1\r\nAuthorization: Bearer \r\n\r\n").find("401"),
            std::string::npos);
  EXPECT_EQ(kills, 0);
}

TEST(HttpOpsConfig, without_a_transfer_executor_the_transfer_calls_say_so) {
  HttpOpsOptions options;
  options.port = 0;
  options.token = "t0ken";
  HttpOps ops(options, {});
  EXPECT_NE(request(ops.port(), "GET /transfers HTTP/1.1\r\n\r\n").find("409 Conflict"), std::string::npos);
  const std::string settle =
      request(ops.port(),
              "POST /transfers/settle/3 HTTP/1.1\r\nAuthorization: Bearer t0ken\r\nContent-Length: 8\r\n\r\nnot_sent");
  EXPECT_NE(settle.find("409 Conflict"), std::string::npos);
  EXPECT_NE(settle.find("[transfers] enabled = false"), std::string::npos);
}

TEST(AdminToken, comes_from_the_environment_or_an_owner_only_file) {
  const auto path = std::filesystem::temp_directory_path() / ("synthusd_token_" + std::to_string(::getpid()));
  std::ofstream(path) << "from-file\n";
  ::chmod(path.c_str(), 0644);
  ::unsetenv("SYNTHUSD_TEST_ADMIN_TOKEN");
  try {
    (void)load_admin_token("SYNTHUSD_TEST_ADMIN_TOKEN", path.string());
    ADD_FAILURE() << "a world-readable token file must be refused";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("chmod 600"), std::string::npos);
    EXPECT_EQ(std::string(error.what()).find("from-file"), std::string::npos); // never the token itself
  }
  ::chmod(path.c_str(), 0600);
  EXPECT_EQ(load_admin_token("SYNTHUSD_TEST_ADMIN_TOKEN", path.string()), "from-file");
  ::setenv("SYNTHUSD_TEST_ADMIN_TOKEN", "from-env", 1);
  EXPECT_EQ(load_admin_token("SYNTHUSD_TEST_ADMIN_TOKEN", path.string()), "from-env");
  ::unsetenv("SYNTHUSD_TEST_ADMIN_TOKEN");
  std::filesystem::remove(path);
}

} // namespace
} // namespace synthusd::engine
