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

namespace synthusd::venue {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr std::size_t kMaxRequestBytes = 8192;

enum Opcode : std::uint8_t { continuation = 0x0, text = 0x1, binary = 0x2, close_frame = 0x8, ping = 0x9, pong = 0xA };

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
  input += kGuid;
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest.data());
  std::array<unsigned char, 4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1> encoded{};
  const int length = EVP_EncodeBlock(encoded.data(), digest.data(), static_cast<int>(digest.size()));
  return {reinterpret_cast<const char*>(encoded.data()), static_cast<std::size_t>(length)};
}

std::string server_frame(std::uint8_t opcode, std::string_view payload) {
  std::string frame;
  frame.reserve(payload.size() + 10);
  frame.push_back(static_cast<char>(0x80 | opcode));
  if (payload.size() < 126) {
    frame.push_back(static_cast<char>(payload.size()));
  } else if (payload.size() <= 0xFFFF) {
    frame.push_back(static_cast<char>(126));
    frame.push_back(static_cast<char>(payload.size() >> 8));
    frame.push_back(static_cast<char>(payload.size() & 0xFF));
  } else {
    frame.push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8) {
      frame.push_back(static_cast<char>((static_cast<std::uint64_t>(payload.size()) >> shift) & 0xFF));
    }
  }
  frame.append(payload);
  return frame;
}

} // namespace websocket

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
    const auto first = static_cast<std::uint8_t>(input[offset]);
    const auto second = static_cast<std::uint8_t>(input[offset + 1]);
    const bool fin = (first & 0x80) != 0;
    const std::uint8_t opcode = first & 0x0F;
    if ((first & 0x70) != 0 || (second & 0x80) == 0) {
      return false; // reserved bits, or an unmasked client frame (RFC 6455 5.1)
    }
    std::size_t header_size = 2;
    std::uint64_t length = second & 0x7F;
    if (length == 126 || length == 127) {
      const std::size_t bytes = length == 126 ? 2 : 8;
      if (input.size() - offset < 2 + bytes) {
        break;
      }
      length = 0;
      for (std::size_t i = 0; i < bytes; ++i) {
        length = (length << 8) | static_cast<std::uint8_t>(input[offset + 2 + i]);
      }
      header_size += bytes;
    }
    if (length > kMaxMessageBytes) {
      return false;
    }
    header_size += 4; // the mask
    if (input.size() - offset < header_size + length) {
      break;
    }
    const char* mask = input.data() + offset + header_size - 4;
    std::string payload(input.data() + offset + header_size, static_cast<std::size_t>(length));
    for (std::size_t i = 0; i < payload.size(); ++i) {
      payload[i] = static_cast<char>(payload[i] ^ mask[i % 4]);
    }
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
      connection.output += websocket::server_frame(Opcode::pong, payload);
    } else if (opcode == Opcode::close_frame) {
      connection.output += websocket::server_frame(Opcode::close_frame, payload.substr(0, 2));
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
  connection.output += websocket::server_frame(Opcode::text, text);
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
  found->second.output += websocket::server_frame(Opcode::close_frame, payload);
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
