#pragma once
// The backtest's intake: every liability line goes through the intake's own
// admission (liabilities::LiabilityAdmission), as under `synthusd run`, over
// an in-process sink. A resent line is applied once, a conflicting one or one
// beyond the intake's limits is refused, and what is accepted is handed to
// the driver's IntakeBooking at once (durable as soon as it is taken).

#include <cstdint>
#include <string_view>

#include "synthusd/engine/backtest_inputs.hpp"
#include "synthusd/hedging/events.hpp"
#include "synthusd/liabilities/liability_sink.hpp"

namespace synthusd::engine {

// What the driver does with what the admission accepts.
class IntakeBooking {
public:
  virtual ~IntakeBooking() = default;
  // Books an admitted payment and returns its ticket (one more than the
  // last), or returns 0 and points `declined` at why it was not taken.
  virtual std::uint64_t book_payment(const hedging::LiabilityChange& change, const char*& declined) = 0;
  // Books a provider's interest or a risk position; returns its ticket.
  virtual std::uint64_t book_input(const hedging::Event& event) = 0;
  // The last ticket handed out.
  [[nodiscard]] virtual std::uint64_t last_ticket() const = 0;
  // The price sats are converted at (the index of the point being run).
  [[nodiscard]] virtual hedging::Price index_price() const = 0;
};

struct IntakeVerdict {
  enum class Outcome { accepted, repeated, refused };
  Outcome outcome = Outcome::accepted;
  const char* reason = ""; // refused: why (static text)
};

class BacktestIntake final : private liabilities::LiabilitySink {
public:
  // first_price: the path's first point; a line older than the intake's
  // backfill window before it is refused.
  BacktestIntake(IntakeBooking& booking, hedging::Timestamp first_price);
  BacktestIntake(const BacktestIntake&) = delete;
  BacktestIntake& operator=(const BacktestIntake&) = delete;

  IntakeVerdict admit(const LiabilityFlow& flow);

private:
  std::uint64_t submit(const hedging::LiabilityChange& event, std::string_view id) noexcept override;
  [[nodiscard]] bool carries_other_inputs() const noexcept override { return true; }
  std::uint64_t submit_input(const hedging::Event& event, std::string_view id) noexcept override;
  std::uint64_t make_durable() override { return booking_.last_ticket(); }
  [[nodiscard]] hedging::Price index_price() const noexcept override { return booking_.index_price(); }

  IntakeBooking& booking_;
  std::int64_t earliest_ms_;       // the oldest line time admitted
  std::int64_t clock_ms_ = 0;      // the time of the line being admitted: the admission's clock
  const char* declined_ = nullptr; // why the booking took nothing (admission then says "full")
  liabilities::LiabilityAdmission admission_;
};

} // namespace synthusd::engine
