// JsonCursor (feeds/src/json_cursor.hpp): the validating one-pass walk the
// venue parsers share. Its acceptance is checked against RFC 8259 by example
// and against validators we did not write (simdjson's DOM parser, RapidJSON
// for number range) on every single-byte mutation of the venue fixtures.

#include <gtest/gtest.h>
#include <simdjson.h>

#include <array>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "json_cursor.hpp"
#include "json_reference.hpp"
#include "parser_test_support.hpp"

namespace synthusd::feeds::detail {
namespace {

using test::PaddedMessage;

// Opens the root and lets finish() skip, and so check, all of it: once with
// each of several padding bytes, which must not change the answer (a quote,
// a backslash or a closing bracket read from the padding would).
bool accepts(std::string_view text) {
  std::optional<bool> answer;
  for (const char padding : {'}', '"', '\\', ']', '0', 'e', ' ', ',', '\xC3'}) {
    std::vector<char> bytes(text.begin(), text.end());
    bytes.resize(text.size() + kJsonPadding, padding);
    JsonCursor json(bytes.data(), text.size());
    const JsonCursor::Level root = json.open_root();
    const bool finished = json.finish();
    EXPECT_TRUE(root == 1 || !finished) << text;
    EXPECT_TRUE(!answer || *answer == finished) << "padding '" << padding << "' changed the answer for " << text;
    answer = finished;
  }
  return *answer;
}

using fuzz::Reference;
using fuzz::reference;

// simdjson's DOM parser with the cursor's nesting bound.
simdjson::dom::parser reference_parser() {
  simdjson::dom::parser parser;
  EXPECT_TRUE(fuzz::make_reference_parser(parser, JsonCursor::kMaxDepth));
  return parser;
}

TEST(JsonCursor, accepts_every_form_rfc_8259_allows) {
  for (const std::string_view text : {
           R"({})", " \t\r\n{ } \t\r\n", R"({"a":1})", R"({"a" : 1 , "b" : [ ] , "c" : { } })",
           R"({"n":[0,-0,1,-1,10,0.5,-0.5,1e5,1E5,1e+5,1e-5,1.5e-05,123456789012345678901234567890]})",
           R"({"l":[true,false,null]})", R"({"s":["","a","\"\\\/\b\f\n\r\t","\u0041\u00e9\uD83D\uDE00"]})",
           "{\"u\":\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"}", // é, €, 😀 as UTF-8
           R"({"":"","a":{"b":{"c":[[[[]]]]}}})",
           R"({"a":1,"a":2})", // duplicate keys are valid JSON; the walk sees both
       }) {
    EXPECT_TRUE(accepts(text)) << text;
  }
}

TEST(JsonCursor, rejects_each_way_a_document_breaks_the_grammar) {
  for (const std::string_view text : {
           "",
           " ",
           "[]",                 // the root must be an object
           "1",                  //
           R"("a")",             //
           R"({)",               // unclosed
           R"({"a":1)",          //
           R"({"a":[1})",        // mismatched brackets
           R"({"a":1]})",        //
           R"({"a":1,})",        // trailing comma
           R"({"a":[1,]})",      //
           R"({,"a":1})",        //
           R"({"a":[,1]})",      //
           R"({"a" 1})",         // missing colon
           R"({"a":1 "b":2})",   // missing comma
           R"({a:1})",           // unquoted key
           R"({"a":})",          // missing value
           R"({"a":01})",        // leading zero
           R"({"a":-})",         //
           R"({"a":1.})",        //
           R"({"a":.5})",        //
           R"({"a":+1})",        //
           R"({"a":1e})",        //
           R"({"a":1e+})",       //
           R"({"a":0x1})",       //
           R"({"a":1.2.3})",     //
           R"({"a":12abc})",     //
           R"({"a":tru})",       // misspelt literals
           R"({"a":nul})",       //
           R"({"a":True})",      //
           R"({"a":falsey})",    //
           R"({"a":'x'})",       // single quotes
           R"({"a":"x})",        // unterminated string
           R"({"a":"\x"})",      // bad escape
           R"({"a":"\u12"})",    // short \u
           R"({"a":"\u12G4"})",  //
           R"({"a":"\uDE00"})",  // a low surrogate alone
           R"({"a":"\uD83D"})",  // a high surrogate alone
           R"({"a":"\uD83Dx"})", //
           R"({"a":"\uD83D\u0041"})",
           "{\"a\":\"\x01\"}",         // a raw control character
           "{\"a\":\"tab\there\"}",    //
           "{\"a\":\"\xC3\"}",         // truncated UTF-8
           "{\"a\":\"\xC0\xAF\"}",     // overlong
           "{\"a\":\"\xED\xA0\x80\"}", // a surrogate encoded in UTF-8
           "{\"a\":\"\xFF\"}",         //
           "{\"a\":1}\xC3\xA9",        // bytes after the root
           R"({"a":1}{"b":2})",        // two documents
           R"({"a":1} x)",             //
       }) {
    EXPECT_FALSE(accepts(text)) << text;
  }
}

TEST(JsonCursor, bounds_nesting_at_sixty_four_levels_counting_the_root) {
  const auto nested = [](std::size_t levels) {
    return "{\"a\":" + std::string(levels, '[') + std::string(levels, ']') + "}";
  };
  EXPECT_TRUE(accepts(nested(JsonCursor::kMaxDepth - 1)));
  EXPECT_FALSE(accepts(nested(JsonCursor::kMaxDepth)));
  // The same bound as simdjson's max_depth, which the fuzz target compares with.
  simdjson::dom::parser parser = reference_parser();
  EXPECT_EQ(reference(parser, nested(JsonCursor::kMaxDepth - 1)), Reference::accepts);
  EXPECT_EQ(reference(parser, nested(JsonCursor::kMaxDepth)), Reference::rejects);
  EXPECT_FALSE(accepts(nested(1'000'000))); // refused at the bound, no recursion into it
}

TEST(JsonCursor, never_takes_the_padding_for_data) {
  // A padding of '}', '"' or ']' (accepts() tries those and more) would close each of these.
  for (const std::string_view text : {R"({"a":1)", R"({"a":"x)", R"({"a":[)", R"({"a":tr)", R"({"a")"}) {
    EXPECT_FALSE(accepts(text)) << text;
  }
  // A string still open at the message's end is unterminated, whatever the
  // 16-byte block the scan reads past the end holds (a quote, with '"' padding).
  EXPECT_FALSE(accepts(R"({"a":"0123456789abcdef0123456789)"));
}

TEST(JsonCursor, reads_scalars_in_place_and_skips_what_the_walk_leaves_unread) {
  const PaddedMessage message(
      R"({"skip":{"deep":[1,{"x":"y"}]},"list":[["first",2,"rest"],"more"],"s":"a\"b","n":-1.5e3,"t":true,"z":null,"last":"end"})");
  JsonCursor json(message.data(), message.length());
  const JsonCursor::Level root = json.open_root();
  ASSERT_EQ(root, 1U);
  std::vector<std::string> seen;
  std::string_view key;
  while (json.next_member(root, key)) {
    seen.emplace_back(key);
    if (key == "list") {
      ASSERT_EQ(json.value().kind, TokenKind::array);
      const JsonCursor::Level list = json.enter();
      ASSERT_TRUE(json.next_element(list));
      ASSERT_EQ(json.value().kind, TokenKind::array);
      const JsonCursor::Level inner = json.enter();
      ASSERT_TRUE(json.next_element(inner));
      const Token first = json.value();
      EXPECT_EQ(first.kind, TokenKind::string);
      EXPECT_EQ(first.text(), "first");
      // Leave both arrays half read: the next member skips the rest.
    } else if (key == "s") {
      const Token text = json.value();
      EXPECT_EQ(text.kind, TokenKind::string);
      EXPECT_EQ(text.text(), R"(a\"b)"); // escapes as written
    } else if (key == "n") {
      const Token number = json.value();
      EXPECT_EQ(number.kind, TokenKind::number);
      EXPECT_EQ(number.text(), "-1.5e3");
    } else if (key == "t") {
      EXPECT_EQ(json.value().kind, TokenKind::boolean);
    } else if (key == "z") {
      EXPECT_EQ(json.value().kind, TokenKind::null);
    } else if (key == "last") {
      EXPECT_EQ(json.value().text(), "end");
    }
  }
  EXPECT_FALSE(json.next_member(root, key)) << "a closed object stays closed";
  EXPECT_TRUE(json.finish());
  EXPECT_EQ(seen, (std::vector<std::string>{"skip", "list", "s", "n", "t", "z", "last"}));
}

TEST(JsonCursor, a_skipped_value_is_still_checked) {
  const PaddedMessage message(R"({"a":"x","skip":[1,2,tru],"b":"y"})");
  JsonCursor json(message.data(), message.length());
  const JsonCursor::Level root = json.open_root();
  std::string_view key;
  std::vector<std::string> seen;
  while (json.next_member(root, key)) {
    seen.emplace_back(key);
  }
  EXPECT_TRUE(json.failed());
  EXPECT_FALSE(json.finish());
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "skip"})) << "the walk stops at the error";
}

TEST(JsonCursor, misuse_by_a_walk_fails_the_message_instead_of_reading_on) {
  const PaddedMessage message(R"({"a":[1],"b":2})");
  {
    JsonCursor json(message.data(), message.length());
    const JsonCursor::Level root = json.open_root();
    EXPECT_FALSE(json.next_element(root)) << "an object walked as an array";
    EXPECT_TRUE(json.failed());
  }
  {
    JsonCursor json(message.data(), message.length());
    const JsonCursor::Level root = json.open_root();
    std::string_view key;
    ASSERT_TRUE(json.next_member(root, key));
    ASSERT_TRUE(json.value().kind == TokenKind::array);
    const JsonCursor::Level list = json.enter();
    ASSERT_TRUE(json.next_element(list));
    EXPECT_EQ(json.enter(), 0U) << "a number cannot be entered";
    EXPECT_FALSE(json.finish());
  }
}

// Each fixture line with one byte deleted, replaced or inserted, for each
// byte position and each byte of a set that breaks or bends the grammar.
TEST(JsonCursor, agrees_with_simdjson_on_every_single_byte_mutation_of_the_venue_fixtures) {
  constexpr std::array<char, 20> kBytes{'"', '\\', '{', '}', '[', ']', ',',    ':',    '0',    '9',
                                        '-', '.',  'e', ' ', 'x', 'u', '\x01', '\xC3', '\xE2', '\xFF'};
  simdjson::dom::parser parser = reference_parser();
  std::size_t documents = 0;
  std::size_t accepted = 0;
  std::size_t not_compared = 0;
  for (const char* venue : {"deribit", "okx", "binance"}) {
    const std::vector<std::string> lines =
        test::read_lines(test::source_path("tests/data/feeds/") + venue + std::string(".jsonl"));
    ASSERT_FALSE(lines.empty());
    for (std::size_t line_number = 0; line_number < lines.size(); ++line_number) {
      const std::string& line = lines[line_number];
      const auto check = [&](const std::string& text) {
        const Reference expected = reference(parser, text);
        if (expected == Reference::not_compared) {
          ++not_compared;
          return;
        }
        ++documents;
        const bool ours = accepts(text);
        accepted += ours ? 1 : 0;
        ASSERT_EQ(ours, expected == Reference::accepts) << venue << " line " << line_number + 1 << ": " << text;
      };
      check(line);
      for (std::size_t position = 0; position < line.size(); ++position) {
        check(std::string(line).erase(position, 1));
        for (const char byte : kBytes) {
          std::string replaced = line;
          replaced[position] = byte;
          check(replaced);
          check(std::string(line).insert(position, 1, byte));
        }
        if (HasFatalFailure()) {
          return;
        }
      }
    }
  }
  // Both outcomes occur plenty: the comparison is not vacuous.
  EXPECT_GT(documents, 50'000U);
  EXPECT_GT(accepted, documents / 20);
  EXPECT_LT(accepted, documents / 2);
  EXPECT_LT(not_compared, documents / 100);
}

} // namespace
} // namespace synthusd::feeds::detail
