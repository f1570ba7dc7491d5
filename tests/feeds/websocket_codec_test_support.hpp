#pragma once
// Shared by the WebSocket codec tests: byte buffers written as literals.

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

namespace synthusd::feeds::websocket::codec_test {

using Bytes = std::vector<std::uint8_t>;

inline Bytes bytes(std::initializer_list<int> values) {
  Bytes out;
  for (const int v : values) {
    out.push_back(static_cast<std::uint8_t>(v));
  }
  return out;
}

inline Bytes bytes(std::string_view text) { return Bytes(text.begin(), text.end()); }

} // namespace synthusd::feeds::websocket::codec_test
