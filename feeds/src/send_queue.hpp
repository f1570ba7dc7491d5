#pragma once
// A fixed-capacity byte FIFO for one connection's unsent data. The loop sends
// the contiguous run at the front; a completion pops what the kernel took,
// so partial sends and wrap-around continue from there. Allocates once.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

namespace synthusd::feeds {

class SendQueue {
public:
  void allocate(std::size_t capacity) {
    storage_ = std::make_unique<std::uint8_t[]>(capacity);
    capacity_ = capacity;
    clear();
  }

  // Appends all of `data`, or nothing when it does not fit.
  [[nodiscard]] bool push(std::span<const std::uint8_t> data) noexcept {
    if (data.size() > capacity_ - size()) {
      return false;
    }
    const std::size_t offset = tail_ % capacity_;
    const std::size_t first = std::min(data.size(), capacity_ - offset);
    std::memcpy(storage_.get() + offset, data.data(), first);
    std::memcpy(storage_.get(), data.data() + first, data.size() - first);
    tail_ += data.size();
    return true;
  }

  // The bytes at the front that are contiguous in memory (maybe not all).
  [[nodiscard]] std::span<const std::uint8_t> front() const noexcept {
    const std::size_t offset = head_ % capacity_;
    return {storage_.get() + offset, std::min<std::size_t>(size(), capacity_ - offset)};
  }
  void pop(std::size_t count) noexcept { head_ += count; }
  void clear() noexcept {
    head_ = 0;
    tail_ = 0;
  }

  [[nodiscard]] std::size_t size() const noexcept { return static_cast<std::size_t>(tail_ - head_); }
  [[nodiscard]] bool empty() const noexcept { return head_ == tail_; }
  [[nodiscard]] bool allocated() const noexcept { return storage_ != nullptr; }

private:
  std::unique_ptr<std::uint8_t[]> storage_;
  std::size_t capacity_ = 0;
  // Positions in the stream of all bytes ever queued; the queue holds
  // [head_, tail_) at offset (position % capacity_).
  std::uint64_t head_ = 0;
  std::uint64_t tail_ = 0;
};

} // namespace synthusd::feeds
