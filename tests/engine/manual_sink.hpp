#pragma once
// A LiabilitySink for source tests, standing in for the kernel's queue: it
// holds `room` events and reports them durable only when the test says so
// (or at once with auto_durable), converting sats at `price`.

#include <cstdint>
#include <vector>

#include "synthusd/engine/liability_sink.hpp"

namespace synthusd::engine {

class ManualSink : public LiabilitySink {
public:
  std::uint64_t submit(const hedging::LiabilityChange& event) noexcept override {
    if (taken.size() >= room) {
      return 0;
    }
    taken.push_back(event);
    return ++last_ticket;
  }
  std::uint64_t make_durable() override { return auto_durable ? last_ticket : durable; }
  [[nodiscard]] hedging::Price index_price() const noexcept override { return price; }

  std::size_t room = 100;
  bool auto_durable = false;
  std::uint64_t last_ticket = 0;
  std::uint64_t durable = 0;
  hedging::Price price{}; // none: sats cannot be converted
  std::vector<hedging::LiabilityChange> taken;
};

} // namespace synthusd::engine
