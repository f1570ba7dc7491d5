// The run config's [risk] section: check-config refuses, by key, every limit
// fix::PreTradeRisk would refuse when `run` starts, so a file it passes
// starts.
#include <gtest/gtest.h>

#include <string>

#include "config_test_support.hpp"
#include "synthusd/engine/config_file.hpp"
#include "synthusd/fix/pre_trade_risk.hpp"

namespace synthusd::engine {
namespace {

using test_support::describe;
using test_support::problems_of;
constexpr const char* kKernel = test_support::kTwoVenueKernel;

std::string with_risk(const std::string& line) { return std::string(kKernel) + "\n[risk]\n" + line + "\n"; }

TEST(RunConfig, risk_limits_pre_trade_risk_would_refuse_at_start_are_refused_by_key) {
  struct Case {
    const char* line;
    const char* key;
    const char* message;
  };
  for (const Case& bad : {
           Case{"max_order_notional_usd = -5", "risk.max_order_notional_usd", "must be above 0"},
           Case{"max_order_notional_usd = 0", "risk.max_order_notional_usd", "must be above 0"},
           Case{"max_aggregate_notional_usd = 0", "risk.max_aggregate_notional_usd", "must be above 0"},
           Case{"price_collar = 0", "risk.price_collar", "must be above 0 and below 1 (0.05 is 5 %)"},
           Case{"price_collar = 1.5", "risk.price_collar", "must be above 0 and below 1 (0.05 is 5 %)"},
       }) {
    const auto problems = problems_of(with_risk(bad.line));
    ASSERT_EQ(problems.size(), 1u) << bad.line << ": " << describe(problems);
    EXPECT_EQ(problems[0].key, bad.key) << bad.line;
    EXPECT_EQ(problems[0].message, bad.message) << bad.line;
  }
  const auto too_many = problems_of(with_risk("max_open_orders = 2000"));
  ASSERT_EQ(too_many.size(), 1u) << describe(too_many);
  EXPECT_EQ(too_many[0].key, "risk.max_open_orders");

  // What check-config passes, pre-trade risk takes.
  const EngineConfig accepted =
      parse_config(with_risk("max_open_orders = 1024\nprice_collar = 0.02\nmax_order_notional_usd = 0.01"), "t");
  EXPECT_NO_THROW(fix::PreTradeRisk(accepted.run.risk, accepted.kernel.instruments));
}

} // namespace
} // namespace synthusd::engine
