#include "synthusd/hedging/risk_trigger.hpp"

namespace synthusd::hedging {

RiskAssessment assess_risk(const RiskFactors& factors, const ExternalRiskPosition& position) noexcept {
  const int128 vault = position.vault_balance.value;
  const int128 shield = position.shield_balance.value;
  const int128 pnl = position.pnl.value;
  const int128 remaining = vault + shield - pnl;
  const int128 interest = position.profit_limit_interest.raw;

  RiskAssessment risk;
  // both sides scaled by Ratio::kScale (once for the factor)
  risk.vault_drawdown = vault * factors.vault_factor.raw > remaining * Ratio::kScale;
  risk.shield_pnl = shield - pnl <= 0;
  // both sides scaled by kScale^2 (factor and interest); values stay < 1e38
  risk.profit_limit = vault * factors.vault_profit_limit_factor.raw * interest > remaining * interest * Ratio::kScale;
  return risk;
}

} // namespace synthusd::hedging
