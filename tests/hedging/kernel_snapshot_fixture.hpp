#pragma once
// What the kernel snapshot tests share (kernel_snapshot_test.cpp: restored
// kernels continue identically, other configs and damaged bytes are refused;
// kernel_snapshot_signed_test.cpp: re-signed bytes with impossible values).

#include <cstdint>
#include <vector>

#include "event_driver.hpp"
#include "kernel_fixture.hpp"

namespace synthusd::hedging::testing {

inline std::vector<std::uint8_t> snapshot_of(const Kernel& kernel) {
  std::vector<std::uint8_t> bytes;
  kernel.write_snapshot(bytes);
  return bytes;
}

inline bool risk_hedge_open(const Kernel& kernel) {
  for (const SlotState& slot : kernel.slots()) {
    if (!slot.risk_in_flight.is_zero()) {
      return true;
    }
  }
  return false;
}

// A kernel with some history, to check that refusals leave it untouched.
inline Kernel busy_kernel(const KernelConfig& config, std::uint64_t seed, int events) {
  Kernel kernel(config);
  EventDriver driver(seed);
  std::span<const Action> actions;
  for (int i = 0; i < events; ++i) {
    actions = kernel.on(driver.next(actions));
  }
  return kernel;
}

// Small tables keep the exhaustive loops below fast.
inline KernelConfig small_config() {
  KernelConfig config = full_config();
  config.order_table_capacity = 8;
  config.risk_position_capacity = 2;
  return config;
}

} // namespace synthusd::hedging::testing
