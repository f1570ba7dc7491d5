#pragma once
// Fixtures for the LND source tests: invoice messages in the exact shape
// lnd's REST gateway writes, a fake LND on a loopback socket (plain or TLS)
// that runs a script per connection, a sink whose durability the test
// controls, and self-signed certificates (support/tls_test_certificate.hpp).

#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "liability_test_sinks.hpp"
#include "support/tls_test_certificate.hpp"
#include "synthusd/liabilities/lnd_source.hpp"

namespace synthusd::liabilities::lnd_test {

// 32 bytes derived from `seed`, and their standard base64 and hex.
[[nodiscard]] std::string payment_hash(unsigned seed);
[[nodiscard]] std::string base64(std::string_view bytes);
[[nodiscard]] std::string hex(std::string_view bytes);

struct Invoice {
  std::string state = "SETTLED";
  unsigned hash_seed = 1;
  std::uint64_t settle_index = 1;
  std::int64_t sats = 1000;
  std::int64_t settle_date = 1'700'000'000;
  bool with_amt_paid_sat = true;
  std::int64_t extra_msat = 0; // sub-satoshi part of the amount paid
  std::uint64_t add_index = 12;
};

// One HTLC set of an AMP invoice (lnrpc.AMPInvoiceState).
struct AmpSet {
  unsigned set_seed = 1;
  std::string state = "SETTLED";
  std::uint64_t settle_index = 1;
  std::int64_t msat = 1'000'000;
  std::int64_t settle_time = 1'700'000'000;
};

// An outgoing payment (lnrpc.Payment) as ListPayments lists it.
struct Payment {
  unsigned hash_seed = 1;
  std::uint64_t payment_index = 1;
  std::string status = "SUCCEEDED"; // IN_FLIGHT | SUCCEEDED | FAILED | INITIATED
  std::int64_t value_msat = 1'000'000;
  std::int64_t fee_msat = 0;
  std::int64_t creation_time_ns = 1'700'000'000'000'000'000;
};
// "lnd-pay:<payment_hash hex>:<payment_index>"
[[nodiscard]] std::string payment_id(const Payment& payment);
// ListPaymentsResponse with every field lnd writes (EmitUnpopulated).
[[nodiscard]] std::string payment_page_json(const std::vector<Payment>& payments);

// The id the source must give the invoice: "lnd:<r_hash hex>:<settle_index>".
[[nodiscard]] std::string lnd_id(const Invoice& invoice);
// {"result":Invoice} as lnd writes it (UseProtoNames, EmitUnpopulated):
// every field, 64-bit integers as strings, bytes in base64, enums by name.
[[nodiscard]] std::string invoice_json(const Invoice& invoice);
// The Invoice object alone, as ListInvoices lists it.
[[nodiscard]] std::string invoice_object(const Invoice& invoice);
// An AMP invoice as lnd's invoicesrpc.CreateRPCInvoice fills it: SETTLED
// when a set settled, the invoice's own settle_index 0, amt_paid_* the sum
// of every set, one amp_invoice_state entry per set (keyed by set id hex).
[[nodiscard]] std::string amp_invoice_json(unsigned hash_seed, const std::vector<AmpSet>& sets);
// "lnd-amp:<set id hex>:<settle_index>"
[[nodiscard]] std::string amp_id(const AmpSet& set);
// ListInvoiceResponse: {"invoices":[...],"last_index_offset":"N","first_index_offset":"M"}
[[nodiscard]] std::string invoice_page_json(const std::vector<Invoice>& invoices);
// `text` with the first `from` replaced (a test failure when absent).
[[nodiscard]] std::string replace(std::string text, std::string_view from, std::string_view to);

// Accepts one connection at a time on 127.0.0.1 (TLS when given a server
// context), records the request head and runs the next script on it; later
// connections get an answer-less hold. Returning from a script closes.
class FakeLnd {
public:
  class Session {
  public:
    std::string request;
    [[nodiscard]] std::uint64_t settle_index() const;
    void raw(std::string_view bytes);
    void stream_head(); // 200, chunked
    void chunk(std::string_view payload);
    // As grpc-gateway writes a stream: the response head goes out only
    // with the first message (never before), each message one JSON + "\n".
    void message(std::string_view json);
    // A whole 200 response with a Content-Length body (a unary call).
    void answer(std::string_view json);
    // Until the client closes or the server stops.
    void hold();

  private:
    friend class FakeLnd;
    int fd_ = -1;
    bool head_sent_ = false;
    SSL* ssl_ = nullptr;
    const std::atomic<bool>* stop_ = nullptr;
  };
  using Script = std::function<void(Session&)>;

  explicit FakeLnd(std::vector<Script> scripts, SSL_CTX* tls = nullptr);
  ~FakeLnd();
  FakeLnd(const FakeLnd&) = delete;
  FakeLnd& operator=(const FakeLnd&) = delete;
  [[nodiscard]] int port() const noexcept { return port_; }
  [[nodiscard]] std::vector<std::string> requests() const;
  [[nodiscard]] int handshake_failures() const noexcept { return handshake_failures_; }

private:
  void serve();

  std::vector<Script> scripts_;
  SSL_CTX* tls_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> handshake_failures_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

// Serves like lnd does for ?settle_index=N: every invoice settled after N,
// then (with `hold`) stays open for live events. With `overlap`, invoice N
// itself comes again first, as a replay racing a live event can.
[[nodiscard]] FakeLnd::Script serve_ledger(std::vector<Invoice> ledger, bool overlap, bool hold);

// The sink whose durability the test controls; it converts at $50,000 and
// is durable at once unless the test turns auto_durable off.
class TestSink final : public ManualSink {
public:
  TestSink() {
    auto_durable = true;
    price = hedging::Price::from_dollars(50'000);
  }
};

class TemporaryDirectory {
public:
  TemporaryDirectory();
  ~TemporaryDirectory();
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }
  [[nodiscard]] std::string path() const { return path_.string(); }

private:
  std::filesystem::path path_;
};

[[nodiscard]] std::string read_text(const std::string& path);

// Plain HTTP to the fake, with reconnect delays short enough for tests.
[[nodiscard]] LndOptions plain_options(int port);

// Polls `source` until `done` (true) or `limit` passed (false).
bool drive(LndInvoiceSource& source, const std::function<bool()>& done,
           std::chrono::milliseconds limit = std::chrono::seconds(5));

using test_support::Certificate;
using test_support::server_context;

// A self-signed certificate for CN=localhost and `subject_alt_name`, in `directory`.
[[nodiscard]] inline Certificate make_certificate(const TemporaryDirectory& directory, const std::string& name,
                                                  const std::string& subject_alt_name = "IP:127.0.0.1") {
  return test_support::make_certificate(directory.path(), name, subject_alt_name);
}

} // namespace synthusd::liabilities::lnd_test
