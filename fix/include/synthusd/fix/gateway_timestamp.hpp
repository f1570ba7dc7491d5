#pragma once
// TransactTime(60) text written into a caller's buffer: the order path's
// form of QuickFIX's UtcTimeStampConvertor::convert(value, 3), which returns
// a fresh std::string (21 characters, beyond the small-string buffer, so an
// allocation per order). Same calendar arithmetic (QuickFIX's DateTime),
// same bytes.
//
// C++14, no QuickFIX types.

#include <cstddef>
#include <cstdint>

namespace synthusd { // NOLINT(modernize-concat-nested-namespaces)
namespace fix {

// "YYYYMMDD-HH:MM:SS.sss"
constexpr std::size_t kUtcTimestampMillisecondsLength = 21;

// Writes the UTC time `nanoseconds` after the Unix epoch (truncated to the
// millisecond, like to_timestamp) into out[0, 21); nothing else, no '\0'.
void write_utc_timestamp_milliseconds(std::int64_t nanoseconds, char* out) noexcept;

} // namespace fix
} // namespace synthusd
