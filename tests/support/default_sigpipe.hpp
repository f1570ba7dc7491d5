#pragma once
// For tests of a server's SIGPIPE guard (send with MSG_NOSIGNAL), which mean
// something only if a write to a hung-up peer would otherwise kill the test
// process: ctest or a shell may start the test with SIGPIPE ignored (an
// ignored disposition survives exec) or blocked.
//
// DefaultSigpipe sets SIGPIPE's disposition to the default (terminate) and
// unblocks it in the calling thread, restoring both when it goes. Create it
// before starting a server thread: the thread inherits the signal mask.
//
// hang_up_after_fin: the client half-closes (FIN), then closes with
// SO_LINGER 0 (RST) without reading. On Linux a reset arriving in CLOSE_WAIT
// leaves EPIPE pending on the server's socket (tcp_reset), so the server's
// next send fails with EPIPE, the error that raises SIGPIPE unless the send
// has MSG_NOSIGNAL. (A bare RST leaves ECONNRESET, which raises no signal on
// the first send: a test built on it would pass with the guard removed.)

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

namespace synthusd::test_support {

class DefaultSigpipe {
public:
  DefaultSigpipe() {
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    sigemptyset(&default_action.sa_mask);
    EXPECT_EQ(::sigaction(SIGPIPE, &default_action, &previous_action_), 0);
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    EXPECT_EQ(::pthread_sigmask(SIG_UNBLOCK, &pipe_only, &previous_mask_), 0);
  }
  ~DefaultSigpipe() {
    ::pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
    ::sigaction(SIGPIPE, &previous_action_, nullptr);
  }
  DefaultSigpipe(const DefaultSigpipe&) = delete;
  DefaultSigpipe& operator=(const DefaultSigpipe&) = delete;

private:
  struct sigaction previous_action_ {};
  sigset_t previous_mask_{};
};

// Closes `fd` as described above; the descriptor is gone afterwards.
inline void hang_up_after_fin(int fd) {
  EXPECT_EQ(::shutdown(fd, SHUT_WR), 0);
  const linger reset{1, 0};
  EXPECT_EQ(::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset), 0);
  ::close(fd);
}

} // namespace synthusd::test_support
