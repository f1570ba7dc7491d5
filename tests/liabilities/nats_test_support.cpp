#include "nats_test_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

namespace synthusd::liabilities::nats_test {

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

bool port_accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

std::string event(const std::string& id, const char* kind, const char* amount_field, std::int64_t amount) {
  // Now: the engine measures a live event's ts from when the stream stored it.
  const std::int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  return R"({"id":")" + id + R"(","kind":")" + kind + R"(",")" + amount_field + R"(":)" + std::to_string(amount) +
         R"(,"ts":)" + std::to_string(now_ms) + "}";
}
std::string credit(const std::string& id, std::int64_t cents) { return event(id, "usd_credit", "usd_cents", cents); }

// Polls until `done` or 5 s; returns whether `done` became true.
bool poll_until(NatsLiabilitySource& source, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    (void)source.poll_once(10);
  }
  return true;
}

// The server learns of acks asynchronously; wait for its view.
bool consumer_reaches(Wallet& wallet, const std::function<bool(const ConsumerState&)>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!done(wallet.consumer())) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

NatsOptions options_for(const NatsServer& server) {
  NatsOptions options;
  options.url = server.url();
  options.reconnect_wait_ms = 50;
  return options;
}

std::uint64_t id_of(const char* id) { return liability_event_id(id); }

} // namespace synthusd::liabilities::nats_test
