// Feeds arbitrary bytes to a FrameDecoder in chunks whose sizes come from the
// input itself, and checks that the events match a decode of the same bytes
// in one piece: the decoder must not depend on how reads split the stream.
//
// Input layout: byte 0 times 4 is max_message_size, bytes 1..8 are a cycle of
// chunk sizes (0: all that is left), the rest is the server byte stream. The
// seeds in websocket_seeds/ follow it.

#include "synthusd/feeds/websocket_codec.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace {

using synthusd::feeds::websocket::DecodeEvent;
using synthusd::feeds::websocket::FrameDecoder;
using synthusd::feeds::websocket::kPadding;

// A check that stays on in release builds, where assert() would vanish; the
// trap is reported by libFuzzer as a crash.
void require(bool condition) {
  if (!condition) {
    __builtin_trap();
  }
}

struct Event {
  DecodeEvent kind;
  std::string payload;
  bool text;
  std::uint16_t close_code;
  bool operator==(const Event&) const = default;
};

Event capture(const FrameDecoder& decoder, DecodeEvent kind, std::size_t max_message_size) {
  Event event{kind, {}, false, 0};
  switch (kind) {
  case DecodeEvent::message: {
    require(decoder.message_size() <= max_message_size);
    require(decoder.message_capacity() >= decoder.message_size() + kPadding);
    const char* padding = decoder.message_data() + decoder.message_size();
    for (std::size_t i = 0; i < kPadding; ++i) {
      require(padding[i] == 0);
    }
    event.payload.assign(decoder.message_data(), decoder.message_size());
    event.text = decoder.message_is_text();
    break;
  }
  case DecodeEvent::ping:
  case DecodeEvent::pong:
  case DecodeEvent::close:
    require(decoder.control_payload().size() <= 125);
    event.payload.assign(decoder.control_payload().begin(), decoder.control_payload().end());
    event.close_code = kind == DecodeEvent::close ? decoder.close_code() : 0;
    break;
  case DecodeEvent::protocol_error:
  case DecodeEvent::message_too_big:
    require(!decoder.error().empty());
    event.payload = std::string(decoder.error());
    break;
  case DecodeEvent::need_more:
    break;
  }
  return event;
}

bool is_failure(DecodeEvent kind) {
  return kind == DecodeEvent::protocol_error || kind == DecodeEvent::message_too_big;
}

// Decodes `stream` in chunks of the sizes in `chunk_sizes` (cycled), checking
// the consumption invariants on every call.
std::vector<Event> decode(std::span<const std::uint8_t> stream, std::span<const std::uint8_t> chunk_sizes,
                          std::size_t max_message_size) {
  FrameDecoder decoder(max_message_size);
  std::vector<Event> events;
  std::size_t offset = 0;
  std::size_t next_size = 0;
  while (offset < stream.size()) {
    // A zero size stands for "everything left", which also exercises one-shot.
    const std::size_t wanted = chunk_sizes.empty() ? 0 : chunk_sizes[next_size++ % chunk_sizes.size()];
    const std::size_t chunk = wanted == 0 ? stream.size() - offset : std::min(wanted, stream.size() - offset);
    std::size_t fed = 0;
    while (fed < chunk) {
      std::size_t consumed = 0;
      const DecodeEvent kind = decoder.decode(stream.subspan(offset + fed, chunk - fed), consumed);
      require(consumed <= chunk - fed);
      fed += consumed;
      if (kind == DecodeEvent::need_more) {
        require(fed == chunk); // need_more means all input was taken
        break;
      }
      require(consumed > 0); // every event is produced by at least one new byte
      events.push_back(capture(decoder, kind, max_message_size));
      if (is_failure(kind)) {
        // Failure is final: another call consumes nothing and repeats it.
        std::size_t again = 0;
        require(decoder.decode(stream.subspan(offset + fed), again) == kind);
        require(again == 0);
        return events;
      }
    }
    offset += chunk;
  }
  return events;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  constexpr std::size_t kHeader = 9;
  if (size < kHeader) {
    return 0;
  }
  // Small limits make message_too_big reachable; 0 allows only empty messages.
  const std::size_t max_message_size = std::size_t{data[0]} * 4;
  const std::span<const std::uint8_t> chunk_sizes(data + 1, kHeader - 1);
  const std::span<const std::uint8_t> stream(data + kHeader, size - kHeader);

  const std::vector<Event> chunked = decode(stream, chunk_sizes, max_message_size);
  const std::vector<Event> one_shot = decode(stream, {}, max_message_size);
  require(chunked == one_shot);
  return 0;
}
