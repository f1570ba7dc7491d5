#include "backtest_intake.hpp"

namespace synthusd::engine {

// No conversion spread: the hedge error is measured on the dollars and sats
// that moved.
BacktestIntake::BacktestIntake(IntakeBooking& booking, hedging::Timestamp first_price)
    : booking_(booking),
      earliest_ms_(first_price.nanoseconds / 1'000'000 - liabilities::AdmissionLimits{}.max_backfill_ms),
      admission_(*this, hedging::Ratio{}, liabilities::AdmissionLimits{}, [this] { return clock_ms_; }) {}

IntakeVerdict BacktestIntake::admit(const LiabilityFlow& flow) {
  liabilities::LiabilityRequest request;
  request.id = flow.id;
  request.kind = flow.kind;
  request.credit = flow.credit;
  request.usd_cents = flow.usd_cents;
  request.sats = flow.sats;
  request.ts_ms = flow.time.nanoseconds / 1'000'000;
  request.provider = flow.provider;
  request.risk = flow.risk;
  declined_ = nullptr;
  // The admission's clock is the line's own time, as if the intake took it
  // live then: its time windows and the day its daily limit counts are the
  // line's, though the run reaches it at the next point (or at the first,
  // for the opening book). Only a line older than any payment the node can
  // have made (a ts in seconds reads as 1970) is refused here, with the
  // intake's backfill bound.
  clock_ms_ = request.ts_ms;
  if (request.ts_ms < earliest_ms_) {
    return {IntakeVerdict::Outcome::refused, "ts is older than the backfill window before the first price"};
  }
  const liabilities::Admission admission = admission_.admit(request);
  switch (admission.outcome) {
  case liabilities::Admission::Outcome::accepted:
    return {IntakeVerdict::Outcome::accepted, ""};
  case liabilities::Admission::Outcome::duplicate:
    return {IntakeVerdict::Outcome::repeated, ""};
  case liabilities::Admission::Outcome::rejected:
  case liabilities::Admission::Outcome::full:
  case liabilities::Admission::Outcome::unpriced:
    break;
  }
  // "full" is the booking's own refusal: its reason is the one to give.
  return {IntakeVerdict::Outcome::refused, declined_ != nullptr       ? declined_
                                           : admission.reason[0] != 0 ? admission.reason
                                                                      : "not taken by the intake"};
}

std::uint64_t BacktestIntake::submit(const hedging::LiabilityChange& event, std::string_view /*id*/) noexcept {
  return booking_.book_payment(event, declined_);
}

std::uint64_t BacktestIntake::submit_input(const hedging::Event& event, std::string_view /*id*/) noexcept {
  return booking_.book_input(event);
}

} // namespace synthusd::engine
