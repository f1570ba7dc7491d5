#pragma once
// The kernel's state as Prometheus text: liability, venue hedge, positions
// and in-flight quantities per venue and instrument, hedge ratio, collateral,
// funding, allocations and the kernel's counters. Full words in names.
// Rendered on the kernel thread (its state is its own) for /metrics.

#include <string>

#include "synthusd/engine/prometheus_text.hpp"
#include "synthusd/hedging/kernel.hpp"

namespace synthusd::engine {

void write_kernel_metrics(const hedging::Kernel& kernel, PrometheusText& out);
[[nodiscard]] std::string kernel_metrics(const hedging::Kernel& kernel);

} // namespace synthusd::engine
