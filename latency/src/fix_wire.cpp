#include "fix_wire.hpp"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace synthusd::latency::fix_wire {

std::ptrdiff_t complete_message(std::string_view input) {
  constexpr std::string_view kBegin = "8=FIX";
  if (input.size() < kBegin.size()) {
    return kBegin.substr(0, input.size()) == input ? 0 : -1;
  }
  if (input.substr(0, kBegin.size()) != kBegin) {
    return -1;
  }
  const std::size_t length_tag = input.find("\x01"
                                            "9=");
  if (length_tag == std::string_view::npos) {
    return input.size() > 32 ? -1 : 0;
  }
  const std::size_t length_start = length_tag + 3;
  const std::size_t length_end = input.find(kSoh, length_start);
  if (length_end == std::string_view::npos) {
    return input.size() > 48 ? -1 : 0;
  }
  std::size_t body_length = 0;
  const auto parsed = std::from_chars(input.data() + length_start, input.data() + length_end, body_length);
  if (parsed.ec != std::errc{} || parsed.ptr != input.data() + length_end || body_length > (1U << 20)) {
    return -1;
  }
  // The body runs from after 9=..| to the start of 10=; the trailer is "10=NNN|".
  const std::size_t total = length_end + 1 + body_length + 7;
  if (input.size() < total) {
    return 0;
  }
  if (input.substr(total - 7, 3) != "10=") {
    return -1;
  }
  return static_cast<std::ptrdiff_t>(total);
}

std::string_view field(std::string_view message, int tag) {
  char key[16];
  key[0] = kSoh;
  const auto written = std::to_chars(key + 1, key + sizeof key - 1, tag);
  *written.ptr = '=';
  const std::string_view needle(key, static_cast<std::size_t>(written.ptr + 1 - key));
  const std::size_t at = message.find(needle);
  if (at == std::string_view::npos) {
    return {};
  }
  const std::size_t start = at + needle.size();
  const std::size_t end = message.find(kSoh, start);
  return message.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

void MessageBuilder::start(std::string_view type, std::string_view sender, std::string_view target,
                           std::uint64_t sequence) {
  body_.clear();
  add(35, type);
  add(49, sender);
  add(56, target);
  add(34, static_cast<std::int64_t>(sequence));
  add(52, utc_timestamp());
}

void MessageBuilder::add(int tag, std::string_view value) {
  char key[16];
  const auto written = std::to_chars(key, key + sizeof key, tag);
  body_.append(key, written.ptr);
  body_.push_back('=');
  body_.append(value);
  body_.push_back(kSoh);
}

void MessageBuilder::add(int tag, std::int64_t value) {
  char text[24];
  const auto written = std::to_chars(text, text + sizeof text, value);
  add(tag, std::string_view(text, static_cast<std::size_t>(written.ptr - text)));
}

std::string_view MessageBuilder::finish() {
  message_ = "8=FIX.4.4\x01"
             "9=";
  message_ += std::to_string(body_.size());
  message_.push_back(kSoh);
  message_ += body_;
  unsigned sum = 0;
  for (const char c : message_) {
    sum += static_cast<unsigned char>(c);
  }
  char trailer[16];
  std::snprintf(trailer, sizeof trailer, "10=%03u\x01", sum % 256);
  message_ += trailer;
  return message_;
}

std::string utc_timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto milliseconds = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(milliseconds / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%04d%02d%02d-%02d:%02d:%02d.%03d", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(milliseconds % 1000));
  return text;
}

} // namespace synthusd::latency::fix_wire
