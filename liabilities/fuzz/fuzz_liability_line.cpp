// The liability intake's line protocol (liabilities/PROTOCOL.md) and
// admission, fed arbitrary bytes. An input is cut into lines as the intake
// cuts them. Each line is parsed twice, into a request reused line after
// line (as LiabilityIntake does, to allocate nothing; before each line it
// is dirtied in every field) and into a fresh one: the two must agree in
// every field and reason. A parsed id echoed the way
// answers echo it must parse back to the same bytes. Every parsed request
// is admitted at a fixed clock, and then again:
// - a payment is accepted at most once per id; a repeat is a duplicate with
//   the original's ticket, or refused, never a second booking;
// - tickets count up by one; an accepted payment moves the liability in its
//   direction, within the per-payment bound, and the day's total stays
//   within the daily bound;
// - the deduplication set holds exactly the accepted ids.
// A broken invariant traps, which libFuzzer reports as a crash.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "synthusd/liabilities/liability_intake.hpp"
#include "synthusd/liabilities/liability_sink.hpp"
#include "synthusd/liabilities/wire_protocol.hpp"

namespace synthusd::liabilities {
namespace {

constexpr std::int64_t kNowMs = 1'700'000'000'000;

void check(bool condition) {
  if (!condition) {
    __builtin_trap();
  }
}

// The kernel's queue: always room, sats converted at $50,000.
class CountingSink final : public LiabilitySink {
public:
  std::uint64_t submit(const hedging::LiabilityChange& event, std::string_view id) noexcept override {
    last = event;
    last_id.assign(id);
    return ++ticket;
  }
  [[nodiscard]] bool carries_other_inputs() const noexcept override { return true; }
  std::uint64_t submit_input(const hedging::Event& /*event*/, std::string_view id) noexcept override {
    last_id.assign(id);
    return ++ticket;
  }
  std::uint64_t make_durable() override { return ticket; }
  [[nodiscard]] hedging::Price index_price() const noexcept override { return hedging::Price::from_dollars(50'000); }
  std::uint64_t ticket = 0;
  hedging::LiabilityChange last{};
  std::string last_id;
};

bool same(const LiabilityRequest& a, const LiabilityRequest& b) {
  const hedging::ExternalRiskPosition& x = a.risk;
  const hedging::ExternalRiskPosition& y = b.risk;
  return a.id == b.id && a.kind == b.kind && a.credit == b.credit && a.usd_cents == b.usd_cents && a.sats == b.sats &&
         a.ts_ms == b.ts_ms && a.pay_index == b.pay_index && a.backfill == b.backfill && a.logged_ms == b.logged_ms &&
         a.provider == b.provider && x.market == y.market && x.position_id == y.position_id && x.present == y.present &&
         x.notional == y.notional && x.vault_balance == y.vault_balance && x.shield_balance == y.shield_balance &&
         x.pnl == y.pnl && x.profit_limit_interest == y.profit_limit_interest;
}

constexpr std::string_view kEveryField =
    R"({"id":"an-id-longer-than-any-inline-string-buffer-0123456789","kind":"usd_credit","usd_cents":5,)"
    R"("sats":7,"ts":1,"pay_index":9,"backfill":true,"provider":"alice","market":3,"position":7,"present":true,)"
    R"("notional_usd_cents":1,"vault_usd_cents":2,"shield_usd_cents":3,"pnl_usd_cents":4,"profit_limit_interest":"0.5"})";

struct Booked {
  std::uint64_t ticket = 0;
};

void check_echo(std::string_view id) {
  std::string line = "{\"id\":" + quote_json_string(id) + ",\"kind\":\"usd_credit\",\"usd_cents\":1,\"ts\":1}";
  LiabilityRequest echoed;
  std::string reason;
  check(parse_liability_line(line, echoed, reason));
  check(echoed.id == id);
  std::string appended = "x";
  append_json_string(appended, id);
  check(appended == "x" + quote_json_string(id));
}

} // namespace
} // namespace synthusd::liabilities

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace synthusd::liabilities;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  CountingSink sink;
  const AdmissionLimits limits;
  LiabilityAdmission admission(sink, synthusd::hedging::Ratio{}, limits, [] { return kNowMs; });
  LiabilityRequest reused;
  std::string reused_reason;
  std::map<std::string, Booked> accepted;
  std::int64_t moved_cents = 0;
  std::size_t start = 0;
  while (start < input.size()) {
    std::size_t end = input.find('\n', start);
    end = end == std::string_view::npos ? input.size() : end;
    std::string_view line = input.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.empty() || line.size() > IntakeOptions{}.max_line_bytes) {
      continue;
    }
    // Every field of the reused request set first, by a line that fails
    // only after its fields were read: nothing of it may leak into the next.
    check(!parse_liability_line(kEveryField, reused, reused_reason));
    LiabilityRequest fresh;
    std::string fresh_reason;
    const bool parsed = parse_liability_line(line, reused, reused_reason);
    check(parse_liability_line(line, fresh, fresh_reason) == parsed);
    if (!parsed) {
      check(reused_reason == fresh_reason && !fresh_reason.empty());
      continue;
    }
    check(same(reused, fresh));
    check(!fresh.id.empty() && fresh.id.size() <= kMaxLiabilityIdBytes);
    check_echo(fresh.id);

    const std::uint64_t ticket_before = sink.ticket;
    const Admission first = admission.admit(fresh);
    const auto booked = accepted.find(fresh.id);
    switch (first.outcome) {
    case Admission::Outcome::accepted:
      check(booked == accepted.end());
      check(first.ticket == ticket_before + 1 && sink.ticket == first.ticket && sink.last_id == fresh.id);
      accepted.emplace(fresh.id, Booked{first.ticket});
      if (fresh.kind == RequestKind::liability) {
        const std::int64_t delta = first.event.delta.value;
        // Converted sats round against the user: a credit down (to 0 at
        // worst), a debit up (to a cent at least).
        check(fresh.credit ? delta >= 0 : delta < 0);
        const std::int64_t magnitude = delta < 0 ? -delta : delta;
        check(!fresh.usd_cents || magnitude == *fresh.usd_cents);
        check(magnitude <= limits.max_event_usd_cents || !fresh.usd_cents);
        moved_cents += magnitude;
        check(moved_cents <= limits.max_daily_usd_cents);
      }
      break;
    case Admission::Outcome::duplicate:
      check(booked != accepted.end() && first.ticket == booked->second.ticket);
      check(sink.ticket == ticket_before);
      break;
    case Admission::Outcome::rejected:
      check(sink.ticket == ticket_before && first.reason != nullptr && first.reason[0] != '\0');
      break;
    case Admission::Outcome::full:
    case Admission::Outcome::unpriced:
      check(false); // the sink always has room and a price
    }
    // The same request again: never a second booking.
    const Admission again = admission.admit(fresh);
    check(sink.ticket == ticket_before + (first.outcome == Admission::Outcome::accepted ? 1 : 0));
    if (first.outcome == Admission::Outcome::accepted || first.outcome == Admission::Outcome::duplicate) {
      check(again.outcome == Admission::Outcome::duplicate && again.ticket == first.ticket);
    } else {
      check(again.outcome == Admission::Outcome::rejected);
    }
  }
  check(admission.seen_ids().size() == accepted.size());
  for (const auto& [id, booked] : accepted) {
    const SeenIds::Entry* entry = admission.seen_ids().find(id);
    check(entry != nullptr && entry->ticket == booked.ticket);
  }
  return 0;
}
