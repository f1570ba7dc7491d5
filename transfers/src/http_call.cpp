#include "synthusd/transfers/http_call.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <netdb.h>
#include <optional>
#include <poll.h>
#include <string_view>
#include <sys/socket.h>
#include <unistd.h>

#include "synthusd/common/http_head.hpp"

namespace synthusd::transfers {
namespace {

using Clock = std::chrono::steady_clock;

class Socket {
public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  [[nodiscard]] int fd() const noexcept { return fd_; }

private:
  int fd_;
};

// Waits for `events` on `fd` until `deadline`: false on timeout or error.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      return false;
    }
    pollfd entry{fd, events, 0};
    const int ready = ::poll(&entry, 1, static_cast<int>(left));
    if (ready > 0) {
      return true;
    }
    if (ready < 0 && errno != EINTR) {
      return false;
    }
  }
}

int connect_to(const HttpEndpoint& endpoint, Clock::time_point deadline, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(endpoint.port);
  if (const int rc = ::getaddrinfo(endpoint.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    error = "cannot resolve " + endpoint.host + ": " + ::gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (addrinfo* at = found; at != nullptr && fd < 0; at = at->ai_next) {
    fd = ::socket(at->ai_family, at->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, at->ai_protocol);
    if (fd < 0) {
      continue;
    }
    if (::connect(fd, at->ai_addr, at->ai_addrlen) == 0) {
      break;
    }
    int failure = errno;
    if (failure == EINPROGRESS && wait_for(fd, POLLOUT, deadline)) {
      socklen_t length = sizeof failure;
      if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &length) == 0 && failure == 0) {
        break;
      }
    }
    error = "cannot connect to " + endpoint.host + ":" + port + ": " + std::strerror(failure);
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(found);
  if (fd < 0 && error.empty()) {
    error = "no address for " + endpoint.host;
  }
  return fd;
}

// Decodes a chunked body; false when malformed or not yet complete.
bool dechunk(std::string_view raw, std::string& out) {
  std::size_t at = 0;
  for (;;) {
    const std::size_t eol = raw.find("\r\n", at);
    if (eol == std::string_view::npos) {
      return false;
    }
    std::size_t size = 0;
    const auto* first = raw.data() + at;
    const auto parsed = std::from_chars(first, raw.data() + eol, size, 16);
    if (parsed.ec != std::errc{} || parsed.ptr == first || size > kMaxHttpBody) {
      return false;
    }
    at = eol + 2;
    if (size == 0) {
      return true;
    }
    if (raw.size() < at + size + 2) {
      return false;
    }
    out.append(raw.substr(at, size));
    at += size + 2;
  }
}

} // namespace

HttpResult http_call(const HttpEndpoint& endpoint, const std::string& method, const std::string& target,
                     const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body) {
  HttpResult result;
  const Clock::time_point deadline = Clock::now() + endpoint.timeout;
  const Socket socket(connect_to(endpoint, deadline, result.error));
  if (socket.fd() < 0) {
    return result;
  }
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: " + endpoint.host + "\r\n";
  for (const auto& [name, value] : headers) {
    request += name + ": " + value + "\r\n";
  }
  request += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  std::size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(socket.fd(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(socket.fd(), POLLOUT, deadline)) {
        result.error = "timed out sending the request";
        return result;
      }
    } else {
      result.error = std::string("cannot send: ") + std::strerror(errno);
      return result;
    }
  }
  // Connection: close, so the response ends at EOF at the latest.
  std::string raw;
  char buffer[16384];
  for (;;) {
    const ssize_t n = ::recv(socket.fd(), buffer, sizeof buffer, 0);
    if (n > 0) {
      raw.append(buffer, static_cast<std::size_t>(n));
      if (raw.size() > kMaxHttpBody + 16384) {
        result.error = "response too large";
        return result;
      }
    } else if (n == 0) {
      break;
    } else if (errno == EAGAIN || errno == EINTR) {
      if (!wait_for(socket.fd(), POLLIN, deadline)) {
        result.error = "timed out waiting for the response";
        return result;
      }
    } else {
      result.error = std::string("cannot receive: ") + std::strerror(errno);
      return result;
    }
  }
  const std::size_t head_end = raw.find("\r\n\r\n");
  if (raw.compare(0, 9, "HTTP/1.1 ") != 0 && raw.compare(0, 9, "HTTP/1.0 ") != 0) {
    result.error = "not an HTTP response";
    return result;
  }
  if (head_end == std::string::npos || raw.size() < 12 ||
      std::from_chars(raw.data() + 9, raw.data() + 12, result.status).ec != std::errc{}) {
    result.error = "malformed response head";
    return result;
  }
  const std::string_view head(raw.data(), head_end);
  const std::string_view rest(raw.data() + head_end + 4, raw.size() - head_end - 4);
  bool chunked = false;
  std::optional<std::size_t> length;
  const bool readable = common::for_each_header_field(head, [&](std::string_view name, std::string_view value) {
    if (common::equals_ignoring_case(name, "transfer-encoding") && common::equals_ignoring_case(value, "chunked")) {
      chunked = true;
    } else if (common::equals_ignoring_case(name, "content-length")) {
      std::size_t parsed = 0;
      if (std::from_chars(value.data(), value.data() + value.size(), parsed).ec != std::errc{}) {
        return false;
      }
      length = parsed;
    }
    return true;
  });
  if (!readable) {
    result.error = "malformed Content-Length";
    return result;
  }
  if (chunked) {
    if (!dechunk(rest, result.body)) {
      result.error = "truncated or malformed chunked body";
      return result;
    }
  } else if (length) {
    if (rest.size() < *length) {
      result.error = "truncated body";
      return result;
    }
    result.body.assign(rest.substr(0, *length));
  } else {
    result.body.assign(rest);
  }
  result.ok = true;
  return result;
}

} // namespace synthusd::transfers
