#pragma once
// The verdict of validators we did not write on one document, for the
// JsonCursor's unit test (tests/feeds/json_cursor_test.cpp) and its fuzz
// target (fuzz_json_cursor.cpp).
//
// simdjson's DOM parser, at the cursor's nesting bound, validates the whole
// document (UTF-8, strings, numbers, literals, structure), but also refuses
// numbers beyond double or 64-bit range, which RFC 8259 leaves to
// implementations (1e400): when a number is its objection, RapidJSON (UTF-8
// validated, numbers kept as text) tells a range problem from a grammar one.
// Not compared: a document only out of the references' number range (the
// cursor checks grammar, not range), and one RapidJSON decides that holds an
// escaped UTF-16 surrogate (RapidJSON 1.1 accepts an unpaired one; the
// cursor, like simdjson, only a high-low pair). The cursor also requires an
// object root.

#include <rapidjson/document.h>
#include <simdjson.h>

#include <cstdint>
#include <cstring>
#include <string_view>

namespace synthusd::feeds::fuzz {

enum class Reference : std::uint8_t { accepts, rejects, not_compared };

// "\uD800" .. "\uDFFF" anywhere in the text.
[[nodiscard]] inline bool has_surrogate_escape(std::string_view text) noexcept {
  for (std::size_t at = text.find("\\u"); at != std::string_view::npos; at = text.find("\\u", at + 1)) {
    if (at + 3 < text.size() && (text[at + 2] == 'd' || text[at + 2] == 'D') &&
        std::string_view("89abcdefABCDEF").find(text[at + 3]) != std::string_view::npos) {
      return true;
    }
  }
  return false;
}

// A DOM parser for documents up to 64 KiB at the given nesting bound; false if it cannot allocate.
[[nodiscard]] inline bool make_reference_parser(simdjson::dom::parser& parser, std::size_t max_depth) {
  return parser.allocate(std::size_t{1} << 16, max_depth) == simdjson::SUCCESS;
}

[[nodiscard]] inline Reference reference(simdjson::dom::parser& parser, std::string_view text) {
  simdjson::dom::element root;
  const simdjson::error_code error = parser.parse(simdjson::padded_string(text)).get(root);
  if (error == simdjson::NUMBER_ERROR || error == simdjson::NUMBER_OUT_OF_RANGE) {
    // RapidJSON reads a NUL byte as the end of its input; JSON allows none anywhere.
    if (std::memchr(text.data(), 0, text.size()) != nullptr) {
      return Reference::rejects;
    }
    rapidjson::Document document;
    document.Parse<rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseValidateEncodingFlag>(text.data(),
                                                                                                  text.size());
    if (document.GetParseError() == rapidjson::kParseErrorNumberTooBig || has_surrogate_escape(text)) {
      return Reference::not_compared;
    }
    return document.HasParseError() || !document.IsObject() ? Reference::rejects : Reference::accepts;
  }
  return error == simdjson::SUCCESS && root.type() == simdjson::dom::element_type::OBJECT ? Reference::accepts
                                                                                          : Reference::rejects;
}

} // namespace synthusd::feeds::fuzz
