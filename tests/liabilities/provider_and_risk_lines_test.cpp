// The intake's provider_increase / provider_decrease and risk_position lines
// (liabilities/PROTOCOL.md): parsed strictly, admitted with the payments'
// ids and time window, handed to a sink that carries them as kernel events.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "synthusd/liabilities/liability_sink.hpp"
#include "synthusd/liabilities/wire_protocol.hpp"

namespace synthusd::liabilities {
namespace {

constexpr std::int64_t kNowMs = 1'700'000'000'000;

// The kernel's queue as `run` has it: takes every input, durable at once.
class EventSink final : public LiabilitySink {
public:
  std::vector<hedging::Event> taken;
  std::vector<std::string> ids;
  bool carries = true;
  std::uint64_t submit(const hedging::LiabilityChange& event, std::string_view id) noexcept override {
    return submit_input(event, id);
  }
  [[nodiscard]] bool carries_other_inputs() const noexcept override { return carries; }
  std::uint64_t submit_input(const hedging::Event& event, std::string_view id) noexcept override {
    taken.push_back(event);
    ids.emplace_back(id);
    return taken.size();
  }
  std::uint64_t make_durable() override { return taken.size(); }
  [[nodiscard]] hedging::Price index_price() const noexcept override { return hedging::Price{}; }
};

LiabilityRequest parse(std::string_view line) {
  LiabilityRequest request;
  std::string reason;
  EXPECT_TRUE(parse_liability_line(line, request, reason)) << line << ": " << reason;
  return request;
}

std::string refusal(std::string_view line) {
  LiabilityRequest request;
  std::string reason;
  EXPECT_FALSE(parse_liability_line(line, request, reason)) << line;
  return reason;
}

TEST(ProviderAndRiskLines, a_provider_increase_and_decrease_parse_with_the_provider_and_dollars) {
  const LiabilityRequest up =
      parse(R"({"id":"p-1","kind":"provider_increase","provider":"alice","usd_cents":30000,"ts":1700000000000})");
  EXPECT_EQ(up.kind, RequestKind::provider_interest);
  EXPECT_TRUE(up.credit);
  EXPECT_EQ(up.provider, "alice");
  EXPECT_EQ(up.usd_cents, 30'000);
  const LiabilityRequest down =
      parse(R"({"id":"p-2","kind":"provider_decrease","provider":"alice","usd_cents":100,"ts":1})");
  EXPECT_FALSE(down.credit);
}

TEST(ProviderAndRiskLines, a_risk_position_parses_every_field_exactly) {
  const LiabilityRequest request = parse(
      R"({"id":"r-1","kind":"risk_position","market":7,"position":42,"present":true,"notional_usd_cents":-2000000,)"
      R"("vault_usd_cents":10000000,"shield_usd_cents":1000000,"pnl_usd_cents":-3000000,)"
      R"("profit_limit_interest":0.12345678,"ts":1700000000000})");
  EXPECT_EQ(request.kind, RequestKind::risk_position);
  EXPECT_EQ(request.risk.market, 7);
  EXPECT_EQ(request.risk.position_id, 42u);
  EXPECT_TRUE(request.risk.present);
  EXPECT_EQ(request.risk.notional, hedging::UsdCents{-2'000'000});
  EXPECT_EQ(request.risk.vault_balance, hedging::UsdCents{10'000'000});
  EXPECT_EQ(request.risk.shield_balance, hedging::UsdCents{1'000'000});
  EXPECT_EQ(request.risk.pnl, hedging::UsdCents{-3'000'000});
  EXPECT_EQ(request.risk.profit_limit_interest, hedging::Ratio{12'345'678});
  // Gone: no figures needed; the profit-limit interest defaults to 1.
  const LiabilityRequest gone =
      parse(R"({"id":"r-2","kind":"risk_position","market":7,"position":42,"present":false,"ts":1})");
  EXPECT_FALSE(gone.risk.present);
  EXPECT_EQ(gone.risk.profit_limit_interest, hedging::Ratio::one());
}

TEST(ProviderAndRiskLines, each_kind_takes_its_own_fields_only_and_says_what_is_wrong) {
  EXPECT_EQ(refusal(R"({"id":"p","kind":"provider_increase","usd_cents":1,"ts":1})"), "provider is missing");
  EXPECT_EQ(refusal(R"({"id":"p","kind":"provider_increase","provider":"a","ts":1})"), "usd_cents is required");
  EXPECT_EQ(refusal(R"({"id":"p","kind":"provider_increase","provider":"","usd_cents":1,"ts":1})"),
            "provider must be a string of 1 to 64 bytes");
  EXPECT_NE(refusal(R"({"id":"p","kind":"provider_decrease","provider":"a","sats":1,"ts":1})")
                .find("provider_increase and provider_decrease take"),
            std::string::npos);
  EXPECT_EQ(refusal(R"({"id":"r","kind":"risk_position","position":1,"notional_usd_cents":1,"ts":1})"),
            "market is missing");
  EXPECT_EQ(refusal(R"({"id":"r","kind":"risk_position","market":1,"notional_usd_cents":1,"ts":1})"),
            "position is missing");
  EXPECT_EQ(refusal(R"({"id":"r","kind":"risk_position","market":1,"position":1,"ts":1})"),
            "notional_usd_cents is missing");
  EXPECT_EQ(refusal(R"({"id":"r","kind":"risk_position","market":65536,"position":1,"ts":1})"),
            "market must be an integer from 0 to 65535");
  EXPECT_EQ(refusal(R"({"id":"r","kind":"risk_position","market":1,"position":1,"notional_usd_cents":1.5,"ts":1})"),
            "notional_usd_cents must be an integer");
  EXPECT_EQ(refusal(R"({"id":"r","kind":"risk_position","market":1,"position":1,"notional_usd_cents":1,)"
                    R"("profit_limit_interest":0.123456789,"ts":1})"),
            "profit_limit_interest must be a decimal number with at most 8 places");
  EXPECT_NE(refusal(R"({"id":"r","kind":"risk_position","market":1,"position":1,"usd_cents":1,"ts":1})")
                .find("risk_position takes"),
            std::string::npos);
  EXPECT_EQ(refusal(R"({"id":"c","kind":"usd_credit","usd_cents":1,"provider":"a","ts":1})"),
            "usd_credit and usd_debit take no provider or risk position fields");
  EXPECT_EQ(refusal(R"({"id":"c","kind":"usd_gift","usd_cents":1,"ts":1})"),
            "kind must be usd_credit, usd_debit, provider_increase, provider_decrease or risk_position");
}

struct Fixture {
  EventSink sink;
  LiabilityAdmission admission{sink, hedging::Ratio{}, AdmissionLimits{}, [] { return kNowMs; }};
};

TEST(ProviderAndRiskAdmission, a_provider_change_becomes_a_signed_interest_change_keyed_by_the_provider) {
  Fixture f;
  LiabilityRequest up = parse(R"({"id":"p-1","kind":"provider_increase","provider":"alice","usd_cents":30000,)"
                              R"("ts":1700000000000})");
  LiabilityRequest down = parse(R"({"id":"p-2","kind":"provider_decrease","provider":"alice","usd_cents":500,)"
                                R"("ts":1700000000000})");
  EXPECT_EQ(f.admission.admit(up).outcome, Admission::Outcome::accepted);
  EXPECT_EQ(f.admission.admit(down).outcome, Admission::Outcome::accepted);
  ASSERT_EQ(f.sink.taken.size(), 2u);
  const auto& first = std::get<hedging::ProviderInterestChange>(f.sink.taken[0]);
  const auto& second = std::get<hedging::ProviderInterestChange>(f.sink.taken[1]);
  EXPECT_EQ(first.provider_id, liability_event_id("alice"));
  EXPECT_EQ(first.delta, hedging::UsdCents{30'000});
  EXPECT_EQ(second.delta, hedging::UsdCents{-500});
  EXPECT_EQ(first.time, hedging::Timestamp{kNowMs * 1'000'000});
  EXPECT_EQ(f.sink.ids, (std::vector<std::string>{"p-1", "p-2"}));
  // The same id again: a duplicate; with another amount: a conflict.
  EXPECT_EQ(f.admission.admit(up).outcome, Admission::Outcome::duplicate);
  up.usd_cents = 30'001;
  EXPECT_EQ(f.admission.admit(up).outcome, Admission::Outcome::rejected);
  EXPECT_EQ(f.admission.counters().conflicts, 1u);
  EXPECT_EQ(f.sink.taken.size(), 2u);
}

TEST(ProviderAndRiskAdmission, a_risk_position_is_handed_on_as_observed_with_its_time) {
  Fixture f;
  const LiabilityRequest request =
      parse(R"({"id":"r-1","kind":"risk_position","market":7,"position":42,"notional_usd_cents":2000000,)"
            R"("vault_usd_cents":10000000,"shield_usd_cents":1000000,"pnl_usd_cents":3000000,"ts":1700000000000})");
  EXPECT_EQ(f.admission.admit(request).outcome, Admission::Outcome::accepted);
  ASSERT_EQ(f.sink.taken.size(), 1u);
  const auto& position = std::get<hedging::ExternalRiskPosition>(f.sink.taken[0]);
  EXPECT_EQ(position.market, 7);
  EXPECT_EQ(position.position_id, 42u);
  EXPECT_EQ(position.notional, hedging::UsdCents{2'000'000});
  EXPECT_EQ(position.pnl, hedging::UsdCents{3'000'000});
  EXPECT_EQ(position.time, hedging::Timestamp{kNowMs * 1'000'000});
}

TEST(ProviderAndRiskAdmission, bounds_and_the_time_window_refuse_before_anything_is_taken) {
  Fixture f;
  LiabilityRequest huge = parse(R"({"id":"p-1","kind":"provider_increase","provider":"a","usd_cents":100000001,)"
                                R"("ts":1700000000000})");
  EXPECT_STREQ(f.admission.admit(huge).reason, "usd_cents above the per-payment limit");
  LiabilityRequest big = parse(R"({"id":"r-1","kind":"risk_position","market":1,"position":1,)"
                               R"("notional_usd_cents":10000000000001,"ts":1700000000000})");
  EXPECT_STREQ(f.admission.admit(big).reason, "a risk position amount is beyond $100 billion");
  LiabilityRequest stale = parse(R"({"id":"p-2","kind":"provider_increase","provider":"a","usd_cents":1,)"
                                 R"("ts":1699999000000})");
  EXPECT_STREQ(f.admission.admit(stale).reason, "ts is behind the engine's clock by more than the allowed window");
  EXPECT_TRUE(f.sink.taken.empty());
  EXPECT_EQ(f.admission.counters().rejected, 3u);
}

TEST(ProviderAndRiskAdmission, a_sink_for_liability_changes_only_refuses_them_with_a_reason) {
  Fixture f;
  f.sink.carries = false;
  const LiabilityRequest request =
      parse(R"({"id":"p-1","kind":"provider_increase","provider":"a","usd_cents":1,"ts":1700000000000})");
  const Admission admission = f.admission.admit(request);
  EXPECT_EQ(admission.outcome, Admission::Outcome::rejected);
  EXPECT_STREQ(admission.reason, "this engine takes only usd_credit and usd_debit here");
  EXPECT_TRUE(f.sink.taken.empty());
}

} // namespace
} // namespace synthusd::liabilities
