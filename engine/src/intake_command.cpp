#include "synthusd/engine/intake_command.hpp"

#include <atomic>
#include <csignal>
#include <filesystem>
#include <ostream>
#include <stdexcept>

#include "synthusd/common/decimal.hpp"
#include "synthusd/engine/journal_liability_sink.hpp"
#include "synthusd/engine/journal_segments.hpp"
#include "synthusd/liabilities/liability_intake.hpp"

namespace synthusd::engine {
namespace {

std::atomic<bool> stop_requested{false};

extern "C" void request_stop(int /*signal*/) { stop_requested.store(true); }

} // namespace

int run_intake(const std::string& journal_path, const std::string& unix_socket, int tcp_port,
               const std::string& price_usd, std::ostream& out) {
  hedging::Price price{};
  if (!price_usd.empty()) {
    const auto parsed = common::parse_decimal(price_usd, 8); // USD per BTC at Price::kScale
    if (!parsed.ok() || parsed.value <= 0) {
      throw std::invalid_argument("--price-usd: '" + price_usd + "' is not a positive price");
    }
    price = hedging::Price{parsed.value};
  }
  if (unix_socket.empty() && tcp_port < 0) {
    throw std::invalid_argument("intake: give --unix-socket and/or --tcp-port");
  }
  // The path is checked before the writer opens it: a segment of a
  // segmented journal named here must be refused untouched, not appended to
  // (or, once, cut back to its last valid record before the refusal).
  {
    const JournalFiles files = list_journal_files(journal_base(journal_path));
    refuse_missing_last_segments(files, journal_base(journal_path));
    // A segmented journal's base: the intake writes one file, and a file
    // created there beside the segments would stop the engine's next start.
    std::error_code error;
    if (!files.segments.empty() && !std::filesystem::is_regular_file(journal_path, error)) {
      throw std::runtime_error("intake: " + journal_path + " is a segmented journal (" + files.segments.front().path +
                               " ...); the intake writes a single-file journal: give another path");
    }
  }
  JournalWriter journal(journal_path);
  liabilities::IntakeOptions options;
  options.unix_socket_path = unix_socket;
  options.tcp_port = tcp_port;
  JournalLiabilitySink sink(journal, [price] { return price; });
  liabilities::LiabilityAdmission admission(sink, hedging::Ratio{});
  remember_journaled_ids(admission, journal_path);
  liabilities::LiabilityIntake intake(options, admission);
  std::signal(SIGINT, request_stop);
  std::signal(SIGTERM, request_stop);
  out << "LISTENING" << (unix_socket.empty() ? "" : " unix " + unix_socket)
      << (tcp_port >= 0 ? " tcp " + std::to_string(intake.tcp_port()) : "") << std::endl;
  while (!stop_requested.load()) {
    (void)intake.poll_once(100);
  }
  journal.commit();
  const liabilities::IntakeCounters& c = intake.counters();
  out << "STOPPED lines " << c.lines << " accepted " << c.accepted << " duplicates " << c.duplicates << " rejected "
      << c.rejected << " durable sequence " << journal.durable_sequence() << std::endl;
  return 0;
}

} // namespace synthusd::engine
