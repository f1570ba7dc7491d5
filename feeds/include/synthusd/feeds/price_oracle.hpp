#pragma once
// The index price the engine trusts, from several venues' prices:
// median of the fresh ones; sources more than `max_deviation` from that
// median are dropped, and those left must lie within `max_deviation` (of
// the median) of each other, else none agrees (two sources 10 % apart are
// each under 5 % from their midpoint, yet disagree); at least
// `min_agreeing` must agree (2 when two or more sources are configured,
// else 1); a move of more than
// `jump_threshold` from the last trusted price is quarantined until
// `jump_confirmations` agreeing sources show it; prices older than
// `max_age` are ignored. Fixed point throughout; no allocation after
// construction; single-threaded (the kernel thread owns it).

#include <cstdint>
#include <vector>

#include "synthusd/hedging/types.hpp"

namespace synthusd::feeds {

struct OracleConfig {
  hedging::Ratio max_deviation = hedging::Ratio::from_ppm(50'000);   // 5 %
  std::size_t min_agreeing = 0;                                      // 0: 2 if >= 2 sources, else 1
  hedging::Ratio jump_threshold = hedging::Ratio::from_ppm(100'000); // 10 %
  std::size_t jump_confirmations = 2;
  hedging::Duration max_age = hedging::Duration::from_seconds(60);
};

enum class OracleStatus : std::uint8_t {
  trusted,         // price is the new trusted price
  no_fresh_source, // fewer fresh sources than min_agreeing
  no_agreement,    // fresh sources disagree beyond max_deviation
  quarantined,     // a jump waiting for confirmation; price is the last trusted price
};

struct OracleReading {
  OracleStatus status = OracleStatus::no_fresh_source;
  hedging::Price price{}; // trusted: the new price; otherwise the last trusted one (0 if none)
  std::uint32_t fresh = 0;
  std::uint32_t agreeing = 0;
};

// One source as the last read() saw it (for an operator: which feed is
// silent, which one is off).
struct OracleSourceView {
  hedging::Price price{};    // its latest price (0 before the first)
  hedging::Timestamp time{}; // when that price was recorded
  bool seen = false;         // it gave a valid price at least once
  bool agreeing = false;     // fresh and within max_deviation of the median at the last read()
};

class PriceOracle {
public:
  // Throws std::invalid_argument for zero sources or nonsensical thresholds.
  PriceOracle(OracleConfig config, std::size_t source_count);

  // Records a source's latest price (invalid prices are ignored and counted).
  void update(std::size_t source, hedging::Price price, hedging::Timestamp time) noexcept;

  // Computes the reading as of `now`.
  [[nodiscard]] OracleReading read(hedging::Timestamp now) noexcept;

  [[nodiscard]] hedging::Price last_trusted() const noexcept { return last_trusted_; }
  [[nodiscard]] std::uint64_t rejected_updates() const noexcept { return rejected_updates_; }
  [[nodiscard]] std::uint64_t quarantines() const noexcept { return quarantines_; }
  // The configuration in force (min_agreeing resolved when it was 0).
  [[nodiscard]] const OracleConfig& config() const noexcept { return config_; }
  [[nodiscard]] std::size_t source_count() const noexcept { return sources_.size(); }
  [[nodiscard]] OracleSourceView source(std::size_t index) const noexcept {
    const Source& source = sources_[index];
    return {source.price, source.time, source.seen, source.agreeing};
  }

private:
  struct Source {
    hedging::Price price{};
    hedging::Timestamp time{};
    bool seen = false;
    bool agreeing = false;
  };

  OracleConfig config_;
  std::vector<Source> sources_;
  std::vector<std::int64_t> scratch_; // sized once: fresh prices for the median
  std::vector<std::int64_t> agreeing_;
  hedging::Price last_trusted_{};
  bool in_quarantine_ = false;
  std::uint64_t rejected_updates_ = 0;
  std::uint64_t quarantines_ = 0;
};

} // namespace synthusd::feeds
