#pragma once
// Golden FIX sessions: record what the gateway sent and received, with the
// inputs that made it do so, and check later that the same inputs still
// produce the same outbound application messages and upward events.
//
// A golden file (tests/data/fix/*.golden) is text, one entry per line:
//
//   # comment
//   config dialect=generic sender=SYNTHUSD target=VENUE venue=2 ...
//   intent order id=1 side=sell quantity=5 type=limit price=43000 tif=gtc
//   out 8=FIX.4.4|9=...|35=D|...|10=...|      an application message we sent
//   in 8=FIX.4.4|9=...|35=8|...|10=...|       an application message we received
//   event execution id=1 status=accepted last_quantity=0 last_price=0
//
// Admin messages (Logon, Heartbeat, ResendRequest...) are not recorded:
// they carry times, nonces and passwords, and the session layer is QuickFIX's
// and tested on its own. Replaying compares every field of each outbound
// message except BodyLength(9), CheckSum(10) and SendingTime(52):
// TransactTime(60) and ClearingBusinessDate(715) come from a stepping clock
// (clock_start + n * clock_step, one step per message built) used both when
// recording and when replaying, so they compare exactly.
//
// Recording: a GoldenRecorder is both the gateway's message log sink and its
// listener. Intents and events are written into the message log as notes
// (GatewaySession::annotate), so one queue orders them with the messages.
// Scripts (tests/data/fix/*.script) hold the intent lines plus "venue ..."
// lines that only the in-process test venue understands and "wait <ms>".
//
// C++20. Not hot-path code.

#include <atomic>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "synthusd/fix/gateway_log.hpp"
#include "synthusd/fix/order_gateway.hpp"

namespace synthusd::fix::golden {

// Everything a replay needs to rebuild the recording gateway.
struct GoldenConfig {
  Dialect dialect = Dialect::generic;
  std::string sender_comp_id = "SYNTHUSD";
  std::string target_comp_id = "VENUE";
  hedging::VenueId venue = 2;
  hedging::InstrumentId instrument = 7;
  std::string symbol = "BTC-PERPETUAL";
  std::int64_t order_quantity_multiplier = 1;
  std::int64_t report_quantity_multiplier = 1;
  std::string client_order_id_prefix = "G";
  bool mass_cancel = true;
  bool collateral = true; // GatewayConfig::collateral_inquiry_supported: a CollateralInquiry at logon
  std::int64_t clock_start = 1'704'067'200'000'000'000; // 2024-01-01T00:00:00Z
  std::int64_t clock_step = 1'000'000;                  // 1 ms per message built

  [[nodiscard]] std::string format() const; // "config key=value ..."
  // Parses the text after "config "; throws std::invalid_argument.
  static GoldenConfig parse(const std::string& text);
};

// A gateway configuration for replaying or recording: the golden settings,
// MemoryStore, a fresh ClOrdID file in work_directory, the stepping clock,
// no periodic position or collateral requests.
[[nodiscard]] GatewayConfig make_gateway_config(const GoldenConfig& golden, const std::string& host, int port,
                                                const std::string& work_directory);

// A deterministic clock: start, start + step, start + 2 step, ...
[[nodiscard]] std::function<std::int64_t()> stepping_clock(std::int64_t start, std::int64_t step);

// "intent <verb> key=value ...". Verbs: order (id side quantity type
// [price] [tif] [post_only] [reduce_only]), cancel (id), replace (id
// quantity price), cancel_all, positions.
struct IntentLine {
  std::string verb;
  std::map<std::string, std::string> arguments;
  static IntentLine parse(const std::string& text); // text after "intent "; throws std::invalid_argument
};

// Applies an intent through the kernel-facing gateway (setting the order
// policy from tif/post_only first).
SubmitResult apply_intent(OrderGateway& gateway, const IntentLine& intent, const GoldenConfig& golden);

// Stable one-line forms of what the gateway reports (no times).
[[nodiscard]] std::string format_event(const hedging::Event& event);
[[nodiscard]] std::string format_alert(const GatewayAlert& alert);
[[nodiscard]] std::string format_replaced(const ExecutionEvent& event);

// True for session-level message types (0 1 2 3 4 5 A).
[[nodiscard]] bool is_admin_message_type(const std::string& type);

// "" when the two messages (SOH or '|' separated) are equal apart from
// BodyLength, CheckSum and SendingTime; otherwise what differs.
[[nodiscard]] std::string compare_messages(const std::string& expected, const std::string& actual);

struct GoldenEntry {
  enum class Kind : std::uint8_t { intent, out, in, event };
  Kind kind = Kind::intent;
  std::string text; // after the keyword
  int line = 0;
};

struct GoldenSession {
  GoldenConfig config;
  std::vector<GoldenEntry> entries;
};

// Throws std::invalid_argument naming the line.
[[nodiscard]] GoldenSession read_golden(std::istream& in);

// The message log sink and listener that write a golden file.
class GoldenRecorder final : public MessageLogSink, public OrderGatewayListener {
public:
  // out receives the golden lines (from the message log's thread). forward,
  // if set, also receives every event and alert.
  GoldenRecorder(std::ostream& out, const GoldenConfig& config, OrderGatewayListener* forward = nullptr);

  // Call once the gateway exists: events and intents become notes in its log.
  void attach(GatewaySession& session) { session_ = &session; }
  void set_recording(bool recording) { recording_.store(recording); }
  void note(const std::string& line);

  // Lines written so far (to detect a quiet session).
  [[nodiscard]] std::uint64_t lines() const { return lines_.load(); }

  void write(const LogRecord& record) override;
  void flush() override;
  void on_event(const hedging::Event& event) override;
  void on_alert(const GatewayAlert& alert) override;
  void on_replaced(const ExecutionEvent& event) override;

private:
  std::ostream& out_;
  OrderGatewayListener* forward_;
  GatewaySession* session_ = nullptr;
  std::atomic<bool> recording_{true};
  std::atomic<std::uint64_t> lines_{0};
};

// Runs a script against a gateway that is logged on and recording: each
// "intent" line is noted and applied, each "venue" line is handed to
// `venue` (false = unknown command: throws), "wait <ms>" polls; after every
// line the gateway is polled until the recorder has been quiet for
// quiet_ms (at most 5 s). Throws std::invalid_argument on a bad line.
void run_script(OrderGateway& gateway, GoldenRecorder& recorder, const GoldenConfig& config, std::istream& script,
                const std::function<bool(const std::string&)>& venue, int quiet_ms = 150);

} // namespace synthusd::fix::golden
