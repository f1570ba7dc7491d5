// libFuzzer target: JsonCursor (feeds/src/json_cursor.hpp) against validators
// we did not write, on arbitrary bytes. simdjson's DOM parser decides; where
// its objection is a number, RapidJSON (numbers kept as text, UTF-8 checked)
// tells range from grammar, and a document only out of the references'
// number range (which RFC 8259 leaves to implementations) is not compared.
// A disagreement traps, which libFuzzer reports as a crash.
#include <rapidjson/document.h>
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "json_cursor.hpp"

namespace {

enum class Reference : std::uint8_t { accepts, rejects, out_of_range };

Reference reference(const char* data, std::size_t size) {
  static simdjson::dom::parser parser;
  simdjson::dom::element root;
  const simdjson::error_code error = parser.parse(simdjson::padded_string(data, size)).get(root);
  if (error == simdjson::NUMBER_ERROR || error == simdjson::NUMBER_OUT_OF_RANGE) {
    // RapidJSON reads a NUL byte as the end of its input; JSON allows none anywhere.
    if (std::memchr(data, 0, size) != nullptr) {
      return Reference::rejects;
    }
    rapidjson::Document document;
    document.Parse<rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseValidateEncodingFlag>(data, size);
    if (document.GetParseError() == rapidjson::kParseErrorNumberTooBig) {
      return Reference::out_of_range;
    }
    return document.HasParseError() || !document.IsObject() ? Reference::rejects : Reference::accepts;
  }
  return error == simdjson::SUCCESS && root.type() == simdjson::dom::element_type::OBJECT ? Reference::accepts
                                                                                          : Reference::rejects;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using synthusd::feeds::kJsonPadding;
  using synthusd::feeds::detail::JsonCursor;
  // Exactly kJsonPadding bytes after the input, so AddressSanitizer reports any read past them.
  const std::unique_ptr<char[]> buffer(new char[size + kJsonPadding]);
  if (size > 0) {
    std::memcpy(buffer.get(), data, size);
  }
  std::memset(buffer.get() + size, '}', kJsonPadding); // never data
  JsonCursor json(buffer.get(), size);
  (void)json.open_root();
  const bool ours = json.finish();
  const Reference expected = reference(buffer.get(), size);
  if (expected != Reference::out_of_range && ours != (expected == Reference::accepts)) {
    __builtin_trap();
  }
  return 0;
}
