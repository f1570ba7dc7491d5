#include "provided_buffers.hpp"

#include <liburing.h>
#include <sys/mman.h>

namespace synthusd::feeds {

ProvidedBuffers::~ProvidedBuffers() {
  // The ring itself is unregistered by io_uring_queue_exit (or stays with
  // the ring until then); the mapping must outlive it, which the owner
  // guarantees by destroying this after the ring.
  if (ring_ != nullptr) {
    ::munmap(ring_, ring_bytes_);
  }
}

bool ProvidedBuffers::register_with(io_uring& ring, std::uint16_t group, std::uint32_t size, std::uint32_t count) {
  const std::size_t ring_bytes = count * sizeof(io_uring_buf);
  void* mapping = ::mmap(nullptr, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (mapping == MAP_FAILED) {
    return false;
  }
  io_uring_buf_reg registration{};
  registration.ring_addr = reinterpret_cast<std::uintptr_t>(mapping);
  registration.ring_entries = count;
  registration.bgid = group;
  if (io_uring_register_buf_ring(&ring, &registration, 0) != 0) {
    ::munmap(mapping, ring_bytes);
    return false;
  }
  ring_ = static_cast<io_uring_buf_ring*>(mapping);
  ring_bytes_ = ring_bytes;
  size_ = size;
  count_ = count;
  stride_ = receive_buffer_stride(size);
  memory_ = std::make_unique<std::uint8_t[]>(stride_ * count);

  io_uring_buf_ring_init(ring_);
  const int mask = io_uring_buf_ring_mask(count);
  for (std::uint32_t id = 0; id < count; ++id) {
    io_uring_buf_ring_add(ring_, memory_.get() + id * stride_, size_, static_cast<unsigned short>(id), mask,
                          static_cast<int>(id));
  }
  io_uring_buf_ring_advance(ring_, static_cast<int>(count));
  return true;
}

void ProvidedBuffers::recycle(std::uint16_t id) noexcept {
  io_uring_buf_ring_add(ring_, memory_.get() + id * stride_, size_, id, io_uring_buf_ring_mask(count_), 0);
  io_uring_buf_ring_advance(ring_, 1);
}

} // namespace synthusd::feeds
