#include "synthusd/engine/http_ops.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace synthusd::engine {
namespace {

// Constant time for equal lengths: a wrong token reveals nothing by timing.
bool same_token(const std::string& expected, const std::string& given) {
  if (expected.empty() || expected.size() != given.size()) {
    return false;
  }
  unsigned char difference = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    difference |= static_cast<unsigned char>(expected[i] ^ given[i]);
  }
  return difference == 0;
}

void respond(int fd, int status, const std::string& reason, const std::string& body,
             const std::string& type = "text/plain; charset=utf-8") {
  const std::string response = "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Type: " + type +
                               "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
                               body;
  std::size_t sent = 0;
  while (sent < response.size()) {
    const ssize_t n = ::send(fd, response.data() + sent, response.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      return;
    }
    sent += static_cast<std::size_t>(n);
  }
}

std::string header_value(const std::string& request, const std::string& name) {
  std::istringstream lines(request);
  std::string line;
  std::getline(lines, line); // request line
  while (std::getline(lines, line) && line != "\r") {
    const auto colon = line.find(':');
    if (colon == std::string::npos) {
      continue;
    }
    std::string key = line.substr(0, colon);
    for (char& c : key) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (key == name) {
      std::string value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
        value.erase(0, 1);
      }
      while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) {
        value.pop_back();
      }
      return value;
    }
  }
  return {};
}

} // namespace

HttpOps::HttpOps(HttpOpsOptions options, HttpOpsHandlers handlers)
    : options_(std::move(options)), handlers_(std::move(handlers)) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(options_.port));
  if (::inet_pton(AF_INET, options_.address.c_str(), &address.sin_addr) != 1) {
    throw std::invalid_argument("http ops: address must be an IPv4 literal: " + options_.address);
  }
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int yes = 1;
  ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listener_, 16) != 0) {
    const std::string why = std::strerror(errno);
    if (listener_ >= 0) {
      ::close(listener_);
    }
    throw std::runtime_error("http ops: cannot listen on " + options_.address + ":" + std::to_string(options_.port) +
                             ": " + why);
  }
  socklen_t length = sizeof address;
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { serve(); });
}

HttpOps::~HttpOps() {
  stopping_.store(true);
  if (thread_.joinable()) {
    thread_.join();
  }
  ::close(listener_);
}

void HttpOps::serve() {
  while (!stopping_.load()) {
    pollfd ready{listener_, POLLIN, 0};
    if (::poll(&ready, 1, 100) <= 0) {
      continue;
    }
    const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      continue;
    }
    handle(fd);
    ::close(fd);
  }
}

void HttpOps::handle(int fd) {
  std::string request;
  char buffer[2048];
  // Headers only, bounded: 16 KiB or 2 s, whichever comes first.
  while (request.find("\r\n\r\n") == std::string::npos && request.size() < 16 * 1024) {
    pollfd ready{fd, POLLIN, 0};
    if (::poll(&ready, 1, 2000) <= 0) {
      return;
    }
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) {
      return;
    }
    request.append(buffer, static_cast<std::size_t>(n));
  }
  std::istringstream first(request.substr(0, request.find("\r\n")));
  std::string method;
  std::string path;
  first >> method >> path;
  if (path == "/metrics" || path == "/health") {
    if (method != "GET") {
      respond(fd, 405, "Method Not Allowed", "use GET\n");
      return;
    }
    if (path == "/metrics") {
      respond(fd, 200, "OK", handlers_.metrics ? handlers_.metrics() : std::string(), "text/plain; version=0.0.4");
      return;
    }
    const std::string problems = handlers_.health_problems ? handlers_.health_problems() : std::string();
    respond(fd, problems.empty() ? 200 : 503, problems.empty() ? "OK" : "Service Unavailable",
            problems.empty() ? "ok\n" : "degraded: " + problems + "\n");
    return;
  }
  if (path == "/kill" || path == "/resume") {
    if (method != "POST") {
      respond(fd, 405, "Method Not Allowed", "use POST\n");
      return;
    }
    const std::string authorization = header_value(request, "authorization");
    const std::string prefix = "Bearer ";
    if (authorization.rfind(prefix, 0) != 0 || !same_token(options_.token, authorization.substr(prefix.size()))) {
      ++unauthorized_;
      respond(fd, 401, "Unauthorized", "a valid admin token is required\n");
      return;
    }
    const auto& action = path == "/kill" ? handlers_.kill : handlers_.resume;
    if (action) {
      action();
    }
    respond(fd, 200, "OK", path == "/kill" ? "kill switch engaged\n" : "resumed\n");
    return;
  }
  respond(fd, 404, "Not Found", "unknown path\n");
}

std::string load_admin_token(const char* environment_variable, const std::string& file) {
  if (environment_variable != nullptr) {
    if (const char* value = std::getenv(environment_variable); value != nullptr && *value != '\0') {
      return value;
    }
  }
  if (file.empty()) {
    throw std::runtime_error("admin token: set " +
                             std::string(environment_variable ? environment_variable : "the variable") +
                             " or give a token file");
  }
  struct stat info {};
  if (::stat(file.c_str(), &info) != 0) {
    throw std::runtime_error("admin token file " + file + ": cannot read it");
  }
  if ((info.st_mode & 077) != 0) {
    throw std::runtime_error("admin token file " + file + ": readable by group or others; chmod 600 it");
  }
  std::ifstream in(file);
  std::string token;
  std::getline(in, token);
  if (token.empty()) {
    throw std::runtime_error("admin token file " + file + ": empty");
  }
  return token;
}

} // namespace synthusd::engine
