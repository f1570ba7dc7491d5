#pragma once
// `synthusd intake`: the liability intake on its own, journaling and
// acknowledging events until SIGINT/SIGTERM. Used by the Core Lightning
// plugin's end-to-end test and handy as a standalone bridge.

#include <iosfwd>
#include <string>

namespace synthusd::engine {

int run_intake(const std::string& journal_path, const std::string& unix_socket, int tcp_port,
               const std::string& price_usd, std::ostream& out);

} // namespace synthusd::engine
