#include "synthusd/feeds/event_loop.hpp"

#include "event_loop_slot.hpp"
#include "provided_buffers.hpp"

#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace synthusd::feeds {

using namespace event_loop_detail;

EventLoop::EventLoop(const EventLoopOptions& options) : options_(options), ring_(std::make_unique<io_uring>()) {
  if (options_.max_connections == 0 || options_.max_connections > kMaxSlots || options_.queue_depth == 0 ||
      options_.receive_buffer_size == 0 || options_.send_queue_size == 0) {
    throw std::invalid_argument("EventLoopOptions: sizes must be positive (and max_connections < 2^24)");
  }
  const std::uint32_t buffer_count = options_.receive_buffer_count;
  if (buffer_count == 0 || buffer_count > kMaxProvidedBuffers || (buffer_count & (buffer_count - 1)) != 0) {
    throw std::invalid_argument("EventLoopOptions: receive_buffer_count must be a power of two <= 32768");
  }

  // Newest flags first; an older kernel answers EINVAL to a flag it lacks.
  constexpr unsigned kFlagSets[] = {
      IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
      IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
      0,
  };
  io_uring_params params{};
  int result = -EINVAL;
  for (const unsigned flags : kFlagSets) {
    if (flags != 0 && !options_.use_setup_flags) {
      continue;
    }
    params = io_uring_params{};
    params.flags = flags;
    result = io_uring_queue_init_params(options_.queue_depth, ring_.get(), &params);
    if (result != -EINVAL) {
      break;
    }
  }
  if (result < 0) {
    throw std::system_error(-result, std::system_category(), "io_uring_queue_init_params");
  }
  features_.single_issuer = (params.flags & IORING_SETUP_SINGLE_ISSUER) != 0;
  features_.cooperative_task_run = (params.flags & IORING_SETUP_COOP_TASKRUN) != 0;
  features_.task_run_flag = (params.flags & IORING_SETUP_TASKRUN_FLAG) != 0;
  features_.extended_wait = (params.features & IORING_FEAT_EXT_ARG) != 0;

  io_uring_probe* probe = io_uring_get_probe_ring(ring_.get());
  bool supported = probe != nullptr;
  for (const int opcode : {IORING_OP_CONNECT, IORING_OP_RECV, IORING_OP_SEND, IORING_OP_TIMEOUT,
                           IORING_OP_TIMEOUT_REMOVE, IORING_OP_ASYNC_CANCEL, IORING_OP_POLL_ADD}) {
    supported = supported && io_uring_opcode_supported(probe, opcode) != 0;
  }
  if (probe != nullptr) {
    io_uring_free_probe(probe);
  }
  if (!supported) {
    io_uring_queue_exit(ring_.get());
    throw std::system_error(ENOSYS, std::system_category(), "io_uring lacks connect/recv/send/timeout (kernel < 5.6)");
  }

  slots_ = std::make_unique<Slot[]>(options_.max_connections);
  for (std::uint32_t i = 0; i < options_.max_connections; ++i) {
    slots_[i].index = i;
  }

  buffers_ = std::make_unique<ProvidedBuffers>();
  if (!options_.force_single_shot_receive &&
      buffers_->register_with(*ring_, kBufferGroup, options_.receive_buffer_size, buffer_count)) {
    features_.provided_buffer_ring = true;
    features_.multishot_receive = true; // until the kernel answers EINVAL (< 6.0)
  }
  now_ = Clock::now();
}

EventLoop::~EventLoop() {
  shutting_down_ = true;
  for (std::uint32_t i = 0; i < options_.max_connections; ++i) {
    Slot& slot = slots_[i];
    slot.handler = nullptr;
    if (slot.timer_armed) {
      cancel_timer(i);
    }
    if (slot.state == Slot::State::connecting || slot.state == Slot::State::connected) {
      begin_close(slot);
    }
  }
  drain_for_shutdown();
  io_uring_queue_exit(ring_.get());
  for (std::uint32_t i = 0; i < options_.max_connections; ++i) {
    if (slots_[i].fd >= 0) {
      ::close(slots_[i].fd);
    }
  }
}

// Waits (bounded) until the kernel has finished every socket operation, so
// that no receive can still write into a buffer freed after this.
void EventLoop::drain_for_shutdown() {
  const auto give_up = Clock::now() + std::chrono::seconds(1);
  while (Clock::now() < give_up) {
    bool busy = false;
    for (std::uint32_t i = 0; i < options_.max_connections; ++i) {
      busy = busy || slots_[i].operations > 0;
    }
    if (!busy) {
      return;
    }
    __kernel_timespec timeout = to_timespec(std::chrono::milliseconds(10));
    io_uring_cqe* cqe = nullptr;
    const int result = io_uring_submit_and_wait_timeout(ring_.get(), &cqe, 1, &timeout, nullptr);
    if (result < 0 && result != -ETIME && result != -EINTR && result != -EAGAIN) {
      return; // e.g. EEXIST: destroyed on a thread other than the single issuer; the ring teardown cancels
    }
    run_once(WaitMode::spin);
  }
}

ConnectionId EventLoop::add_connection(ConnectionHandler& handler) {
  for (std::uint32_t i = 0; i < options_.max_connections; ++i) {
    Slot& slot = slots_[i];
    if (slot.state != Slot::State::free) {
      continue;
    }
    if (!slot.send_queue.allocated()) {
      slot.send_queue.allocate(options_.send_queue_size);
      slot.receive_buffer = std::make_unique<std::uint8_t[]>(receive_buffer_stride(options_.receive_buffer_size));
    }
    slot.handler = &handler;
    slot.state = Slot::State::idle;
    return i;
  }
  throw std::length_error("EventLoop: all connection slots are in use");
}

void EventLoop::remove_connection(ConnectionId id) noexcept {
  Slot& slot = slots_[id];
  slot.handler = nullptr;
  cancel_timer(id);
  switch (slot.state) {
  case Slot::State::idle:
    slot.state = Slot::State::free;
    break;
  case Slot::State::connecting:
  case Slot::State::connected:
    begin_close(slot); // the slot becomes free when the close completes
    break;
  case Slot::State::free:
  case Slot::State::closing:
    break;
  }
}

std::size_t EventLoop::connection_count() const noexcept {
  std::size_t count = 0;
  for (std::uint32_t i = 0; i < options_.max_connections; ++i) {
    count += slots_[i].state != Slot::State::free ? 1 : 0;
  }
  return count;
}

int EventLoop::connect(ConnectionId id, const sockaddr* address, socklen_t length) noexcept {
  Slot& slot = slots_[id];
  if (slot.state != Slot::State::idle || length > sizeof(slot.address)) {
    return -EINVAL;
  }
  const int fd = ::socket(address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) {
    return -errno;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); // best effort: latency over packet count
  slot.fd = fd;
  ++slot.generation;
  slot.state = Slot::State::connecting;
  slot.receiving = false;
  slot.receive_armed = false;
  slot.send_in_flight = false;
  slot.close_after_sends = false;
  slot.send_queue.clear();
  std::memcpy(&slot.address, address, length);
  slot.address_length = length;

  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_connect(sqe, fd, reinterpret_cast<const sockaddr*>(&slot.address), length);
  io_uring_sqe_set_data64(sqe, encode(Operation::connect, slot.index, slot.generation));
  ++slot.operations;
  return 0;
}

void EventLoop::start_receive(ConnectionId id) noexcept {
  Slot& slot = slots_[id];
  if (slot.state != Slot::State::connected || slot.receiving) {
    return;
  }
  slot.receiving = true;
  arm_receive(slot);
}

void EventLoop::arm_receive(Slot& slot) {
  io_uring_sqe* sqe = next_sqe();
  if (features_.multishot_receive) {
    io_uring_prep_recv_multishot(sqe, slot.fd, nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = kBufferGroup;
    slot.receive_multishot = true;
  } else {
    io_uring_prep_recv(sqe, slot.fd, slot.receive_buffer.get(), options_.receive_buffer_size, 0);
    slot.receive_multishot = false;
  }
  io_uring_sqe_set_data64(sqe, encode(Operation::receive, slot.index, slot.generation));
  slot.receive_armed = true;
  ++slot.operations;
}

bool EventLoop::send(ConnectionId id, std::span<const std::uint8_t> data) noexcept {
  Slot& slot = slots_[id];
  if (slot.state != Slot::State::connected || slot.close_after_sends || !slot.send_queue.push(data)) {
    return false;
  }
  if (!slot.send_in_flight) {
    submit_send(slot);
  }
  return true;
}

std::size_t EventLoop::send_queued(ConnectionId id) const noexcept { return slots_[id].send_queue.size(); }

// Sends the contiguous run at the front of the queue; the completion sends
// the rest, so partial sends and wrap-around both continue from there.
void EventLoop::submit_send(Slot& slot) {
  const std::span<const std::uint8_t> front = slot.send_queue.front();
  const auto length = static_cast<std::uint32_t>(front.size());
  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_send(sqe, slot.fd, front.data(), length, MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, encode(Operation::send, slot.index, slot.generation));
  slot.send_in_flight = true;
  slot.send_in_flight_bytes = length;
  ++slot.operations;
}

void EventLoop::close(ConnectionId id, CloseMode mode) noexcept {
  Slot& slot = slots_[id];
  switch (slot.state) {
  case Slot::State::connecting:
    begin_close(slot);
    break;
  case Slot::State::connected:
    if (mode == CloseMode::after_sends && slot.send_in_flight) {
      slot.close_after_sends = true;
    } else {
      begin_close(slot);
    }
    break;
  case Slot::State::free:
  case Slot::State::idle:
  case Slot::State::closing:
    break;
  }
}

// shutdown() ends a connected socket's receive (EOF) and sends (EPIPE) in the
// kernel; the fd-wide cancel (5.19) also catches a connect in progress, and
// the cancel by user_data covers that on older kernels, where the fd-wide one
// fails with EINVAL. The slot is closed when the last completion arrives.
void EventLoop::begin_close(Slot& slot) {
  const bool was_connecting = slot.state == Slot::State::connecting;
  slot.state = Slot::State::closing;
  slot.receiving = false;
  slot.close_after_sends = false;
  ::shutdown(slot.fd, SHUT_RDWR);
  if (was_connecting) {
    io_uring_sqe* sqe = next_sqe();
    io_uring_prep_cancel64(sqe, encode(Operation::connect, slot.index, slot.generation), 0);
    io_uring_sqe_set_data64(sqe, encode(Operation::cancel, slot.index, slot.generation));
    ++slot.operations;
  }
  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_cancel_fd(sqe, slot.fd, IORING_ASYNC_CANCEL_ALL);
  io_uring_sqe_set_data64(sqe, encode(Operation::cancel, slot.index, slot.generation));
  ++slot.operations;
}

void EventLoop::operation_done(Slot& slot) {
  --slot.operations;
  if (slot.operations != 0 || slot.state != Slot::State::closing) {
    return;
  }
  ::close(slot.fd);
  slot.fd = -1;
  slot.send_queue.clear();
  if (slot.handler == nullptr) {
    slot.state = Slot::State::free;
    return;
  }
  slot.state = Slot::State::idle;
  slot.handler->on_closed();
}

void EventLoop::arm_timer(ConnectionId id, Clock::time_point deadline) noexcept {
  Slot& slot = slots_[id];
  cancel_timer(id);
  slot.timer_deadline = to_timespec(deadline.time_since_epoch());
  io_uring_sqe* sqe = next_sqe();
  // Absolute, on CLOCK_MONOTONIC (steady_clock): re-arming never drifts.
  io_uring_prep_timeout(sqe, &slot.timer_deadline, 0, IORING_TIMEOUT_ABS);
  io_uring_sqe_set_data64(sqe, encode(Operation::timer, slot.index, slot.timer_generation));
  slot.timer_armed = true;
}

// The removed timeout completes with ECANCELED under the old generation and
// is ignored, as is a timeout that fired before the removal was seen.
void EventLoop::cancel_timer(ConnectionId id) noexcept {
  Slot& slot = slots_[id];
  if (slot.timer_armed) {
    io_uring_sqe* sqe = next_sqe();
    io_uring_prep_timeout_remove(sqe, encode(Operation::timer, slot.index, slot.timer_generation), 0);
    io_uring_sqe_set_data64(sqe, encode(Operation::timer_remove, slot.index, 0));
    slot.timer_armed = false;
  }
  ++slot.timer_generation;
}

io_uring_sqe* EventLoop::next_sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(ring_.get());
  if (sqe != nullptr) [[likely]] {
    return sqe;
  }
  // The submission queue is full: hand it to the kernel, which empties it.
  for (int attempt = 0; attempt < 8; ++attempt) {
    const int result = io_uring_submit(ring_.get());
    ++stats_.kernel_entries;
    sqe = io_uring_get_sqe(ring_.get());
    if (sqe != nullptr) {
      return sqe;
    }
    if (result < 0 && result != -EINTR && result != -EAGAIN && result != -EBUSY) {
      fatal("io_uring_submit", -result);
    }
  }
  fatal("submission queue stays full", EBUSY);
}

// With COOP_TASKRUN the kernel posts socket completions only when this
// thread enters it; TASKRUN_FLAG says when there is such work, so the spin
// loop makes no system call while idle.
bool EventLoop::task_work_pending() const noexcept {
  const unsigned flags = IO_URING_READ_ONCE(*ring_->sq.kflags);
  if ((flags & IORING_SQ_CQ_OVERFLOW) != 0) {
    return true;
  }
  if (!features_.cooperative_task_run) {
    return false;
  }
  return !features_.task_run_flag || (flags & IORING_SQ_TASKRUN) != 0;
}

std::size_t EventLoop::run_once(WaitMode mode, std::chrono::nanoseconds max_wait) {
  io_uring* ring = ring_.get();
  if (mode == WaitMode::spin || io_uring_cq_ready(ring) > 0) {
    if (io_uring_sq_ready(ring) > 0) {
      io_uring_submit(ring);
      ++stats_.kernel_entries;
    } else if (task_work_pending()) {
      io_uring_get_events(ring);
      ++stats_.kernel_entries;
    }
  } else {
    // Without IORING_FEAT_EXT_ARG liburing adds a timeout SQE of its own,
    // whose completion carries LIBURING_UDATA_TIMEOUT (skipped in dispatch).
    __kernel_timespec timeout = to_timespec(max_wait);
    io_uring_cqe* cqe = nullptr;
    io_uring_submit_and_wait_timeout(ring, &cqe, 1, &timeout, nullptr);
    ++stats_.kernel_entries;
  }
  if (io_uring_cq_ready(ring) == 0) {
    return 0;
  }

  now_ = Clock::now();
  unsigned head = 0;
  io_uring_cqe* cqe = nullptr;
  std::size_t count = 0;
  io_uring_for_each_cqe(ring, head, cqe) {
    dispatch(cqe->user_data, cqe->res, cqe->flags);
    ++count;
  }
  io_uring_cq_advance(ring, static_cast<unsigned>(count));
  stats_.completions += count;
  return count;
}

} // namespace synthusd::feeds
