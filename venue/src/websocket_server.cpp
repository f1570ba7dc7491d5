#include "synthusd/venue/websocket_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <system_error>

#include "synthusd/common/websocket_frame.hpp"

namespace synthusd::venue {
namespace {

namespace frame = common::websocket;
using frame::Opcode;

constexpr std::size_t kMaxRequestBytes = 8192;

[[noreturn]] void throw_errno(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

void set_nonblocking(int fd) {
  const int flags = fcntl(fd, F_GETFL, 0);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    throw_errno("fcntl");
  }
}

[[nodiscard]] std::string lower(std::string_view text) {
  std::string result(text);
  std::transform(result.begin(), result.end(), result.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return result;
}

[[nodiscard]] std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

// The value of an HTTP header (case-insensitive name), or empty.
[[nodiscard]] std::string_view header(std::string_view request, std::string_view name) {
  const std::string wanted = lower(name);
  std::size_t start = request.find("\r\n");
  while (start != std::string_view::npos && start + 2 < request.size()) {
    start += 2;
    const std::size_t end = request.find("\r\n", start);
    const std::string_view line = request.substr(start, end == std::string_view::npos ? end : end - start);
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos && lower(trim(line.substr(0, colon))) == wanted) {
      return trim(line.substr(colon + 1));
    }
    start = end;
  }
  return {};
}

} // namespace

namespace websocket {

std::string accept_key(std::string_view client_key) {
  std::string input(client_key);
  input += frame::kAcceptGuid;
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest.data());
  std::array<unsigned char, 4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1> encoded{};
  const int length = EVP_EncodeBlock(encoded.data(), digest.data(), static_cast<int>(digest.size()));
  return {reinterpret_cast<const char*>(encoded.data()), static_cast<std::size_t>(length)};
}

std::string server_frame(std::uint8_t opcode, std::string_view payload) {
  std::uint8_t header[frame::kMaxHeaderSize];
  const std::size_t header_size = frame::encode_header(static_cast<Opcode>(opcode), payload.size(), nullptr, header);
  std::string bytes;
  bytes.reserve(header_size + payload.size());
  bytes.append(reinterpret_cast<const char*>(header), header_size);
  bytes.append(payload);
  return bytes;
}

} // namespace websocket

namespace {

// The internal spelling of websocket::server_frame, with the opcode typed.
[[nodiscard]] std::string server_frame(Opcode opcode, std::string_view payload) {
  return websocket::server_frame(static_cast<std::uint8_t>(opcode), payload);
}

} // namespace

WebSocketServer::WebSocketServer(std::uint16_t port) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) {
    throw_errno("socket");
  }
  const int yes = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listen_fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      listen(listen_fd_, 16) != 0) {
    const int error = errno;
    ::close(listen_fd_);
    throw std::system_error(error, std::generic_category(), "WebSocket listen on 127.0.0.1:" + std::to_string(port));
  }
  socklen_t length = sizeof address;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  set_nonblocking(listen_fd_);
}

WebSocketServer::~WebSocketServer() {
  for (auto& [id, connection] : connections_) {
    ::close(connection.fd);
  }
  ::close(listen_fd_);
}

void WebSocketServer::add_poll_fds(std::vector<pollfd>& fds) const {
  fds.push_back(pollfd{listen_fd_, POLLIN, 0});
  for (const auto& [id, connection] : connections_) {
    const auto events = static_cast<short>(POLLIN | (connection.output.empty() ? 0 : POLLOUT));
    fds.push_back(pollfd{connection.fd, events, 0});
  }
}

void WebSocketServer::handle_ready(const std::vector<pollfd>& fds, std::vector<WebSocketMessage>& messages,
                                   std::vector<ConnectionId>& closed) {
  for (const pollfd& ready : fds) {
    if (ready.revents == 0) {
      continue;
    }
    if (ready.fd == listen_fd_) {
      accept_all();
      continue;
    }
    const auto found = by_fd_.find(ready.fd);
    if (found == by_fd_.end()) {
      continue;
    }
    const ConnectionId id = found->second;
    Connection& connection = connections_.at(id);
    bool keep = true;
    if ((ready.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      keep = read_from(id, connection, messages);
    }
    if (keep && (ready.revents & POLLOUT) != 0) {
      keep = flush(connection);
    }
    if (!keep || (connection.closing && connection.output.empty())) {
      drop(id, closed);
    }
  }
}

void WebSocketServer::accept_all() {
  while (true) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      return; // EAGAIN, or a connection that vanished
    }
    const int yes = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    const ConnectionId id = next_id_++;
    Connection connection;
    connection.fd = fd;
    connections_.emplace(id, std::move(connection));
    by_fd_.emplace(fd, id);
  }
}

bool WebSocketServer::read_from(ConnectionId id, Connection& connection, std::vector<WebSocketMessage>& messages) {
  std::array<char, 16384> buffer{};
  while (true) {
    const ssize_t received = ::recv(connection.fd, buffer.data(), buffer.size(), 0);
    if (received > 0) {
      connection.input.append(buffer.data(), static_cast<std::size_t>(received));
      if (connection.input.size() > kMaxMessageBytes + kMaxRequestBytes) {
        return false;
      }
      continue;
    }
    if (received == 0) {
      return false; // the peer closed
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return false;
    }
    break;
  }
  if (!connection.upgraded && !handshake(connection)) {
    return false;
  }
  return !connection.upgraded || parse_frames(id, connection, messages);
}

bool WebSocketServer::handshake(Connection& connection) {
  const std::size_t end = connection.input.find("\r\n\r\n");
  if (end == std::string::npos) {
    return connection.input.size() <= kMaxRequestBytes;
  }
  const std::string_view request(connection.input.data(), end + 2);
  const std::string_view key = header(request, "Sec-WebSocket-Key");
  const bool upgrade =
      request.substr(0, 4) == "GET " && lower(header(request, "Upgrade")) == "websocket" && !key.empty();
  if (!upgrade) {
    connection.output += "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    connection.closing = true;
    connection.input.clear();
    return flush(connection);
  }
  connection.output += "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Accept: " +
                       websocket::accept_key(key) + "\r\n\r\n";
  connection.input.erase(0, end + 4);
  connection.upgraded = true;
  return flush(connection);
}

bool WebSocketServer::parse_frames(ConnectionId id, Connection& connection, std::vector<WebSocketMessage>& messages) {
  std::size_t offset = 0;
  const std::string& input = connection.input;
  while (input.size() - offset >= 2) {
    const auto* start = reinterpret_cast<const std::uint8_t*>(input.data()) + offset; // a frame header
    const bool fin = (start[0] & frame::kFinBit) != 0;
    const auto opcode = static_cast<Opcode>(start[0] & frame::kOpcodeBits);
    if ((start[0] & frame::kReservedBits) != 0 || (start[1] & frame::kMaskBit) == 0) {
      return false; // reserved bits, or an unmasked client frame (RFC 6455 5.1)
    }
    // The length is judged as soon as it has arrived, before the mask key.
    const std::size_t header_size = frame::header_size(start[1]);
    if (input.size() - offset < header_size - 4) {
      break;
    }
    const std::uint64_t length = frame::payload_length(start);
    if (length > kMaxMessageBytes) {
      return false;
    }
    if (input.size() - offset < header_size + length) {
      break;
    }
    std::string payload(input.data() + offset + header_size, static_cast<std::size_t>(length));
    auto* bytes = reinterpret_cast<std::uint8_t*>(payload.data());
    frame::apply_mask(bytes, payload.size(), start + header_size - 4, bytes);
    offset += header_size + static_cast<std::size_t>(length);

    if (opcode == Opcode::text || opcode == Opcode::binary || opcode == Opcode::continuation) {
      if ((opcode == Opcode::continuation) != connection.fragmented) {
        return false; // a continuation without a start, or a new message inside one
      }
      connection.fragments += payload;
      if (connection.fragments.size() > kMaxMessageBytes) {
        return false;
      }
      connection.fragmented = !fin;
      if (fin) {
        messages.push_back({id, std::move(connection.fragments)});
        connection.fragments.clear();
      }
    } else if (opcode == Opcode::ping) {
      connection.output += server_frame(Opcode::pong, payload);
    } else if (opcode == Opcode::close) {
      connection.output += server_frame(Opcode::close, payload.substr(0, 2));
      connection.closing = true;
      break;
    } else if (opcode != Opcode::pong) {
      return false;
    }
  }
  connection.input.erase(0, offset);
  return connection.output.empty() || flush(connection);
}

bool WebSocketServer::flush(Connection& connection) {
  while (!connection.output.empty()) {
    const ssize_t sent = ::send(connection.fd, connection.output.data(), connection.output.size(), MSG_NOSIGNAL);
    if (sent > 0) {
      connection.output.erase(0, static_cast<std::size_t>(sent));
      continue;
    }
    if (sent < 0 && errno == EINTR) {
      continue;
    }
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return connection.output.size() <= kMaxPendingOutputBytes;
    }
    return false;
  }
  return true;
}

bool WebSocketServer::send_text(ConnectionId id, std::string_view text) {
  const auto found = connections_.find(id);
  if (found == connections_.end() || !found->second.upgraded || found->second.closing) {
    return true;
  }
  Connection& connection = found->second;
  connection.output += server_frame(Opcode::text, text);
  if (!flush(connection)) {
    std::vector<ConnectionId> closed;
    drop(id, closed);
    return false;
  }
  return true;
}

void WebSocketServer::close(ConnectionId id, std::uint16_t code, std::string_view reason) {
  const auto found = connections_.find(id);
  if (found == connections_.end() || found->second.closing) {
    return;
  }
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason.substr(0, 123));
  found->second.output += server_frame(Opcode::close, payload);
  found->second.closing = true;
  if (!flush(found->second) || found->second.output.empty()) {
    std::vector<ConnectionId> closed;
    drop(id, closed);
  }
}

void WebSocketServer::drop(ConnectionId id, std::vector<ConnectionId>& closed) {
  const auto found = connections_.find(id);
  if (found == connections_.end()) {
    return;
  }
  by_fd_.erase(found->second.fd);
  ::close(found->second.fd);
  connections_.erase(found);
  closed.push_back(id);
}

} // namespace synthusd::venue
