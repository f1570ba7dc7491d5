#pragma once
// The only door into QuickFIX. Debian's QuickFIX 1.15.1 headers use dynamic
// exception specifications and std::auto_ptr, so they compile as C++14 but not
// as C++17 or C++20. Every translation unit that includes a QuickFIX header is
// therefore built as C++14 (target synthusd_fix_quickfix), and this header,
// which the C++20 code includes, must itself stay C++14 and expose no QuickFIX
// type: plain structs and std::string in, plain structs and std::string out.
//
// Thread safety: the functions share no state; call them from any thread.

#include <cstdint>
#include <string>

// Nested namespace definitions are C++17.
namespace synthusd { // NOLINT(modernize-concat-nested-namespaces)
namespace fix {

enum class OrderSide : std::uint8_t { buy, sell };     // tag 54: 1, 2
enum class OrderType : std::uint8_t { market, limit }; // tag 40: 1, 2
// tag 59: 0, 1, 3, 4
enum class TimeInForce : std::uint8_t { day, good_till_cancel, immediate_or_cancel, fill_or_kill };

// Prices cross the boundary as int64 scaled by 1e8, the same scale as
// synthusd::hedging::Price, so no double is ever involved.
constexpr std::int64_t kPriceScale = 100000000;

// The fields of a FIX 4.4 NewOrderSingle (35=D) that synthusd sends.
struct NewOrderSingle {
  std::string sender_comp_id;               // 49
  std::string target_comp_id;               // 56
  std::int64_t message_sequence_number = 0; // 34, >= 1
  // 52 SendingTime and 60 TransactTime, nanoseconds since the Unix epoch.
  // Time is an input rather than a clock read so that encoding is
  // deterministic; it goes on the wire at millisecond precision (FIX 4.4
  // UTCTimestamp), truncated.
  std::int64_t sending_time_nanoseconds = 0;
  std::string client_order_id; // 11
  std::string symbol;          // 55
  OrderSide side = OrderSide::buy;
  std::int64_t order_quantity = 0; // 38, whole contracts, > 0
  OrderType order_type = OrderType::market;
  std::int64_t price_e8 = 0; // 44, limit orders only; ignored for market orders
  TimeInForce time_in_force = TimeInForce::good_till_cancel;
};

bool operator==(const NewOrderSingle& a, const NewOrderSingle& b);
inline bool operator!=(const NewOrderSingle& a, const NewOrderSingle& b) { return !(a == b); }

// Builds the message with QuickFIX's FIX44::NewOrderSingle and returns the
// complete wire string, BodyLength (9) and CheckSum (10) included. The caller
// guarantees the preconditions noted on the fields; this does not validate.
std::string encode_new_order_single(const NewOrderSingle& order);

// ok == true: order holds the decoded fields and error is empty.
// ok == false: error says why, and order is unspecified.
struct ParsedNewOrderSingle {
  bool ok = false;
  NewOrderSingle order;
  std::string error;
};

// Parses a wire string with QuickFIX (FIX::Message, no data dictionary) and
// checks BodyLength and CheckSum, BeginString FIX.4.4 and MsgType D. No input
// makes it throw: QuickFIX exceptions and malformed values become an error
// (only std::bad_alloc can escape).
ParsedNewOrderSingle parse_new_order_single(const std::string& wire);

} // namespace fix
} // namespace synthusd
