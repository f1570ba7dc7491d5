#include "synthusd/transfers/http_call.hpp"

#include <poll.h>

#include <cerrno>
#include <charconv>
#include <optional>
#include <string_view>

#include "synthusd/common/http_head.hpp"

namespace synthusd::transfers {
namespace {

using Clock = std::chrono::steady_clock;
using Io = common::TlsStream::Io;

// Waits until `fd` is ready for what `io` asks, until `deadline`: poll()'s
// revents, or 0 on timeout or error.
short wait_for(int fd, Io io, Clock::time_point deadline) {
  const short events = io == Io::wait_read ? POLLIN : POLLOUT;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      return 0;
    }
    pollfd entry{fd, events, 0};
    const int ready = ::poll(&entry, 1, static_cast<int>(left));
    if (ready > 0) {
      return entry.revents;
    }
    if (ready < 0 && errno != EINTR) {
      return 0;
    }
  }
}

// Closes the connection however a call ends.
class Connection {
public:
  explicit Connection(common::TlsStream& stream) : stream_(stream) {}
  ~Connection() { stream_.close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

private:
  common::TlsStream& stream_;
};

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

HttpClient::HttpClient(HttpEndpoint endpoint)
    : endpoint_(std::move(endpoint)), stream_(endpoint_.host, endpoint_.port, endpoint_.tls) {}

HttpResult HttpClient::call(const std::string& method, const std::string& target,
                            const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body) {
  HttpResult result;
  const Clock::time_point deadline = Clock::now() + endpoint_.timeout;
  const std::string peer = endpoint_.host + ":" + std::to_string(endpoint_.port);
  const Connection connection(stream_);
  for (Io io = stream_.connect(); io != Io::done;) {
    if (io == Io::failed) {
      result.error = stream_.error();
      return result;
    }
    const short revents = wait_for(stream_.fd(), io, deadline);
    if (revents == 0) {
      result.error =
          stream_.tcp_connected() ? "timed out in the TLS handshake with " + peer : "timed out connecting to " + peer;
      return result;
    }
    io = stream_.establish(revents);
  }
  // The name the server knows itself by: what its certificate carries.
  const std::string& host = endpoint_.tls.server_name.empty() ? endpoint_.host : endpoint_.tls.server_name;
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\n";
  for (const auto& [name, value] : headers) {
    request += name + ": " + value + "\r\n";
  }
  request += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  std::size_t sent = 0;
  while (sent < request.size()) {
    std::size_t moved = 0;
    const Io io = stream_.write(request.data() + sent, request.size() - sent, moved);
    sent += moved;
    if (io == Io::failed) {
      result.error = "cannot send the request to " + peer + ": " + stream_.error();
      return result;
    }
    if (io != Io::done && wait_for(stream_.fd(), io, deadline) == 0) {
      result.error = "timed out sending the request to " + peer;
      return result;
    }
  }
  // Connection: close, so the response ends at EOF (or close_notify) at the latest.
  std::string raw;
  char buffer[16384];
  for (;;) {
    std::size_t got = 0;
    const Io io = stream_.read(buffer, sizeof buffer, got);
    if (io == Io::done) {
      raw.append(buffer, got);
      if (raw.size() > kMaxHttpBody + 16384) {
        result.error = "response too large";
        return result;
      }
    } else if (io == Io::closed) {
      break;
    } else if (io == Io::failed) {
      result.error = "cannot receive from " + peer + ": " + stream_.error();
      return result;
    } else if (wait_for(stream_.fd(), io, deadline) == 0) {
      result.error = "timed out waiting for the response from " + peer;
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
