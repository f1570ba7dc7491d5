#pragma once
// LiabilitySinks for the liability source tests.
//
// ManualSink stands in for the kernel's queue: it holds `room` events and
// reports them durable only when the test says so (or at once with
// auto_durable), converting sats at `price`. RecordingSink is the journal
// sink that also keeps what it was handed (the kernel's view).

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "synthusd/engine/journal_liability_sink.hpp"
#include "synthusd/liabilities/liability_sink.hpp"

namespace synthusd::liabilities {

class ManualSink : public LiabilitySink {
public:
  std::uint64_t submit(const hedging::LiabilityChange& event, std::string_view id) noexcept override {
    if (taken.size() >= room) {
      return 0;
    }
    taken.push_back(event);
    taken_ids.emplace_back(id);
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
  std::vector<std::string> taken_ids; // the payment id each was submitted with
};

// The journal sink, also recording what it was handed (the kernel's view).
class RecordingSink final : public LiabilitySink {
public:
  RecordingSink(engine::JournalWriter& journal, std::function<hedging::Price()> price)
      : inner_(journal, std::move(price)) {}
  std::uint64_t submit(const hedging::LiabilityChange& event, std::string_view id) noexcept override {
    delivered.push_back(event);
    return inner_.submit(event, id);
  }
  [[nodiscard]] bool carries_other_inputs() const noexcept override { return true; }
  std::uint64_t submit_input(const hedging::Event& event, std::string_view id) noexcept override {
    delivered_inputs.push_back(event);
    return inner_.submit_input(event, id);
  }
  std::uint64_t make_durable() override { return inner_.make_durable(); }
  [[nodiscard]] hedging::Price index_price() const noexcept override { return inner_.index_price(); }
  std::vector<hedging::LiabilityChange> delivered;
  std::vector<hedging::Event> delivered_inputs; // provider interest and risk positions

private:
  engine::JournalLiabilitySink inner_;
};

} // namespace synthusd::liabilities
