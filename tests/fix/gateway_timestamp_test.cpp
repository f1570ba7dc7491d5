// TransactTime text written into a buffer (gateway_timestamp.hpp), against
// the C library's calendar: the order path's replacement for QuickFIX's
// UtcTimeStampConvertor must put the same bytes on the wire.

#include "synthusd/fix/gateway_timestamp.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>

namespace synthusd::fix {
namespace {

constexpr std::int64_t kNanosecondsPerSecond = 1'000'000'000;

std::string written(std::int64_t nanoseconds) {
  char text[kUtcTimestampMillisecondsLength];
  write_utc_timestamp_milliseconds(nanoseconds, text);
  return std::string(text, sizeof text);
}

// gmtime_r and the milliseconds, flooring like to_timestamp.
std::string reference(std::int64_t nanoseconds) {
  const std::int64_t remainder = (nanoseconds % kNanosecondsPerSecond + kNanosecondsPerSecond) % kNanosecondsPerSecond;
  const std::int64_t seconds = (nanoseconds - remainder) / kNanosecondsPerSecond;
  const auto time = static_cast<std::time_t>(seconds);
  std::tm calendar{};
  gmtime_r(&time, &calendar);
  char text[96]; // room for any int the format could print
  std::snprintf(text, sizeof text, "%04d%02d%02d-%02d:%02d:%02d.%03d", calendar.tm_year + 1900, calendar.tm_mon + 1,
                calendar.tm_mday, calendar.tm_hour, calendar.tm_min, calendar.tm_sec,
                static_cast<int>(remainder / 1'000'000));
  return text;
}

TEST(GatewayTimestamp, writes_utc_with_milliseconds_in_the_fix_format) {
  EXPECT_EQ(written(0), "19700101-00:00:00.000");
  // 2024-02-29 23:59:59.999999999: a leap day, truncated (not rounded) to the millisecond.
  EXPECT_EQ(written(1'709'251'199'999'999'999), "20240229-23:59:59.999");
  EXPECT_EQ(written(-1), "19691231-23:59:59.999");
}

TEST(GatewayTimestamp, agrees_with_the_c_library_calendar_from_1902_to_2262) {
  // A stride that is no whole number of days or milliseconds walks every
  // field through its range.
  constexpr std::int64_t kStride = 86'400'000'000'000LL * 37 + 3'723'456'789'013LL;
  int compared = 0;
  for (std::int64_t at = -2'145'916'800LL * kNanosecondsPerSecond; at < 9'200'000'000'000'000'000LL - kStride;
       at += kStride) {
    ASSERT_EQ(written(at), reference(at)) << at;
    ++compared;
  }
  EXPECT_GT(compared, 3'000);
}

} // namespace
} // namespace synthusd::fix
