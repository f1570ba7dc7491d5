// synthusd: the engine's command line: run, simulate, backtest, replay, intake,
// check-config and check-host.

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdint>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "synthusd/engine/backtest_command.hpp"
#include "synthusd/engine/check_host.hpp"
#include "synthusd/engine/config_file.hpp"
#include "synthusd/engine/intake_command.hpp"
#include "synthusd/engine/replay_command.hpp"
#include "synthusd/engine/run_command.hpp"
#include "synthusd/engine/simulate_command.hpp"

namespace {

// CLI11 reads "-1" into an unsigned option as its two's complement and
// saturates a number too large for it, so a seed would silently be another
// one: a seed is decimal digits that fit 64 bits.
const CLI::Validator kSeed(
    [](const std::string& text) -> std::string {
      std::uint64_t value = 0;
      const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (text.empty() || error != std::errc{} || end != text.data() + text.size()) {
        return "'" + text + "' (expected a seed: 0 to 18446744073709551615)";
      }
      return {};
    },
    "SEED");

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"synthusd: keeps Lightning USD balances worth exactly their dollars"};
  app.require_subcommand(1);

  synthusd::engine::SimulateOptions simulate;
  CLI::App* simulate_command = app.add_subcommand("simulate", "run the hedge kernel over a generated price path");
  simulate_command->add_option("--seed", simulate.seed, "price path and user flow seed")->check(kSeed);
  simulate_command->add_option("--steps", simulate.steps, "4-hour steps to simulate")->check(CLI::Range(1, 1'000'000));
  simulate_command->add_option("--policy", simulate.policy, "band policy: stablesats, banded or hybrid");
  simulate_command->add_flag("!--no-crash", simulate.with_crash, "leave out the -50 % and +100 % days");
  simulate_command->add_option("--print-every", simulate.print_every, "print one line every N steps")
      ->check(CLI::PositiveNumber);

  simulate_command->add_option("--config", simulate.config_path, "venues, instruments and rules from this TOML file")
      ->check(CLI::ExistingFile);

  simulate_command->add_option("--journal", simulate.journal_path,
                               "record every kernel input to this new journal file");

  std::string replay_journal;
  std::string replay_config;
  std::vector<std::string> replay_archives;
  CLI::App* replay_command =
      app.add_subcommand("replay", "re-run the kernel over a journal and print the action-stream hash");
  replay_command
      ->add_option("journal", replay_journal,
                   "the journal: its base path (<state_directory>/journal, segments journal.<sequence>), its "
                   "directory, or a single journal file")
      ->required();
  replay_command->add_option("--archive", replay_archives, "also look for segments in this directory (repeatable)")
      ->check(CLI::ExistingDirectory);
  replay_command->add_option("--config", replay_config, "the configuration the journal was recorded with")
      ->check(CLI::ExistingFile);
  bool replay_liabilities = false;
  replay_command->add_flag("--liabilities", replay_liabilities,
                           "also print each liability record: sequence, payment id, key and amounts");

  std::string intake_journal;
  std::string intake_socket;
  int intake_port = -1;
  std::string intake_price;
  CLI::App* intake_command = app.add_subcommand(
      "intake", "serve the liability intake alone (journal + acks) until SIGTERM; for tests and bridges");
  intake_command->add_option("--journal", intake_journal, "journal file (created or continued)")->required();
  intake_command->add_option("--unix-socket", intake_socket, "listen on this Unix socket");
  intake_command->add_option("--tcp-port", intake_port, "listen on 127.0.0.1:PORT (0: pick one)");
  intake_command->add_option("--price-usd", intake_price, "fixed index price for converting sats (decimal)");

  synthusd::engine::RunOptions run;
  CLI::App* run_command = app.add_subcommand("run", "run the engine: feeds, liability sources, kernel, FIX, journal");
  run_command->add_option("--config", run.config_path, "TOML configuration")->required()->check(CLI::ExistingFile);
  run_command->add_option("--duration", run.duration_seconds, "stop after this many seconds (default: at SIGTERM)")
      ->check(CLI::NonNegativeNumber);
  run_command->add_option("--status-every", run.status_every_seconds, "print a status line every N seconds")
      ->check(CLI::NonNegativeNumber);
  run_command->add_option("--summary-json", run.summary_json, "also write the end-of-run summary as JSON here");

  synthusd::engine::BacktestOptions backtest;
  std::uint64_t backtest_flows = 0;
  CLI::App* backtest_command =
      app.add_subcommand("backtest", "run hedge policies side by side over a price history, through the venue model");
  backtest_command->add_option("--prices", backtest.prices_path, "CSV: timestamp + close, or OHLC candles")
      ->required()
      ->check(CLI::ExistingFile);
  backtest_command->add_option("--funding", backtest.funding_path, "CSV: timestamp + funding rate")
      ->check(CLI::ExistingFile);
  CLI::Option* backtest_liabilities =
      backtest_command->add_option("--liabilities", backtest.liabilities_path, "JSON lines in the intake's format")
          ->check(CLI::ExistingFile);
  backtest_command->add_option("--flows", backtest_flows, "generate payments with this seed instead")
      ->check(kSeed)
      ->excludes(backtest_liabilities);
  backtest_command->add_option("--config", backtest.config_path, "venues, instruments and collateral rules")
      ->required()
      ->check(CLI::ExistingFile);
  backtest_command->add_option("--policy", backtest.policies,
                               "policies, comma separated: stablesats,banded,passive,hybrid");
  backtest_command->add_option("--report", backtest.report_path, "write the HTML report here");
  backtest_command->add_option("--json", backtest.json_path, "write the results as JSON here");
  backtest_command->add_option("--from", backtest.from, "leave out rows before this UTC time");
  backtest_command->add_option("--to", backtest.to, "leave out rows after this UTC time (a date alone is its 00:00)");
  backtest_command->add_option("--transfer-delay", backtest.transfer_delay_seconds,
                               "seconds a collateral transfer takes");
  backtest_command->add_option("--post-only-wait", backtest.post_only_wait_seconds,
                               "seconds a post-only order rests before the taker fallback");
  backtest_command->add_option("--hedge-on", backtest.hedge_on,
                               "perpetual (the configuration's), futures (Deribit's weekly futures in place of each "
                               "inverse perpetual, rolled) or carry (both; the kernel picks by carry)");
  backtest_command->add_option("--future-basis", backtest.future_basis,
                               "the futures' premium over the index, a year (0.05: 5 %), decaying to expiry");

  std::string check_path;
  CLI::App* check_command = app.add_subcommand("check-config", "validate a configuration file and explain every error");
  check_command->add_option("file", check_path, "TOML configuration")->required()->check(CLI::ExistingFile);

  synthusd::engine::HostCheckOptions host;
  std::string host_cpus;
  CLI::App* host_command =
      app.add_subcommand("check-host", "print the machine settings that decide latency, each with its recommendation");
  host_command->add_option("--root", host.root, "read sys/ and proc/ under this directory (default /)");
  host_command->add_option("--cpus", host_cpus,
                           "the CPUs the engine's pinned threads use, e.g. 2-3 (default: isolated)");

  CLI11_PARSE(app, argc, argv);
  try {
    if (*host_command) {
      if (!synthusd::engine::parse_cpu_list(host_cpus, host.engine_cpus)) {
        std::cerr << "synthusd check-host: --cpus: not a CPU list: '" << host_cpus << "'\n";
        return 2;
      }
      return synthusd::engine::run_check_host(host, std::cout);
    }
    if (*simulate_command) {
      return synthusd::engine::run_simulate(simulate, std::cout);
    }
    if (*backtest_command) {
      if (backtest_command->count("--flows") > 0) {
        backtest.flows_seed = backtest_flows;
      }
      return synthusd::engine::run_backtest_command(backtest, std::cout, std::cerr);
    }
    if (*run_command) {
      return synthusd::engine::run_engine(run, std::cout);
    }
    if (*intake_command) {
      return synthusd::engine::run_intake(intake_journal, intake_socket, intake_port, intake_price, std::cout);
    }
    if (*replay_command) {
      return synthusd::engine::run_replay(replay_journal, replay_config, std::cout, replay_archives,
                                          replay_liabilities);
    }
    if (*check_command) {
      const auto config = synthusd::engine::load_config(check_path);
      std::cout << check_path << ": ok (" << config.kernel.venues.size() << " venues, "
                << config.kernel.instruments.size() << " instruments, policy "
                << synthusd::hedging::policy_name(config.kernel.bands.policy) << "; " << config.run.feeds.size()
                << " feeds, " << config.run.gateways.size() << " gateways, wait "
                << synthusd::engine::to_string(config.run.engine.wait) << "; oracle "
                << synthusd::engine::describe(config.run.oracle) << ")\n";
      for (const std::string& rule : synthusd::engine::describe_rules(config)) {
        std::cout << check_path << ": " << rule << "\n";
      }
      for (const std::string& warning : synthusd::engine::config_warnings(config)) {
        std::cout << check_path << ": warning: " << warning << "\n";
      }
      return 0;
    }
  } catch (const synthusd::engine::ConfigError& error) {
    std::cerr << error.what();
    return 2;
  } catch (const std::exception& error) {
    std::cerr << "synthusd: " << error.what() << "\n";
    return 2;
  }
  return 0;
}
