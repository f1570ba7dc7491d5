#include "synthusd/liabilities/rejection_log.hpp"

#include <algorithm>
#include <utility>

namespace synthusd::liabilities {

RejectionLog::RejectionLog(std::string source, Writer writer, std::chrono::milliseconds interval)
    : source_(std::move(source)), writer_(std::move(writer)), interval_(interval) {}

void RejectionLog::write(Reason& reason, Clock::time_point now) {
  std::string line = source_ + ": rejected " + std::to_string(reason.unwritten) +
                     (reason.unwritten == 1 ? " input: " : " inputs: ") + reason.text;
  if (!reason.example.empty()) {
    line += " (latest: " + reason.example + ")";
  }
  if (reason.total > reason.unwritten) {
    line += " [" + std::to_string(reason.total) + " for this reason in all]";
  }
  writer_(line);
  reason.unwritten = 0;
  reason.last_written = now;
}

void RejectionLog::add(const std::vector<RejectionCount>& counts, Clock::time_point now) {
  for (const RejectionCount& count : counts) {
    const auto find = [&](std::string_view text) {
      return std::find_if(reasons_.begin(), reasons_.end(), [&](const Reason& reason) { return reason.text == text; });
    };
    auto found = find(count.reason);
    if (found == reasons_.end() && reasons_.size() >= kMaxTrackedReasons) {
      // Reasons can carry input text: a flood of distinct ones is folded
      // into one line per interval rather than one line each.
      found = find(RejectionTally::kOtherReasons);
      if (found == reasons_.end()) {
        reasons_.push_back({std::string(RejectionTally::kOtherReasons), count.count, count.count, count.example, {}});
        write(reasons_.back(), now);
        continue;
      }
    }
    if (found == reasons_.end()) {
      reasons_.push_back({count.reason, count.count, count.count, count.example, {}});
      write(reasons_.back(), now); // a new reason: at once
      continue;
    }
    found->unwritten += count.count;
    found->total += count.count;
    if (!count.example.empty()) {
      found->example = count.example;
    }
  }
  flush(now);
}

void RejectionLog::flush(Clock::time_point now, bool everything) {
  for (Reason& reason : reasons_) {
    if (reason.unwritten > 0 && (everything || now - reason.last_written >= interval_)) {
      write(reason, now);
    }
  }
  // A reason quiet for a whole interval starts afresh (written at once).
  std::erase_if(reasons_,
                [&](const Reason& reason) { return reason.unwritten == 0 && now - reason.last_written >= interval_; });
}

} // namespace synthusd::liabilities
