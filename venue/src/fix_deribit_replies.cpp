// See fix_messages.hpp, "Deribit replies". The textbook messages are built
// first and then reshaped, so both modes share one encoder and cannot drift
// apart on the fields they agree on.

#include <algorithm>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include "synthusd/venue/decimal.hpp"
#include "synthusd/venue/fix_messages.hpp"

namespace synthusd::venue {
namespace {

constexpr int kAvgPx = 6;
constexpr int kClOrdId = 11;
constexpr int kExecId = 17;
constexpr int kLastPx = 31;
constexpr int kLastQty = 32;
constexpr int kOrderId = 37;
constexpr int kOrigClOrdId = 41;
constexpr int kRefSeqNum = 45;
constexpr int kText = 58;
constexpr int kExecType = 150;
constexpr int kRefMsgType = 372;
constexpr int kBusinessRejectReason = 380;
constexpr int kSecondaryExecId = 527;
constexpr int kMassStatusReqId = 584;
constexpr int kMassStatusReqType = 585;
constexpr int kNoPositions = 702;
constexpr int kPosReqResult = 728;
constexpr int kRawData = 96;
constexpr int kNoFills = 1362;
constexpr int kFillExecId = 1363;
constexpr int kFillPx = 1364;
constexpr int kFillQty = 1365;
constexpr int kMassStatusReqIdType = 9014; // Deribit: 1 = MassStatusReqID is our ClOrdID

std::string text_of(const std::vector<Field>& fields, int tag) {
  for (const Field& field : fields) {
    if (field.tag == tag) {
      return field.value;
    }
  }
  return std::string();
}

void erase(std::vector<Field>& fields, int tag) {
  std::erase_if(fields, [tag](const Field& field) { return field.tag == tag; });
}

void set(std::vector<Field>& fields, int tag, std::string value) {
  for (Field& field : fields) {
    if (field.tag == tag) {
      field.value = std::move(value);
      return;
    }
  }
  fields.push_back(Field{tag, std::move(value)});
}

OutboundMessage unsupported(const InboundMessage& message, const std::string& text) {
  OutboundMessage reject;
  reject.msg_type = "j";
  reject.fields = {{kRefSeqNum, std::to_string(message.message_sequence_number)},
                   {kRefMsgType, message.msg_type},
                   {kBusinessRejectReason, "3"}, // unsupported message type
                   {kText, text}};
  return reject;
}

// AvgPx as Deribit computes it for an inverse instrument: weighted by amount
// (USD contracts), i.e. the order's USD amount over its BTC amount,
// Q / sum(q_i / p_i), a harmonic mean that the plain mean of fill prices
// overstates on a multi-level fill. Printed with 12 decimals instead of the
// textbook 8, as Deribit prints more than 8 (the gateway reads them all and
// rounds half to even). Deribit's pages only say "average fill price of the
// order"; the USD-over-BTC form is what an inverse contract's amount means.
//
// An ExecutionEvent carries one fill (the matching engine emits one per
// level), so the BTC amount of earlier fills is kept here, per account and
// order, rather than in the engine's event shared with the textbook mode.
// The venue thread is the only caller in the simulator; the lock keeps tests
// that encode from several threads correct. A first fill (cumulative ==
// last) restarts an entry, so an id reused by a later simulator in the same
// process never inherits old fills; the table is bounded, oldest out first.
constexpr hedging::int128 kInverseScale = static_cast<hedging::int128>(1'000'000'000'000'000) * 1'000'000'000'000'000;
constexpr std::size_t kAveragedOrders = 4'096;

struct BitcoinAmount {
  std::int64_t cumulative = 0;   // contracts the sum covers
  hedging::int128 per_price = 0; // sum(q_i * 1e30 / price_i), price in 1e-8
};

class AmountWeightedAverages {
public:
  // The BTC amount after this event's fill; nullopt when the order's earlier
  // fills were not all seen (the caller then falls back to the plain mean).
  std::optional<BitcoinAmount> record(const ExecutionEvent& event) {
    const std::lock_guard<std::mutex> lock(mutex_);
    const Key key{event.account, event.order_id};
    auto found = amounts_.find(key);
    if (event.exec_type == ExecType::trade && event.last_quantity.value > 0 && event.last_price.raw > 0) {
      if (event.cumulative_quantity.value == event.last_quantity.value || found == amounts_.end()) {
        found = insert(key);
        found->second = BitcoinAmount{};
      }
      found->second.cumulative += event.last_quantity.value;
      found->second.per_price +=
          static_cast<hedging::int128>(event.last_quantity.value) * kInverseScale / event.last_price.raw;
    }
    if (found == amounts_.end() || found->second.cumulative != event.cumulative_quantity.value) {
      return std::nullopt;
    }
    return found->second;
  }

private:
  using Key = std::pair<std::string, OrderId>;
  std::map<Key, BitcoinAmount>::iterator insert(const Key& key) {
    auto [entry, inserted] = amounts_.try_emplace(key);
    if (inserted) {
      order_.push_back(key);
      if (order_.size() > kAveragedOrders) {
        amounts_.erase(order_.front());
        order_.pop_front();
      }
    }
    return entry;
  }
  std::mutex mutex_;
  std::map<Key, BitcoinAmount> amounts_;
  std::deque<Key> order_;
};

AmountWeightedAverages& averages() {
  static AmountWeightedAverages table;
  return table;
}

std::string average_price(const ExecutionEvent& event) {
  if (event.cumulative_quantity.value <= 0 || event.filled_notional <= 0) {
    return "0";
  }
  const std::optional<BitcoinAmount> amount = averages().record(event);
  if (!amount || amount->per_price <= 0) {
    return format_decimal(static_cast<std::int64_t>(event.filled_notional * 10'000 / event.cumulative_quantity.value),
                          12);
  }
  // AvgPx in 1e-12 = Q * 1e30 * 1e4 / per_price; Q * 1e30 fits in 128 bits
  // (Q <= 1e7 contracts), the * 1e4 is applied to quotient and remainder.
  const hedging::int128 numerator = static_cast<hedging::int128>(amount->cumulative) * kInverseScale;
  const hedging::int128 whole = numerator / amount->per_price;
  const hedging::int128 rest = numerator % amount->per_price;
  return format_decimal(static_cast<std::int64_t>(whole * 10'000 + rest * 10'000 / amount->per_price), 12);
}

void reshape_execution(const ExecutionEvent& event, OutboundMessage& message, bool fills_as_reports) {
  std::vector<Field>& fields = message.fields;
  // Deribit's own order id in 11, ours in 41; no ExecID(17), the order
  // change's id in SecondaryExecID(527), absent on status reports.
  if (event.order_id != 0) {
    set(fields, kClOrdId, std::to_string(event.order_id));
    set(fields, kOrigClOrdId, event.client_order_id);
  }
  erase(fields, kExecId);
  const bool status = event.exec_type == ExecType::new_order || event.exec_type == ExecType::order_status;
  if (status) {
    set(fields, kExecType, "I"); // Deribit acknowledges an order with an order status
  } else {
    set(fields, kSecondaryExecId, std::to_string(event.order_id) + "#" + std::to_string(event.execution_id));
  }
  set(fields, kAvgPx, average_price(event));
  if (event.exec_type != ExecType::trade || fills_as_reports) {
    return;
  }
  FieldGroup fills;
  fills.count_tag = kNoFills;
  fills.order = {kFillExecId, kFillPx, kFillQty};
  fills.entries.push_back({{kFillExecId, "F" + std::to_string(event.execution_id)},
                           {kFillPx, text_of(fields, kLastPx)},
                           {kFillQty, text_of(fields, kLastQty)}});
  erase(fields, kLastPx);
  erase(fields, kLastQty);
  message.groups.push_back(std::move(fills));
}

// Floating P/L of an inverse position in BTC: contracts * value * (1/entry -
// 1/mark), exact in 128 bits and truncated to satoshis.
std::string floating_pnl(const PositionEntry& event) {
  if (event.entry_price.raw <= 0 || event.mark_price.raw <= 0) {
    return "0";
  }
  // sats = contracts * cents * 1e14 * (mark - entry) / (entry * mark), prices in 1e-8.
  const hedging::int128 numerator = static_cast<hedging::int128>(event.position.value) * event.contract_value.value *
                                    100'000'000'000'000 * (event.mark_price.raw - event.entry_price.raw);
  const hedging::int128 denominator = static_cast<hedging::int128>(event.entry_price.raw) * event.mark_price.raw;
  return format_decimal(static_cast<std::int64_t>(numerator / denominator), 8);
}

void reshape_position(const PositionEvent& event, OutboundMessage& message) {
  if (!event.valid_request) {
    return;
  }
  // PosReqResult 0 with no entries: a valid request on a flat account.
  if (event.position.value == 0) {
    set(message.fields, kPosReqResult, "0");
    message.groups.clear();
    return;
  }
  for (FieldGroup& group : message.groups) {
    if (group.count_tag != kNoPositions) {
      continue;
    }
    group.order.push_back(kRawData);
    // The entries in encode_position's order: the event's own position, then
    // the account's other instruments; each carries its own P/L.
    for (std::size_t index = 0; index < group.entries.size(); ++index) {
      const PositionEntry position = index == 0 ? PositionEntry{event.symbol, event.position, event.entry_price,
                                                                event.mark_price, event.contract_value}
                                                : event.other_positions.at(index - 1);
      // "maintenance margin;initial margin;floating P/L": the simulator's
      // margins are account-wide (BF), so per position only the P/L is known.
      group.entries[index].push_back(Field{kRawData, "0;0;" + floating_pnl(position)});
    }
  }
}

} // namespace

Decoded decode_deribit(const InboundMessage& message, const EngineConfig& config) {
  if (message.msg_type == "H") {
    return Decoded{std::nullopt, unsupported(message, "unsupported message type")};
  }
  if (message.msg_type != "AF") {
    return decode(message, config);
  }
  const std::string request = text_of(message.fields, kMassStatusReqId);
  const std::string type = text_of(message.fields, kMassStatusReqType);
  const std::string id_type = text_of(message.fields, kMassStatusReqIdType);
  StatusRequest status;
  status.symbol = text_of(message.fields, 55);
  if (type == "1") {
    const std::optional<std::int64_t> id = parse_exact_decimal(request, 0);
    if (!id || *id <= 0) {
      return Decoded{std::nullopt, unsupported(message, "MassStatusReqID(584) must be an OrderID with 585=1")};
    }
    status.order_id = static_cast<OrderId>(*id);
  } else if (type == "7" && id_type == "1") {
    if (request.empty() || status.symbol.empty()) {
      return Decoded{std::nullopt, unsupported(message, "585=7 with 9014=1 needs MassStatusReqID(584) and Symbol(55)")};
    }
    status.client_order_id = request;
  } else if (type == "7") {
    status.all_open = true;
  } else {
    return Decoded{std::nullopt, unsupported(message, "MassStatusReqType(585) must be 1 or 7")};
  }
  return Decoded{Command{std::move(status)}, std::nullopt};
}

OutboundMessage encode_deribit(const Event& event, bool fills_as_reports) {
  OutboundMessage message = encode(event);
  if (const auto* execution = std::get_if<ExecutionEvent>(&event)) {
    reshape_execution(*execution, message, fills_as_reports);
  } else if (const auto* position = std::get_if<PositionEvent>(&event)) {
    reshape_position(*position, message);
  }
  return message;
}

} // namespace synthusd::venue
