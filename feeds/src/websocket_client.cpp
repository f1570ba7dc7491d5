#include "synthusd/feeds/websocket_client.hpp"

#include <netdb.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <random>
#include <stdexcept>

namespace synthusd::feeds {
namespace {

constexpr std::size_t kTlsChunk = 16 * 1024; // one TLS record's plaintext
constexpr std::size_t kResponseReserve = 4096;
constexpr std::size_t kFrameReserve = 4096;

constexpr std::uint16_t kCloseNormal = 1000;
constexpr std::uint16_t kCloseProtocolError = 1002;
constexpr std::uint16_t kCloseTooBig = 1009;
constexpr std::uint16_t kCloseNoStatus = 1005;

[[nodiscard]] std::span<const std::uint8_t> bytes_of(std::string_view text) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

[[nodiscard]] std::uint64_t seed_or_random(std::uint64_t seed) {
  if (seed != 0) {
    return seed;
  }
  std::random_device device;
  return (std::uint64_t{device()} << 32) ^ device();
}

[[nodiscard]] std::string errno_text(std::string_view what, int error) {
  std::string text(what);
  text += ": ";
  text += std::strerror(error);
  return text;
}

} // namespace

std::string_view to_string(WebSocketState state) noexcept {
  switch (state) {
  case WebSocketState::idle:
    return "idle";
  case WebSocketState::connecting:
    return "connecting";
  case WebSocketState::tls_handshake:
    return "tls_handshake";
  case WebSocketState::upgrading:
    return "upgrading";
  case WebSocketState::open:
    return "open";
  case WebSocketState::closing:
    return "closing";
  case WebSocketState::disconnecting:
    return "disconnecting";
  case WebSocketState::backoff:
    return "backoff";
  case WebSocketState::stopped:
    return "stopped";
  }
  return "unknown";
}

WebSocketClient::WebSocketClient(EventLoop& loop, WebSocketHandler& handler, WebSocketClientOptions options)
    : loop_(loop), handler_(handler), options_(std::move(options)), id_(loop.add_connection(*this)),
      decoder_(options_.max_message_size), random_(seed_or_random(options_.seed)),
      backoff_(options_.backoff_initial, options_.backoff_max, options_.backoff_jitter, random_.next()) {
  try {
    if (options_.tls) {
      tls_ = std::make_unique<TlsClient>(options_.tls_options);
      plaintext_.resize(kTlsChunk + websocket::kPadding);
      ciphertext_.resize(kTlsChunk + websocket::kPadding);
    }
  } catch (...) {
    loop_.remove_connection(id_);
    throw;
  }
  response_.reserve(kResponseReserve);
  frame_.reserve(kFrameReserve);
}

WebSocketClient::~WebSocketClient() { loop_.remove_connection(id_); }

void WebSocketClient::start() {
  if (state_ != WebSocketState::idle && state_ != WebSocketState::stopped) {
    return;
  }
  stopping_ = false;
  backoff_.reset();
  connect_now();
}

void WebSocketClient::stop() {
  stopping_ = true;
  switch (state_) {
  case WebSocketState::idle:
  case WebSocketState::stopped:
  case WebSocketState::backoff:
    state_ = WebSocketState::stopped;
    rearm_timer();
    break;
  case WebSocketState::connecting:
  case WebSocketState::tls_handshake:
  case WebSocketState::upgrading:
    drop("stopped");
    break;
  case WebSocketState::open:
    if (send_close(kCloseNormal)) {
      state_ = WebSocketState::closing;
      deadline_ = Clock::now() + options_.close_timeout;
      rearm_timer();
    }
    break;
  case WebSocketState::closing:
  case WebSocketState::disconnecting:
    break;
  }
}

bool WebSocketClient::resolve() {
  addrinfo hints{};
  hints.ai_family = options_.family == AddressFamily::ipv4   ? AF_INET
                    : options_.family == AddressFamily::ipv6 ? AF_INET6
                                                             : AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  const std::string port = std::to_string(options_.port);
  addrinfo* results = nullptr;
  const int status = ::getaddrinfo(options_.host.c_str(), port.c_str(), &hints, &results);
  if (status != 0) {
    last_error_ = "resolving " + options_.host + ": " + ::gai_strerror(status);
    return false;
  }
  addresses_.clear();
  address_lengths_.clear();
  for (const addrinfo* entry = results; entry != nullptr; entry = entry->ai_next) {
    if (entry->ai_addrlen <= sizeof(sockaddr_storage)) {
      sockaddr_storage address{};
      std::memcpy(&address, entry->ai_addr, entry->ai_addrlen);
      addresses_.push_back(address);
      address_lengths_.push_back(entry->ai_addrlen);
    }
  }
  ::freeaddrinfo(results);
  address_index_ = 0;
  if (addresses_.empty()) {
    last_error_ = "resolving " + options_.host + ": no address";
    return false;
  }
  return true;
}

void WebSocketClient::connect_now() {
  ++counters_.connect_attempts;
  session_was_open_ = false;
  reconnect_at_once_ = false;
  if (addresses_.empty() && !resolve()) {
    ++counters_.connect_failures;
    schedule_reconnect();
    return;
  }
  decoder_.reset();
  response_.clear();
  const auto& address = addresses_[address_index_];
  const int result = loop_.connect(id_, reinterpret_cast<const sockaddr*>(&address), address_lengths_[address_index_]);
  if (result < 0) {
    last_error_ = errno_text("socket", -result);
    ++counters_.connect_failures;
    schedule_reconnect();
    return;
  }
  state_ = WebSocketState::connecting;
  deadline_ = Clock::now() + options_.connect_timeout;
  rearm_timer();
}

void WebSocketClient::on_connected(int result) {
  if (state_ != WebSocketState::connecting) {
    return;
  }
  if (result < 0) {
    // The loop is closing the socket; on_closed() schedules the retry, on the
    // next address, after re-resolving once all of them have failed.
    ++counters_.connect_failures;
    last_error_ = errno_text("connect to " + options_.host + ':' + std::to_string(options_.port), -result);
    state_ = WebSocketState::disconnecting;
    if (++address_index_ >= addresses_.size()) {
      addresses_.clear();
      address_index_ = 0;
    }
    return;
  }
  loop_.start_receive(id_);
  if (tls_) {
    state_ = WebSocketState::tls_handshake;
    if (!tls_->begin(options_.host)) {
      drop(tls_->error());
      return;
    }
    static_cast<void>(flush_tls()); // the ClientHello; a failure has dropped the connection
  } else {
    send_upgrade();
  }
}

void WebSocketClient::send_upgrade() {
  std::array<std::uint8_t, 16> nonce{};
  for (std::size_t i = 0; i < nonce.size(); i += 8) {
    const std::uint64_t bits = random_.next();
    std::memcpy(nonce.data() + i, &bits, 8);
  }
  key_ = websocket::make_key(nonce);
  const std::string request = websocket::upgrade_request(options_.host, options_.port, options_.path, key_);
  state_ = WebSocketState::upgrading;
  static_cast<void>(transmit(bytes_of(request)));
}

void WebSocketClient::on_received(const std::uint8_t* data, std::size_t size, std::size_t /*capacity*/) {
  last_data_ = loop_.now();
  counters_.bytes_received += size;
  if (state_ == WebSocketState::disconnecting) [[unlikely]] {
    return; // waiting for the server to close (Teardown::await_close)
  }
  if (!tls_) {
    consume_plaintext(data, size);
    return;
  }
  const TlsProgress progress = tls_->receive({data, size});
  if (progress == TlsProgress::failed) {
    drop(tls_->error());
    return;
  }
  if (state_ == WebSocketState::tls_handshake) {
    if (!flush_tls() || progress != TlsProgress::established) {
      return;
    }
    send_upgrade();
  }
  // Plaintext goes through plaintext_ (sized for one record plus padding);
  // the codec copies messages into its own buffer anyway.
  while (state_ == WebSocketState::upgrading || state_ == WebSocketState::open || state_ == WebSocketState::closing) {
    const TlsRead read = tls_->read({plaintext_.data(), kTlsChunk});
    if (read.status == TlsReadStatus::data) {
      consume_plaintext(plaintext_.data(), read.size);
    } else if (read.status == TlsReadStatus::need_more) {
      break;
    } else {
      drop(read.status == TlsReadStatus::closed ? std::string_view("TLS close_notify from the server") : tls_->error());
      return;
    }
  }
  // Reading may have produced records of its own (TLS 1.3 key updates).
  if (state_ != WebSocketState::disconnecting && tls_->pending_output() != 0) {
    static_cast<void>(flush_tls());
  }
}

void WebSocketClient::consume_plaintext(const std::uint8_t* data, std::size_t size) {
  if (state_ == WebSocketState::upgrading) {
    consume_upgrade_response(data, size);
  } else if (state_ == WebSocketState::open || state_ == WebSocketState::closing) {
    decode_frames({data, size});
  }
}

void WebSocketClient::consume_upgrade_response(const std::uint8_t* data, std::size_t size) {
  response_.append(reinterpret_cast<const char*>(data), size);
  const websocket::HandshakeResult result = websocket::check_upgrade_response(response_, key_);
  if (result.status == websocket::HandshakeStatus::incomplete) {
    return;
  }
  if (result.status == websocket::HandshakeStatus::rejected) {
    drop("upgrade rejected: " + result.reason);
    return;
  }
  open_session();
  // Frames that came in the same read as the 101 response.
  if (state_ == WebSocketState::open && result.consumed < response_.size()) {
    decode_frames({reinterpret_cast<const std::uint8_t*>(response_.data()) + result.consumed,
                   response_.size() - result.consumed});
  }
}

void WebSocketClient::open_session() {
  state_ = WebSocketState::open;
  session_was_open_ = true;
  backoff_.reset();
  ++counters_.connects;
  if (counters_.connects > 1) {
    ++counters_.reconnects;
  }
  last_data_ = Clock::now();
  next_keepalive_ = last_data_ + options_.keepalive_interval;
  rearm_timer();
  handler_.subscribe(*this);
}

void WebSocketClient::decode_frames(std::span<const std::uint8_t> input) {
  while (!input.empty() && (state_ == WebSocketState::open || state_ == WebSocketState::closing)) {
    std::size_t consumed = 0;
    const websocket::DecodeEvent event = decoder_.decode(input, consumed);
    input = input.subspan(consumed);
    switch (event) {
    case websocket::DecodeEvent::need_more:
      return;
    case websocket::DecodeEvent::message:
      ++counters_.messages;
      if (state_ == WebSocketState::open) [[likely]] {
        handler_.on_message(decoder_.message_data(), decoder_.message_size(), decoder_.message_capacity());
      }
      break;
    case websocket::DecodeEvent::ping:
      ++counters_.pings_answered;
      static_cast<void>(send_control(websocket::Opcode::pong, decoder_.control_payload()));
      break;
    case websocket::DecodeEvent::pong:
      break;
    case websocket::DecodeEvent::close:
      on_server_close();
      return;
    case websocket::DecodeEvent::protocol_error:
      ++counters_.protocol_errors;
      static_cast<void>(send_close(kCloseProtocolError));
      drop("protocol error: " + std::string(decoder_.error()), Teardown::await_close);
      return;
    case websocket::DecodeEvent::message_too_big:
      ++counters_.oversized_messages;
      static_cast<void>(send_close(kCloseTooBig));
      drop("message larger than " + std::to_string(options_.max_message_size) + " bytes", Teardown::await_close);
      return;
    }
  }
}

// Answering a server's close ends the closing handshake from our side; the
// server then closes TCP, but waiting for that gains nothing, so the socket
// is closed as soon as the answer is sent.
void WebSocketClient::on_server_close() {
  if (state_ == WebSocketState::open) {
    const std::uint16_t code = decoder_.close_code();
    static_cast<void>(send_close(code == kCloseNoStatus ? kCloseNormal : code));
  }
  if (tls_ && state_ != WebSocketState::disconnecting) {
    tls_->shutdown();
    static_cast<void>(flush_tls());
  }
  drop(stopping_ ? std::string("stopped")
                 : "server closed the connection (" + std::to_string(decoder_.close_code()) + ")",
       Teardown::after_sends);
}

bool WebSocketClient::send_text(std::string_view text) {
  if (state_ != WebSocketState::open) {
    return false;
  }
  frame_.clear();
  websocket::encode_frame(websocket::Opcode::text, bytes_of(text), static_cast<std::uint32_t>(random_.next()), frame_);
  return transmit(frame_);
}

bool WebSocketClient::send_control(websocket::Opcode opcode, std::span<const std::uint8_t> payload) {
  frame_.clear();
  websocket::encode_frame(opcode, payload, static_cast<std::uint32_t>(random_.next()), frame_);
  return transmit(frame_);
}

bool WebSocketClient::send_close(std::uint16_t code) {
  frame_.clear();
  // An empty literal rather than {}: the codec memcpy's the reason, and a
  // null pointer there is undefined behaviour even for zero bytes.
  websocket::encode_close(code, std::string_view(""), static_cast<std::uint32_t>(random_.next()), frame_);
  return transmit(frame_);
}

bool WebSocketClient::transmit(std::span<const std::uint8_t> bytes) {
  if (tls_) {
    if (!tls_->write(bytes)) {
      drop(tls_->error());
      return false;
    }
    return flush_tls();
  }
  if (!loop_.send(id_, bytes)) {
    drop("send queue full");
    return false;
  }
  return true;
}

bool WebSocketClient::flush_tls() {
  while (tls_->pending_output() != 0) {
    const std::size_t size = tls_->take_output({ciphertext_.data(), ciphertext_.size()});
    if (size == 0) {
      break;
    }
    if (!loop_.send(id_, {ciphertext_.data(), size})) {
      drop("send queue full");
      return false;
    }
  }
  return true;
}

void WebSocketClient::request_resubscribe() {
  if (state_ != WebSocketState::open) {
    return;
  }
  ++counters_.resubscribes;
  if (options_.resubscribe_mode == ResubscribeMode::resend) {
    handler_.subscribe(*this);
    return;
  }
  static_cast<void>(send_close(kCloseNormal));
  drop("resubscribe requested", Teardown::after_sends, true);
}

void WebSocketClient::on_receive_ended(int result) {
  if (state_ == WebSocketState::disconnecting) {
    loop_.close(id_); // the server closed after reading our close frame (Teardown::await_close)
    return;
  }
  drop(result == 0 ? std::string("the server closed the TCP connection") : errno_text("receive", -result));
}

void WebSocketClient::on_send_failed(int result) {
  if (state_ == WebSocketState::disconnecting) {
    loop_.close(id_);
    return;
  }
  drop(errno_text("send", -result));
}

// Ends the current attempt or session; on_closed() continues from there.
void WebSocketClient::drop(std::string_view reason, Teardown teardown, bool reconnect_at_once) {
  switch (state_) {
  case WebSocketState::idle:
  case WebSocketState::disconnecting:
  case WebSocketState::backoff:
  case WebSocketState::stopped:
    return;
  case WebSocketState::open:
  case WebSocketState::closing:
    ++counters_.disconnects;
    break;
  case WebSocketState::connecting:
  case WebSocketState::tls_handshake:
  case WebSocketState::upgrading:
    ++counters_.connect_failures;
    break;
  }
  last_error_.assign(reason);
  reconnect_at_once_ = reconnect_at_once;
  state_ = WebSocketState::disconnecting;
  if (teardown != Teardown::await_close) {
    loop_.close(id_,
                teardown == Teardown::after_sends ? EventLoop::CloseMode::after_sends : EventLoop::CloseMode::abort);
  }
  deadline_ = Clock::now() + options_.close_timeout;
  rearm_timer();
}

void WebSocketClient::on_closed() {
  if (tls_) {
    tls_->end();
  }
  if (session_was_open_) {
    session_was_open_ = false;
    handler_.on_disconnect(last_error_);
  }
  if (stopping_) {
    state_ = WebSocketState::stopped;
    rearm_timer();
    return;
  }
  schedule_reconnect();
}

void WebSocketClient::schedule_reconnect() {
  if (stopping_) {
    state_ = WebSocketState::stopped;
    rearm_timer();
    return;
  }
  const std::chrono::nanoseconds delay = reconnect_at_once_ ? std::chrono::nanoseconds(0) : backoff_.next();
  reconnect_at_once_ = false;
  state_ = WebSocketState::backoff;
  deadline_ = Clock::now() + delay;
  rearm_timer();
}

void WebSocketClient::on_timer() {
  timer_armed_ = false;
  const Clock::time_point now = Clock::now();
  switch (state_) {
  case WebSocketState::connecting:
  case WebSocketState::tls_handshake:
  case WebSocketState::upgrading:
    if (now >= deadline_) {
      drop("connect timeout after " + std::to_string(options_.connect_timeout.count()) + " ms");
      return;
    }
    break;
  case WebSocketState::open:
    if (options_.stale_timeout.count() > 0 && now - last_data_ >= options_.stale_timeout) {
      ++counters_.stale_drops;
      drop("stale: no data for " + std::to_string(options_.stale_timeout.count()) + " ms");
      return;
    }
    if (options_.keepalive_interval.count() > 0 && now >= next_keepalive_) {
      next_keepalive_ = now + options_.keepalive_interval;
      ++counters_.keepalives_sent;
      if (!send_text(options_.keepalive_text)) {
        return;
      }
    }
    break;
  case WebSocketState::closing:
  case WebSocketState::disconnecting:
    if (now >= deadline_) {
      // The closing handshake or the last sends did not finish: close now.
      if (state_ == WebSocketState::closing) {
        drop("stopped");
      }
      loop_.close(id_, EventLoop::CloseMode::abort);
      deadline_ = now + options_.close_timeout;
    }
    break;
  case WebSocketState::backoff:
    if (now >= deadline_) {
      connect_now();
      return;
    }
    break;
  case WebSocketState::idle:
  case WebSocketState::stopped:
    return;
  }
  rearm_timer();
}

// One timer per client. Its deadline is the earliest thing the current state
// waits for; while open that is computed from last_data_ lazily, so a
// message never touches the timer.
void WebSocketClient::rearm_timer() {
  Clock::time_point deadline{};
  switch (state_) {
  case WebSocketState::idle:
  case WebSocketState::stopped:
    if (timer_armed_) {
      loop_.cancel_timer(id_);
      timer_armed_ = false;
    }
    return;
  case WebSocketState::open: {
    deadline = Clock::time_point::max();
    if (options_.stale_timeout.count() > 0) {
      deadline = last_data_ + options_.stale_timeout;
    }
    if (options_.keepalive_interval.count() > 0) {
      deadline = std::min(deadline, next_keepalive_);
    }
    if (deadline == Clock::time_point::max()) {
      if (timer_armed_) {
        loop_.cancel_timer(id_);
        timer_armed_ = false;
      }
      return;
    }
    break;
  }
  case WebSocketState::connecting:
  case WebSocketState::tls_handshake:
  case WebSocketState::upgrading:
  case WebSocketState::closing:
  case WebSocketState::disconnecting:
  case WebSocketState::backoff:
    deadline = deadline_;
    break;
  }
  if (timer_armed_ && armed_deadline_ == deadline) {
    return;
  }
  loop_.arm_timer(id_, deadline);
  armed_deadline_ = deadline;
  timer_armed_ = true;
}

} // namespace synthusd::feeds
