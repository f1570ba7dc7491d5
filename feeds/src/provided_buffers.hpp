#pragma once
// Receive buffers the kernel picks from itself (a "provided buffer ring",
// io_uring_register_buf_ring, kernel 5.19), for multishot receives. liburing
// 2.3 has no io_uring_setup_buf_ring, so this maps and registers the ring and
// fills it with io_uring_buf_ring_init/add/advance.
//
// Each buffer is `size` bytes for the kernel plus websocket::kPadding bytes
// it never writes, rounded up to a cache line (the stride), so simdjson may
// read past the end of what was received.

#include <cstddef>
#include <cstdint>
#include <memory>

#include "synthusd/feeds/websocket_codec.hpp"

struct io_uring;
struct io_uring_buf_ring;

namespace synthusd::feeds {

// `size + kPadding`, rounded up to 64 so that neighbouring buffers never share a cache line.
[[nodiscard]] constexpr std::size_t receive_buffer_stride(std::uint32_t size) noexcept {
  return (std::size_t{size} + websocket::kPadding + 63) & ~std::size_t{63};
}

class ProvidedBuffers {
public:
  ProvidedBuffers() = default;
  ~ProvidedBuffers();
  ProvidedBuffers(const ProvidedBuffers&) = delete;
  ProvidedBuffers& operator=(const ProvidedBuffers&) = delete;

  // Registers `count` (a power of two <= 32768) buffers of `size` bytes as
  // buffer group `group`. False, leaving nothing registered, when the kernel
  // refuses (older than 5.19) or memory cannot be mapped.
  [[nodiscard]] bool register_with(io_uring& ring, std::uint16_t group, std::uint32_t size, std::uint32_t count);
  [[nodiscard]] bool registered() const noexcept { return ring_ != nullptr; }

  [[nodiscard]] const std::uint8_t* data(std::uint16_t id) const noexcept { return memory_.get() + id * stride_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return stride_; }
  // Hands buffer `id` back to the kernel once its bytes have been consumed.
  void recycle(std::uint16_t id) noexcept;

private:
  io_uring_buf_ring* ring_ = nullptr; // mmap'd: the kernel needs it page-aligned
  std::size_t ring_bytes_ = 0;
  std::unique_ptr<std::uint8_t[]> memory_;
  std::size_t stride_ = 0;
  std::uint32_t size_ = 0;
  std::uint32_t count_ = 0;
};

} // namespace synthusd::feeds
