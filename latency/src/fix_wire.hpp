#pragma once
// FIX 4.4 on the wire, as much as the harness's acceptor needs: split a byte
// stream into complete messages (8=, 9=BodyLength, 10=CheckSum), read a tag's
// value, and build a message with BodyLength and CheckSum filled in. The
// harness reads the engine's orders with this rather than through QuickFIX so
// that the time an order is read is the time its last byte left the socket,
// not after an acceptor's parse and callback.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace synthusd::latency::fix_wire {

inline constexpr char kSoh = '\x01';

// The length of the first complete message in `input`, 0 when more bytes are
// needed, or -1 when the stream does not start with a FIX message (the
// connection is then dropped: the harness's peers only ever send FIX).
[[nodiscard]] std::ptrdiff_t complete_message(std::string_view input);

// The value of `tag` in `message` (the first occurrence), empty when absent.
[[nodiscard]] std::string_view field(std::string_view message, int tag);

// Builds "8=FIX.4.4|9=..|35=type|49=..|56=..|34=seq|52=time|<body>10=..|".
// `body` holds "tag=value\x01" pairs.
class MessageBuilder {
public:
  void start(std::string_view type, std::string_view sender, std::string_view target, std::uint64_t sequence);
  void add(int tag, std::string_view value);
  void add(int tag, std::int64_t value);
  // Completes the message and returns it (valid until the next start()).
  [[nodiscard]] std::string_view finish();

private:
  std::string body_;
  std::string message_;
};

// UTC "YYYYMMDD-HH:MM:SS.mmm" for SendingTime/TransactTime.
[[nodiscard]] std::string utc_timestamp();

} // namespace synthusd::latency::fix_wire
