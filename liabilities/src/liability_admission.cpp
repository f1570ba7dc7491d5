#include "synthusd/liabilities/liability_sink.hpp"

namespace synthusd::liabilities {

std::uint64_t liability_event_id(std::string_view id) noexcept {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : id) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

Admission LiabilityAdmission::admit(const LiabilityRequest& request) {
  Admission result;
  const std::uint64_t event_id = liability_event_id(request.id);
  if (const auto found = seen_.find(event_id); found != seen_.end()) {
    ++counters_.duplicates;
    result.outcome = Admission::Outcome::duplicate;
    result.ticket = found->second;
    return result;
  }
  hedging::LiabilityChange& change = result.event;
  change.id = event_id;
  change.time = hedging::Timestamp{request.ts_ms * 1'000'000};
  change.sats = hedging::Sats{request.sats.value_or(0)};
  if (request.usd_cents) {
    change.delta = hedging::UsdCents{*request.usd_cents};
  } else {
    const hedging::Price price = sink_.index_price();
    if (!price.is_valid()) {
      ++counters_.rejected;
      result.outcome = Admission::Outcome::rejected;
      result.reason = "no index price to convert sats";
      return result;
    }
    // The spread goes against the user: a credit buys fewer dollars, a debit
    // costs more; rounding also favours the operator by under a cent.
    const hedging::Ratio factor = request.credit ? hedging::Ratio::one() - spread_ : hedging::Ratio::one() + spread_;
    const hedging::Price applied = hedging::scale(price, factor, hedging::Rounding::half_even);
    change.price = applied;
    change.delta =
        hedging::sats_to_cents(change.sats, applied, request.credit ? hedging::Rounding::down : hedging::Rounding::up);
  }
  if (!request.credit) {
    change.delta = -change.delta;
  }
  const std::uint64_t ticket = sink_.submit(change);
  if (ticket == 0) {
    ++counters_.full;
    result.outcome = Admission::Outcome::full;
    return result;
  }
  seen_.emplace(event_id, ticket);
  ++counters_.accepted;
  result.outcome = Admission::Outcome::accepted;
  result.ticket = ticket;
  return result;
}

} // namespace synthusd::liabilities
