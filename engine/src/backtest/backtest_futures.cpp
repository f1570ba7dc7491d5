#include "synthusd/engine/backtest_futures.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "synthusd/engine/instrument_expiry.hpp"

namespace synthusd::engine {

HedgeInstruments parse_hedge_instruments(std::string_view text) {
  if (text == "perpetual") {
    return HedgeInstruments::perpetual;
  }
  if (text == "futures") {
    return HedgeInstruments::futures;
  }
  if (text == "carry") {
    return HedgeInstruments::carry;
  }
  throw std::invalid_argument("--hedge-on: '" + std::string(text) + "' (expected perpetual, futures or carry)");
}

std::string_view to_string(HedgeInstruments instruments) noexcept {
  switch (instruments) {
  case HedgeInstruments::futures:
    return "futures";
  case HedgeInstruments::carry:
    return "carry";
  case HedgeInstruments::perpetual:
    break;
  }
  return "perpetual";
}

void add_weekly_futures(hedging::KernelConfig& config, hedging::Timestamp start, hedging::Timestamp end,
                        HedgeInstruments instruments) {
  if (instruments == HedgeInstruments::perpetual) {
    return;
  }
  if (end < start) {
    throw std::invalid_argument("backtest futures: the path ends before it starts");
  }
  // Weeks the path spans, plus the future that settles after its end and
  // the one after that: the kernel leaves a future roll_before_expiry early.
  constexpr std::int64_t kWeek = 7LL * 86'400 * 1'000'000'000;
  const std::int64_t weeks = (end - start).nanoseconds / kWeek + 3;
  constexpr std::int64_t kMaxWeeks = 60;
  if (weeks > kMaxWeeks) {
    throw std::invalid_argument("backtest futures: the path spans " + std::to_string(weeks - 3) +
                                " weeks; weekly futures are modelled over at most " + std::to_string(kMaxWeeks - 3) +
                                " (use --from and --to)");
  }
  FutureCalendar calendar;
  calendar.weeklies = static_cast<std::size_t>(weeks);
  calendar.monthlies = 0;
  calendar.quarterlies = 0;
  const std::vector<ListedFuture> listed = deribit_futures_listed(start, "BTC", calendar);

  hedging::InstrumentId next_id = 0;
  for (const hedging::InstrumentSpec& spec : config.instruments) {
    next_id = std::max(next_id, spec.id);
  }
  std::vector<hedging::InstrumentSpec> result;
  bool any = false;
  for (const hedging::InstrumentSpec& spec : config.instruments) {
    if (spec.kind != hedging::InstrumentKind::inverse_perpetual) {
      result.push_back(spec);
      continue;
    }
    any = true;
    if (instruments == HedgeInstruments::carry) {
      result.push_back(spec);
    }
    for (const ListedFuture& future : listed) {
      hedging::InstrumentSpec dated = spec;
      dated.id = ++next_id;
      dated.kind = hedging::InstrumentKind::inverse_future;
      dated.symbol = hedging::Symbol(future.symbol);
      dated.expiry = future.expiry;
      result.push_back(dated);
    }
  }
  if (!any) {
    throw std::invalid_argument("--hedge-on " + std::string(to_string(instruments)) +
                                ": no venue trades an inverse perpetual to add weekly futures beside");
  }
  config.instruments = std::move(result);
  hedging::validate(config);
}

} // namespace synthusd::engine
