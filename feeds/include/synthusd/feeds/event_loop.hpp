#pragma once
// An io_uring event loop for outbound TCP connections: connect, receive,
// queued sends, one timer per connection, and close. One loop per thread;
// nothing here is thread-safe. The loop can be built on one thread and run on
// another (the engine pins it), but every call after the first run_once() must
// come from the running thread (IORING_SETUP_SINGLE_ISSUER).
//
// Hot path: completions are dispatched by decoding user_data (operation kind,
// connection slot, generation) and calling the connection's handler through
// an interface. After start-up nothing allocates: slots, send queues and
// receive buffers are allocated when the loop is built or when a connection is
// added.
//
// Receive paths:
// - multishot (kernel >= 6.0): one armed receive per connection draws from a
//   ring of provided buffers shared by every connection of the loop
//   (io_uring_register_buf_ring, kernel 5.19). A completion without
//   IORING_CQE_F_MORE, or ENOBUFS when the handler is slower than the peer,
//   re-arms it. EINVAL (an older kernel) switches the loop to single-shot.
// - single-shot: each connection has its own buffer and re-arms after every
//   completion.
// Either way the handler sees `capacity >= size + websocket::kPadding` readable
// bytes, so simdjson can parse a message that arrived whole in place.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include <sys/socket.h>

struct io_uring;
struct io_uring_buf_ring;
struct io_uring_sqe;

namespace synthusd::feeds {

class ProvidedBuffers;

using Clock = std::chrono::steady_clock; // CLOCK_MONOTONIC, the clock of io_uring's absolute timeouts

// A connection slot in one loop. Stays valid across reconnects (each connect
// opens a new socket in the same slot) until remove_connection().
using ConnectionId = std::uint32_t;

enum class WaitMode : std::uint8_t {
  spin,     // never sleeps: peeks the completion queue, entering the kernel only to submit or run task work
  blocking, // sleeps in io_uring_submit_and_wait_timeout until a completion or the wait limit
};

struct EventLoopOptions {
  std::uint32_t queue_depth = 256;               // submission queue entries; the completion queue has twice as many
  std::uint32_t max_connections = 64;            // slots, allocated up front
  std::uint32_t receive_buffer_size = 16 * 1024; // bytes the kernel may write per receive completion
  std::uint32_t receive_buffer_count = 256;      // provided buffers shared by all connections (power of two)
  std::uint32_t send_queue_size = 64 * 1024;     // bytes of queued, unsent data per connection
  bool force_single_shot_receive = false;        // skip multishot even when the kernel has it (tests both paths)
  bool use_setup_flags = true;                   // SINGLE_ISSUER | COOP_TASKRUN | TASKRUN_FLAG when available
};

// What the kernel accepted, found out when the loop was built (and, for
// multishot receive, when the first one ran).
struct EventLoopFeatures {
  bool single_issuer = false;        // IORING_SETUP_SINGLE_ISSUER (6.0)
  bool cooperative_task_run = false; // IORING_SETUP_COOP_TASKRUN (5.19): completions need a kernel entry
  bool task_run_flag = false;        // IORING_SETUP_TASKRUN_FLAG: the kernel says when one is needed
  bool extended_wait = false;        // IORING_FEAT_EXT_ARG (5.11): waits with a timeout need no timeout SQE
  bool provided_buffer_ring = false; // io_uring_register_buf_ring succeeded (5.19)
  bool multishot_receive = false;    // in use: buffer ring registered, not forced off, no EINVAL seen
};

struct EventLoopStats {
  std::uint64_t completions = 0;
  std::uint64_t kernel_entries = 0;      // submits and task-work entries made by run_once
  std::uint64_t receive_rearms = 0;      // receives armed again after a completion ended the previous one
  std::uint64_t buffer_exhaustions = 0;  // ENOBUFS: the provided-buffer ring ran dry
  std::uint64_t partial_sends = 0;       // sends that wrote less than asked; the rest was sent after
  std::uint64_t multishot_fallbacks = 0; // multishot receive refused (EINVAL) and replaced by single-shot
};

// Receives the events of one connection slot. Callbacks run inside run_once()
// and may call back into the loop (send, close, arm_timer, connect after
// on_closed). Nothing is delivered for a slot after remove_connection().
class ConnectionHandler {
public:
  ConnectionHandler() = default;
  ConnectionHandler(const ConnectionHandler&) = delete;
  ConnectionHandler& operator=(const ConnectionHandler&) = delete;

  // The TCP connect finished: 0, or -errno (-ECONNREFUSED, -ETIMEDOUT...).
  // After an error the socket is closing; on_closed() follows.
  virtual void on_connected(int result) = 0;
  // Bytes from the socket, valid only during the call. data[0, capacity) is
  // readable and capacity >= size + websocket::kPadding. Not null-terminated.
  virtual void on_received(const std::uint8_t* data, std::size_t size, std::size_t capacity) = 0;
  // Receiving stopped: 0 when the peer closed (EOF), else -errno. The socket
  // stays open until close().
  virtual void on_receive_ended(int result) = 0;
  // A send failed (-EPIPE, -ECONNRESET...); queued data was discarded.
  virtual void on_send_failed(int result) = 0;
  // The connection's timer reached its deadline.
  virtual void on_timer() = 0;
  // close() finished: the socket is closed and no operation is in flight, so
  // connect() may be called again.
  virtual void on_closed() = 0;

protected:
  ~ConnectionHandler() = default;
};

class EventLoop {
public:
  // Throws std::system_error when io_uring cannot be set up or lacks the
  // operations this loop needs (kernel older than 5.6).
  explicit EventLoop(const EventLoopOptions& options = {});
  // Closes every socket and waits briefly for the kernel to let go of the
  // buffers. No handler is called from here.
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Cold path. Throws std::length_error when all slots are taken.
  [[nodiscard]] ConnectionId add_connection(ConnectionHandler& handler);
  // Detaches the handler at once (no more callbacks), closes the socket if
  // open, cancels the timer; the slot is reused once the kernel is done.
  void remove_connection(ConnectionId id) noexcept;

  // Opens a non-blocking TCP socket (TCP_NODELAY) and starts connecting to an
  // IPv4 or IPv6 address. Only on an idle slot (new, or after on_closed()).
  // Returns 0, or -errno when no socket could be made (nothing follows then).
  [[nodiscard]] int connect(ConnectionId id, const sockaddr* address, socklen_t length) noexcept;
  // Starts receiving on a connected socket; on_received() follows per chunk.
  void start_receive(ConnectionId id) noexcept;
  // Copies data into the connection's send queue and sends it, in order,
  // resubmitting the rest after partial sends. Returns false, queueing
  // nothing, when the queue lacks room or the socket is not connected.
  [[nodiscard]] bool send(ConnectionId id, std::span<const std::uint8_t> data) noexcept;
  [[nodiscard]] std::size_t send_queued(ConnectionId id) const noexcept;

  enum class CloseMode : std::uint8_t {
    abort,       // now: queued sends are dropped
    after_sends, // once the send queue is empty (a close frame went out), or a send fails
  };
  // Shuts the socket down and cancels its operations; on_closed() follows
  // from a later completion, never from inside close(). No-op when idle.
  void close(ConnectionId id, CloseMode mode = CloseMode::abort) noexcept;

  // One timer per connection, independent of the socket: it survives close()
  // and reconnects. Arming again replaces the pending deadline.
  void arm_timer(ConnectionId id, Clock::time_point deadline) noexcept;
  void cancel_timer(ConnectionId id) noexcept;

  // Lets another thread end a blocking run_once(): the loop keeps a poll
  // armed on `event_fd` (an eventfd(2) made EFD_NONBLOCK, owned by the caller
  // and open for the loop's lifetime) and, when it becomes readable, reads it
  // back to zero and arms the poll again. A write made before the wait began
  // still ends it: the armed poll completes as soon as the fd is readable.
  // Cold path: call once, before run_once() on the running thread. Throws
  // std::logic_error on a second call.
  void watch_wakeup(int event_fd);
  [[nodiscard]] std::uint64_t wakeups() const noexcept { return wakeups_; }
  // Polls of the eventfd that completed with an error (each one: wake-ups
  // may wait for the wait limit until the poll is armed again).
  [[nodiscard]] std::uint64_t wakeup_failures() const noexcept { return wakeup_failures_; }

  // Another stage's descriptor that this loop's thread serves (the engine's
  // one-thread hot path runs the liability intake here; `fd` is its epoll
  // descriptor): a poll stays armed on it, and a blocking run_once() ends
  // when it becomes readable. take_readable(watch) is then true once and
  // arms the poll again, to be submitted by the next run_once(): the owner
  // handles the fd in between (an epoll fd drained with epoll_wait(0)), and
  // what is still unread completes the new poll at once. The fd is the
  // caller's and must stay open for the loop's lifetime. Cold path: call
  // before run_once() on the running thread. Returns the watch's index.
  std::size_t watch_readable(int fd);
  [[nodiscard]] bool take_readable(std::size_t watch) noexcept;
  // Polls of watched descriptors that completed with an error.
  [[nodiscard]] std::uint64_t readable_failures() const noexcept { return readable_failures_; }

  // Submits what is queued, waits per `mode` for at most `max_wait` (spin
  // mode does not wait), then dispatches every completion available.
  // Returns how many completions it dispatched.
  std::size_t run_once(WaitMode mode, std::chrono::nanoseconds max_wait = std::chrono::milliseconds(1));

  // The clock read at the start of the last run_once() dispatch, so that
  // handlers share one reading per batch.
  [[nodiscard]] Clock::time_point now() const noexcept { return now_; }
  [[nodiscard]] const EventLoopFeatures& features() const noexcept { return features_; }
  [[nodiscard]] const EventLoopStats& stats() const noexcept { return stats_; }
  // Connections in use (added and not yet released).
  [[nodiscard]] std::size_t connection_count() const noexcept;

private:
  struct Slot;

  void dispatch(std::uint64_t user_data, int result, std::uint32_t flags);
  void on_connect_completion(Slot& slot, int result);
  void on_receive_completion(Slot& slot, int result, std::uint32_t flags);
  void on_send_completion(Slot& slot, int result);
  void on_timer_completion(Slot& slot, std::uint32_t generation, int result);
  void arm_receive(Slot& slot);
  void submit_send(Slot& slot);
  void begin_close(Slot& slot);
  void operation_done(Slot& slot);
  void recycle_buffer(std::uint32_t flags) noexcept;
  [[nodiscard]] io_uring_sqe* next_sqe();
  [[nodiscard]] bool task_work_pending() const noexcept;
  void drain_for_shutdown();
  std::size_t add_watch(int fd, bool wakeup);
  void arm_watch(std::size_t watch);
  void on_watch_completion(std::size_t watch, int result);

  EventLoopOptions options_;
  EventLoopFeatures features_;
  EventLoopStats stats_;
  std::unique_ptr<io_uring> ring_;
  std::unique_ptr<ProvidedBuffers> buffers_;
  std::unique_ptr<Slot[]> slots_;
  Clock::time_point now_{};
  bool shutting_down_ = false;
  // A poll kept armed on another descriptor: the wake-up eventfd (read back
  // to zero and armed again by the loop itself) or a readable watch (armed
  // again when its owner takes it).
  struct Watch {
    int fd = -1;
    bool wakeup = false;
    bool ready = false; // completed, not yet taken (readable watches)
    bool dead = false;  // EBADF / EINVAL: never armed again
  };
  std::vector<Watch> watches_;
  bool watching_wakeup_ = false;
  std::uint64_t wakeups_ = 0;
  std::uint64_t wakeup_failures_ = 0;
  std::uint64_t readable_failures_ = 0;
};

} // namespace synthusd::feeds
