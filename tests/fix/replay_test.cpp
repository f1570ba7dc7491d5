// FIX session replay: the recorded inbound messages and the intents that
// produced the recorded outbound ones are played to the gateway again, and
// it must send identical outbound application messages (BodyLength,
// CheckSum and SendingTime excepted) and report identical events.
//
// Golden files: tests/data/fix/*.golden, recorded from the scripts next to
// them. To re-record them after an intended change of behaviour:
//
//   SYNTHUSD_FIX_RECORD_GOLDEN=1 build/fix_gateway_replay_test --gtest_filter='*Record*'
//
// then review the diff (git diff tests/data/fix) before committing it.
#include "gateway_test_support.hpp"
#include "synthusd/fix/gateway_decimal.hpp"
#include "gateway_golden.hpp"
#include "synthusd/fix/pre_trade_risk.hpp"
#include "synthusd/hedging/kernel.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace synthusd::fix::testing {
namespace {

using golden::GoldenConfig;
using golden::GoldenEntry;
using golden::GoldenSession;
using golden::IntentLine;

constexpr char kReplaySecret[] = "replay-secret";

std::string data_path(const std::string& name) { return std::string(SYNTHUSD_SOURCE_DIR) + "/tests/data/fix/" + name; }

// Formats everything the gateway reports, as the recorder does.
class LineListener : public OrderGatewayListener {
public:
  void on_event(const hedging::Event& event) override { lines.push_back(golden::format_event(event)); }
  void on_alert(const GatewayAlert& alert) override { lines.push_back(golden::format_alert(alert)); }
  void on_replaced(const ExecutionEvent& event) override { lines.push_back(golden::format_replaced(event)); }
  std::vector<std::string> lines;
};

TestVenueConfig venue_config_for(const golden::GoldenConfig& config, bool automatic) {
  TestVenueConfig venue;
  venue.sender_comp_id = config.target_comp_id;
  venue.target_comp_id = config.sender_comp_id;
  venue.automatic = automatic;
  if (config.dialect == Dialect::deribit) {
    venue.deribit = true;
    venue.secret = kReplaySecret;
    venue.units_per_contract = config.order_quantity_multiplier / config.report_quantity_multiplier;
    venue.mass_cancel_lists_orders = true;
  }
  return venue;
}

void add_credentials(GatewayConfig& config) {
  if (config.dialect == Dialect::deribit) {
    config.credentials.client_id = "replay";
    config.credentials.client_secret = SecretString(kReplaySecret);
  }
}

// "8=FIX.4.4|9=..|35=8|...|10=...|" -> "35=8|...|" (the venue adds the rest).
std::string body_of(const std::string& message) {
  const std::size_t begin = message.find("|35=");
  const std::size_t end = message.rfind("|10=");
  if (begin == std::string::npos || end == std::string::npos || end < begin) {
    return message;
  }
  return message.substr(begin + 1, end - begin);
}

std::vector<std::string> application_messages(const TestVenue& venue) {
  std::vector<std::string> out;
  for (const std::string& message : venue.received()) {
    out.push_back(pipes(message));
  }
  return out;
}

// Replays a golden session; returns what differed (empty: identical).
std::vector<std::string> replay(const GoldenSession& session) {
  std::vector<std::string> problems;
  TemporaryDirectory directory;
  TestVenue venue(venue_config_for(session.config, false));
  venue.start();
  GatewayConfig config =
      golden::make_gateway_config(session.config, "127.0.0.1", venue.port(), directory.path().string());
  add_credentials(config);
  LineListener listener;
  OrderGateway gateway(std::move(config), listener);
  gateway.start();

  std::size_t outs = 0;
  std::size_t events = 0;
  for (const GoldenEntry& entry : session.entries) {
    const std::string where = "golden line " + std::to_string(entry.line) + ": ";
    switch (entry.kind) {
    case GoldenEntry::Kind::intent:
      (void)golden::apply_intent(gateway, golden::IntentLine::parse(entry.text), session.config);
      break;
    case GoldenEntry::Kind::in:
      if (!venue.send(body_of(entry.text))) {
        problems.push_back(where + "the venue could not send " + entry.text);
      }
      break;
    case GoldenEntry::Kind::out: {
      if (!poll_until(gateway, [&] { return venue.received().size() > outs; })) {
        problems.push_back(where + "expected the gateway to send " + entry.text + " but it sent nothing");
        return problems;
      }
      const std::string actual = application_messages(venue)[outs++];
      const std::string difference = golden::compare_messages(entry.text, actual);
      if (!difference.empty()) {
        problems.push_back(where + difference + "\n  expected " + entry.text + "\n  actual   " + actual);
      }
      break;
    }
    case GoldenEntry::Kind::event: {
      if (!poll_until(gateway, [&] { return listener.lines.size() > events; })) {
        problems.push_back(where + "expected event " + entry.text + " but none came");
        return problems;
      }
      const std::string& actual = listener.lines[events++];
      if (actual != entry.text) {
        problems.push_back(where + "expected event " + entry.text + "\n  actual " + actual);
      }
      break;
    }
    }
  }
  poll_for(gateway, 200);
  const auto sent = application_messages(venue);
  for (std::size_t i = outs; i < sent.size(); ++i) {
    problems.push_back("unexpected extra message " + sent[i]);
  }
  for (std::size_t i = events; i < listener.lines.size(); ++i) {
    problems.push_back("unexpected extra event " + listener.lines[i]);
  }
  gateway.stop();
  venue.stop();
  return problems;
}

GoldenSession read_golden_file(const std::string& name) {
  std::ifstream in(data_path(name));
  EXPECT_TRUE(in.good()) << data_path(name);
  return golden::read_golden(in);
}

std::size_t count(const GoldenSession& session, GoldenEntry::Kind kind) {
  std::size_t n = 0;
  for (const GoldenEntry& entry : session.entries) {
    n += entry.kind == kind ? 1 : 0;
  }
  return n;
}

TEST(GatewayReplayTest, GenericSessionReplaysIdentically) {
  const GoldenSession session = read_golden_file("gateway_session.golden");
  ASSERT_GE(count(session, GoldenEntry::Kind::out), 10U);
  ASSERT_GE(count(session, GoldenEntry::Kind::in), 10U);
  for (const std::string& problem : replay(session)) {
    ADD_FAILURE() << problem;
  }
}

TEST(GatewayReplayTest, DeribitSessionReplaysIdentically) {
  const GoldenSession session = read_golden_file("gateway_session_deribit.golden");
  ASSERT_EQ(session.config.dialect, Dialect::deribit);
  ASSERT_GE(count(session, GoldenEntry::Kind::out), 8U);
  for (const std::string& problem : replay(session)) {
    ADD_FAILURE() << problem;
  }
}

// The replay has teeth: change one input and it reports the change.
TEST(GatewayReplayTest, ReportsADivergentOutboundMessage) {
  GoldenSession session = read_golden_file("gateway_session.golden");
  bool changed = false;
  for (GoldenEntry& entry : session.entries) {
    if (entry.kind == GoldenEntry::Kind::intent && entry.text.starts_with("order id=1 ")) {
      const std::size_t quantity = entry.text.find("quantity=5");
      ASSERT_NE(quantity, std::string::npos);
      entry.text.replace(quantity, 10, "quantity=6");
      changed = true;
    }
  }
  ASSERT_TRUE(changed);
  const auto problems = replay(session);
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems[0].find("38=5"), std::string::npos) << problems[0];
  EXPECT_NE(problems[0].find("38=6"), std::string::npos) << problems[0];
}

// ... and a changed inbound CollateralReport shows up as a different event.
TEST(GatewayReplayTest, ReportsADivergentCollateralEvent) {
  GoldenSession session = read_golden_file("gateway_session.golden");
  bool changed = false;
  for (GoldenEntry& entry : session.entries) {
    if (entry.kind == GoldenEntry::Kind::in && entry.text.find("|35=BA|") != std::string::npos) {
      const std::size_t equity = entry.text.find("|900=1|");
      ASSERT_NE(equity, std::string::npos) << entry.text;
      entry.text.replace(equity, 7, "|900=1.5|");
      changed = true;
    }
  }
  ASSERT_TRUE(changed);
  const auto problems = replay(session);
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems[0].find("expected event collateral venue=2 equity=100000000"), std::string::npos) << problems[0];
  EXPECT_NE(problems[0].find("equity=150000000"), std::string::npos) << problems[0];
}

TEST(GoldenFormatTest, ComparesAllButBodyLengthCheckSumAndSendingTime) {
  const std::string a = "8=FIX.4.4|9=10|35=D|34=3|52=20240101-00:00:00.000|11=G1|60=20240101-00:00:00.001|10=001|";
  const std::string b = "8=FIX.4.4|9=11|35=D|34=3|52=20991231-23:59:59.999|11=G1|60=20240101-00:00:00.001|10=222|";
  EXPECT_EQ(golden::compare_messages(a, b), "");
  EXPECT_NE(golden::compare_messages(a, "8=FIX.4.4|9=10|35=D|34=4|52=x|11=G1|60=20240101-00:00:00.001|10=001|"), "");
  EXPECT_NE(golden::compare_messages(a, "8=FIX.4.4|9=10|35=D|34=3|52=x|11=G1|60=20240101-00:00:00.002|10=001|"), "");
  EXPECT_NE(golden::compare_messages(a, "8=FIX.4.4|9=10|35=D|34=3|52=x|11=G1|10=001|"), "");
}

TEST(GoldenFormatTest, ConfigRoundTrips) {
  golden::GoldenConfig config;
  config.dialect = Dialect::deribit;
  config.target_comp_id = "DERIBITSERVER";
  config.order_quantity_multiplier = 10;
  config.mass_cancel = false;
  config.collateral = false;
  const std::string line = config.format();
  ASSERT_TRUE(line.starts_with("config "));
  EXPECT_EQ(golden::GoldenConfig::parse(line.substr(7)).format(), line);
  EXPECT_NE(line.find(" collateral=0"), std::string::npos) << line;
  EXPECT_FALSE(golden::GoldenConfig::parse(line.substr(7)).collateral);
  EXPECT_THROW(golden::GoldenConfig::parse("dialect=okx"), std::invalid_argument);
  EXPECT_THROW(golden::GoldenConfig::parse("colour=blue"), std::invalid_argument);
}

TEST(GoldenFormatTest, RejectsBadGoldenLinesNamingThem) {
  std::istringstream missing_config("intent positions\n");
  EXPECT_THROW((void)golden::read_golden(missing_config), std::invalid_argument);
  std::istringstream bad_intent("config dialect=generic\nintent launch id=1\n");
  try {
    (void)golden::read_golden(bad_intent);
    FAIL();
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("line 2"), std::string::npos) << error.what();
  }
}

// ---- recording (only on request) --------------------------------------------

struct Scenario {
  std::string name;
  golden::GoldenConfig config;
};

std::vector<Scenario> scenarios() {
  golden::GoldenConfig generic;
  golden::GoldenConfig deribit;
  deribit.dialect = Dialect::deribit;
  deribit.target_comp_id = "DERIBITSERVER";
  deribit.order_quantity_multiplier = 10; // BTC-PERPETUAL: $10 contracts, OrderQty in USD
  return {{"gateway_session", generic}, {"gateway_session_deribit", deribit}};
}

bool venue_command(TestVenue& venue, const std::string& command) {
  std::istringstream in(command);
  std::string verb;
  in >> verb;
  if (verb == "fill") {
    std::string id;
    std::int64_t quantity = 0;
    std::string price;
    in >> id >> quantity >> price;
    std::int64_t price_e8 = 0;
    return parse_decimal_e8(price, price_e8) && venue.fill(id, quantity, price_e8);
  }
  if (verb == "drop") {
    std::string id;
    in >> id;
    return venue.drop(id);
  }
  if (verb == "send") {
    std::string body;
    in >> body;
    return venue.send(body);
  }
  if (verb == "mode") {
    std::string mode;
    in >> mode;
    const std::pair<const char*, OrderMode> modes[] = {{"automatic", OrderMode::automatic},
                                                       {"acknowledge", OrderMode::acknowledge},
                                                       {"silent", OrderMode::silent},
                                                       {"reject", OrderMode::reject},
                                                       {"business_reject", OrderMode::business_reject}};
    for (const auto& [name, value] : modes) {
      if (mode == name) {
        venue.set_order_mode(value);
        return true;
      }
    }
  }
  return false;
}

// Records each script against a live test venue and checks that the fresh
// recording replays. With SYNTHUSD_FIX_RECORD_GOLDEN=1 the recordings also
// replace tests/data/fix/*.golden.
TEST(GatewayReplayTest, RecordsALiveSessionThatReplays) {
  const bool write_golden = std::getenv("SYNTHUSD_FIX_RECORD_GOLDEN") != nullptr;
  for (const Scenario& scenario : scenarios()) {
    std::ifstream script(data_path(scenario.name + ".script"));
    ASSERT_TRUE(script.good()) << scenario.name;
    std::ostringstream golden_text;
    {
      TemporaryDirectory directory;
      TestVenue venue(venue_config_for(scenario.config, true));
      venue.start();
      golden::GoldenRecorder recorder(golden_text, scenario.config);
      GatewayConfig config =
          golden::make_gateway_config(scenario.config, "127.0.0.1", venue.port(), directory.path().string());
      add_credentials(config);
      config.message_log_sink = &recorder;
      OrderGateway gateway(std::move(config), recorder);
      recorder.attach(gateway.session());
      gateway.start();
      ASSERT_TRUE(poll_until(gateway, [&] { return gateway.logged_on(); }));
      golden::run_script(gateway, recorder, scenario.config, script,
                         [&](const std::string& command) { return venue_command(venue, command); });
      gateway.session().flush_log();
      recorder.set_recording(false);
      gateway.stop();
      venue.stop();
    }
    if (write_golden) {
      std::ofstream(data_path(scenario.name + ".golden")) << golden_text.str();
    }
    // A fresh recording must replay.
    std::istringstream in(golden_text.str());
    for (const std::string& problem : replay(golden::read_golden(in))) {
      ADD_FAILURE() << scenario.name << ": " << problem;
    }
  }
}

// ---- the kernel in front of the gateway ------------------------------------
//
// Market and liability inputs drive the real hedge kernel; its order intents
// pass pre-trade risk and go out through the gateway to the test venue, and
// the venue's execution reports go back into the kernel. Run twice, the same
// inputs must put byte-identical application messages on the wire (apart
// from 9, 10 and 52); and the recording, with its inbound messages, must
// replay through a fresh gateway to the same outbound messages.

hedging::KernelConfig kernel_config_for(const GoldenConfig& golden) {
  hedging::KernelConfig config;
  config.venues = {{golden.venue, "venue", 1, hedging::UsdCents{INT64_MAX / 4}}};
  hedging::InstrumentSpec spec;
  spec.id = golden.instrument;
  spec.venue = golden.venue;
  spec.symbol = hedging::Symbol(std::string_view(golden.symbol));
  spec.contract_value = hedging::UsdCents{1'000}; // $10, like BTC-PERPETUAL
  config.instruments = {spec};
  return config;
}

// What the market and the users do, in order: prices and liability changes
// (cents). Every step after the first moves the hedge out of its band.
struct KernelInput {
  std::int64_t mark_dollars;
  std::int64_t liability_cents;
};
constexpr KernelInput kKernelInputs[] = {
    {43'000, 1'000'000}, {43'100, 100'000},   {42'500, 500'000},
    {42'700, -700'000},  {44'000, 2'000'000}, {44'100, -2'400'000},
};

class ForwardingListener : public OrderGatewayListener {
public:
  void on_event(const hedging::Event& event) override { events.push_back(event); }
  void on_alert(const GatewayAlert&) override {}
  void on_replaced(const ExecutionEvent&) override {}
  std::vector<hedging::Event> events;
};

std::string intent_line(const hedging::OrderIntent& order) {
  return "order id=" + std::to_string(order.client_order_id) +
         " side=" + (order.side == hedging::Side::buy ? "buy" : "sell") +
         " quantity=" + std::to_string(order.quantity.value) +
         " type=market reduce_only=" + (order.reduce_only ? "1" : "0");
}

// One live run; returns the golden text (intents, messages, events).
std::string run_kernel_session(const GoldenConfig& golden_config) {
  std::ostringstream golden_text;
  TemporaryDirectory directory;
  TestVenue venue(venue_config_for(golden_config, true));
  venue.start();
  ForwardingListener forward;
  golden::GoldenRecorder recorder(golden_text, golden_config, &forward);
  GatewayConfig config =
      golden::make_gateway_config(golden_config, "127.0.0.1", venue.port(), directory.path().string());
  add_credentials(config);
  config.message_log_sink = &recorder;
  OrderGateway gateway(std::move(config), recorder);
  recorder.attach(gateway.session());
  gateway.start();
  EXPECT_TRUE(poll_until(gateway, [&] { return gateway.logged_on(); }));

  hedging::Kernel kernel(kernel_config_for(golden_config));
  RiskLimits limits;
  limits.order_rate = {0, 0};
  limits.message_rate = {0, 0};
  PreTradeRisk risk(limits, kernel.config().instruments);
  risk.on_session(golden_config.venue, true);
  hedging::Timestamp now{1'704'067'200'000'000'000};

  // Applies one kernel input and everything it causes, until no order of the
  // kernel is still waiting for the venue.
  const auto drive = [&](const hedging::Event& input) {
    std::vector<hedging::Event> pending{input};
    while (!pending.empty()) {
      const hedging::Event event = pending.front();
      pending.erase(pending.begin());
      risk.on_execution(std::holds_alternative<hedging::ExecutionReport>(event)
                            ? std::get<hedging::ExecutionReport>(event)
                            : hedging::ExecutionReport{});
      for (const hedging::Action& action : kernel.on(event)) {
        const auto* order = std::get_if<hedging::OrderIntent>(&action);
        if (order == nullptr) {
          continue;
        }
        ASSERT_EQ(risk.check_order(*order, now), RiskReject::none);
        recorder.note("intent " + intent_line(*order));
        (void)golden::apply_intent(gateway, IntentLine::parse(intent_line(*order)), golden_config);
      }
      if (pending.empty() && kernel.open_orders() > 0) {
        ASSERT_TRUE(poll_until(gateway, [&] {
          for (const hedging::Event& reported : forward.events) {
            if (std::holds_alternative<hedging::ExecutionReport>(reported)) {
              return true;
            }
          }
          return false;
        })) << "no execution report from the venue";
      }
      for (const hedging::Event& reported : forward.events) {
        if (std::holds_alternative<hedging::ExecutionReport>(reported)) {
          pending.push_back(reported);
        }
      }
      forward.events.clear();
    }
  };
  drive(hedging::VenueStatus{golden_config.venue, true, now});
  for (const KernelInput& input : kKernelInputs) {
    now = now + hedging::Duration::from_seconds(1);
    hedging::MarketUpdate market;
    market.venue = golden_config.venue;
    market.instrument = golden_config.instrument;
    market.mark = market.index = hedging::Price::from_dollars(input.mark_dollars);
    market.bid = hedging::Price::from_dollars(input.mark_dollars - 1);
    market.ask = hedging::Price::from_dollars(input.mark_dollars + 1);
    market.time = now;
    risk.on_reference_price(golden_config.instrument, market.mark, now);
    drive(market);
    drive(
        hedging::LiabilityChange{0, hedging::UsdCents{input.liability_cents}, hedging::Sats{}, hedging::Price{}, now});
  }
  EXPECT_EQ(kernel.open_orders(), 0u);
  EXPECT_GE(kernel.counters().orders, std::size(kKernelInputs));
  gateway.session().flush_log();
  recorder.set_recording(false);
  gateway.stop();
  venue.stop();
  return golden_text.str();
}

std::vector<std::string> lines_of_kind(const std::string& golden_text, GoldenEntry::Kind kind) {
  std::istringstream in(golden_text);
  std::vector<std::string> lines;
  for (const GoldenEntry& entry : golden::read_golden(in).entries) {
    if (entry.kind == kind) {
      lines.push_back(entry.text);
    }
  }
  return lines;
}

TEST(KernelGatewayReplayTest, the_same_market_and_liability_inputs_put_the_same_messages_on_the_wire) {
  const GoldenConfig golden_config;
  const std::string first = run_kernel_session(golden_config);
  const std::string second = run_kernel_session(golden_config);
  const auto first_intents = lines_of_kind(first, GoldenEntry::Kind::intent);
  EXPECT_EQ(first_intents, lines_of_kind(second, GoldenEntry::Kind::intent));
  const auto first_out = lines_of_kind(first, GoldenEntry::Kind::out);
  const auto second_out = lines_of_kind(second, GoldenEntry::Kind::out);
  ASSERT_EQ(first_out.size(), second_out.size());
  ASSERT_GE(first_out.size(), std::size(kKernelInputs));
  for (std::size_t i = 0; i < first_out.size(); ++i) {
    EXPECT_EQ(golden::compare_messages(first_out[i], second_out[i]), "") << "outbound message " << i;
  }
  // and the recording replays: inbound messages + intents -> identical outbound
  std::istringstream in(first);
  for (const std::string& problem : replay(golden::read_golden(in))) {
    ADD_FAILURE() << problem;
  }
}

} // namespace
} // namespace synthusd::fix::testing
