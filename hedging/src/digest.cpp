#include "synthusd/hedging/digest.hpp"

#include "synthusd/hedging/kernel.hpp"

namespace synthusd::hedging {
namespace {

template <class... Handlers>
struct Overloaded : Handlers... {
  using Handlers::operator()...;
};

void add_small(Digest& digest, std::uint64_t value) noexcept { digest.add(value); }

} // namespace

void add_action(Digest& digest, const Action& action) noexcept {
  add_small(digest, action.index());
  std::visit(Overloaded{
                 [&](const OrderIntent& o) {
                   digest.add(o.client_order_id);
                   add_small(digest, o.venue);
                   add_small(digest, o.instrument);
                   add_small(digest, static_cast<std::uint64_t>(o.side));
                   digest.add(o.quantity.value);
                   add_small(digest, static_cast<std::uint64_t>(o.type));
                   digest.add(o.limit_price.raw);
                   digest.add(o.reduce_only);
                   add_small(digest, static_cast<std::uint64_t>(o.purpose));
                 },
                 [&](const CancelIntent& c) {
                   digest.add(c.client_order_id);
                   add_small(digest, c.venue);
                 },
                 [&](const TransferIntent& t) {
                   digest.add(t.transfer_id);
                   add_small(digest, t.venue);
                   add_small(digest, static_cast<std::uint64_t>(t.direction));
                   digest.add(t.amount.value);
                 },
                 [&](const Alert& a) {
                   add_small(digest, static_cast<std::uint64_t>(a.code));
                   for (const std::int64_t v : a.values) {
                     digest.add(v);
                   }
                 },
             },
             action);
}

std::uint64_t Kernel::state_digest() const noexcept {
  Digest d;
  d.add(now_.nanoseconds);
  d.add(liability_.value);
  d.add(provider_interest_.value);
  d.add(venue_hedge_.value);
  d.add(unallocated_.value);
  d.add(next_client_order_id_);
  d.add(next_transfer_id_);
  for (const SlotState& s : slots_) {
    d.add(s.position.value);
    d.add(s.risk_position.value);
    d.add(s.in_flight.value);
    d.add(s.risk_in_flight.value);
    d.add(s.mark.raw);
    d.add(s.index.raw);
    d.add(s.funding_rate.raw);
    d.add(s.funding_guard_engaged);
    d.add(s.negative_funding_since.nanoseconds);
    d.add(s.target.value);
    d.add(s.retry_after.nanoseconds);
  }
  for (const VenueState& v : venues_) {
    d.add(v.up);
    d.add(v.collateral.value);
    d.add(v.collateral_known);
    d.add(v.transfer_in_flight);
    d.add(v.transfer_id);
    d.add(v.transfer_amount.value);
    d.add(static_cast<std::uint64_t>(v.active));
    d.add(v.allocation.value);
  }
  for (const OrderRecord& o : orders_.records()) {
    d.add(o.client_order_id);
    d.add(o.quantity.value);
    d.add(o.filled.value);
    d.add(o.sent.nanoseconds);
    d.add(o.cancel_requested);
    d.add(o.abandoned);
  }
  for (const RiskHedgeState& r : risk_hedges_) {
    d.add(r.in_use);
    d.add(r.position_id);
    d.add(r.committed.value);
    d.add(r.last_risk_time.nanoseconds);
  }
  return d.value();
}

} // namespace synthusd::hedging
