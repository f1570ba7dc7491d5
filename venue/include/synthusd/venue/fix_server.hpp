#pragma once
// The venue simulator's FIX acceptor: QuickFIX's SocketAcceptor behind a
// plain C++14 interface. Like quickfix_boundary.hpp, this header is included
// by C++20 code and compiled into a C++14 target, so it shows no QuickFIX
// type: messages cross as flat lists of (tag, text) fields.
//
// Two applications sit behind the acceptor:
//   - venue mode: every supported application message (D, F, G, q, AN, BB)
//     is handed, as an InboundMessage, to a FixServerHandler; any other
//     application message type is answered by QuickFIX with a
//     BusinessMessageReject (380=3). Replies go out through send().
//   - acceptance mode: the behaviour of QuickFIX's own acceptance-test
//     application (src/at_application.h): NewOrderSingle, SecurityDefinition
//     and Email are echoed back, a PossResend order whose ClOrdID was already
//     seen in this logon is dropped, anything else is an unsupported type.
//
// Threads: QuickFIX runs one socket thread for every session. Handler
// callbacks run on it, with QuickFIX's session lock held, so a handler must
// not block on anything that could itself wait for send(). send() may be
// called from any thread.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

// Nested namespace definitions are C++17.
namespace synthusd { // NOLINT(modernize-concat-nested-namespaces)
namespace venue {

struct FixServerConfig {
  std::uint16_t port = 0; // 0: the operating system picks a free port (see FixServer::port())
  std::string begin_string = "FIX.4.4";
  std::string sender_comp_id = "DERIBITSERVER";
  std::vector<std::string> target_comp_ids = {"SYNTHUSD"}; // one session per client
  bool reset_on_logon = true;
  // Empty: MemoryStore. Otherwise a FileStore in this directory, so sequence
  // numbers and resendable messages survive a restart.
  std::string file_store_path;
  // Empty: no QuickFIX log. Otherwise a FileLog (messages and events) here.
  std::string log_path;
  // Empty: no data dictionary (UseDataDictionary=N); the venue then checks
  // the fields it needs itself. Otherwise the QuickFIX XML spec to validate
  // every inbound message against (for example FIX44.xml).
  std::string data_dictionary;
  // With a dictionary: whether tags >= 5000 (Deribit's 9001, 100010, ...)
  // are rejected when the dictionary does not define them.
  bool validate_user_defined_fields = false;
  // Deribit-style logon check (fix.md section 5): when non-empty, a Logon
  // must carry RawData(96) and Password(554) = base64(sha256(RawData +
  // secret)); otherwise it is rejected with a Logout.
  std::string logon_secret;
  bool acceptance = false; // the QuickFIX acceptance-test application instead of the venue
  // fix.dialect = "deribit": replies in Deribit's shapes (fix_messages.hpp,
  // "Deribit replies") rather than textbook FIX 4.4.
  bool deribit_replies = false;
};

struct Field {
  int tag = 0;
  std::string value;
};

// A repeating group: count_tag=N, then N entries, each starting with
// `order[0]` (the delimiter) and listing fields in `order`'s sequence.
struct FieldGroup {
  int count_tag = 0;
  std::vector<int> order;
  std::vector<std::vector<Field>> entries;
};

struct OutboundMessage {
  std::string msg_type; // tag 35
  std::vector<Field> fields;
  std::vector<FieldGroup> groups;
};

struct InboundMessage {
  std::string client;   // the client's SenderCompID (our TargetCompID): the account
  std::string msg_type; // tag 35
  std::int64_t message_sequence_number = 0;
  bool possible_resend = false; // 97=Y
  std::vector<Field> fields;    // body fields in wire order (groups flattened)
};

class FixServerHandler {
public:
  virtual ~FixServerHandler() = default;
  virtual void on_logon(const std::string& client) = 0;
  virtual void on_logout(const std::string& client) = 0;
  virtual void on_message(InboundMessage message) = 0;
};

class FixServer {
public:
  // handler may be null in acceptance mode; in venue mode it must outlive
  // the server.
  FixServer(FixServerConfig config, FixServerHandler* handler);
  ~FixServer(); // stops the acceptor
  FixServer(const FixServer&) = delete;
  FixServer& operator=(const FixServer&) = delete;

  // Binds, listens and starts QuickFIX's socket thread. Throws
  // std::runtime_error with QuickFIX's explanation (bad dictionary, port in
  // use, ...).
  void start();
  // The port actually listened on (the configured one, or the one the
  // operating system chose for port 0). Valid after start().
  std::uint16_t port() const;
  void stop();

  // Sends to the client's session. false if there is no such session or it
  // is not logged on (the message is dropped).
  bool send(const std::string& client, const OutboundMessage& message);

  // Whether the client's latest Logon carried ReportFillsAsExecReports
  // (9015)=Y: Deribit then sends one report per fill instead of a fills group.
  bool fills_as_reports(const std::string& client) const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace venue
} // namespace synthusd
