#pragma once
// Rejected input, counted by reason until the engine takes it for its log.
//
// A source rejects bad lines as they come; a burst can carry many different
// reasons. Keeping only the latest one (last_error) would lose all but the
// last, and logging each line would let a bad client flood the log. So a
// source tallies: per distinct reason, how many, and the latest example
// (an id, a stream sequence). The engine's source loop takes the tally and
// logs it rate-limited per reason (engine/src/run/rejection_log.hpp).
//
// Bounded: at most kMaxReasons distinct reasons between two takes; further
// new reasons are counted under kOtherReasons, never dropped.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace synthusd::liabilities {

struct RejectionCount {
  std::string reason;
  std::uint64_t count = 0;
  std::string example; // the latest rejected input's identity (may be empty)
};

class RejectionTally {
public:
  static constexpr std::size_t kMaxReasons = 64;
  static constexpr std::size_t kMaxReasonBytes = 240;
  static constexpr std::string_view kOtherReasons = "other reasons (too many distinct reasons at once)";

  void record(std::string_view reason, std::string_view example = {}) {
    reason = reason.substr(0, kMaxReasonBytes);
    for (RejectionCount& entry : entries_) {
      if (entry.reason == reason) {
        ++entry.count;
        entry.example.assign(example.substr(0, kMaxReasonBytes));
        return;
      }
    }
    if (entries_.size() + 1 >= kMaxReasons) {
      reason = kOtherReasons;
      for (RejectionCount& entry : entries_) {
        if (entry.reason == reason) {
          ++entry.count;
          entry.example.assign(example.substr(0, kMaxReasonBytes));
          return;
        }
      }
    }
    entries_.push_back({std::string(reason), 1, std::string(example.substr(0, kMaxReasonBytes))});
  }

  // Everything tallied since the last take, in first-seen order.
  [[nodiscard]] std::vector<RejectionCount> take() { return std::exchange(entries_, {}); }
  [[nodiscard]] bool empty() const noexcept { return entries_.empty(); }

private:
  std::vector<RejectionCount> entries_;
};

} // namespace synthusd::liabilities
