// EventLoop: what each completion does (event_loop.cpp submits the
// operations). Decoded from user_data (event_loop_slot.hpp), handed to the
// connection's handler, and followed by what the slot needs next.

#include "event_loop_slot.hpp"
#include "provided_buffers.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

namespace synthusd::feeds {

using namespace event_loop_detail;

void EventLoop::dispatch(std::uint64_t user_data, int result, std::uint32_t flags) {
  if (user_data == LIBURING_UDATA_TIMEOUT) [[unlikely]] {
    return;
  }
  const Operation operation = operation_of(user_data);
  const std::uint32_t index = slot_of(user_data);
  if (operation == Operation::watch) {
    on_watch_completion(index, result);
    return;
  }
  Slot& slot = slots_[index];
  if (operation == Operation::timer) {
    on_timer_completion(slot, generation_of(user_data), result);
    return;
  }
  if (operation == Operation::timer_remove) {
    return;
  }
  if (generation_of(user_data) != slot.generation) [[unlikely]] {
    // Cannot happen while connect() waits for the slot to be idle; a buffer
    // must still go back to the ring.
    recycle_buffer(flags);
    return;
  }
  switch (operation) {
  case Operation::connect:
    on_connect_completion(slot, result);
    break;
  case Operation::receive:
    on_receive_completion(slot, result, flags);
    break;
  case Operation::send:
    on_send_completion(slot, result);
    break;
  case Operation::cancel:
    operation_done(slot);
    break;
  case Operation::timer:
  case Operation::timer_remove:
  case Operation::watch:
    break;
  }
}

void EventLoop::watch_wakeup(int event_fd) {
  if (watching_wakeup_) {
    throw std::logic_error("EventLoop::watch_wakeup: already watching an eventfd");
  }
  watching_wakeup_ = true;
  (void)add_watch(event_fd, true);
}

std::size_t EventLoop::watch_readable(int fd) {
  if (fd < 0) {
    throw std::invalid_argument("EventLoop::watch_readable: not a descriptor");
  }
  return add_watch(fd, false);
}

std::size_t EventLoop::add_watch(int fd, bool wakeup) {
  watches_.push_back({.fd = fd, .wakeup = wakeup});
  arm_watch(watches_.size() - 1);
  return watches_.size() - 1;
}

bool EventLoop::take_readable(std::size_t watch) noexcept {
  Watch& entry = watches_[watch];
  if (!entry.ready) {
    return false;
  }
  entry.ready = false;
  if (!entry.dead) {
    arm_watch(watch);
  }
  return true;
}

void EventLoop::arm_watch(std::size_t watch) {
  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_poll_add(sqe, watches_[watch].fd, POLLIN);
  io_uring_sqe_set_data64(sqe, encode(Operation::watch, static_cast<std::uint32_t>(watch), 0));
}

void EventLoop::on_watch_completion(std::size_t watch, int result) {
  if (shutting_down_ || watch >= watches_.size()) {
    return; // cancelled at teardown
  }
  Watch& entry = watches_[watch];
  if (result < 0) {
    // Counted. A closed or unsuitable fd (EBADF, EINVAL) is not armed
    // again, so that the loop does not spin on the error (a blocking
    // run_once() then ends at its own wait limit); anything else (e.g. a
    // cancel from outside) is.
    ++(entry.wakeup ? wakeup_failures_ : readable_failures_);
    entry.dead = result == -EBADF || result == -EINVAL;
  }
  if (!entry.wakeup) {
    entry.ready = true; // its owner looks at the fd once either way; take_readable() arms it again
    return;
  }
  if (result >= 0) {
    // Back to zero before the poll is armed again, so that only a new write
    // completes it; a write racing this read is seen by the new poll.
    std::uint64_t count = 0;
    (void)::read(entry.fd, &count, sizeof count);
    ++wakeups_;
  }
  if (!entry.dead) {
    arm_watch(watch);
  }
}

void EventLoop::on_connect_completion(Slot& slot, int result) {
  if (slot.state == Slot::State::connecting) {
    if (result == 0) {
      slot.state = Slot::State::connected;
    } else {
      begin_close(slot);
    }
    if (slot.handler != nullptr) {
      slot.handler->on_connected(result);
    }
  }
  operation_done(slot);
}

void EventLoop::on_receive_completion(Slot& slot, int result, std::uint32_t flags) {
  const bool more = (flags & IORING_CQE_F_MORE) != 0;
  if (!more) {
    slot.receive_armed = false;
  }
  if (slot.state == Slot::State::connected && slot.handler != nullptr) {
    if (result > 0) [[likely]] {
      if ((flags & IORING_CQE_F_BUFFER) != 0) {
        const auto id = static_cast<std::uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT);
        slot.handler->on_received(buffers_->data(id), static_cast<std::size_t>(result), buffers_->capacity());
      } else {
        slot.handler->on_received(slot.receive_buffer.get(), static_cast<std::size_t>(result),
                                  receive_buffer_stride(options_.receive_buffer_size));
      }
    } else if (result == -ENOBUFS) {
      ++stats_.buffer_exhaustions; // the handler fell behind; re-armed below once buffers are back
    } else if (result == -EINVAL && slot.receive_multishot) {
      features_.multishot_receive = false; // kernel < 6.0: every receive is single-shot from now on
      ++stats_.multishot_fallbacks;
    } else if (result != -EAGAIN && result != -EINTR) {
      slot.receiving = false;
      slot.handler->on_receive_ended(result); // 0: the peer closed
    }
  }
  recycle_buffer(flags);
  if (!more) {
    if (slot.state == Slot::State::connected && slot.receiving) {
      ++stats_.receive_rearms;
      arm_receive(slot);
    }
    operation_done(slot);
  }
}

void EventLoop::recycle_buffer(std::uint32_t flags) noexcept {
  if ((flags & IORING_CQE_F_BUFFER) != 0) {
    buffers_->recycle(static_cast<std::uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT));
  }
}

void EventLoop::on_send_completion(Slot& slot, int result) {
  slot.send_in_flight = false;
  if (slot.state == Slot::State::connected) {
    if (result > 0) [[likely]] {
      if (static_cast<std::uint32_t>(result) < slot.send_in_flight_bytes) {
        ++stats_.partial_sends;
      }
      slot.send_queue.pop(static_cast<std::uint32_t>(result));
      if (!slot.send_queue.empty()) {
        submit_send(slot);
      } else if (slot.close_after_sends) {
        begin_close(slot);
      }
    } else if (result == -EAGAIN || result == -EINTR || result == 0) {
      submit_send(slot);
    } else {
      slot.send_queue.clear();
      const bool closing = slot.close_after_sends;
      if (slot.handler != nullptr) {
        slot.handler->on_send_failed(result);
      }
      if (closing && slot.state == Slot::State::connected) {
        begin_close(slot);
      }
    }
  }
  operation_done(slot);
}

void EventLoop::on_timer_completion(Slot& slot, std::uint32_t generation, int result) {
  if (generation != slot.timer_generation || !slot.timer_armed) {
    return; // replaced or cancelled
  }
  slot.timer_armed = false;
  if (result == -ETIME && slot.handler != nullptr) {
    slot.handler->on_timer();
  }
}

} // namespace synthusd::feeds
