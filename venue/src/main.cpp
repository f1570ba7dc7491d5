// synthusd-venue: a simulated Deribit-like venue for one BTC inverse
// perpetual. FIX 4.4 order entry (QuickFIX acceptor), Deribit-format
// WebSocket tickers, and BTC accounting; or, with --acceptance, QuickFIX's
// own acceptance-test acceptor (see tests/venue/acceptance/).

#include <CLI/CLI.hpp>
#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <csignal>
#include <deque>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "synthusd/venue/decimal.hpp"
#include "synthusd/venue/fix_server.hpp"
#include "synthusd/venue/venue_config.hpp"
#include "synthusd/venue/venue_runtime.hpp"

namespace venue = synthusd::venue;

namespace {

// SIGINT and SIGTERM become readable on a signalfd; blocked before any
// thread starts so that every thread inherits the mask.
int make_stop_fd() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signalfd(-1, &signals, SFD_CLOEXEC);
}

void wait_for(int fd) {
  pollfd ready{fd, POLLIN, 0};
  while (::poll(&ready, 1, -1) < 0) {
  }
}

std::string join(const std::vector<std::string>& items) {
  std::string text;
  for (const std::string& item : items) {
    text += text.empty() ? "" : ",";
    text += item;
  }
  return text;
}

int run_acceptance(const venue::VenueConfig& config, int stop_fd) {
  venue::FixServer server(config.fix, nullptr);
  server.start();
  std::cout << "synthusd-venue: FIX acceptor on port " << server.port() << " (acceptance mode, "
            << config.fix.begin_string << ' ' << config.fix.sender_comp_id << " <- " << join(config.fix.target_comp_ids)
            << ')' << std::endl;
  wait_for(stop_fd);
  server.stop();
  return 0;
}

int run_venue(const venue::VenueConfig& config, int stop_fd) {
  std::vector<synthusd::hedging::PricePoint> path = venue::build_price_path(config.path);
  const std::size_t points = path.size();
  venue::FundingSchedule funding = venue::build_funding(config, path.front().time);
  if (funding.shift().nanoseconds != 0) {
    std::cout << "synthusd-venue: the funding file " << config.funding_csv
              << " does not cover the price path's start; replaying it from its first row, shifted by "
              << funding.shift().nanoseconds / 1'000'000'000 << " s\n";
  }
  std::vector<venue::DatedFuture> futures = venue::make_dated_futures(config.engine, config.futures, path);
  venue::Engine engine(config.engine, std::move(path), std::move(funding));
  venue::VenueRuntime runtime(config, std::move(engine), std::move(futures));
  runtime.start();
  const venue::Engine& state = runtime.engine();
  // No flush before the summary line: a supervisor may close stdout once it has
  // read the ports, and a later write would end the venue with SIGPIPE.
  for (const venue::FutureSettings& future : config.futures) {
    std::cout << "synthusd-venue: dated future " << future.name << " expires "
              << future.expires_after.nanoseconds / 1'000'000'000 << " simulated seconds after the start (ticker."
              << future.name << ".100ms)\n";
  }
  std::cout << "synthusd-venue: FIX acceptor on port " << runtime.fix_port() << " (" << config.fix.begin_string << ' '
            << config.fix.sender_comp_id << " <- " << join(config.fix.target_comp_ids) << ")\n";
  if (runtime.websocket_port() != 0) {
    std::cout << "synthusd-venue: WebSocket tickers on ws://127.0.0.1:" << runtime.websocket_port()
              << "/ws/api/v2 (ticker." << config.engine.symbol << ".100ms)\n";
  }
  if (runtime.wallet_port() != 0) {
    std::cout << "synthusd-venue: wallet API on " << (runtime.wallet_tls() ? "https" : "http")
              << "://127.0.0.1:" << runtime.wallet_port()
              << "/api/v2/private (chain: /chain/broadcast, /chain/transactions)\n";
  }
  std::cout << "synthusd-venue: " << config.engine.symbol << ", " << points << " price points from "
            << venue::format_fix_timestamp(state.start_time()) << " to "
            << venue::format_fix_timestamp(state.end_time()) << ", time scale "
            << venue::format_decimal(config.time_scale_millionths, 6) << ", start price "
            << venue::format_price(state.quote().mark) << std::endl;
  runtime.run(stop_fd);
  return 0;
}

int run(int argc, char** argv) {
  CLI::App app{"synthusd-venue: a simulated Deribit-like BTC inverse perpetual venue (FIX 4.4 order entry, "
               "Deribit WebSocket tickers), or QuickFIX's acceptance-test acceptor with --acceptance"};
  std::string config_path;
  app.add_option("--config", config_path, "TOML file; its keys are the setting names below (command line wins)")
      ->check(CLI::ExistingFile);

  const auto table = venue::settings();
  std::vector<std::string> values(table.size());
  std::vector<std::vector<std::string>> lists(table.size());
  std::deque<bool> flags(table.size(), false);
  std::vector<CLI::Option*> options(table.size(), nullptr);
  for (std::size_t i = 0; i < table.size(); ++i) {
    const venue::Setting& setting = table[i];
    const std::string name = "--" + std::string(setting.flag);
    const std::string help = std::string(setting.help) + " [" + std::string(setting.key) + "]";
    switch (setting.kind) {
    case venue::SettingKind::flag:
      options[i] = app.add_flag(name, flags[i], help);
      break;
    case venue::SettingKind::list:
      options[i] = app.add_option(name, lists[i], help);
      break;
    case venue::SettingKind::value:
      options[i] = app.add_option(name, values[i], help);
      break;
    }
  }
  CLI11_PARSE(app, argc, argv);

  venue::SettingValues settings = config_path.empty() ? venue::SettingValues{} : venue::read_toml(config_path);
  for (std::size_t i = 0; i < table.size(); ++i) {
    if (options[i]->count() == 0) {
      continue;
    }
    const std::string key(table[i].key);
    switch (table[i].kind) {
    case venue::SettingKind::flag:
      settings[key] = flags[i] ? "true" : "false";
      break;
    case venue::SettingKind::list:
      settings[key] = join(lists[i]);
      break;
    case venue::SettingKind::value:
      settings[key] = values[i];
      break;
    }
  }
  const venue::VenueConfig config = venue::make_config(settings);
  const int stop_fd = make_stop_fd();
  if (stop_fd < 0) {
    std::cerr << "synthusd-venue: signalfd failed\n";
    return 1;
  }
  const int status = config.fix.acceptance ? run_acceptance(config, stop_fd) : run_venue(config, stop_fd);
  ::close(stop_fd);
  return status;
}

} // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& error) {
    std::cerr << "synthusd-venue: " << error.what() << '\n';
    return 1;
  }
}
