// The floor: the least a process can do between reading a market-data frame
// and writing an order: a blocking read of the frame, then one write of a
// NewOrderSingle-sized reply prepared in advance. Same sockets as the engine
// (loopback TCP, TCP_NODELAY), no parsing, no queue, no second thread.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "fix_wire.hpp"
#include "trigger_frame.hpp"

namespace synthusd::latency {

int connect_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

int run_floor_peer(std::uint16_t trigger_port) {
  const int fd = connect_loopback(trigger_port);
  if (fd < 0) {
    return 1;
  }
  // A NewOrderSingle as the engine's gateway writes one (about 200 bytes).
  fix_wire::MessageBuilder builder;
  builder.start("D", "SYNTHUSD", "LATENCY", 1);
  builder.add(11, std::string_view("S1000000000"));
  builder.add(55, std::string_view("BTC_USDC-PERPETUAL"));
  builder.add(54, std::string_view("2"));
  builder.add(60, fix_wire::utc_timestamp());
  builder.add(38, std::int64_t{1960});
  builder.add(40, std::string_view("2"));
  builder.add(44, std::string_view("49975.5"));
  builder.add(59, std::string_view("3"));
  const std::string reply(builder.finish());

  std::string input;
  char buffer[16384];
  for (;;) {
    const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
    if (got == 0) {
      break;
    }
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    input.append(buffer, static_cast<std::size_t>(got));
    for (std::size_t length = complete_frame(input.data(), input.size()); length > 0;
         length = complete_frame(input.data(), input.size())) {
      input.erase(0, length);
      if (::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(reply.size())) {
        ::close(fd);
        return 1;
      }
    }
  }
  ::close(fd);
  return 0;
}

} // namespace synthusd::latency
