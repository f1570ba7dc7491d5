#pragma once
// Shared by the venue parser tests: padded message buffers, the repository's
// JSONL fixtures and the real WebSocket captures in ../shared/data.

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "synthusd/feeds/venue_parser.hpp"
#include "synthusd/feeds/venue_tick.hpp"

namespace synthusd::feeds::test {

// A message copied into a buffer with exactly kJsonPadding bytes after it,
// as the WebSocket decoder delivers it. The padding is filled with '}' so
// that a parser reading the padding as data would notice.
class PaddedMessage {
public:
  explicit PaddedMessage(std::string_view text, std::size_t padding = kJsonPadding)
      : length_(text.size()), bytes_(text.begin(), text.end()) {
    bytes_.resize(text.size() + padding, '}');
  }
  [[nodiscard]] const char* data() const noexcept { return bytes_.data(); }
  [[nodiscard]] std::size_t length() const noexcept { return length_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return bytes_.size(); }

private:
  std::size_t length_;
  std::vector<char> bytes_;
};

template <typename Parser>
ParseStatus parse_text(Parser& parser, std::string_view text, VenueTick& out) {
  const PaddedMessage message(text);
  return parser.parse(message.data(), message.length(), message.capacity(), out);
}

template <typename Parser>
ParseStatus parse_text(Parser& parser, std::string_view text) {
  VenueTick out;
  return parse_text(parser, text, out);
}

inline std::string source_path(std::string_view relative) { return std::string(SYNTHUSD_SOURCE_DIR "/") += relative; }

// Every non-empty line of a file; fails the test if the file is missing.
inline std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream file(path);
  EXPECT_TRUE(file.is_open()) << "cannot open " << path;
  std::vector<std::string> lines;
  for (std::string line; std::getline(file, line);) {
    if (!line.empty()) {
      lines.push_back(line);
    }
  }
  return lines;
}

// Where a capture is: ../shared/data beside the clone, else the repo's copy
// in tests/data/feeds (only the small ones are copied); empty if neither.
inline std::string capture_path(std::string_view file_name) {
  for (const char* folder : {"../shared/data/", "tests/data/feeds/"}) {
    std::string path = source_path(folder) += file_name;
    if (std::ifstream(path).is_open()) {
      return path;
    }
  }
  return {};
}

// A capture test on a clone without ../shared (a user's machine) skips with
// the reason; the excerpts in tests/data/feeds still test the parser.
#define SYNTHUSD_SKIP_WITHOUT_CAPTURE(file_name)                                                                       \
  if (::synthusd::feeds::test::capture_path(file_name).empty()) {                                                      \
    GTEST_SKIP() << "../shared/data is not beside this clone, so " << (file_name)                                      \
                 << " is missing; the excerpts in tests/data/feeds test this parser";                                  \
  }

// The received messages of a capture (capture_path), byte for byte as
// recorded: each line is {"recv_ts":..,"dir":"in","msg":<message>}, and the
// message is cut out of the line rather than re-serialised, so numbers and
// key order are the venue's. A string message ("pong") is unquoted.
inline std::vector<std::string> capture_messages(std::string_view file_name) {
  std::vector<std::string> messages;
  constexpr std::string_view kMarker = R"("dir":"in","msg":)";
  for (const std::string& line : read_lines(capture_path(file_name))) {
    const std::size_t marker = line.find(kMarker);
    if (marker == std::string::npos) {
      continue; // connect and out records
    }
    EXPECT_EQ(line.back(), '}') << line;
    std::string message = line.substr(marker + kMarker.size(), line.size() - marker - kMarker.size() - 1);
    if (message.size() >= 2 && message.front() == '"') {
      message = message.substr(1, message.size() - 2);
    }
    messages.push_back(std::move(message));
  }
  return messages;
}

// Counts of each status over a run of messages.
struct StatusCounts {
  std::size_t tick = 0;
  std::size_t ignored = 0;
  std::size_t subscribed = 0;
  std::size_t heartbeat_request = 0;
  std::size_t pong = 0;
  std::size_t venue_error = 0;
  std::size_t malformed = 0;

  void add(ParseStatus status) {
    switch (status) {
    case ParseStatus::tick:
      ++tick;
      break;
    case ParseStatus::ignored:
      ++ignored;
      break;
    case ParseStatus::subscribed:
      ++subscribed;
      break;
    case ParseStatus::heartbeat_request:
      ++heartbeat_request;
      break;
    case ParseStatus::pong:
      ++pong;
      break;
    case ParseStatus::venue_error:
      ++venue_error;
      break;
    case ParseStatus::malformed:
      ++malformed;
      break;
    }
  }
};

// Invariants every result satisfies, whatever the input.
inline void expect_consistent(ParseStatus status, const VenueTick& tick, std::string_view context) {
  if (status == ParseStatus::tick) {
    EXPECT_NE(tick.instrument, hedging::kNoInstrument) << context;
    EXPECT_NE(tick.fields, 0U) << context;
  } else {
    EXPECT_EQ(tick.instrument, hedging::kNoInstrument) << context;
    EXPECT_EQ(tick.fields, 0U) << context;
  }
}

// Unix milliseconds in nanoseconds, as VenueTick times hold them.
constexpr std::int64_t ms_to_ns(std::int64_t milliseconds) { return milliseconds * 1'000'000; }

} // namespace synthusd::feeds::test

namespace synthusd::feeds {
// Lets gtest print "malformed" rather than a number when a status differs.
inline void PrintTo(ParseStatus status, std::ostream* os) { *os << to_string(status); }
} // namespace synthusd::feeds
