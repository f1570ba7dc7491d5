#pragma once
// A small FIX 4.4 venue for the gateway's tests: a QuickFIX SocketAcceptor
// (MemoryStore, loopback) that acks, fills, partially fills, rejects,
// cancels and replaces orders, answers RequestForPositions from its own
// fills and CollateralInquiry with a fixed CollateralReport, and lets a
// test script it (send any message, drop the connection, jump or reset
// sequence numbers) and inspect what it received.
//
// C++14 and free of QuickFIX types, so the C++20 tests include it; the
// QuickFIX side is gateway_test_venue.cpp (target
// synthusd_fix_gateway_test_venue, built as C++14).
//
// Quantities: the venue receives OrderQty in wire units and reports in
// wire units / units_per_contract (Deribit: USD in, contracts out).
// Thread safety: every method may be called from any thread.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace synthusd { // NOLINT(modernize-concat-nested-namespaces)
namespace fix {
namespace testing {

// A TCP port on 127.0.0.1 that was free a moment ago.
int find_free_port();

// "a|b|" with '|' as SOH -> wire text, and back.
std::string soh(const std::string& text);
std::string pipes(const std::string& text);

// The value of tag in a wire or '|' message, "" if absent (first occurrence).
std::string field(const std::string& message, int tag);

struct TestVenueConfig {
  std::string sender_comp_id = "VENUE";
  std::string target_comp_id = "SYNTHUSD";
  int port = 0;                        // 0: find_free_port()
  bool automatic = true;               // act as a venue; false: only what the test sends (replay)
  bool deribit = false;                // Deribit ids (its own id in 11, ours in 41) and logon check
  std::string client_id;               // expected Username(553), if not empty
  std::string secret;                  // Deribit: the client secret the Password must prove; generic: Password itself
  std::int64_t units_per_contract = 1; // Deribit: 10 (OrderQty in USD, reports in contracts)
  std::int64_t market_price_e8 = 4325150000000; // 43251.5
  std::int64_t maximum_quantity = 1000000;      // wire units; above it a NewOrderSingle is rejected
  bool mass_cancel_lists_orders = false;        // answer q with r listing the orders (Deribit), no ERs
  bool reset_on_logon = false;
  // A CollateralInquiry (BB) is answered with a CollateralReport (BA):
  // 900 = 901 = 899 = this many BTC, 9110 = 9111 = 9112 = 0. Empty: BB is
  // left unanswered.
  std::string collateral_btc = "1";
  // Empty: MemoryStore. Otherwise a FileStore here. QuickFIX 1.15.1's
  // MemoryStore::get returns nothing when the first requested sequence
  // number is missing, so a venue that skips numbers needs a FileStore to
  // answer a ResendRequest with gap fill plus resend.
  std::string store_directory;
  // A RequestForPositions without the fields FIX 4.4 requires (Account 1,
  // AccountType 581, Parties 453, ClearingBusinessDate 715, TransactTime 60)
  // is refused with a session Reject(3) (generic venues; Deribit documents
  // its own AN shape): 371 = the first missing tag,
  // 373 = 1 (required tag missing), as a validating acceptor does.
  bool validate_position_request = true;
  bool answer_position_requests = true; // false: AN is left unanswered (a counterparty without positions)
  // One PositionReport per held position, each with TotalNumPosReports(727)
  // = how many, the Instrument at body level, as FIX 4.4 lays the message out
  // (instead of one report whose NoPositions entries carry the symbols).
  bool split_position_reports = false;
  // With split_position_reports: the first report is sent twice, 721 and all
  // (a venue repeating itself), before the others.
  bool repeat_first_position_report = false;

  // ---- deribit = true: the shapes of docs.deribit.com/fix-api (see
  // gateway_test_venue_deribit.cpp, which cites the page of each) ----
  // User Response(BF) to a User Request(BE, 924=4): these BTC floats as
  // 100001 equity, 100002 balance, 100003 initial, 100004 maintenance margin.
  std::string equity_btc = "1.000000004";
  std::string balance_btc = "1";
  std::string initial_margin_btc = "0.0123456785";
  std::string maintenance_margin_btc = "0.00617283925";
  // Rate limit, as Deribit counts it (docs.deribit.com/articles/rate-limits):
  // every application request (D, F, G, q, and AN, BE, AF) costs credit_cost from a pool of
  // credit_pool credits (0: unlimited), refilled at credit_refill_per_second
  // (0 in tests: no timing). A request that finds too few credits ends the
  // session: Logout "too_many_requests (10028)".
  std::int64_t credit_pool = 0;
  std::int64_t credit_cost = 500;
  std::int64_t credit_refill_per_second = 0;
  // Report fills in a group (1362) even after 9015=Y: the shape Deribit
  // uses for a client that does not ask for one report per fill.
  bool fills_group_always = false;
};

enum class OrderMode : std::uint8_t {
  automatic,       // market: fill; IOC limit: fill half then cancel the rest; FOK: fill; other limits rest
  acknowledge,     // every order: New, then rest
  silent,          // record the order, answer nothing (an order in flight)
  reject,          // ExecutionReport Rejected
  business_reject, // BusinessMessageReject(j) naming the ClOrdID
  lose,            // the order never reaches the venue's book: no answer, and a status request finds nothing
  limits_only,     // market orders rejected (OrdRejReason 11, like QuickFIX's example executor); limits as automatic
};

struct VenueOrder {
  std::string client_order_id; // as first sent
  std::string current_id;      // the id the venue now knows it by (generic: after replaces)
  std::string order_id;        // the venue's
  std::string symbol;
  char side = '1';
  std::int64_t quantity = 0; // report units
  std::int64_t filled = 0;   // report units
  std::int64_t price_e8 = 0;
  bool open = false;
};

class TestVenue {
public:
  explicit TestVenue(TestVenueConfig config = TestVenueConfig());
  ~TestVenue();
  TestVenue(const TestVenue&) = delete;
  TestVenue& operator=(const TestVenue&) = delete;

  void start();
  void stop();
  int port() const;
  bool logged_on() const;
  bool wait_logged_on(int timeout_ms) const;
  bool wait_logged_out(int timeout_ms) const;

  void set_order_mode(OrderMode mode);

  // Venue-side events on an order known by the ClOrdID it was sent with.
  // quantity in report units. False if the venue has no such open order.
  bool fill(const std::string& client_order_id, std::int64_t quantity, std::int64_t price_e8);
  // One match across several price levels: (quantity in report units,
  // price_e8) per level. Deribit: one ExecutionReport per level after
  // 9015=Y at logon, else one report with a fills group (1362); AvgPx at
  // full precision (more than 8 decimals on an inverse instrument).
  bool fill_levels(const std::string& client_order_id,
                   const std::vector<std::pair<std::int64_t, std::int64_t>>& levels);
  bool cancel(const std::string& client_order_id);
  // Closes the order without telling anyone (a cancel will then be rejected).
  bool drop(const std::string& client_order_id);
  VenueOrder order(const std::string& client_order_id) const;
  std::size_t open_orders() const;
  // Net position the venue reports for symbol, in report units.
  void set_position(const std::string& symbol, std::int64_t position);

  // Sends a message built from "35=8|11=...|..." (header fields other than
  // 35 are replaced by the session's own). Groups are kept in order.
  bool send(const std::string& body);
  // Sends an ExecutionReport exactly like the last one sent (same ExecID).
  bool resend_last_execution_report();
  // SequenceReset-Reset to new_sequence, then continue from it.
  void reset_sequence(int new_sequence);
  // Skips `count` sequence numbers: the next message opens a gap (use a
  // FileStore, see store_directory).
  void skip_sequence_numbers(int count);
  // Drops the TCP connection.
  void disconnect();

  // Application messages received, as wire text, in order.
  std::vector<std::string> received() const;
  bool wait_for_received(std::size_t count, int timeout_ms) const;
  std::vector<std::string> received_logons() const;
  std::size_t resend_requests_received() const;
  std::size_t logons_received() const;
  std::size_t logouts_sent_for_rate_limit() const; // Deribit: sessions ended with error 10028
  std::vector<std::string> sent() const;           // application messages the venue sent, wire text

private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace testing
} // namespace fix
} // namespace synthusd
