// libFuzzer target: JsonCursor (feeds/src/json_cursor.hpp) against validators
// we did not write (json_reference.hpp), on arbitrary bytes. A disagreement
// traps, which libFuzzer reports as a crash.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

#include "json_cursor.hpp"
#include "json_reference.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using synthusd::feeds::kJsonPadding;
  using synthusd::feeds::detail::JsonCursor;
  using synthusd::feeds::fuzz::Reference;
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
  // At the cursor's nesting bound (the unit test checks the two bounds agree).
  static simdjson::dom::parser parser;
  static const bool allocated = synthusd::feeds::fuzz::make_reference_parser(parser, JsonCursor::kMaxDepth);
  if (!allocated) {
    __builtin_trap();
  }
  const Reference expected = synthusd::feeds::fuzz::reference(parser, std::string_view(buffer.get(), size));
  if (expected != Reference::not_compared && ours != (expected == Reference::accepts)) {
    __builtin_trap();
  }
  return 0;
}
