// synthusd-fix-record: records a golden FIX session from a live venue.
//
//   build/synthusd-fix-record --port 9881 --script tests/data/fix/gateway_session.script
//       --out /tmp/new.golden [--host 127.0.0.1] [--dialect deribit --credentials FILE]
//
// Connects the gateway to the venue, runs the script's intents (one at a
// time, waiting for the session to go quiet after each), and writes every
// application message, intent and upward event to --out. "venue ..." lines
// need the in-process test venue and are refused here; to re-record the
// committed golden files use the test's own recorder:
//
//   SYNTHUSD_FIX_RECORD_GOLDEN=1 build/fix_gateway_replay_test --gtest_filter='*Record*'

#include "synthusd/fix/credentials.hpp"
#include "gateway_golden.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>
#include <unistd.h>

namespace {

using namespace synthusd::fix;

int record(const std::string& host, int port, const std::string& script_path, const std::string& out_path,
           const golden::GoldenConfig& config, const std::string& credentials_path, int quiet_ms) {
  std::ifstream script(script_path);
  if (!script) {
    std::cerr << "synthusd-fix-record: cannot read script " << script_path << "\n";
    return 2;
  }
  std::ofstream out(out_path);
  if (!out) {
    std::cerr << "synthusd-fix-record: cannot write " << out_path << "\n";
    return 2;
  }
  const std::filesystem::path work =
      std::filesystem::temp_directory_path() / ("synthusd_fix_record_" + std::to_string(::getpid()));
  std::filesystem::create_directories(work);

  golden::GoldenRecorder recorder(out, config);
  GatewayConfig gateway_config = golden::make_gateway_config(config, host, port, work.string());
  gateway_config.message_log_sink = &recorder;
  if (config.dialect == Dialect::deribit || !credentials_path.empty()) {
    gateway_config.credentials = load_credentials(credentials_path); // file, or the environment
  }
  int status = 0;
  {
    OrderGateway gateway(std::move(gateway_config), recorder);
    recorder.attach(gateway.session());
    gateway.start();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (!gateway.logged_on() && std::chrono::steady_clock::now() < deadline) {
      gateway.poll();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!gateway.logged_on()) {
      std::cerr << "synthusd-fix-record: no logon from " << host << ":" << port << " within 15 s\n";
      status = 1;
    } else {
      try {
        golden::run_script(gateway, recorder, config, script, nullptr, quiet_ms);
      } catch (const std::exception& error) {
        std::cerr << "synthusd-fix-record: " << error.what() << "\n";
        status = 2;
      }
    }
    gateway.session().flush_log();
    recorder.set_recording(false);
    gateway.stop();
  }
  std::filesystem::remove_all(work);
  if (status == 0) {
    std::cout << "recorded " << out_path << "\n";
  }
  return status;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"Records a golden FIX session (tests/data/fix/*.golden) from a live venue"};
  std::string host = "127.0.0.1";
  int port = 0;
  std::string script;
  std::string out;
  std::string dialect = "generic";
  std::string credentials;
  int quiet_ms = 300;
  golden::GoldenConfig config;
  app.add_option("--host", host, "venue host");
  app.add_option("--port", port, "venue port")->required();
  app.add_option("--script", script, "intent script (tests/data/fix/*.script)")->required();
  app.add_option("--out", out, "golden file to write")->required();
  app.add_option("--dialect", dialect, "generic or deribit")->check(CLI::IsMember({"generic", "deribit"}));
  app.add_option("--credentials", credentials,
                 "owner-only file with client_id= and client_secret= (default: SYNTHUSD_FIX_CLIENT_ID/SECRET)");
  app.add_option("--sender", config.sender_comp_id, "SenderCompID");
  app.add_option("--target", config.target_comp_id, "TargetCompID (Deribit: DERIBITSERVER)");
  app.add_option("--venue", config.venue, "kernel venue id");
  app.add_option("--instrument", config.instrument, "kernel instrument id");
  app.add_option("--symbol", config.symbol, "venue symbol");
  app.add_option("--order-multiplier", config.order_quantity_multiplier,
                 "OrderQty per contract (Deribit BTC-PERPETUAL: 10, USD)");
  app.add_option("--report-multiplier", config.report_quantity_multiplier, "reported quantity per contract");
  app.add_option("--prefix", config.client_order_id_prefix, "ClOrdID prefix");
  app.add_flag("!--no-mass-cancel", config.mass_cancel, "cancel one order at a time");
  app.add_flag("!--no-collateral", config.collateral,
               "send no CollateralInquiry (BB); real Deribit has none, synthusd-venue answers it");
  app.add_option("--quiet-ms", quiet_ms, "how long the session must stay quiet after each line");
  CLI11_PARSE(app, argc, argv);
  parse_dialect(dialect, config.dialect);
  try {
    return record(host, port, script, out, config, credentials, quiet_ms);
  } catch (const std::exception& error) {
    std::cerr << "synthusd-fix-record: " << error.what() << "\n";
    return 2;
  }
}
