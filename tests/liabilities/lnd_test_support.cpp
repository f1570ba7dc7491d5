#include "lnd_test_support.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace synthusd::liabilities::lnd_test {
namespace {

// The fake LND writes to sockets the client may have closed; a test process
// must survive that (the source itself never raises SIGPIPE).
const bool kSigpipeIgnored = [] {
  std::signal(SIGPIPE, SIG_IGN);
  return true;
}();

} // namespace

std::string payment_hash(unsigned seed) {
  std::string hash(32, '\0');
  for (std::size_t i = 0; i < hash.size(); ++i) {
    hash[i] = static_cast<char>((seed * 31 + i * 7 + 0xf0) & 0xff);
  }
  return hash;
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string hex(std::string_view bytes) {
  std::string out;
  for (const char c : bytes) {
    char pair[3];
    std::snprintf(pair, sizeof pair, "%02x", static_cast<unsigned char>(c));
    out += pair;
  }
  return out;
}

std::string lnd_id(const Invoice& invoice) {
  return "lnd:" + hex(payment_hash(invoice.hash_seed)) + ":" + std::to_string(invoice.settle_index);
}

std::string invoice_json(const Invoice& invoice) { return R"({"result":)" + invoice_object(invoice) + "}"; }

std::string invoice_object(const Invoice& invoice) {
  const bool settled = invoice.state == "SETTLED";
  const std::string msat = std::to_string(settled ? invoice.sats * 1000 + invoice.extra_msat : 0);
  const std::string sat = std::to_string(settled ? invoice.sats : 0);
  std::string json = R"({"memo":"deposit","r_preimage":")" + base64(payment_hash(invoice.hash_seed + 1000)) +
                     R"(","r_hash":")" + base64(payment_hash(invoice.hash_seed)) +
                     R"(","value":"1000","value_msat":"1000000","settled":)" + (settled ? "true" : "false") +
                     R"(,"creation_date":"1699999990","settle_date":")" +
                     std::to_string(settled ? invoice.settle_date : 0) +
                     R"(","payment_request":"lnbcrt10u1pjdeposit","description_hash":"","expiry":"86400",)"
                     R"("fallback_addr":"","cltv_expiry":"80","route_hints":[],"private":false,"add_index":")" +
                     std::to_string(invoice.add_index) + R"(","settle_index":")" +
                     std::to_string(settled ? invoice.settle_index : 0) + R"(","amt_paid":")" + msat + "\",";
  if (invoice.with_amt_paid_sat) {
    json += R"("amt_paid_sat":")" + sat + "\",";
  }
  json += R"("amt_paid_msat":")" + msat + R"(","state":")" + invoice.state + R"(","htlcs":[)";
  if (settled) {
    json += R"({"chan_id":"123456789","htlc_index":"0","amt_msat":")" + msat +
            R"(","accept_height":101,"accept_time":"1699999999","resolve_time":"1700000000",)"
            R"("expiry_height":181,"state":"SETTLED","custom_records":{},"mpp_total_amt_msat":")" +
            msat + R"(","amp":null})";
  }
  json += R"(],"features":{"9":{"name":"tlv-onion","is_required":false,"is_known":true}},"is_keysend":false,)"
          R"("payment_addr":")" +
          base64(payment_hash(invoice.hash_seed + 2000)) + R"(","is_amp":false,"amp_invoice_state":{}})";
  return json;
}

std::string amp_id(const AmpSet& set) {
  return "lnd-amp:" + hex(payment_hash(set.set_seed + 5000)) + ":" + std::to_string(set.settle_index);
}

std::string amp_invoice_json(unsigned hash_seed, const std::vector<AmpSet>& sets) {
  std::int64_t total_msat = 0;
  bool settled = false;
  std::string states;
  std::string htlcs;
  for (const AmpSet& set : sets) {
    const std::string set_id = payment_hash(set.set_seed + 5000);
    if (set.state == "SETTLED") {
      total_msat += set.msat;
      settled = true;
    }
    states += std::string(states.empty() ? "" : ",") + "\"" + hex(set_id) + R"(":{"state":")" + set.state +
              R"(","settle_index":")" + std::to_string(set.state == "SETTLED" ? set.settle_index : 0) +
              R"(","settle_time":")" + std::to_string(set.state == "SETTLED" ? set.settle_time : 0) +
              R"(","amt_paid_msat":")" + std::to_string(set.msat) + "\"}";
    htlcs += std::string(htlcs.empty() ? "" : ",") + R"({"chan_id":"123456789","htlc_index":"3","amt_msat":")" +
             std::to_string(set.msat) +
             R"(","accept_height":101,"accept_time":"1699999999","resolve_time":"0",)"
             R"("expiry_height":181,"state":")" +
             set.state + R"(","custom_records":{},"mpp_total_amt_msat":")" + std::to_string(set.msat) +
             R"(","amp":{"root_share":")" + base64(payment_hash(set.set_seed + 6000)) + R"(","set_id":")" +
             base64(set_id) + R"(","child_index":0,"hash":")" + base64(payment_hash(set.set_seed + 7000)) +
             R"(","preimage":""}})";
  }
  // lnd leaves an AMP invoice's own settle_index and settle_date at 0 and
  // sums the sets into amt_paid (invoicesrpc.CreateRPCInvoice).
  return R"({"result":{"memo":"","r_preimage":"","r_hash":")" + base64(payment_hash(hash_seed)) +
         R"(","value":"0","value_msat":"0","settled":)" + (settled ? "true" : "false") +
         R"(,"creation_date":"1699999990","settle_date":"0","payment_request":"lnbcrt1pjamp","description_hash":"",)"
         R"("expiry":"86400","fallback_addr":"","cltv_expiry":"80","route_hints":[],"private":false,)"
         R"("add_index":"30","settle_index":"0","amt_paid":")" +
         std::to_string(total_msat) + R"(","amt_paid_sat":")" + std::to_string(total_msat / 1000) +
         R"(","amt_paid_msat":")" + std::to_string(total_msat) + R"(","state":")" + (settled ? "SETTLED" : "OPEN") +
         R"(","htlcs":[)" + htlcs + R"(],"features":{},"is_keysend":false,"payment_addr":")" +
         base64(payment_hash(hash_seed + 2000)) + R"(","is_amp":true,"amp_invoice_state":{)" + states + "}}}";
}

std::string invoice_page_json(const std::vector<Invoice>& invoices) {
  std::string json = R"({"invoices":[)";
  for (std::size_t i = 0; i < invoices.size(); ++i) {
    json += (i > 0 ? "," : "") + invoice_object(invoices[i]);
  }
  // lnd answers an empty page with both offsets "0"
  const std::string first = invoices.empty() ? "0" : std::to_string(invoices.front().add_index);
  const std::string last = invoices.empty() ? "0" : std::to_string(invoices.back().add_index);
  return json + R"(],"last_index_offset":")" + last + R"(","first_index_offset":")" + first + "\"}";
}

std::string payment_id(const Payment& payment) {
  return "lnd-pay:" + hex(payment_hash(payment.hash_seed + 9000)) + ":" + std::to_string(payment.payment_index);
}

std::string payment_page_json(const std::vector<Payment>& payments) {
  std::string json = R"({"payments":[)";
  for (std::size_t i = 0; i < payments.size(); ++i) {
    const Payment& p = payments[i];
    const bool succeeded = p.status == "SUCCEEDED";
    // payment_hash and payment_preimage are hex strings in lnrpc.Payment
    // (not bytes); amounts int64 strings; status and failure_reason by name.
    json += std::string(i > 0 ? "," : "") + R"({"payment_hash":")" + hex(payment_hash(p.hash_seed + 9000)) +
            R"(","value":")" + std::to_string(p.value_msat / 1000) + R"(","creation_date":")" +
            std::to_string(p.creation_time_ns / 1'000'000'000) + R"(","fee":")" + std::to_string(p.fee_msat / 1000) +
            R"(","payment_preimage":")" + (succeeded ? hex(payment_hash(p.hash_seed + 9500)) : std::string(64, '0')) +
            R"(","value_sat":")" + std::to_string(p.value_msat / 1000) + R"(","value_msat":")" +
            std::to_string(p.value_msat) + R"(","payment_request":"lnbcrt10u1pjpay","status":")" + p.status +
            R"(","fee_sat":")" + std::to_string(p.fee_msat / 1000) + R"(","fee_msat":")" + std::to_string(p.fee_msat) +
            R"(","creation_time_ns":")" + std::to_string(p.creation_time_ns) + R"(","htlcs":[],"payment_index":")" +
            std::to_string(p.payment_index) + R"(","failure_reason":")" +
            (p.status == "FAILED" ? "FAILURE_REASON_NO_ROUTE" : "FAILURE_REASON_NONE") +
            R"(","first_hop_custom_records":{}})";
  }
  const std::string first = payments.empty() ? "0" : std::to_string(payments.front().payment_index);
  const std::string last = payments.empty() ? "0" : std::to_string(payments.back().payment_index);
  return json + R"(],"first_index_offset":")" + first + R"(","last_index_offset":")" + last +
         R"(","total_num_payments":"0"})";
}

std::string replace(std::string text, std::string_view from, std::string_view to) {
  const std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? text : text.replace(at, from.size(), to);
}

std::uint64_t FakeLnd::Session::settle_index() const {
  const std::size_t at = request.find("settle_index=");
  return at == std::string::npos ? 0 : std::stoull(request.substr(at + 13));
}

void FakeLnd::Session::raw(std::string_view bytes) {
  while (!bytes.empty()) {
    const long n = ssl_ != nullptr ? SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()))
                                   : ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      return; // the client went away
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

void FakeLnd::Session::stream_head() {
  head_sent_ = true;
  raw("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
}

void FakeLnd::Session::message(std::string_view json) {
  char size[32];
  const std::string line = std::string(json) + "\n";
  std::snprintf(size, sizeof size, "%zx\r\n", line.size());
  // grpc-gateway's first Write carries the head and the first message together.
  const std::string head =
      head_sent_ ? "" : "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  head_sent_ = true;
  raw(head + size + line + "\r\n");
}

void FakeLnd::Session::answer(std::string_view json) {
  raw("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(json.size()) +
      "\r\n\r\n" + std::string(json));
}

void FakeLnd::Session::chunk(std::string_view payload) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", payload.size());
  raw(std::string(size) + std::string(payload) + "\r\n");
}

void FakeLnd::Session::hold() {
  while (!stop_->load()) {
    pollfd descriptor{fd_, POLLIN, 0};
    if (::poll(&descriptor, 1, 10) > 0) {
      char byte;
      if ((ssl_ != nullptr ? SSL_read(ssl_, &byte, 1) : ::recv(fd_, &byte, 1, 0)) <= 0) {
        return;
      }
    }
  }
}

FakeLnd::FakeLnd(std::vector<Script> scripts, SSL_CTX* tls) : scripts_(std::move(scripts)), tls_(tls) {
  listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  EXPECT_EQ(::listen(listener_, 8), 0);
  socklen_t length = sizeof address;
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { serve(); });
}

FakeLnd::~FakeLnd() {
  stop_ = true;
  thread_.join();
  ::close(listener_);
}

std::vector<std::string> FakeLnd::requests() const {
  const std::lock_guard lock(mutex_);
  return requests_;
}

void FakeLnd::serve() {
  std::size_t next = 0;
  while (!stop_) {
    pollfd descriptor{listener_, POLLIN, 0};
    if (::poll(&descriptor, 1, 10) <= 0) {
      continue;
    }
    Session session;
    session.fd_ = ::accept(listener_, nullptr, nullptr);
    session.stop_ = &stop_;
    const timeval two_seconds{2, 0};
    ::setsockopt(session.fd_, SOL_SOCKET, SO_RCVTIMEO, &two_seconds, sizeof two_seconds);
    if (tls_ != nullptr) {
      session.ssl_ = SSL_new(tls_);
      SSL_set_fd(session.ssl_, session.fd_);
      if (SSL_accept(session.ssl_) != 1) {
        ++handshake_failures_;
        SSL_free(session.ssl_);
        ::close(session.fd_);
        continue;
      }
    }
    char buffer[4096];
    while (session.request.find("\r\n\r\n") == std::string::npos) {
      const long n = session.ssl_ != nullptr ? SSL_read(session.ssl_, buffer, sizeof buffer)
                                             : ::recv(session.fd_, buffer, sizeof buffer, 0);
      if (n <= 0) {
        break;
      }
      session.request.append(buffer, static_cast<std::size_t>(n));
    }
    {
      const std::lock_guard lock(mutex_);
      requests_.push_back(session.request);
    }
    if (next < scripts_.size()) {
      scripts_[next++](session);
    } else {
      session.hold();
    }
    if (session.ssl_ != nullptr) {
      SSL_free(session.ssl_);
    }
    ::close(session.fd_);
  }
}

FakeLnd::Script serve_ledger(std::vector<Invoice> ledger, bool overlap, bool hold) {
  return [ledger = std::move(ledger), overlap, hold](FakeLnd::Session& session) {
    // No head before the first message, as lnd's gateway: with nothing to
    // replay, the client sees a connection that says nothing.
    const std::uint64_t from = session.settle_index();
    for (const Invoice& invoice : ledger) {
      if (invoice.settle_index > from || (overlap && invoice.settle_index == from)) {
        session.message(invoice_json(invoice));
      }
    }
    if (hold) {
      session.hold();
    }
  };
}

TemporaryDirectory::TemporaryDirectory() {
  static int counter = 0;
  path_ = std::filesystem::temp_directory_path() /
          ("synthusd_lnd_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

TemporaryDirectory::~TemporaryDirectory() { std::filesystem::remove_all(path_); }

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

LndOptions plain_options(int port) {
  LndOptions options;
  options.port = port;
  options.tls = false;
  options.reconnect_min_ms = 5;
  options.reconnect_max_ms = 20;
  options.connect_timeout_ms = 2000;
  return options;
}

bool drive(LndInvoiceSource& source, const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    (void)source.poll_once(5);
  }
  return true;
}

} // namespace synthusd::liabilities::lnd_test
