#pragma once
// The frames the harness writes to its floor and default-path peers: the
// same unmasked RFC 6455 text frames (a Deribit ticker) the engine's feed
// reads, so every path is triggered by the same bytes. C++14, because the
// QuickFIX default-path peer includes it.

#include <cstddef>
#include <cstdint>

namespace synthusd {
namespace latency {

// The total length (header and payload) of the frame at `data` once `size`
// bytes hold all of it, else 0.
inline std::size_t complete_frame(const char* data, std::size_t size) {
  if (size < 2) {
    return 0;
  }
  const auto length7 = static_cast<std::uint8_t>(data[1]) & 0x7FU;
  std::size_t header = 2;
  std::size_t payload = length7;
  if (length7 == 126) {
    if (size < 4) {
      return 0;
    }
    header = 4;
    payload = (static_cast<std::size_t>(static_cast<std::uint8_t>(data[2])) << 8) | static_cast<std::uint8_t>(data[3]);
  } else if (length7 == 127) {
    if (size < 10) {
      return 0;
    }
    header = 10;
    payload = 0;
    for (int i = 2; i < 10; ++i) {
      payload = (payload << 8) | static_cast<std::uint8_t>(data[i]);
    }
  }
  return size >= header + payload ? header + payload : 0;
}

// The peers' programs (`synthusd-latency --role ...`); each returns the
// process exit code.
int run_floor_peer(std::uint16_t trigger_port);
int run_quickfix_default_peer(std::uint16_t trigger_port, std::uint16_t fix_port, const char* directory);
// A connected, TCP_NODELAY loopback socket, or -1.
int connect_loopback(std::uint16_t port);

} // namespace latency
} // namespace synthusd
