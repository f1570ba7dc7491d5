#include "synthusd/liabilities/lnd_stream_parser.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <utility>

namespace synthusd::liabilities {
namespace {

// A chunk-size or trailer line longer than this is not HTTP we understand.
constexpr std::size_t kMaxFramingLine = 4096;

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

int base64_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  return c == '+' ? 62 : (c == '/' ? 63 : -1);
}

} // namespace

bool parse_decimal_u64(std::string_view text, std::uint64_t& out) noexcept {
  if (text.empty() || text.size() > 20) {
    return false;
  }
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return false;
    }
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
      return false;
    }
    value = value * 10 + digit;
  }
  out = value;
  return true;
}

std::string hex_encode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    out += kDigits[byte >> 4];
    out += kDigits[byte & 0xf];
  }
  return out;
}

bool base64_decode(std::string_view text, std::string& out) {
  out.clear();
  if (text.size() % 4 != 0) {
    return false;
  }
  std::size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') {
    ++padding;
  }
  const std::size_t data_chars = text.size() - padding;
  std::uint32_t bits = 0;
  int bit_count = 0;
  for (std::size_t i = 0; i < data_chars; ++i) {
    const int value = base64_value(text[i]);
    if (value < 0) {
      return false;
    }
    bits = (bits << 6) | static_cast<std::uint32_t>(value);
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      out += static_cast<char>((bits >> bit_count) & 0xff);
    }
  }
  return true;
}

bool parse_http_response_head(std::string_view head, HttpResponseHead& out, std::string& reason) {
  out = HttpResponseHead{};
  bool first = true;
  bool chunked = false;
  bool has_length = false;
  while (!head.empty()) {
    const std::size_t newline = head.find('\n');
    std::string_view line = head.substr(0, newline);
    head = newline == std::string_view::npos ? std::string_view{} : head.substr(newline + 1);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (first) {
      first = false;
      // "HTTP/1.1 200 OK"
      if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ' ||
          (line.size() > 12 && line[12] != ' ') ||
          !std::all_of(line.begin() + 9, line.begin() + 12, [](char c) { return c >= '0' && c <= '9'; })) {
        reason = "not an HTTP/1.x status line";
        return false;
      }
      out.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
      out.status_line = std::string(line.substr(0, 120));
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      reason = "bad HTTP header line";
      return false;
    }
    const std::string name = lower(line.substr(0, colon));
    const std::string_view value = trim(line.substr(colon + 1));
    if (name == "transfer-encoding") {
      // The last coding decides the framing (RFC 9112 section 6.3).
      const std::size_t comma = value.rfind(',');
      const std::string last = lower(trim(comma == std::string_view::npos ? value : value.substr(comma + 1)));
      if (last != "chunked" && last != "identity") {
        reason = "unsupported transfer coding " + last;
        return false;
      }
      chunked = chunked || last == "chunked";
    } else if (name == "content-length") {
      if (!parse_decimal_u64(value, out.content_length)) {
        reason = "bad Content-Length";
        return false;
      }
      has_length = true;
    }
  }
  if (first) {
    reason = "empty HTTP response head";
    return false;
  }
  // Chunked wins over a Content-Length (RFC 9112 section 6.3).
  out.framing = chunked ? HttpResponseHead::Framing::chunked
                        : (has_length ? HttpResponseHead::Framing::length : HttpResponseHead::Framing::until_close);
  return true;
}

void HttpBodyDecoder::reset(const HttpResponseHead& head) noexcept {
  framing_ = head.framing;
  line_.clear();
  error_.clear();
  remaining_ = 0;
  switch (framing_) {
  case HttpResponseHead::Framing::chunked:
    state_ = State::size_line;
    break;
  case HttpResponseHead::Framing::length:
    remaining_ = head.content_length;
    state_ = remaining_ == 0 ? State::done : State::data;
    break;
  case HttpResponseHead::Framing::until_close:
    state_ = State::data;
    break;
  }
}

HttpBodyDecoder::Status HttpBodyDecoder::fail(std::string why) {
  state_ = State::error;
  error_ = std::move(why);
  return Status::error;
}

HttpBodyDecoder::Status HttpBodyDecoder::feed(std::string_view data, std::string& out) {
  if (framing_ == HttpResponseHead::Framing::until_close) {
    out.append(data);
    return Status::more;
  }
  std::size_t at = 0;
  while (at < data.size() && state_ != State::done && state_ != State::error) {
    if (state_ == State::data) {
      const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, data.size() - at));
      out.append(data.substr(at, take));
      at += take;
      remaining_ -= take;
      if (remaining_ == 0) {
        state_ = framing_ == HttpResponseHead::Framing::chunked ? State::data_end : State::done;
      }
      continue;
    }
    // The line states: a chunk size, the CRLF after chunk data, a trailer.
    const std::size_t newline = data.find('\n', at);
    const std::size_t end = newline == std::string_view::npos ? data.size() : newline;
    line_.append(data.substr(at, end - at));
    at = end;
    if (line_.size() > kMaxFramingLine) {
      return fail("chunk framing line too long");
    }
    if (newline == std::string_view::npos) {
      break;
    }
    ++at;
    if (!line_.empty() && line_.back() == '\r') {
      line_.pop_back();
    }
    const std::string line = std::exchange(line_, {});
    if (state_ == State::data_end) {
      if (!line.empty()) {
        return fail("chunk data longer than its size");
      }
      state_ = State::size_line;
    } else if (state_ == State::trailer) {
      if (line.empty()) {
        state_ = State::done;
      }
    } else {
      // "1a3f" or "1a3f;name=value"; more than 15 hex digits is no chunk of ours
      const std::string_view size = trim(std::string_view(line).substr(0, line.find(';')));
      if (size.empty() || size.size() > 15) {
        return fail("bad chunk size");
      }
      std::uint64_t value = 0;
      for (const char c : size) {
        const int digit = (c >= '0' && c <= '9')   ? c - '0'
                          : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                          : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                                   : -1;
        if (digit < 0) {
          return fail("bad chunk size");
        }
        value = value * 16 + static_cast<std::uint64_t>(digit);
      }
      remaining_ = value;
      state_ = value == 0 ? State::trailer : State::data;
    }
  }
  if (state_ == State::error) {
    return Status::error;
  }
  return state_ == State::done ? Status::done : Status::more;
}

HttpBodyDecoder::Status HttpBodyDecoder::finish() const noexcept {
  return framing_ == HttpResponseHead::Framing::until_close || state_ == State::done ? Status::done : Status::error;
}

} // namespace synthusd::liabilities
