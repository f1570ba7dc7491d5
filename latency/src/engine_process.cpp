#include "engine_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace synthusd::latency {

std::string engine_config(const EngineSettings& s) {
  const std::string state = (s.run_directory / "state").string();
  std::ostringstream out;
  out << "# Written by synthusd-latency for one run; every port is loopback.\n"
      << "[[venues]]\nid = 1\nname = \"latency\"\n\n"
      << "[[instruments]]\nid = 1\nvenue = \"latency\"\nsymbol = \"" << kInstrumentSymbol << "\"\n"
      << "kind = \"linear_perpetual\"\nsettlement = \"btc\"\ncontract_size_btc = 0.001\ntick_size = 0.5\n"
      << "maker_fee = 0\ntaker_fee = 0.0005\n\n"
      << "[bands]\npolicy = \"stablesats\"\nminimum_liability_usd = 50\n\n"
      << "[engine]\nwait = \"" << s.wait << "\"\nhot_path = \"" << s.hot_path << "\"\nstate_directory = \"" << state
      << "\"\n"
      << "timer_interval_ms = 100\nsnapshot_every_events = 1000000\nspin_before_park_us = "
      << s.spin_before_park_microseconds << "\n";
  // [engine.cpus]: one CPU per thread; the journal and the intake share the
  // I/O CPU (so neither spins there).
  // With one_thread the feed, kernel, gateway and intake are the thread hot-path.
  if (s.hot_path == "one_thread") {
    out << "\n[engine.cpus]\nhot-path = " << s.kernel_cpu;
  } else {
    out << "\n[engine.cpus]\nkernel = " << s.kernel_cpu << "\nfix-latency = " << s.gateway_cpu
        << "\nfeed-latency = " << s.feed_cpu << "\nintake = " << s.io_cpu;
  }
  out << "\njournal = " << s.io_cpu << "\n";
  out << "\n[[feeds]]\nvenue = \"latency\"\nprotocol = \"deribit\"\nhost = \"127.0.0.1\"\nport = " << s.websocket_port
      << "\npath = \"/ws/api/v2\"\ntls = false\nsymbols = [\"" << kInstrumentSymbol << "\"]\n\n"
      << "[oracle]\nmin_sources = 1\njump_confirmations = 1\njump_threshold = 0.5\n\n"
      << "[[gateways]]\nvenue = \"latency\"\ndialect = \"generic\"\nhost = \"127.0.0.1\"\nport = " << s.fix_port
      << "\nsender_comp_id = \"" << kEngineCompId << "\"\ntarget_comp_id = \"" << kVenueCompId << "\"\n"
      << "heartbeat_seconds = 30\nreconnect_seconds = 1\nreset_on_logon = true\nfile_store = false\n"
      << "position_request_seconds = 0\ncollateral_inquiry = false\n\n"
      << "[liability]\nconversion_spread = 0.001\n"
      << "max_daily_usd = 100000000000\n\n" // the schedule moves $100,000 a payment, all day long
      << "[intake]\ntcp_host = \"127.0.0.1\"\ntcp_port = " << s.intake_port << "\n\n"
      << "[http]\nport = 0\n\n"
      << "[risk]\nmax_order_contracts = 10000000\nmax_order_notional_usd = 100000000\n"
      << "max_position_contracts = 100000000\nmax_aggregate_notional_usd = 1000000000\n"
      << "orders_per_second = 100000\norder_burst = 100000\n"
      // Orders and cancels together: the default 200 a second (burst 400)
      // ran out near the end of a 20,000-slot run (250 orders a second) and
      // held one order for the kernel's 1 s retry.
      << "messages_per_second = 100000\nmessage_burst = 100000\n";
  return out.str();
}

std::uint16_t free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    if (fd >= 0) {
      ::close(fd);
    }
    throw std::runtime_error("no free loopback port");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

EngineProcess::EngineProcess(const EngineSettings& settings) {
  std::filesystem::create_directories(settings.run_directory);
  std::filesystem::remove_all(settings.run_directory / "state");
  const std::filesystem::path config = settings.run_directory / "engine.toml";
  {
    std::ofstream file(config);
    file << engine_config(settings);
    if (!file) {
      throw std::runtime_error("cannot write " + config.string());
    }
  }
  log_path_ = settings.run_directory / "engine.log";
  const std::string executable = settings.executable.string();
  const std::string config_text = config.string();
  const std::string log_text = log_path_.string();
  pid_ = ::fork();
  if (pid_ < 0) {
    throw std::runtime_error("fork failed");
  }
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM); // a harness that dies takes its engine with it
    const int log = ::open(log_text.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (log >= 0) {
      ::dup2(log, STDOUT_FILENO);
      ::dup2(log, STDERR_FILENO);
    }
    ::execl(executable.c_str(), executable.c_str(), "run", "--config", config_text.c_str(), "--status-every", "5",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
}

bool EngineProcess::running() {
  if (pid_ < 0) {
    return false;
  }
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    pid_ = -1;
    return false;
  }
  return true;
}

std::uint16_t EngineProcess::http_port() const {
  std::ifstream log(log_path_);
  std::string line;
  while (std::getline(log, line)) {
    const std::size_t at = line.find("synthusd running: http ");
    if (at != std::string::npos) {
      return static_cast<std::uint16_t>(std::atoi(line.c_str() + at + 23));
    }
  }
  return 0;
}

EngineProcess::~EngineProcess() {
  if (pid_ < 0) {
    return;
  }
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 1000; ++i) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

} // namespace synthusd::latency
