#include "synthusd/transfers/cln_rpc.hpp"

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <poll.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace synthusd::transfers {
namespace {

using Clock = std::chrono::steady_clock;
namespace ondemand = simdjson::ondemand;

class Descriptor {
public:
  explicit Descriptor(int fd) : fd_(fd) {}
  ~Descriptor() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  [[nodiscard]] int fd() const noexcept { return fd_; }

private:
  int fd_;
};

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

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\r' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

// Reads one response: up to the "\n\n" lightningd writes after it, or EOF.
bool read_reply(int fd, Clock::time_point deadline, std::size_t limit, std::string& raw, std::string& error) {
  char buffer[16384];
  for (;;) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n > 0) {
      const std::size_t before = raw.size();
      raw.append(buffer, static_cast<std::size_t>(n));
      if (raw.size() > limit + 2) { // the reply and its "\n\n"
        error = "reply larger than " + std::to_string(limit) + " bytes";
        return false;
      }
      if (raw.find("\n\n", before == 0 ? 0 : before - 1) != std::string::npos) {
        return true;
      }
    } else if (n == 0) {
      return true;
    } else if (errno == EAGAIN || errno == EINTR) {
      if (!wait_for(fd, POLLIN, deadline)) {
        error = "timed out waiting for the reply";
        return false;
      }
    } else {
      error = std::string("cannot receive: ") + std::strerror(errno);
      return false;
    }
  }
}

std::atomic<std::uint64_t> next_request_id{1};

} // namespace

std::optional<std::int64_t> parse_cln_msat(std::string_view token) {
  token = trim(token);
  if (token.size() >= 2 && token.front() == '"' && token.back() == '"') {
    token = token.substr(1, token.size() - 2);
    if (!token.ends_with("msat")) {
      return std::nullopt;
    }
    token.remove_suffix(4);
  }
  if (token.empty() || token.size() > 19 || (token.size() > 1 && token.front() == '0')) {
    return std::nullopt;
  }
  std::int64_t value = 0;
  const auto parsed = std::from_chars(token.data(), token.data() + token.size(), value);
  if (parsed.ec != std::errc{} || parsed.ptr != token.data() + token.size() || value < 0 || token.front() == '-') {
    return std::nullopt;
  }
  return value;
}

ClnRpcResult cln_rpc_call(const ClnRpcEndpoint& endpoint, std::string_view method, std::string_view params_json) {
  ClnRpcResult out;
  const std::string name(method);
  const auto fail = [&](const std::string& why) {
    out.error = name + ": " + why;
    return out;
  };
  const Clock::time_point deadline = Clock::now() + endpoint.timeout;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (endpoint.socket_path.empty() || endpoint.socket_path.size() >= sizeof address.sun_path) {
    return fail("socket path empty or longer than " + std::to_string(sizeof address.sun_path - 1) + " bytes");
  }
  std::memcpy(address.sun_path, endpoint.socket_path.data(), endpoint.socket_path.size());
  const Descriptor socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (socket.fd() < 0) {
    return fail(std::string("cannot create a socket: ") + std::strerror(errno));
  }
  // A unix socket connects at once or fails (EAGAIN: lightningd's backlog is full).
  if (::connect(socket.fd(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    return fail("cannot connect to " + endpoint.socket_path + ": " + std::strerror(errno));
  }
  const std::uint64_t id = next_request_id.fetch_add(1);
  std::string request = R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":")" + name + R"(","params":)" +
                        std::string(params_json) + "}";
  std::size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(socket.fd(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(socket.fd(), POLLOUT, deadline)) {
        return fail("timed out sending the request");
      }
    } else {
      return fail(std::string("cannot send: ") + std::strerror(errno));
    }
  }
  std::string raw;
  std::string why;
  if (!read_reply(socket.fd(), deadline, endpoint.max_reply_bytes, raw, why)) {
    return fail(why);
  }
  if (trim(raw).empty()) {
    return fail("connection closed without a reply");
  }
  try {
    ondemand::parser parser;
    const simdjson::padded_string json(trim(raw));
    ondemand::document doc = parser.iterate(json);
    std::optional<std::uint64_t> answered_id;
    bool have_result = false;
    bool have_error = false;
    for (auto field : doc.get_object()) {
      const std::string_view key = field.unescaped_key();
      if (key == "id") {
        ondemand::value value = field.value();
        if (value.type() == ondemand::json_type::number) {
          answered_id = value.get_uint64().value();
        }
      } else if (key == "result") {
        // Every method this project calls answers an object.
        ondemand::object object = field.value().get_object();
        out.result = std::string(std::string_view(object.raw_json()));
        have_result = true;
      } else if (key == "error") {
        have_error = true;
        std::string message;
        for (auto part : field.value().get_object()) {
          const std::string_view name_of_part = part.unescaped_key();
          if (name_of_part == "code") {
            out.code = part.value().get_int64().value();
          } else if (name_of_part == "message") {
            message = std::string(std::string_view(part.value().get_string()));
          }
        }
        out.error = name + ": CLN error " + (out.code ? std::to_string(*out.code) : std::string("(no code)")) + ": " +
                    message.substr(0, 300);
      }
    }
    if (answered_id != id) {
      return fail("reply to another request (id mismatch)");
    }
    if (have_error) {
      return out;
    }
    if (!have_result) {
      return fail("reply without result or error");
    }
  } catch (const simdjson::simdjson_error& error) {
    out.result.clear();
    out.code.reset();
    return fail(std::string("malformed reply: ") + error.what());
  }
  out.ok = true;
  return out;
}

} // namespace synthusd::transfers
