#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>

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
    ops_ = std::make_unique<HttpOps>(options, handlers);
  }
  std::string metrics_ = "synthusd_liability_usd_cents 1000\n";
  std::atomic<bool> metrics_throws_{false};
  std::mutex mutex_;
  std::string problems_;
  std::atomic<int> kills_{0};
  std::atomic<int> resumes_{0};
  std::atomic<std::uint64_t> approved_{0};
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
  HttpOps ops(options, {nullptr, nullptr, [&] { ++kills; }, nullptr, nullptr});
  EXPECT_NE(request(ops.port(), "POST /kill HTTP/1.1\r\nAuthorization: Bearer \r\n\r\n").find("401"),
            std::string::npos);
  EXPECT_EQ(kills, 0);
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
