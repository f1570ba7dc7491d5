#pragma once
// Open orders, keyed by ClientOrderId. ClOrdIDs are issued sequentially, so
// id % capacity is a perfect hash while fewer than `capacity` orders are open:
// O(1) with no probing and no allocation after construction. A new order
// whose bucket is still taken is refused (the caller raises an alert).

#include <cstddef>
#include <vector>

#include "synthusd/hedging/actions.hpp"

namespace synthusd::hedging {

struct OrderRecord {
  ClientOrderId client_order_id = 0; // 0: bucket free
  std::size_t slot = 0;
  Side side = Side::buy;
  Contracts quantity{};
  Contracts filled{};
  OrderPurpose purpose = OrderPurpose::liability_hedge;
  std::size_t risk_index = 0; // risk_trigger_hedge only
  Timestamp sent{};           // when the intent left the kernel
  bool cancel_requested = false;
  bool passive = false; // rests at the touch: never an unanswered order
  // Given up (order_abandoned): out of flight, no longer an open order, but
  // kept so a report that comes after all books its fill into the position.
  // Its bucket goes to the next order that needs it.
  bool abandoned = false;
  [[nodiscard]] Contracts remaining() const noexcept { return quantity - filled; }
  [[nodiscard]] Contracts signed_remaining() const noexcept { return Contracts{remaining().value * sign_of(side)}; }
};

class OrderTable {
public:
  explicit OrderTable(std::size_t capacity) : records_(capacity) {}

  [[nodiscard]] bool can_insert(ClientOrderId id) const noexcept { return records_[bucket(id)].client_order_id == 0; }
  // Precondition: can_insert(record.client_order_id).
  void insert(const OrderRecord& record) noexcept {
    records_[bucket(record.client_order_id)] = record;
    ++size_;
    abandoned_ += record.abandoned ? 1 : 0;
  }
  // The record in id's bucket (free: client_order_id 0).
  [[nodiscard]] OrderRecord& occupant(ClientOrderId id) noexcept { return records_[bucket(id)]; }
  void mark_abandoned(OrderRecord& record) noexcept {
    if (!record.abandoned) {
      record.abandoned = true;
      ++abandoned_;
    }
  }
  [[nodiscard]] OrderRecord* find(ClientOrderId id) noexcept {
    OrderRecord& record = records_[bucket(id)];
    return record.client_order_id == id && id != 0 ? &record : nullptr;
  }
  void erase(OrderRecord& record) noexcept {
    abandoned_ -= record.abandoned ? 1 : 0;
    record = OrderRecord{};
    --size_;
  }
  [[nodiscard]] std::size_t size() const noexcept { return size_; } // abandoned records included
  [[nodiscard]] std::size_t abandoned() const noexcept { return abandoned_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return records_.size(); }
  [[nodiscard]] const std::vector<OrderRecord>& records() const noexcept { return records_; }
  [[nodiscard]] std::vector<OrderRecord>& records() noexcept { return records_; }

private:
  [[nodiscard]] std::size_t bucket(ClientOrderId id) const noexcept {
    return static_cast<std::size_t>(id % records_.size());
  }
  std::vector<OrderRecord> records_;
  std::size_t size_ = 0;
  std::size_t abandoned_ = 0; // of size_: derived from the records (rebuilt on restore)
};

} // namespace synthusd::hedging
