#pragma once
// The QuickFIX half of the gateway benchmark (C++14, like every QuickFIX
// translation unit): building and serialising a FIX44::NewOrderSingle the
// way GatewaySession does, as a fresh message per order or as one message
// whose fields are overwritten. No QuickFIX type shows here, so the C++20
// benchmark file includes it.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace synthusd { // NOLINT(modernize-concat-nested-namespaces)
namespace fix {
namespace bench {

// Order number n: ClOrdID "SU<n>", quantity n % 100 + 1, price 43000 +
// (n % 50) / 2, fixed time. Returns the complete wire string.
std::string new_order_build_and_serialize(std::uint64_t n);

class ReusedNewOrder {
public:
  ReusedNewOrder();
  ~ReusedNewOrder();
  ReusedNewOrder(const ReusedNewOrder&) = delete;
  ReusedNewOrder& operator=(const ReusedNewOrder&) = delete;
  // The same message as new_order_build_and_serialize(n), into `out`
  // (which keeps its capacity between calls).
  void overwrite_and_serialize(std::uint64_t n, std::string& out);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace bench
} // namespace fix
} // namespace synthusd
