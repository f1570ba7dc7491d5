#pragma once
// The risk-trigger strategy's risk tests (DeHedge): per external position,
// with remaining = vault + shield - pnl,
//   drawdown     : vault * vault_factor > remaining
//   shield       : shield - pnl <= 0
//   profit limit : vault * profit_limit_factor * interest > remaining * interest

#include "synthusd/hedging/config.hpp"
#include "synthusd/hedging/events.hpp"

namespace synthusd::hedging {

struct RiskAssessment {
  bool vault_drawdown = false;
  bool shield_pnl = false;
  bool profit_limit = false;
  [[nodiscard]] constexpr bool any() const noexcept { return vault_drawdown || shield_pnl || profit_limit; }
};

[[nodiscard]] RiskAssessment assess_risk(const RiskFactors& factors, const ExternalRiskPosition& position) noexcept;

} // namespace synthusd::hedging
