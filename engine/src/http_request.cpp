#include "http_request.hpp"

#include <cctype>
#include <charconv>

namespace synthusd::engine::http {

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

bool same_name(std::string_view a, std::string_view lowercase) {
  if (a.size() != lowercase.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != lowercase[i]) {
      return false;
    }
  }
  return true;
}

} // namespace

std::size_t head_end(std::string_view buffer, std::size_t searched) noexcept {
  const std::size_t from = searched > 3 ? searched - 3 : 0;
  const std::size_t at = buffer.find("\r\n\r\n", from);
  return at == std::string_view::npos ? std::string_view::npos : at + 4;
}

RequestHead parse_head(std::string_view head) {
  RequestHead parsed;
  bool seen_length = false;
  std::size_t line_end = head.find("\r\n");
  const std::string_view request_line = head.substr(0, line_end);
  // "METHOD SP PATH SP VERSION"
  const std::size_t method_end = request_line.find(' ');
  if (method_end != std::string_view::npos) {
    parsed.method = request_line.substr(0, method_end);
    const std::string_view rest = request_line.substr(method_end + 1);
    parsed.path = rest.substr(0, rest.find(' '));
  }
  while (line_end != std::string_view::npos) {
    const std::size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string_view line = head.substr(start, line_end == std::string_view::npos ? head.npos : line_end - start);
    if (line.empty()) {
      break; // the blank line ending the head
    }
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos && same_name(line.substr(0, colon), "authorization")) {
      parsed.authorization = trim(line.substr(colon + 1));
    }
    if (colon != std::string_view::npos && same_name(line.substr(0, colon), "content-length")) {
      const std::string_view digits = trim(line.substr(colon + 1));
      long long value = 0;
      const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      parsed.content_length =
          seen_length || digits.empty() || error != std::errc{} || end != digits.data() + digits.size() || value < 0
              ? -1
              : value;
      seen_length = true;
    }
  }
  return parsed;
}

std::string response(int status, std::string_view reason, std::string_view body, std::string_view type) {
  std::string text = "HTTP/1.1 " + std::to_string(status) + " ";
  text.append(reason);
  text += "\r\nContent-Type: ";
  text.append(type);
  text += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  text.append(body);
  return text;
}

const char* reason_of(int status) noexcept {
  switch (status) {
  case 200:
    return "OK";
  case 202:
    return "Accepted";
  case 400:
    return "Bad Request";
  case 404:
    return "Not Found";
  case 409:
    return "Conflict";
  default:
    return "Internal Server Error";
  }
}

std::uint64_t positive_id_after(std::string_view path, std::string_view prefix) noexcept {
  if (!path.starts_with(prefix)) {
    return 0;
  }
  const std::string_view digits = path.substr(prefix.size());
  std::uint64_t id = 0;
  const auto parsed = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (digits.empty() || parsed.ec != std::errc{} || parsed.ptr != digits.data() + digits.size()) {
    return 0;
  }
  return id;
}

bool same_token(std::string_view expected, std::string_view given) noexcept {
  if (expected.empty() || expected.size() != given.size()) {
    return false;
  }
  unsigned char difference = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    difference |= static_cast<unsigned char>(expected[i] ^ given[i]);
  }
  return difference == 0;
}

} // namespace synthusd::engine::http
