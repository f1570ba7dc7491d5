#pragma once
// The liability wire protocol (liabilities/PROTOCOL.md): one JSON object per
// line from wallet backends and the Core Lightning plugin, and one per NATS
// message. Parsing is the protocol's; the intake server and the NATS source
// only move bytes.

#include <string>
#include <string_view>

#include "synthusd/liabilities/liability_sink.hpp"

namespace synthusd::liabilities {

// Parses one line (without its newline). Returns false and a reason for
// anything the protocol does not allow.
[[nodiscard]] bool parse_liability_line(std::string_view line, LiabilityRequest& out, std::string& reason);

// `text` as a JSON string literal, quotes included, for ids and reasons
// echoed back in acknowledgements and rejections.
[[nodiscard]] std::string quote_json_string(std::string_view text);
// The same, appended to `out` (which allocates only if it must grow).
void append_json_string(std::string& out, std::string_view text);

} // namespace synthusd::liabilities
