#pragma once
// A small RFC 6455 server for the venue simulator's market data: it listens
// on loopback, answers the HTTP upgrade (any path), reads masked client
// frames (fragmented messages, ping, close) and writes unmasked server
// frames. Non-blocking and single-threaded: the owner's poll loop calls
// add_poll_fds() and then handle_ready() with the poll results.
//
// (feeds/websocket_codec.hpp is the engine's client side; a server needs the
// mirror image of its policies. The frame header layout and masking they
// share are common/websocket_frame.hpp's.)

#include <poll.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace synthusd::venue {

using ConnectionId = std::uint64_t;

struct WebSocketMessage {
  ConnectionId connection = 0;
  std::string text;
};

// The pieces of the protocol, exposed for tests.
namespace websocket {
// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
[[nodiscard]] std::string accept_key(std::string_view client_key);
// An unmasked server frame (FIN set).
[[nodiscard]] std::string server_frame(std::uint8_t opcode, std::string_view payload);
} // namespace websocket

class WebSocketServer {
public:
  static constexpr std::size_t kMaxMessageBytes = 1 << 20;
  static constexpr std::size_t kMaxPendingOutputBytes = 16 << 20; // a slower reader is dropped

  // Binds 127.0.0.1:port (0: any free port) and listens. Throws
  // std::system_error.
  explicit WebSocketServer(std::uint16_t port);
  ~WebSocketServer();
  WebSocketServer(const WebSocketServer&) = delete;
  WebSocketServer& operator=(const WebSocketServer&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

  // Appends the listening socket and every connection to `fds` (POLLOUT
  // when output is pending).
  void add_poll_fds(std::vector<pollfd>& fds) const;
  // Accepts, reads and writes whatever `fds` reports ready. Complete text
  // messages go to `messages`; ids of connections that closed go to
  // `closed`.
  void handle_ready(const std::vector<pollfd>& fds, std::vector<WebSocketMessage>& messages,
                    std::vector<ConnectionId>& closed);

  // Queues a text frame (dropped if the connection is gone or not yet
  // upgraded). Returns false if the connection was dropped for being slow.
  bool send_text(ConnectionId connection, std::string_view text);
  // Sends a close frame, then closes after it is written.
  void close(ConnectionId connection, std::uint16_t code, std::string_view reason);
  [[nodiscard]] std::size_t connection_count() const noexcept { return connections_.size(); }

private:
  struct Connection {
    int fd = -1;
    bool upgraded = false;
    bool closing = false; // close after the output is flushed
    std::string input;
    std::string output;
    std::string fragments; // a fragmented message being assembled
    bool fragmented = false;
  };

  void accept_all();
  // false: drop the connection.
  bool read_from(ConnectionId id, Connection& connection, std::vector<WebSocketMessage>& messages);
  bool handshake(Connection& connection);
  bool parse_frames(ConnectionId id, Connection& connection, std::vector<WebSocketMessage>& messages);
  bool flush(Connection& connection);
  void drop(ConnectionId id, std::vector<ConnectionId>& closed);

  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  ConnectionId next_id_ = 1;
  std::map<ConnectionId, Connection> connections_;
  std::map<int, ConnectionId> by_fd_;
};

} // namespace synthusd::venue
