// libFuzzer target: JsonCursor (feeds/src/json_cursor.hpp) against validators
// we did not write, on arbitrary bytes. simdjson's DOM parser (at the
// cursor's depth bound) decides; where its objection is a number, RapidJSON
// (numbers kept as text, UTF-8 checked) tells range from grammar, and a
// document only out of the references' number range (which RFC 8259 leaves
// to implementations), or one RapidJSON decides that holds a surrogate
// escape (it accepts unpaired ones; the cursor and simdjson do not), is not
// compared.
// A disagreement traps, which libFuzzer reports as a crash.
#include <rapidjson/document.h>
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "json_cursor.hpp"

namespace {

using synthusd::feeds::detail::JsonCursor;

enum class Reference : std::uint8_t { accepts, rejects, not_compared };

// Escapes of UTF-16 surrogates ("\\uD800" .. "\\uDFFF"), which the cursor
// accepts only as a high-low pair (as simdjson does) and RapidJSON 1.1 also alone.
bool has_surrogate_escape(const char* data, std::size_t size) {
  for (std::size_t i = 0; i + 3 < size; ++i) {
    if (data[i] == '\\' && data[i + 1] == 'u' && (data[i + 2] == 'd' || data[i + 2] == 'D') &&
        std::strchr("89abcdefABCDEF", data[i + 3]) != nullptr && data[i + 3] != 0) {
      return true;
    }
  }
  return false;
}

Reference reference(const char* data, std::size_t size) {
  // At the cursor's nesting bound (tests/feeds/json_cursor_test.cpp checks they agree).
  static simdjson::dom::parser parser = [] {
    simdjson::dom::parser bounded;
    if (bounded.allocate(1 << 16, JsonCursor::kMaxDepth) != simdjson::SUCCESS) {
      __builtin_trap();
    }
    return bounded;
  }();
  simdjson::dom::element root;
  const simdjson::error_code error = parser.parse(simdjson::padded_string(data, size)).get(root);
  if (error == simdjson::NUMBER_ERROR || error == simdjson::NUMBER_OUT_OF_RANGE) {
    // RapidJSON reads a NUL byte as the end of its input; JSON allows none anywhere.
    if (std::memchr(data, 0, size) != nullptr) {
      return Reference::rejects;
    }
    rapidjson::Document document;
    document.Parse<rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseValidateEncodingFlag>(data, size);
    if (document.GetParseError() == rapidjson::kParseErrorNumberTooBig || has_surrogate_escape(data, size)) {
      return Reference::not_compared;
    }
    return document.HasParseError() || !document.IsObject() ? Reference::rejects : Reference::accepts;
  }
  return error == simdjson::SUCCESS && root.type() == simdjson::dom::element_type::OBJECT ? Reference::accepts
                                                                                          : Reference::rejects;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using synthusd::feeds::kJsonPadding;
  if (size > (1 << 16)) {
    return 0; // the reference parser's capacity
  }
  // Exactly kJsonPadding bytes after the input, so AddressSanitizer reports
  // any read past them; their value, one of several that would close a
  // string or a container, must never be taken as data.
  static constexpr char kPaddings[] = {'}', '"', '\\', ']', '0', ' '};
  const std::unique_ptr<char[]> buffer(new char[size + kJsonPadding]);
  if (size > 0) {
    std::memcpy(buffer.get(), data, size);
  }
  std::memset(buffer.get() + size, kPaddings[size % sizeof kPaddings], kJsonPadding);
  JsonCursor json(buffer.get(), size);
  (void)json.open_root();
  const bool ours = json.finish();
  const Reference expected = reference(buffer.get(), size);
  if (expected != Reference::not_compared && ours != (expected == Reference::accepts)) {
    __builtin_trap();
  }
  return 0;
}
