#pragma once
// EventLoop's internals shared by its two source files (event_loop.cpp:
// ring set-up and the operations it submits; event_loop_completions.cpp:
// what each completion does): the user_data encoding and a connection slot.

#include "synthusd/feeds/event_loop.hpp"

#include "send_queue.hpp"

#include <liburing.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace synthusd::feeds {
namespace event_loop_detail {

// user_data layout: operation (8 bits) | slot index (24 bits) | generation (32 bits).
// The generation tells completions of an earlier socket or an earlier timer
// of the same slot apart from current ones.
enum class Operation : std::uint8_t { connect = 1, receive, send, cancel, timer, timer_remove, watch };

constexpr std::uint32_t kMaxSlots = 1U << 24;
constexpr std::uint16_t kBufferGroup = 0;
constexpr std::uint32_t kMaxProvidedBuffers = 1U << 15; // buffer ids are 16 bits; the kernel caps rings at 32768

[[nodiscard]] constexpr std::uint64_t encode(Operation operation, std::uint32_t slot,
                                             std::uint32_t generation) noexcept {
  return (std::uint64_t{static_cast<std::uint8_t>(operation)} << 56) | (std::uint64_t{slot} << 32) | generation;
}

[[nodiscard]] constexpr Operation operation_of(std::uint64_t user_data) noexcept {
  return static_cast<Operation>(user_data >> 56);
}
[[nodiscard]] constexpr std::uint32_t slot_of(std::uint64_t user_data) noexcept {
  return static_cast<std::uint32_t>(user_data >> 32) & (kMaxSlots - 1);
}
[[nodiscard]] constexpr std::uint32_t generation_of(std::uint64_t user_data) noexcept {
  return static_cast<std::uint32_t>(user_data);
}

[[nodiscard]] inline __kernel_timespec to_timespec(std::chrono::nanoseconds duration) noexcept {
  const auto count = std::max<std::int64_t>(duration.count(), 0);
  return __kernel_timespec{.tv_sec = count / 1'000'000'000, .tv_nsec = count % 1'000'000'000};
}

[[gnu::cold, noreturn]] inline void fatal(const char* what, int error) noexcept {
  std::fprintf(stderr, "synthusd event loop: %s: %s\n", what, std::strerror(error));
  std::abort();
}

} // namespace event_loop_detail

struct EventLoop::Slot {
  enum class State : std::uint8_t { free, idle, connecting, connected, closing };

  ConnectionHandler* handler = nullptr; // null once removed: completions are absorbed silently
  State state = State::free;
  int fd = -1;
  std::uint32_t index = 0;
  std::uint32_t generation = 0;       // of the socket, bumped by connect()
  std::uint32_t timer_generation = 0; // bumped by every arm and cancel
  std::uint32_t operations = 0;       // socket operations in flight: connect, receive, send, cancel
  bool receiving = false;             // start_receive() was called on this socket
  bool receive_armed = false;
  bool receive_multishot = false; // what the armed receive is
  bool send_in_flight = false;
  bool close_after_sends = false;
  bool timer_armed = false;
  std::uint32_t send_in_flight_bytes = 0;
  SendQueue send_queue;
  std::unique_ptr<std::uint8_t[]> receive_buffer; // single-shot receives
  sockaddr_storage address{};                     // read by the kernel until the connect completes
  socklen_t address_length = 0;
  __kernel_timespec timer_deadline{}; // read by the kernel when the timeout is submitted
};

} // namespace synthusd::feeds
