#include "synthusd/liabilities/liability_sink.hpp"

#include <algorithm>
#include <chrono>

namespace synthusd::liabilities {

std::uint64_t liability_event_id(std::string_view id) noexcept {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : id) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

namespace {

std::uint64_t mix(std::uint64_t hash, std::uint64_t value) noexcept {
  for (int i = 0; i < 8; ++i) {
    hash ^= (value >> (8 * i)) & 0xffU;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::uint64_t fingerprint(bool credit, std::int64_t usd_cents, std::int64_t sats) noexcept {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  hash = mix(hash, credit ? 1 : 2);
  hash = mix(hash, static_cast<std::uint64_t>(usd_cents));
  hash = mix(hash, static_cast<std::uint64_t>(sats));
  return hash == 0 ? 1 : hash; // 0 means unknown
}

constexpr std::int64_t kMillisecondsPerDay = 86'400'000;

} // namespace

std::uint64_t liability_fingerprint(const LiabilityRequest& request) noexcept {
  return fingerprint(request.credit, request.usd_cents.value_or(0), request.sats.value_or(0));
}

std::uint64_t liability_fingerprint(const hedging::LiabilityChange& change) noexcept {
  // admit() leaves the price at 0 exactly when the source gave dollars; a
  // debit is always negative (converted sats round up to at least a cent).
  const bool credit = change.delta.value >= 0;
  const std::int64_t usd = change.price.is_valid() ? 0 : change.delta.abs().value;
  return fingerprint(credit, usd, change.sats.value);
}

std::uint64_t input_fingerprint(const hedging::Event& event) noexcept {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  if (const auto* interest = std::get_if<hedging::ProviderInterestChange>(&event)) {
    hash = mix(hash, 3);
    hash = mix(hash, interest->provider_id);
    hash = mix(hash, static_cast<std::uint64_t>(interest->delta.value));
  } else if (const auto* risk = std::get_if<hedging::ExternalRiskPosition>(&event)) {
    hash = mix(hash, 4);
    hash = mix(hash, risk->market);
    hash = mix(hash, risk->position_id);
    hash = mix(hash, risk->present ? 1 : 0);
    for (const std::int64_t value : {risk->notional.value, risk->vault_balance.value, risk->shield_balance.value,
                                     risk->pnl.value, risk->profit_limit_interest.raw}) {
      hash = mix(hash, static_cast<std::uint64_t>(value));
    }
  } else {
    return 0; // unknown: no conflict check
  }
  return hash == 0 ? 1 : hash;
}

LiabilityAdmission::LiabilityAdmission(LiabilitySink& sink, hedging::Ratio conversion_spread, AdmissionLimits limits,
                                       std::function<std::int64_t()> now_ms)
    : sink_(sink), spread_(conversion_spread), limits_(limits), now_ms_(std::move(now_ms)) {
  if (!now_ms_) {
    now_ms_ = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
}

const LiabilityAdmission::Seen* LiabilityAdmission::find_seen(std::string_view id,
                                                              std::uint64_t event_id) const noexcept {
  if (const Seen* found = seen_.find(id); found != nullptr) {
    return found;
  }
  // A record of an older journal knows only the key: it stands for any id
  // with that key (what the engine did before ids were journaled).
  if (const auto found = seen_by_key_only_.find(event_id); found != seen_by_key_only_.end()) {
    return &found->second;
  }
  return nullptr;
}

Admission LiabilityAdmission::refuse(const char* reason) {
  ++counters_.rejected;
  Admission result;
  result.outcome = Admission::Outcome::rejected;
  result.reason = reason;
  return result;
}

Admission LiabilityAdmission::admit(const LiabilityRequest& request) {
  if (request.kind != RequestKind::liability) {
    return admit_other(request, now_ms_());
  }
  Admission result;
  const std::uint64_t event_id = event_id_of_(request.id);
  const std::uint64_t print = liability_fingerprint(request);
  if (const Seen* found = find_seen(request.id, event_id); found != nullptr) {
    if (found->fingerprint != 0 && found->fingerprint != print) {
      // Never a silent duplicate: the source says something else about a
      // payment already booked. The first booking stands; this is refused.
      ++counters_.conflicts;
      return refuse("id already admitted with another kind or amount");
    }
    ++counters_.duplicates;
    result.outcome = Admission::Outcome::duplicate;
    result.ticket = found->ticket;
    return result;
  }
  // Bounds before any arithmetic: an amount or time outside them is refused,
  // never journaled, so it cannot move the liability or the kernel's clock.
  if (request.id.empty() || request.id.size() > kMaxLiabilityIdBytes) {
    return refuse("id must be a string of 1 to 128 bytes"); // the journal keeps it whole
  }
  if (request.usd_cents && (*request.usd_cents <= 0 || *request.usd_cents > limits_.max_event_usd_cents)) {
    return refuse("usd_cents above the per-payment limit");
  }
  if (request.sats && (*request.sats <= 0 || *request.sats > limits_.max_event_sats)) {
    return refuse("sats above the per-payment limit");
  }
  const std::int64_t now = now_ms_();
  if (request.ts_ms < 0 || request.ts_ms > now + limits_.max_future_ms) {
    return refuse("ts is ahead of the engine's clock by more than the allowed window");
  }
  if (request.backfill) {
    // Replayed history (PROTOCOL.md): old by nature, but not older than any
    // payment the node can have made (a ts in seconds reads as 1970).
    if (request.ts_ms < now - limits_.max_backfill_ms) {
      return refuse("backfill ts is older than the backfill window");
    }
  } else {
    // Live: the payment happened around when it reached the engine (or the
    // durable log the source reads); a clock or unit error is refused.
    const std::int64_t reached = request.logged_ms > 0 ? std::min(request.logged_ms, now) : now;
    if (request.ts_ms < reached - limits_.max_past_ms) {
      return refuse("ts is behind the engine's clock by more than the allowed window (a replay of history says "
                    "\"backfill\":true)");
    }
    if (request.ts_ms > reached + limits_.max_future_ms) {
      return refuse("ts is ahead of the engine's clock by more than the allowed window");
    }
  }
  hedging::LiabilityChange& change = result.event;
  change.id = event_id;
  // The payment's own time, kept for the record also when it is old
  // (backfill): the kernel's clock never runs backwards, so an old time
  // moves nothing there.
  change.time = hedging::Timestamp{request.ts_ms * 1'000'000}; // ts_ms <= now + window: no overflow
  change.sats = hedging::Sats{request.sats.value_or(0)};
  if (request.usd_cents) {
    change.delta = hedging::UsdCents{*request.usd_cents};
  } else {
    const hedging::Price price = sink_.index_price();
    if (!price.is_valid()) {
      // Held, never converted at a price that is stale or unconfirmed.
      ++counters_.unpriced;
      result.outcome = Admission::Outcome::unpriced;
      result.reason = "no valid index price to convert sats";
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
  // The day's total, checked: |delta| <= max_event_usd_cents (or the sats
  // bound at any price below 1e14 cents per BTC), so the sum cannot wrap.
  const std::int64_t day = now / kMillisecondsPerDay;
  const std::int64_t daily = (day == day_ ? daily_cents_ : 0) + change.delta.abs().value;
  if (daily > limits_.max_daily_usd_cents) {
    return refuse("the daily limit of dollars moved would be exceeded");
  }
  const std::uint64_t ticket = sink_.submit(change, request.id);
  if (ticket == 0) {
    ++counters_.full;
    result.outcome = Admission::Outcome::full;
    return result;
  }
  seen_.insert(request.id, Seen{ticket, print});
  day_ = day;
  daily_cents_ = daily;
  ++counters_.accepted;
  result.outcome = Admission::Outcome::accepted;
  result.ticket = ticket;
  return result;
}

} // namespace synthusd::liabilities

namespace synthusd::liabilities {

namespace {

// Amounts a provider-interest change or risk position may carry: the
// per-payment dollar bound for an interest change (it is one user's order),
// $100 billion for a position's figures, and a profit-limit interest
// between 0 and 10 (the kernel multiplies balances by it).
constexpr std::int64_t kMaxRiskCents = 10'000'000'000'000;
constexpr std::int64_t kMaxProfitLimitInterestRaw = 10 * hedging::Ratio::kScale;

} // namespace

// Provider interest and risk positions are not payments: no sats, no
// conversion, no daily dollar limit. They share the payments' ids (one
// namespace, deduplicated and journaled alike) and the live time window.
Admission LiabilityAdmission::admit_other(const LiabilityRequest& request, std::int64_t now) {
  Admission result;
  hedging::Event event;
  const hedging::Timestamp time{request.ts_ms * 1'000'000}; // ts_ms <= 2100 (parse): no overflow
  if (request.kind == RequestKind::provider_interest) {
    hedging::ProviderInterestChange change;
    change.provider_id = liability_event_id(request.provider);
    change.delta = hedging::UsdCents{request.credit ? request.usd_cents.value_or(0) : -request.usd_cents.value_or(0)};
    change.time = time;
    event = change;
  } else {
    hedging::ExternalRiskPosition position = request.risk;
    position.time = time;
    event = position;
  }
  const std::uint64_t print = input_fingerprint(event);
  if (const Seen* found = find_seen(request.id, event_id_of_(request.id)); found != nullptr) {
    if (found->fingerprint != 0 && found->fingerprint != print) {
      ++counters_.conflicts;
      return refuse("id already admitted with another kind or amount");
    }
    ++counters_.duplicates;
    result.outcome = Admission::Outcome::duplicate;
    result.ticket = found->ticket;
    return result;
  }
  if (request.id.empty() || request.id.size() > kMaxLiabilityIdBytes) {
    return refuse("id must be a string of 1 to 128 bytes");
  }
  if (!sink_.carries_other_inputs()) {
    return refuse("this engine takes only usd_credit and usd_debit here");
  }
  if (request.kind == RequestKind::provider_interest) {
    if (!request.usd_cents || *request.usd_cents <= 0 || *request.usd_cents > limits_.max_event_usd_cents) {
      return refuse("usd_cents above the per-payment limit");
    }
  } else {
    const hedging::ExternalRiskPosition& risk = request.risk;
    for (const std::int64_t cents :
         {risk.notional.value, risk.vault_balance.value, risk.shield_balance.value, risk.pnl.value}) {
      if (cents < -kMaxRiskCents || cents > kMaxRiskCents) {
        return refuse("a risk position amount is beyond $100 billion");
      }
    }
    if (risk.profit_limit_interest.raw < 0 || risk.profit_limit_interest.raw > kMaxProfitLimitInterestRaw) {
      return refuse("profit_limit_interest must be between 0 and 10");
    }
  }
  // Live only: a position or an interest is the source's state now.
  const std::int64_t reached = request.logged_ms > 0 ? std::min(request.logged_ms, now) : now;
  if (request.ts_ms < reached - limits_.max_past_ms) {
    return refuse("ts is behind the engine's clock by more than the allowed window");
  }
  if (request.ts_ms > reached + limits_.max_future_ms) {
    return refuse("ts is ahead of the engine's clock by more than the allowed window");
  }
  const std::uint64_t ticket = sink_.submit_input(event, request.id);
  if (ticket == 0) {
    ++counters_.full;
    result.outcome = Admission::Outcome::full;
    return result;
  }
  seen_.insert(request.id, Seen{ticket, print});
  ++counters_.accepted;
  result.outcome = Admission::Outcome::accepted;
  result.ticket = ticket;
  return result;
}

} // namespace synthusd::liabilities
