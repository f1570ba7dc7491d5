#include "http_request.hpp"

#include <cctype>

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
