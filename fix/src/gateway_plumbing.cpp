// Compiled as C++14 (target synthusd_fix_quickfix): includes QuickFIX. The
// QuickFIX log and message store adapters GatewaySession::Impl starts its
// SocketInitiator with (gateway_session_internal.hpp).

#include "gateway_session_internal.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace synthusd { // NOLINT(modernize-concat-nested-namespaces)
namespace fix {

namespace {

// ---- QuickFIX plumbing -------------------------------------------------------

// Hands QuickFIX's log calls to AsyncMessageLog: a copy and a push, no I/O.
class QueueLog : public FIX::Log {
public:
  explicit QueueLog(AsyncMessageLog& log) : log_(log) {}
  void clear() override {}
  void backup() override {}
  void onIncoming(const std::string& text) override { log_.push(LogDirection::incoming, text); }
  void onOutgoing(const std::string& text) override { log_.push(LogDirection::outgoing, text); }
  void onEvent(const std::string& text) override { log_.push(LogDirection::event, text); }

private:
  AsyncMessageLog& log_;
};

// QuickFIX's overrides must repeat its dynamic exception specifications,
// which C++11 deprecated (and C++17 removed: hence C++14 here).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated"

// Recomputes BodyLength(9) and CheckSum(10) of a message whose body was
// edited, so QuickFIX can parse it again.
std::string reframe(const std::string& message) {
  const std::size_t length_field = message.find("\x01"
                                                "9=");
  const std::size_t body_begin =
      length_field == std::string::npos ? std::string::npos : message.find('\x01', length_field + 1);
  const std::size_t trailer = message.rfind("\x01"
                                            "10=");
  if (body_begin == std::string::npos || trailer == std::string::npos || trailer < body_begin) {
    return message;
  }
  std::string out = message.substr(0, length_field + 3) + std::to_string(trailer - body_begin) +
                    message.substr(body_begin, trailer + 1 - body_begin);
  unsigned sum = 0;
  for (unsigned char c : out) {
    sum += c;
  }
  char checksum[8];
  std::snprintf(checksum, sizeof checksum, "%03u", sum % 256);
  out += "10=";
  out += checksum;
  out += '\x01';
  return out;
}

// The store persists every sent message, Logon included. This wrapper masks
// Password and RawData in a Logon before it reaches the store, so a FileStore
// on disk never holds them. The masked Logon is re-framed (BodyLength,
// CheckSum): answering a ResendRequest, QuickFIX parses every stored message
// with length and checksum validation, then gap-fills admin messages, so an
// invalid stored Logon would abort the resend.
class MaskingStore : public FIX::MessageStore {
public:
  explicit MaskingStore(FIX::MessageStore* inner) : inner_(inner) {}
  FIX::MessageStore* inner() const { return inner_; }

  bool set(int sequence, const std::string& message) throw(FIX::IOException) override {
    if (message.find("\x01"
                     "35=A\x01") != std::string::npos) {
      std::string masked = message;
      mask_secret_fields(masked);
      return inner_->set(sequence, reframe(masked));
    }
    return inner_->set(sequence, message);
  }
  void get(int begin, int end, std::vector<std::string>& out) const throw(FIX::IOException) override {
    inner_->get(begin, end, out);
  }
  int getNextSenderMsgSeqNum() const throw(FIX::IOException) override { return inner_->getNextSenderMsgSeqNum(); }
  int getNextTargetMsgSeqNum() const throw(FIX::IOException) override { return inner_->getNextTargetMsgSeqNum(); }
  void setNextSenderMsgSeqNum(int value) throw(FIX::IOException) override { inner_->setNextSenderMsgSeqNum(value); }
  void setNextTargetMsgSeqNum(int value) throw(FIX::IOException) override { inner_->setNextTargetMsgSeqNum(value); }
  void incrNextSenderMsgSeqNum() throw(FIX::IOException) override { inner_->incrNextSenderMsgSeqNum(); }
  void incrNextTargetMsgSeqNum() throw(FIX::IOException) override { inner_->incrNextTargetMsgSeqNum(); }
  FIX::UtcTimeStamp getCreationTime() const throw(FIX::IOException) override { return inner_->getCreationTime(); }
  void reset() throw(FIX::IOException) override { inner_->reset(); }
  void refresh() throw(FIX::IOException) override { inner_->refresh(); }

private:
  FIX::MessageStore* inner_;
};

#pragma GCC diagnostic pop

} // namespace

namespace gateway_detail {

FIX::Log* QueueLogFactory::create() { return new QueueLog(log_); }
FIX::Log* QueueLogFactory::create(const FIX::SessionID&) { return new QueueLog(log_); }
void QueueLogFactory::destroy(FIX::Log* log) { delete log; }

FIX::MessageStore* MaskingStoreFactory::create(const FIX::SessionID& session) {
  return new MaskingStore(inner_->create(session));
}
void MaskingStoreFactory::destroy(FIX::MessageStore* store) {
  auto* masking = static_cast<MaskingStore*>(store);
  inner_->destroy(masking->inner());
  delete masking;
}

} // namespace gateway_detail

} // namespace fix
} // namespace synthusd
