// The FIX time formats; the decimal wrappers are inline in decimal.hpp.
#include "synthusd/venue/decimal.hpp"

#include <array>
#include <charconv>

namespace synthusd::venue {
namespace {

constexpr std::int64_t kNanosecondsPerSecond = 1'000'000'000;
constexpr std::int64_t kSecondsPerDay = 86'400;

[[nodiscard]] bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm).
[[nodiscard]] std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) noexcept {
  year -= month <= 2 ? 1 : 0;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146'097 + static_cast<std::int64_t>(day_of_era) - 719'468;
}

struct Civil {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

[[nodiscard]] Civil civil_from_days(std::int64_t days) noexcept {
  days += 719'468;
  const std::int64_t era = (days >= 0 ? days : days - 146'096) / 146'097;
  const auto day_of_era = static_cast<unsigned>(days - era * 146'097);
  const unsigned year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36'524 - day_of_era / 146'096) / 365;
  const unsigned day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const unsigned mp = (5 * day_of_year + 2) / 153;
  const unsigned day = day_of_year - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<std::int64_t>(year_of_era) + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

void append_padded(std::string& out, std::int64_t value, int width) {
  std::array<char, 24> digits{};
  const auto result = std::to_chars(digits.data(), digits.data() + digits.size(), value);
  const auto length = static_cast<int>(result.ptr - digits.data());
  out.append(static_cast<std::size_t>(width > length ? width - length : 0), '0');
  out.append(digits.data(), result.ptr);
}

[[nodiscard]] std::int64_t floor_divide(std::int64_t a, std::int64_t b) noexcept {
  return static_cast<std::int64_t>(hedging::divide(a, b, hedging::Rounding::down));
}

// Reads exactly `width` digits at text[position].
[[nodiscard]] std::optional<unsigned> read_digits(std::string_view text, std::size_t position,
                                                  std::size_t width) noexcept {
  if (position + width > text.size()) {
    return std::nullopt;
  }
  unsigned value = 0;
  for (std::size_t i = position; i < position + width; ++i) {
    if (!is_digit(text[i])) {
      return std::nullopt;
    }
    value = value * 10 + static_cast<unsigned>(text[i] - '0');
  }
  return value;
}

// "HH:MM:SS" of a second of the day (0 to 86,399).
void append_time_of_day(std::string& text, std::int64_t second_of_day) {
  append_padded(text, second_of_day / 3600, 2);
  text += ':';
  append_padded(text, second_of_day / 60 % 60, 2);
  text += ':';
  append_padded(text, second_of_day % 60, 2);
}

[[nodiscard]] constexpr unsigned days_in_month(unsigned year, unsigned month) noexcept {
  constexpr unsigned kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

} // namespace

std::string format_utc_time(hedging::Timestamp time) {
  const std::int64_t seconds = floor_divide(time.nanoseconds, kNanosecondsPerSecond);
  const std::int64_t days = floor_divide(seconds, kSecondsPerDay);
  const std::int64_t second_of_day = seconds - days * kSecondsPerDay;
  const Civil date = civil_from_days(days);
  std::string text;
  append_padded(text, date.year, 4);
  text += '-';
  append_padded(text, date.month, 2);
  text += '-';
  append_padded(text, date.day, 2);
  text += 'T';
  append_time_of_day(text, second_of_day);
  text += 'Z';
  return text;
}

std::string format_fix_timestamp(hedging::Timestamp time) {
  const std::int64_t seconds = floor_divide(time.nanoseconds, kNanosecondsPerSecond);
  const std::int64_t milliseconds = (time.nanoseconds - seconds * kNanosecondsPerSecond) / 1'000'000;
  const std::int64_t days = floor_divide(seconds, kSecondsPerDay);
  const std::int64_t second_of_day = seconds - days * kSecondsPerDay;
  std::string text = format_fix_date(time);
  text += '-';
  append_time_of_day(text, second_of_day);
  text += '.';
  append_padded(text, milliseconds, 3);
  return text;
}

std::string format_fix_date(hedging::Timestamp time) {
  const std::int64_t days = floor_divide(floor_divide(time.nanoseconds, kNanosecondsPerSecond), kSecondsPerDay);
  const Civil date = civil_from_days(days);
  std::string text;
  append_padded(text, date.year, 4);
  append_padded(text, date.month, 2);
  append_padded(text, date.day, 2);
  return text;
}

std::optional<hedging::Timestamp> parse_utc_time(std::string_view text) noexcept {
  if (text.size() >= 10 && text[4] == '-' && text[7] == '-') {
    const auto year = read_digits(text, 0, 4);
    const auto month = read_digits(text, 5, 2);
    const auto day = read_digits(text, 8, 2);
    if (!year || !month || !day || *month < 1 || *month > 12 || *day < 1 || *day > days_in_month(*year, *month)) {
      return std::nullopt; // 2020-02-30 is no date (it is not 2020-03-01)
    }
    std::int64_t seconds = days_from_civil(*year, *month, *day) * kSecondsPerDay;
    std::string_view rest = text.substr(10);
    if (!rest.empty()) {
      if ((rest[0] != 'T' && rest[0] != ' ') || rest.size() < 9 || rest[3] != ':' || rest[6] != ':') {
        return std::nullopt;
      }
      const auto hour = read_digits(rest, 1, 2);
      const auto minute = read_digits(rest, 4, 2);
      const auto second = read_digits(rest, 7, 2);
      if (!hour || !minute || !second || *hour > 23 || *minute > 59 || *second > 60) {
        return std::nullopt;
      }
      seconds += *hour * 3600 + *minute * 60 + *second;
      rest = rest.substr(9);
      std::int64_t nanoseconds = 0;
      if (!rest.empty() && rest[0] == '.') {
        std::int64_t scale = kNanosecondsPerSecond;
        std::size_t i = 1;
        for (; i < rest.size() && is_digit(rest[i]); ++i) {
          scale /= 10;
          nanoseconds += (rest[i] - '0') * scale;
        }
        rest = rest.substr(i);
      }
      if (rest == "Z") {
        rest = {};
      }
      if (!rest.empty()) {
        return std::nullopt;
      }
      return hedging::Timestamp{seconds * kNanosecondsPerSecond + nanoseconds};
    }
    return hedging::Timestamp{seconds * kNanosecondsPerSecond};
  }
  const std::optional<std::int64_t> nanoseconds = parse_decimal(text, 9);
  if (!nanoseconds) {
    return std::nullopt;
  }
  return hedging::Timestamp{*nanoseconds};
}

} // namespace synthusd::venue
