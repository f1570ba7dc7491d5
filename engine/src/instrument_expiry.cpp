#include "synthusd/engine/instrument_expiry.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace synthusd::engine {
namespace {

constexpr std::int64_t kSettlementHourUtc = 8; // Deribit, OKX and Binance alike
constexpr std::array<std::string_view, 12> kMonths{"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                   "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};

bool digits(std::string_view text, int& out) {
  if (text.empty()) {
    return false;
  }
  out = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return false;
    }
    out = out * 10 + (c - '0');
  }
  return true;
}

bool leap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

// Days from 1970-01-01 to year-month-day (proleptic Gregorian; H. Hinnant's
// days_from_civil), or nullopt for a date that does not exist.
std::optional<std::int64_t> days_from_civil(int year, int month, int day) {
  constexpr std::array<int, 12> kDays{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDays[month - 1] + (month == 2 && leap(year) ? 1 : 0)) {
    return std::nullopt;
  }
  const int y = year - (month <= 2 ? 1 : 0);
  const int era = y / 400;
  const int year_of_era = y - era * 400;
  const int day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return static_cast<std::int64_t>(era) * 146'097 + day_of_era - 719'468;
}

std::optional<hedging::Timestamp> at_settlement(int year, int month, int day) {
  const std::optional<std::int64_t> days = days_from_civil(year, month, day);
  if (!days) {
    return std::nullopt;
  }
  return hedging::Timestamp{(*days * 86'400 + kSettlementHourUtc * 3'600) * 1'000'000'000};
}

// "241227": 2024-12-27.
std::optional<hedging::Timestamp> from_yymmdd(std::string_view text) {
  int year = 0, month = 0, day = 0;
  if (text.size() != 6 || !digits(text.substr(0, 2), year) || !digits(text.substr(2, 2), month) ||
      !digits(text.substr(4, 2), day)) {
    return std::nullopt;
  }
  return at_settlement(2000 + year, month, day);
}

// "27DEC24" or "7MAR25": Deribit's day without a leading zero.
std::optional<hedging::Timestamp> from_dmmmyy(std::string_view text) {
  if (text.size() != 6 && text.size() != 7) {
    return std::nullopt;
  }
  const std::size_t day_digits = text.size() - 5;
  int day = 0, year = 0;
  if (!digits(text.substr(0, day_digits), day) || !digits(text.substr(day_digits + 3), year)) {
    return std::nullopt;
  }
  const std::string_view month_name = text.substr(day_digits, 3);
  for (std::size_t month = 0; month < kMonths.size(); ++month) {
    if (kMonths[month] == month_name) {
      return at_settlement(2000 + year, static_cast<int>(month) + 1, day);
    }
  }
  return std::nullopt;
}

// The inverse of days_from_civil (H. Hinnant's civil_from_days).
void civil_from_days(std::int64_t days, int& year, int& month, int& day) {
  days += 719'468;
  const std::int64_t era = (days >= 0 ? days : days - 146'096) / 146'097;
  const std::int64_t day_of_era = days - era * 146'097;
  const std::int64_t year_of_era = (day_of_era - day_of_era / 1'460 + day_of_era / 36'524 - day_of_era / 146'096) / 365;
  const std::int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const std::int64_t shifted_month = (5 * day_of_year + 2) / 153;
  day = static_cast<int>(day_of_year - (153 * shifted_month + 2) / 5 + 1);
  month = static_cast<int>(shifted_month < 10 ? shifted_month + 3 : shifted_month - 9);
  year = static_cast<int>(year_of_era + era * 400 + (month <= 2 ? 1 : 0));
}

constexpr std::int64_t kFriday = 5;                                        // days since Sunday
std::int64_t weekday(std::int64_t days) { return (days % 7 + 7 + 4) % 7; } // 1970-01-01 was a Thursday

std::int64_t settlement_ns(std::int64_t days) { return (days * 86'400 + kSettlementHourUtc * 3'600) * 1'000'000'000; }

// Days of the last Friday of year-month.
std::int64_t last_friday(int year, int month) {
  const std::int64_t first_of_next = *days_from_civil(month == 12 ? year + 1 : year, month == 12 ? 1 : month + 1, 1);
  const std::int64_t last = first_of_next - 1;
  return last - (weekday(last) - kFriday + 7) % 7;
}

} // namespace

std::vector<ListedFuture> deribit_futures_listed(hedging::Timestamp now, std::string_view currency,
                                                 FutureCalendar calendar) {
  std::vector<std::int64_t> days;
  const std::int64_t today = now.nanoseconds >= 0 ? now.nanoseconds / 86'400'000'000'000
                                                  : -((-now.nanoseconds + 86'399'999'999'999) / 86'400'000'000'000);
  std::int64_t friday = today + (kFriday - weekday(today) + 7) % 7;
  if (settlement_ns(friday) <= now.nanoseconds) {
    friday += 7; // today's Friday has settled
  }
  for (std::size_t i = 0; i < calendar.weeklies; ++i) {
    days.push_back(friday + 7 * static_cast<std::int64_t>(i));
  }
  int year = 0, month = 0, day = 0;
  civil_from_days(today, year, month, day);
  // Month ends, then quarter ends, from this month on; those already
  // settled are skipped without counting.
  for (const bool quarterly : {false, true}) {
    std::size_t wanted = quarterly ? calendar.quarterlies : calendar.monthlies;
    int y = year, m = month;
    while (wanted > 0) {
      if (!quarterly || m % 3 == 0) {
        const std::int64_t end = last_friday(y, m);
        if (settlement_ns(end) > now.nanoseconds) {
          days.push_back(end);
          --wanted;
        }
      }
      m = m == 12 ? 1 : m + 1;
      y = m == 1 ? y + 1 : y;
    }
  }
  std::sort(days.begin(), days.end());
  days.erase(std::unique(days.begin(), days.end()), days.end());
  std::vector<ListedFuture> listed;
  listed.reserve(days.size());
  for (const std::int64_t d : days) {
    civil_from_days(d, year, month, day);
    std::string symbol(currency);
    symbol += '-';
    symbol += std::to_string(day);
    symbol += kMonths[static_cast<std::size_t>(month - 1)];
    symbol += static_cast<char>('0' + (year / 10) % 10);
    symbol += static_cast<char>('0' + year % 10);
    listed.push_back({std::move(symbol), hedging::Timestamp{settlement_ns(d)}});
  }
  return listed;
}

bool is_option_symbol(std::string_view symbol) {
  // CURRENCY-DMMMYY-STRIKE-C|P: three dashes, a date, digits, then C or P.
  const std::size_t first = symbol.find('-');
  const std::size_t second = first == std::string_view::npos ? first : symbol.find('-', first + 1);
  const std::size_t third = second == std::string_view::npos ? second : symbol.find('-', second + 1);
  if (third == std::string_view::npos || symbol.find('-', third + 1) != std::string_view::npos) {
    return false;
  }
  const std::string_view kind = symbol.substr(third + 1);
  int strike = 0;
  const std::string_view strike_text = symbol.substr(second + 1, third - second - 1);
  const bool whole_strike = strike_text.size() <= 9 && digits(strike_text, strike);
  return (kind == "C" || kind == "P") && whole_strike && from_dmmmyy(symbol.substr(first + 1, second - first - 1));
}

std::optional<hedging::Timestamp> expiry_from_symbol(std::string_view symbol) {
  // Binance COIN-M: BTCUSD_241227 (a perpetual is BTCUSD_PERP).
  if (const std::size_t underscore = symbol.rfind('_'); underscore != std::string_view::npos) {
    return from_yymmdd(symbol.substr(underscore + 1));
  }
  const std::size_t first = symbol.find('-');
  if (first == std::string_view::npos) {
    return std::nullopt;
  }
  const std::size_t second = symbol.find('-', first + 1);
  if (second == std::string_view::npos) {
    return from_dmmmyy(symbol.substr(first + 1)); // Deribit: BTC-27DEC24
  }
  if (symbol.find('-', second + 1) != std::string_view::npos) {
    return std::nullopt; // an option (BTC-27DEC24-100000-C) or another venue's form
  }
  return from_yymmdd(symbol.substr(second + 1)); // OKX: BTC-USD-241227
}

} // namespace synthusd::engine
