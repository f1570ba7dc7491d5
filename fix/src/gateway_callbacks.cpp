// Compiled as C++14 (target synthusd_fix_quickfix): includes QuickFIX. The
// QuickFIX Application callbacks of GatewaySession::Impl
// (gateway_session_internal.hpp), run on QuickFIX's thread: they read each
// message into a fixed-size Inbound record and hand it to the owner thread
// (hand_over), decide what a resend may send again (toApp), and add the
// dialect's logon fields (toAdmin). Nothing here touches the order table.

#include "gateway_session_internal.hpp"

#include <quickfix/Exceptions.h>
#include <quickfix/Values.h>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <limits>
#include <mutex>
#include <string>
#include <vector>

namespace synthusd { // NOLINT(modernize-concat-nested-namespaces)
namespace fix {

namespace {

// PossDupFlag(43) or PossResend(97) = Y: the counterparty may have sent it before.
bool possible_duplicate(const FIX::Header& header) {
  return (header.isSetField(FIX::FIELD::PossDupFlag) && header.getField(FIX::FIELD::PossDupFlag) == "Y") ||
         (header.isSetField(FIX::FIELD::PossResend) && header.getField(FIX::FIELD::PossResend) == "Y");
}

} // namespace

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated"

void GatewaySession::Impl::onCreate(const FIX::SessionID&) {}

void GatewaySession::Impl::onLogon(const FIX::SessionID&) {
  logged_on_.store(true, std::memory_order_release);
  Inbound inbound;
  inbound.kind = InboundKind::logon;
  inbound.receive_time_ns = wall_clock_ns();
  hand_over(inbound);
}

void GatewaySession::Impl::onLogout(const FIX::SessionID&) {
  logged_on_.store(false, std::memory_order_release);
  Inbound inbound;
  inbound.kind = InboundKind::logout;
  inbound.receive_time_ns = wall_clock_ns();
  {
    std::lock_guard<std::mutex> lock(logout_text_mutex_);
    inbound.text.assign(logout_text_);
    logout_text_.clear();
  }
  hand_over(inbound);
}

void GatewaySession::Impl::toAdmin(FIX::Message& message, const FIX::SessionID&) {
  const std::string& type = message.getHeader().getField(FIX::FIELD::MsgType);
  if (type == FIX::MsgType_Logout) {
    // QuickFIX ends a session itself for a sequence number too low, a
    // rejected logon and the like, saying why only in this Logout's Text: keep
    // it for the logout alert, or a logon loop would be silent.
    if (message.isSetField(FIX::FIELD::Text)) {
      std::lock_guard<std::mutex> lock(logout_text_mutex_);
      if (logout_text_.empty()) {
        logout_text_ = "we sent Logout: " + message.getField(FIX::FIELD::Text);
      }
    }
    return;
  }
  if (type != FIX::MsgType_Logon) {
    return;
  }
  // Deribit wants a strictly increasing timestamp in RawData.
  std::int64_t now_ms = wall_clock_ns() / kNanosecondsPerMillisecond;
  if (now_ms <= last_logon_ms_) {
    now_ms = last_logon_ms_ + 1;
  }
  last_logon_ms_ = now_ms;
  try {
    const std::vector<TagValue> fields =
        logon_fields(config_.dialect, config_.credentials, now_ms, config_.cancel_on_disconnect);
    for (const TagValue& field : fields) {
      message.setField(field.tag, field.value);
    }
  } catch (const std::exception& error) {
    // toAdmin cannot refuse; the venue will reject the logon. Say why.
    Inbound inbound;
    inbound.kind = InboundKind::logout;
    inbound.receive_time_ns = wall_clock_ns();
    inbound.text.assign(std::string("cannot build logon: ") + error.what());
    hand_over(inbound);
  }
}

void GatewaySession::Impl::toApp(FIX::Message& message, const FIX::SessionID&) throw(FIX::DoNotSend) {
  // A NewOrderSingle going out again for a ResendRequest (QuickFIX marks
  // it PossDupFlag=Y; only QuickFIX's own thread re-sends) is never sent: a
  // venue that executes it trades a second time, minutes later, at whatever
  // the price is now. QuickFIX answers DoNotSend with a
  // SequenceReset-GapFill. Whether the venue has the order is then asked
  // (OrderStatusRequest, after the gap fill in sequence order) and the
  // position report settles the rest: never by sending the order again.
  // Everything else goes out again as QuickFIX wants: position, collateral
  // and status requests are queries, and a cancel, replace or mass cancel
  // names an order the venue either has (and acts on once, by ClOrdID) or
  // does not (and rejects); gap-filling them would leave a venue that
  // queued them while it asked for the resend without them.
  const FIX::Header& header = message.getHeader();
  if (!header.isSetField(FIX::FIELD::PossDupFlag) || header.getField(FIX::FIELD::PossDupFlag) != "Y" ||
      header.getField(FIX::FIELD::MsgType) != FIX::MsgType_NewOrderSingle) {
    return;
  }
  resends_suppressed_.fetch_add(1, std::memory_order_relaxed);
  Inbound inbound;
  inbound.kind = InboundKind::resend_suppressed;
  inbound.receive_time_ns = wall_clock_ns();
  inbound.reference.assign(header.getField(FIX::FIELD::MsgType));
  if (header.isSetField(FIX::FIELD::MsgSeqNum)) {
    inbound.reference_sequence_number = std::atoll(header.getField(FIX::FIELD::MsgSeqNum).c_str());
  }
  if (message.isSetField(FIX::FIELD::ClOrdID)) {
    inbound.client_order_id.assign(message.getField(FIX::FIELD::ClOrdID));
  }
  if (message.isSetField(FIX::FIELD::OrigClOrdID)) {
    inbound.original_client_order_id.assign(message.getField(FIX::FIELD::OrigClOrdID));
  }
  hand_over(inbound);
  throw FIX::DoNotSend();
}

void GatewaySession::Impl::fromAdmin(const FIX::Message& message,
                                     const FIX::SessionID&) throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
                                                                  FIX::IncorrectTagValue, FIX::RejectLogon) {
  const std::string& type = message.getHeader().getField(FIX::FIELD::MsgType);
  if (type == FIX::MsgType_Logout) {
    if (message.isSetField(FIX::FIELD::Text)) {
      std::lock_guard<std::mutex> lock(logout_text_mutex_);
      logout_text_ = "venue sent Logout: " + message.getField(FIX::FIELD::Text);
    }
  } else if (type == FIX::MsgType_Reject) {
    Inbound inbound;
    inbound.kind = InboundKind::session_reject;
    inbound.receive_time_ns = wall_clock_ns();
    read_fields(message, inbound);
    hand_over(inbound);
  } else if (type == FIX::MsgType_SequenceReset) {
    // The venue skips the messages up to NewSeqNo: a gap fill answering our
    // ResendRequest (usually over its heartbeats, but a venue may also
    // decline to resend reports) or a reset that jumps ahead. Reports in
    // the skipped range never come; the owner asks what they would have said.
    Inbound inbound;
    inbound.kind = InboundKind::sequence_reset;
    inbound.receive_time_ns = wall_clock_ns();
    const FIX::Header& header = message.getHeader();
    if (header.isSetField(FIX::FIELD::MsgSeqNum)) {
      inbound.reference_sequence_number = read_integer(header.getField(FIX::FIELD::MsgSeqNum));
    }
    if (message.isSetField(FIX::FIELD::NewSeqNo)) {
      inbound.reason = static_cast<int>(std::min<std::int64_t>(read_integer(message.getField(FIX::FIELD::NewSeqNo)),
                                                               std::numeric_limits<int>::max()));
    }
    inbound.exec_type =
        message.isSetField(FIX::FIELD::GapFillFlag) && message.getField(FIX::FIELD::GapFillFlag) == "Y" ? 'Y' : 'N';
    hand_over(inbound);
  }
}

void GatewaySession::Impl::fromApp(const FIX::Message& message,
                                   const FIX::SessionID&) throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
                                                                FIX::IncorrectTagValue, FIX::UnsupportedMessageType) {
  const std::int64_t now = wall_clock_ns();
  const FIX::Header& header = message.getHeader();
  const std::string& type = header.getField(FIX::FIELD::MsgType);
  Inbound inbound;
  inbound.receive_time_ns = now;
  if (type == FIX::MsgType_ExecutionReport) {
    inbound.kind = InboundKind::execution_report;
    read_fields(message, inbound);
    read_fills_group(message, inbound);
    inbound.possible_duplicate = possible_duplicate(header);
    if (inbound.possible_duplicate) {
      possible_duplicates_.fetch_add(1, std::memory_order_relaxed);
    }
    // Order-status reports (ExecType I) answer our own requests and carry
    // no new fill, so they are never dropped as duplicates.
    // Duplicates are keyed by our ClOrdID (11, or 41 where Deribit puts its
    // own id in 11), the venue's OrderID and the ExecID. Our ClOrdID is
    // unique per order for good; the venue's ids are not: a venue restarted
    // on the same ports numbers its OrderIDs and ExecIDs from 1 again, and
    // keying on them alone dropped the new session's first fill. A genuine
    // resend repeats every field, so it is still dropped. A venue that
    // reuses an ExecID on another order is booked and counted. ExecType,
    // OrdStatus and CumQty are part of the key too: Deribit documents its
    // SecondaryExecID (527, our ExecID there) only as "ID of the order
    // change", so two reports of one match could share it, and dropping the
    // second would lose its fill and the order's end. A resend repeats them;
    // a report seen twice books nothing twice anyway (fills come from CumQty).
    if (!inbound.exec_id.empty() && inbound.exec_type != FIX::ExecType_ORDER_STATUS) {
      const std::int64_t cumulative = inbound.cumulative_quantity.present ? inbound.cumulative_quantity.value : -1;
      const ExecIdDeduplicator::Field key[7] = {
          {inbound.client_order_id.data, inbound.client_order_id.size},
          {inbound.original_client_order_id.data, inbound.original_client_order_id.size},
          {inbound.venue_order_id.data, inbound.venue_order_id.size},
          {inbound.exec_id.data, inbound.exec_id.size},
          {&inbound.exec_type, 1},
          {&inbound.order_status, 1},
          {reinterpret_cast<const char*>(&cumulative), sizeof cumulative}};
      if (!dedupe_.insert_fields(key, 7)) {
        duplicates_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      if (!exec_ids_.insert(inbound.exec_id.data, inbound.exec_id.size)) {
        exec_ids_reused_.fetch_add(1, std::memory_order_relaxed);
        inbound.exec_id_reused = true;
      }
    }
    hand_over(inbound);
  } else if (type == FIX::MsgType_OrderCancelReject) {
    inbound.kind = InboundKind::cancel_reject;
    read_fields(message, inbound);
    hand_over(inbound);
  } else if (type == FIX::MsgType_BusinessMessageReject) {
    inbound.kind = InboundKind::business_reject;
    read_fields(message, inbound);
    hand_over(inbound);
  } else if (type == FIX::MsgType_PositionReport) {
    read_fields(message, inbound); // 710, 727, 728, 55 at body level
    inbound.possible_duplicate = possible_duplicate(header);
    const std::size_t entries = message.groupCount(kTagNoPositions);
    for (std::size_t i = 1; i <= entries; ++i) {
      Inbound entry = inbound;
      entry.kind = InboundKind::position_entry;
      read_fields(message.getGroupRef(static_cast<int>(i), kTagNoPositions), entry);
      hand_over(entry);
    }
    inbound.kind = InboundKind::position_report_end;
    hand_over(inbound);
  } else if (type == FIX::MsgType_RequestForPositionsAck) {
    inbound.kind = InboundKind::position_request_ack;
    read_fields(message, inbound);
    hand_over(inbound);
  } else if (type == FIX::MsgType_CollateralReport || type == FIX::MsgType_UserResponse ||
             type == FIX::MsgType_CollateralInquiryAck) {
    // Deribit's User Response(BF) carries what a CollateralReport does.
    inbound.kind =
        type == FIX::MsgType_CollateralInquiryAck ? InboundKind::collateral_ack : InboundKind::collateral_report;
    read_fields(message, inbound); // 58
    read_collateral_fields(message, inbound.collateral, inbound.reference, inbound.text);
    hand_over(inbound);
  } else if (type == FIX::MsgType_OrderMassCancelReport) {
    read_fields(message, inbound);
    const std::size_t entries = message.groupCount(kTagNoAffectedOrders);
    for (std::size_t i = 1; i <= entries; ++i) {
      Inbound entry;
      entry.kind = InboundKind::mass_cancel_affected;
      entry.receive_time_ns = now;
      read_fields(message.getGroupRef(static_cast<int>(i), kTagNoAffectedOrders), entry);
      hand_over(entry);
    }
    inbound.kind = InboundKind::mass_cancel_report;
    hand_over(inbound);
  } else {
    inbound.kind = InboundKind::unsupported;
    inbound.reference.assign(type);
    hand_over(inbound);
    throw FIX::UnsupportedMessageType(); // QuickFIX answers with a BusinessMessageReject
  }
}

#pragma GCC diagnostic pop

} // namespace fix
} // namespace synthusd
