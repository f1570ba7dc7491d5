#include "lnd_exchange.hpp"

#include <openssl/crypto.h>
#include <poll.h>

#include <fstream>
#include <iterator>
#include <stdexcept>

namespace synthusd::liabilities::detail {
namespace {

using Io = common::TlsStream::Io;

constexpr std::size_t kMaxResponseHead = 64 * 1024;
constexpr std::size_t kMaxErrorBody = 512;
constexpr std::size_t kReadBuffer = 16 * 1024;

} // namespace

common::ReconnectBackoff checked_reconnect_backoff(const LndOptions& options) {
  if (options.port <= 0 || options.port > 65535) {
    throw std::invalid_argument("lnd: port must be 1 to 65535");
  }
  return common::ReconnectBackoff(
      std::chrono::milliseconds(options.reconnect_min_ms), std::chrono::milliseconds(options.reconnect_max_ms), 0.2,
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
}

std::string read_macaroon_hex(const std::string& file) {
  if (file.empty()) {
    return {};
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw std::runtime_error("lnd: cannot read the macaroon file " + file);
  }
  std::string macaroon{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (macaroon.empty()) {
    throw std::runtime_error("lnd: the macaroon file is empty: " + file);
  }
  std::string hex = hex_encode(macaroon);
  OPENSSL_cleanse(macaroon.data(), macaroon.size());
  return hex;
}

namespace {

// lnd always serves its REST port with its own self-signed tls.cert: with TLS
// that file is the pinned anchor, never the system store.
std::unique_ptr<common::TlsStream> make_transport(const LndOptions& options) {
  if (options.tls && options.tls_cert_file.empty()) {
    throw std::invalid_argument("lnd: tls_cert_file is required with TLS");
  }
  try {
    return std::make_unique<common::TlsStream>(options.host, options.port,
                                               common::TlsSettings{options.tls, options.tls_cert_file, {}});
  } catch (const std::runtime_error& error) {
    throw std::runtime_error(std::string("lnd: ") + error.what());
  }
}

} // namespace

LndExchange::LndExchange(const LndOptions& options, const std::string& macaroon_hex)
    : options_(options), macaroon_hex_(macaroon_hex), transport_(make_transport(options)) {}

LndExchange::~LndExchange() { OPENSSL_cleanse(out_.data(), out_.size()); }

void LndExchange::close() noexcept {
  transport_->close();
  phase_ = Phase::idle;
  want_write_ = false;
  more_ = false;
  OPENSSL_cleanse(out_.data(), out_.size());
  out_.clear();
  head_.clear();
  response_ = HttpResponseHead{};
  error_body_.clear();
}

LndExchange::Status LndExchange::fail(std::string why) {
  dropped_ = dropped_ || transport_->tcp_connected();
  close();
  error_ = std::move(why);
  return Status::failed;
}

LndExchange::Status LndExchange::start(const std::string& target) {
  close();
  error_.clear();
  target_ = target;
  if (transport_->connect() == Io::failed) {
    return fail(transport_->error());
  }
  phase_ = Phase::connecting;
  want_write_ = true;
  return Status::working;
}

short LndExchange::poll_events() const noexcept {
  if (phase_ == Phase::idle) {
    return 0;
  }
  short events = want_write_ ? POLLOUT : POLLIN;
  if (phase_ >= Phase::reading_head) {
    events |= POLLIN;
  }
  return events;
}

LndExchange::Status LndExchange::advance(short revents, std::string& body, bool read) {
  more_ = false;
  if (phase_ == Phase::connecting) {
    const bool was_connected = transport_->tcp_connected();
    const Io step = transport_->establish(revents);
    if (!was_connected && transport_->tcp_connected()) {
      ++connections_;
    }
    if (step == Io::failed) {
      return fail(transport_->error());
    }
    if (step != Io::done) {
      want_write_ = step == Io::wait_write;
      return Status::working;
    }
    const std::string host = options_.host.find(':') != std::string::npos ? "[" + options_.host + "]" : options_.host;
    OPENSSL_cleanse(out_.data(), out_.size());
    out_ = "GET " + target_ + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(options_.port) + "\r\n";
    if (!macaroon_hex_.empty()) {
      out_ += "Grpc-Metadata-macaroon: " + macaroon_hex_ + "\r\n";
    }
    out_ += "Accept: application/json\r\n\r\n";
    out_sent_ = 0;
    phase_ = Phase::sending;
  }
  if (phase_ == Phase::sending) {
    while (out_sent_ < out_.size()) {
      std::size_t sent = 0;
      switch (transport_->write(out_.data() + out_sent_, out_.size() - out_sent_, sent)) {
      case Io::done:
        out_sent_ += sent;
        continue;
      case Io::wait_read:
        want_write_ = false;
        return Status::working;
      case Io::wait_write:
        want_write_ = true;
        return Status::working;
      case Io::closed:
      case Io::failed:
        return fail("sending the request failed: " + transport_->error());
      }
    }
    OPENSSL_cleanse(out_.data(), out_.size()); // the macaroon need not stay in memory twice
    want_write_ = false;
    phase_ = Phase::reading_head;
    last_received_ = std::chrono::steady_clock::now();
  }
  if (!read) {
    return Status::working;
  }
  char buffer[kReadBuffer];
  std::size_t got = 0;
  switch (transport_->read(buffer, sizeof buffer, got)) {
  case Io::done:
    last_received_ = std::chrono::steady_clock::now();
    more_ = got == sizeof buffer;
    return on_bytes(std::string_view(buffer, got), body);
  case Io::wait_read:
    want_write_ = false;
    return Status::working;
  case Io::wait_write:
    want_write_ = true;
    return Status::working;
  case Io::closed:
    if (phase_ == Phase::body && response_.status != 200) {
      return fail("lnd answered " + response_.status_line + ": " + error_body_);
    }
    if (phase_ == Phase::body && decoder_.finish() == HttpBodyDecoder::Status::done) {
      dropped_ = true;
      close();
      return Status::done;
    }
    return fail(phase_ == Phase::body ? "lnd closed the connection inside the response" : "lnd closed the connection");
  case Io::failed:
    return fail("reading from lnd failed: " + transport_->error());
  }
  return Status::working;
}

LndExchange::Status LndExchange::on_bytes(std::string_view bytes, std::string& body) {
  std::string rest;
  if (phase_ == Phase::reading_head) {
    head_.append(bytes);
    const std::size_t end = head_.find("\r\n\r\n");
    if (end == std::string::npos) {
      return head_.size() > kMaxResponseHead ? fail("lnd's response head is too long") : Status::working;
    }
    std::string reason;
    if (!parse_http_response_head(std::string_view(head_).substr(0, end), response_, reason)) {
      return fail("bad HTTP response from lnd: " + reason);
    }
    decoder_.reset(response_);
    rest = head_.substr(end + 4);
    head_.clear();
    phase_ = Phase::body;
    bytes = rest;
  }
  if (response_.status != 200) {
    // LND says why in the body ({"error":...}, an expired macaroon...).
    const HttpBodyDecoder::Status status = decoder_.feed(bytes, error_body_);
    if (error_body_.size() > kMaxErrorBody) {
      error_body_.resize(kMaxErrorBody);
    }
    if (status == HttpBodyDecoder::Status::more) {
      return Status::working;
    }
    while (!error_body_.empty() && (error_body_.back() == '\n' || error_body_.back() == '\r')) {
      error_body_.pop_back();
    }
    return fail("lnd answered " + response_.status_line + ": " + error_body_);
  }
  switch (decoder_.feed(bytes, body)) {
  case HttpBodyDecoder::Status::more:
    return Status::working;
  case HttpBodyDecoder::Status::error:
    return fail("bad chunked framing from lnd: " + decoder_.error());
  case HttpBodyDecoder::Status::done:
    // Go keeps the connection open after the last chunk (keep-alive): only
    // the end of the body says the response is over. Never reused.
    dropped_ = dropped_ || transport_->tcp_connected();
    close();
    return Status::done;
  }
  return Status::working;
}

} // namespace synthusd::liabilities::detail
