#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>

#include "synthusd/engine/http_ops.hpp"

namespace synthusd::engine {
namespace {

std::string request(int port, const std::string& text) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  EXPECT_EQ(::send(fd, text.data(), text.size(), 0), static_cast<ssize_t>(text.size()));
  std::string response;
  char buffer[4096];
  ssize_t n;
  while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) {
    response.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return response;
}

class HttpOpsTest : public testing::Test {
protected:
  HttpOpsTest() {
    HttpOpsOptions options;
    options.port = 0;
    options.token = "s3cret-token";
    HttpOpsHandlers handlers;
    handlers.metrics = [this] { return metrics_; };
    handlers.health_problems = [this] {
      const std::lock_guard<std::mutex> lock(mutex_); // read on the server's thread
      return problems_;
    };
    handlers.kill = [this] { ++kills_; };
    handlers.resume = [this] { ++resumes_; };
    ops_ = std::make_unique<HttpOps>(options, handlers);
  }
  std::string metrics_ = "synthusd_liability_usd_cents 1000\n";
  std::mutex mutex_;
  std::string problems_;
  std::atomic<int> kills_{0};
  std::atomic<int> resumes_{0};
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

TEST(HttpOpsConfig, without_a_token_mutating_calls_are_refused) {
  HttpOpsOptions options;
  options.port = 0;
  int kills = 0;
  HttpOps ops(options, {nullptr, nullptr, [&] { ++kills; }, nullptr});
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
