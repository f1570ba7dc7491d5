#include "synthusd/liabilities/nats_source.hpp"

#include <nats/nats.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "synthusd/liabilities/wire_protocol.hpp"

namespace synthusd::liabilities {

namespace {

using Clock = std::chrono::steady_clock;

// The wallet protocol's line limit, so a payload the socket intake would
// refuse is refused here too.
constexpr std::size_t kMaxPayloadBytes = 4096;

struct MsgDeleter {
  void operator()(natsMsg* msg) const noexcept { natsMsg_Destroy(msg); }
};
using MsgPtr = std::unique_ptr<natsMsg, MsgDeleter>;

// Written on cnats's callback thread, read on the polling thread.
struct ConnectionEvents {
  std::atomic<std::uint64_t> disconnects{0};
  std::atomic<std::uint64_t> reconnects{0};
  std::mutex mutex;
  std::condition_variable closed_cv;
  bool closed = false;
};

void on_disconnected(natsConnection*, void* closure) {
  static_cast<ConnectionEvents*>(closure)->disconnects.fetch_add(1, std::memory_order_relaxed);
}

void on_reconnected(natsConnection*, void* closure) {
  static_cast<ConnectionEvents*>(closure)->reconnects.fetch_add(1, std::memory_order_relaxed);
}

// The last callback cnats delivers for a connection: once it ran, the
// closure may be freed.
void on_closed(natsConnection*, void* closure) {
  auto* events = static_cast<ConnectionEvents*>(closure);
  const std::lock_guard lock(events->mutex);
  events->closed = true;
  events->closed_cv.notify_all();
}

// cnats's status text plus its thread-local detail (the server's JetStream
// error description, a config mismatch...), with credentials cut out.
std::string nats_error(natsStatus status) {
  std::string text = natsStatus_GetText(status);
  const char* detail = nats_GetLastError(nullptr);
  if (detail != nullptr && *detail != '\0' && text != detail) {
    text += ": ";
    text += detail;
  }
  return redact_nats_url(text);
}

} // namespace

std::string redact_nats_url(std::string_view url) {
  std::string out;
  std::size_t position = 0;
  while (position < url.size()) {
    const std::size_t scheme = url.find("://", position);
    if (scheme == std::string_view::npos) {
      break;
    }
    const std::size_t authority = scheme + 3;
    // The userinfo ends at '@', before the host's end (a path, another url
    // of a list, a space or a quote in an error text).
    std::size_t end = authority;
    while (end < url.size() && url[end] != '@' && url[end] != '/' && url[end] != ',' && url[end] != ' ' &&
           url[end] != '\'' && url[end] != '"') {
      ++end;
    }
    out.append(url.substr(position, authority - position));
    if (end < url.size() && url[end] == '@') {
      out += "***@";
      position = end + 1;
    } else {
      position = authority;
    }
  }
  out.append(url.substr(std::min(position, url.size())));
  return out;
}

struct NatsLiabilitySource::State {
  // Taken by the sink, waiting for its ticket to be durable.
  struct Pending {
    MsgPtr msg;
    std::uint64_t ticket = 0;
    Clock::time_point touched; // last delivery or +WPI: when the server's ack wait restarted
  };
  // Parsed, refused by a full sink; admitted again, in order, next poll.
  struct Held {
    MsgPtr msg;
    LiabilityRequest request;
    std::uint64_t stream_sequence = 0;
    Clock::time_point touched;
  };

  State(NatsOptions o, LiabilityAdmission& a) : options(std::move(o)), admission(a) {}
  ~State();

  void connect();
  void bind_stream();
  void subscribe();
  void fetch(int wait_ms);
  void handle(MsgPtr msg, Clock::time_point now);
  // false: the sink is full and `held` kept the message
  bool admit(Held& held);
  // Terminated (+TERM: never redelivered), counted, and on_reject told why:
  // the publisher gets no answer over JetStream.
  void reject(Held& held, const std::string& reason);
  void retry_held();
  void release(std::uint64_t durable);
  void keep_alive(Clock::time_point now);
  void check_consumer(Clock::time_point now);
  [[noreturn]] void fail(const std::string& what, natsStatus status) const {
    throw std::runtime_error("nats source (" + redact_nats_url(options.url) + ", stream " + options.stream +
                             "): " + what + ": " + nats_error(status));
  }

  NatsOptions options;
  LiabilityAdmission& admission;
  ConnectionEvents events; // outlives the connection: its callbacks point here
  natsOptions* nats_options = nullptr;
  natsConnection* connection = nullptr;
  jsCtx* js = nullptr;
  natsSubscription* subscription = nullptr;
  std::vector<Pending> pending;
  std::deque<Held> held;
  NatsCounters counters;
  RejectionTally rejections; // taken by the engine's source loop for its rate-limited log
  Clock::time_point requests_expire{}; // when the server drops our last pull request
  Clock::time_point next_check{};      // of the consumer's existence and backlog
};

NatsLiabilitySource::State::~State() {
  // Everything not acked goes back to the server now rather than after the
  // ack wait, so the next consumer of the durable (this engine restarted or
  // the standby) sees it at once; deduplication absorbs what was in fact
  // journaled. The naks go out only after the UNSUB: until then the server
  // may hand a naked message to a pull request of ours whose Fetch already
  // timed out, and it would sit unseen for a whole ack wait (nats-server
  // drops waiting requests that have no interest left). Same connection, so
  // the server handles the UNSUB first. The replies are copied because a
  // message must not outlive its subscription (cnats does not retain it).
  std::vector<std::string> unacked;
  for (const auto& p : pending) {
    if (const char* reply = natsMsg_GetReply(p.msg.get()); reply != nullptr) {
      unacked.emplace_back(reply);
    }
  }
  for (const auto& h : held) {
    if (const char* reply = natsMsg_GetReply(h.msg.get()); reply != nullptr) {
      unacked.emplace_back(reply);
    }
  }
  pending.clear();
  held.clear();
  // nats-server before 2.10.14 loses a naked message until its ack wait
  // when it finds only dead pull requests while delivering it (nats-server
  // #5305): let our last request expire, and the server purge it, first.
  // Shutdown only, and only with something to nak: at most one fetch timeout.
  if (!unacked.empty()) {
    std::this_thread::sleep_until(requests_expire + std::chrono::milliseconds(50));
  }
  // Destroy, not Unsubscribe: natsSubscription_Unsubscribe would delete a
  // durable consumer this source created, and with it the server's record of
  // what was acked. Destroy still sends the UNSUB for the inbox.
  if (subscription != nullptr) {
    natsSubscription_Destroy(subscription);
  }
  if (connection != nullptr) {
    for (const auto& reply : unacked) {
      (void)natsConnection_PublishString(connection, reply.c_str(), "-NAK"); // JetStream's nak
    }
  }
  if (js != nullptr) {
    jsCtx_Destroy(js);
  }
  if (connection != nullptr) {
    natsConnection_Close(connection); // flushes the naks (bounded by cnats to 500 ms)
    std::unique_lock lock(events.mutex);
    // The closed callback runs on cnats's thread; `events` must outlive it.
    events.closed_cv.wait_for(lock, std::chrono::seconds(2), [&] { return events.closed; });
    lock.unlock();
    natsConnection_Destroy(connection);
  }
  if (nats_options != nullptr) {
    natsOptions_Destroy(nats_options);
  }
}

void NatsLiabilitySource::State::connect() {
  natsStatus status = natsOptions_Create(&nats_options);
  if (status == NATS_OK) {
    status = natsOptions_SetURL(nats_options, options.url.c_str());
  }
  if (status == NATS_OK) {
    status = natsOptions_SetName(nats_options, ("synthusd " + options.durable).c_str());
  }
  if (status == NATS_OK) {
    status = natsOptions_SetTimeout(nats_options, 2'000); // connect timeout, ms
  }
  if (status == NATS_OK) {
    // Forever: a liability source must come back by itself after a NATS
    // restart or failover; the disconnect counter is what operators watch.
    status = natsOptions_SetMaxReconnect(nats_options, -1);
  }
  if (status == NATS_OK) {
    status = natsOptions_SetReconnectWait(nats_options, std::max(options.reconnect_wait_ms, 1));
  }
  if (status == NATS_OK) {
    status = natsOptions_SetDisconnectedCB(nats_options, on_disconnected, &events);
  }
  if (status == NATS_OK) {
    status = natsOptions_SetReconnectedCB(nats_options, on_reconnected, &events);
  }
  if (status == NATS_OK) {
    status = natsOptions_SetClosedCB(nats_options, on_closed, &events);
  }
  if (status == NATS_OK && !options.credentials_file.empty()) {
    status = natsOptions_SetUserCredentialsFromFiles(nats_options, options.credentials_file.c_str(), nullptr);
  }
  if (status != NATS_OK) {
    fail("bad connection options", status);
  }
  status = natsConnection_Connect(&connection, nats_options);
  if (status != NATS_OK) {
    connection = nullptr;
    fail("cannot connect", status);
  }
  jsOptions js_options;
  jsOptions_Init(&js_options);
  status = natsConnection_JetStream(&js, connection, &js_options);
  if (status != NATS_OK) {
    js = nullptr;
    fail("no JetStream context", status);
  }
}

void NatsLiabilitySource::State::bind_stream() {
  jsErrCode error_code = static_cast<jsErrCode>(0);
  jsStreamInfo* info = nullptr;
  if (options.create_stream) {
    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    const char* subjects[] = {options.subject.c_str()};
    config.Name = options.stream.c_str();
    config.Subjects = subjects;
    config.SubjectsLen = 1;
    // On disk, kept by limits (not a work queue): the stream is also the
    // wallets' record of what they sent, and a work queue would refuse a
    // second consumer (an audit, a standby's check). Duplicates: the server's
    // default window (2 min) for Nats-Msg-Id; the engine's own dedupe is the
    // one that lasts.
    config.Storage = js_FileStorage;
    config.Retention = js_LimitsPolicy;
    const natsStatus status = js_AddStream(&info, js, &config, nullptr, &error_code);
    if (status == NATS_OK) {
      jsStreamInfo_Destroy(info);
      return;
    }
    // Already there with another configuration: the operator's, left as is.
    if (error_code != JSStreamNameExistErr) {
      fail("cannot create the stream", status);
    }
  }
  info = nullptr;
  const natsStatus status = js_GetStreamInfo(&info, js, options.stream.c_str(), nullptr, &error_code);
  if (status != NATS_OK) {
    fail(error_code == JSStreamNotFoundErr ? "the stream does not exist (create it, or set create_stream)"
                                           : "cannot look up the stream",
         status);
  }
  jsStreamInfo_Destroy(info);
}

void NatsLiabilitySource::State::subscribe() {
  jsSubOptions sub_options;
  jsSubOptions_Init(&sub_options);
  sub_options.Stream = options.stream.c_str();
  // Used if the durable does not exist yet; checked against it if it does.
  sub_options.Config.DeliverPolicy = js_DeliverAll; // every liability event ever published counts
  sub_options.Config.AckPolicy = js_AckExplicit;
  sub_options.Config.AckWait = static_cast<std::int64_t>(std::max(options.ack_wait_ms, 1)) * 1'000'000; // ns
  jsErrCode error_code = static_cast<jsErrCode>(0);
  const natsStatus status = js_PullSubscribe(&subscription, js, options.subject.c_str(), options.durable.c_str(),
                                             nullptr, &sub_options, &error_code);
  if (status != NATS_OK) {
    subscription = nullptr;
    fail("cannot bind durable consumer " + options.durable + " on " + options.subject, status);
  }
}

bool NatsLiabilitySource::State::admit(Held& h) {
  const Admission result = admission.admit(h.request);
  switch (result.outcome) {
  case Admission::Outcome::full:
    ++counters.backpressure;
    return false;
  case Admission::Outcome::unpriced:
    // No valid index price to convert sats: the engine's state, not the
    // payload. Back to the server for a later delivery; nothing is lost.
    ++counters.messages;
    ++counters.deferred;
    (void)natsMsg_NakWithDelay(h.msg.get(), std::max(options.retry_delay_ms, 0), nullptr);
    return true;
  case Admission::Outcome::rejected:
    // Outside a bound: it would be refused at every redelivery.
    reject(h, result.reason);
    return true;
  case Admission::Outcome::duplicate:
    ++counters.messages;
    ++counters.duplicates;
    pending.push_back({std::move(h.msg), result.ticket, h.touched});
    return true;
  case Admission::Outcome::accepted:
    ++counters.messages;
    ++counters.accepted;
    pending.push_back({std::move(h.msg), result.ticket, h.touched});
    return true;
  }
  return true;
}

void NatsLiabilitySource::State::reject(Held& h, const std::string& reason) {
  ++counters.messages;
  ++counters.rejected;
  rejections.record(reason, "event " + h.request.id + " at stream sequence " + std::to_string(h.stream_sequence));
  (void)natsMsg_Term(h.msg.get(), nullptr);
  if (options.on_reject) {
    options.on_reject(NatsRejection{h.stream_sequence, h.request.id, reason});
  }
}

void NatsLiabilitySource::State::handle(MsgPtr msg, Clock::time_point now) {
  Held h{std::move(msg), {}, 0, now};
  jsMsgMetaData* meta = nullptr;
  std::int64_t logged_ms = 0; // when the stream stored it: the live ts window's reference
  if (natsMsg_GetMetaData(&meta, h.msg.get()) == NATS_OK) {
    h.stream_sequence = meta->Sequence.Stream;
    logged_ms = meta->Timestamp / 1'000'000; // nanoseconds since the epoch
    if (meta->NumDelivered > 1) {
      ++counters.redelivered;
    }
    jsMsgMetaData_Destroy(meta);
  }
  const char* data = natsMsg_GetData(h.msg.get());
  std::string_view payload(data != nullptr ? data : "", static_cast<std::size_t>(natsMsg_GetDataLength(h.msg.get())));
  // Publishers used to JSON lines may keep the newline.
  while (!payload.empty() && (payload.back() == '\n' || payload.back() == '\r')) {
    payload.remove_suffix(1);
  }
  std::string reason = "payload longer than " + std::to_string(kMaxPayloadBytes) + " bytes";
  if (payload.size() > kMaxPayloadBytes || !parse_liability_line(payload, h.request, reason)) {
    reject(h, reason); // it will never parse
    return;
  }
  h.request.logged_ms = logged_ms;
  // Behind a held message: wait in line, so the order is kept.
  if (!held.empty() || !admit(h)) {
    held.push_back(std::move(h));
  }
}

void NatsLiabilitySource::State::retry_held() {
  while (!held.empty() && admit(held.front())) {
    held.pop_front();
  }
}

void NatsLiabilitySource::State::fetch(int wait_ms) {
  const auto start = Clock::now();
  requests_expire = start + std::chrono::milliseconds(wait_ms);
  natsMsgList list{};
  jsErrCode error_code = static_cast<jsErrCode>(0);
  const natsStatus status =
      natsSubscription_Fetch(&list, subscription, std::max(options.fetch_batch, 1), wait_ms, &error_code);
  if (status == NATS_OK) {
    const auto now = Clock::now();
    for (int i = 0; i < list.Count; ++i) {
      MsgPtr msg(list.Msgs[i]);
      list.Msgs[i] = nullptr; // ours now; natsMsgList_Destroy skips it
      handle(std::move(msg), now);
    }
    natsMsgList_Destroy(&list);
    return;
  }
  if (status == NATS_TIMEOUT) {
    return; // nothing new within wait_ms
  }
  // Closed, or the server refused the pull (a 409: too many waiting pulls,
  // batch too large...): cnats may return at once, so wait out the rest of
  // the timeout instead of spinning. (A deleted consumer is not seen here:
  // its pulls simply time out; check_consumer() notices.)
  ++counters.fetch_errors;
  const auto deadline = start + std::chrono::milliseconds(wait_ms);
  std::this_thread::sleep_until(deadline);
}

void NatsLiabilitySource::State::release(std::uint64_t durable) {
  // Tickets are not in order here (a duplicate carries its original's), so
  // every pending message is looked at; acks are per message in JetStream.
  std::size_t kept = 0;
  for (std::size_t i = 0; i < pending.size(); ++i) {
    if (pending[i].ticket <= durable) {
      // A failed ack is not retried: the server redelivers after the ack
      // wait and the duplicate is acked then.
      if (natsMsg_Ack(pending[i].msg.get(), nullptr) == NATS_OK) {
        ++counters.acked;
      } else {
        ++counters.ack_failures;
      }
      continue;
    }
    if (kept != i) {
      pending[kept] = std::move(pending[i]);
    }
    ++kept;
  }
  pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(kept), pending.end());
}

void NatsLiabilitySource::State::check_consumer(Clock::time_point now) {
  if (now < next_check || natsConnection_Status(connection) != NATS_CONN_STATUS_CONNECTED) {
    return; // while reconnecting, the disconnect counter already tells
  }
  next_check = now + std::chrono::milliseconds(std::max(options.consumer_check_ms, 1));
  // A deleted durable looks like an idle stream to Fetch (its pulls just
  // time out), so ask. Bounded: this is the polling thread.
  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = 500;
  jsConsumerInfo* info = nullptr;
  jsErrCode error_code = static_cast<jsErrCode>(0);
  if (natsSubscription_GetConsumerInfo(&info, subscription, &js_options, &error_code) == NATS_OK) {
    counters.backlog = info->NumPending;
    jsConsumerInfo_Destroy(info);
  } else if (error_code == JSConsumerNotFoundErr) {
    ++counters.consumer_missing;
  }
}

void NatsLiabilitySource::State::keep_alive(Clock::time_point now) {
  const auto half_wait = std::chrono::milliseconds(std::max(options.ack_wait_ms, 2) / 2);
  const auto touch = [&](natsMsg* msg, Clock::time_point& touched) {
    if (now - touched >= half_wait) {
      (void)natsMsg_InProgress(msg, nullptr);
      touched = now;
    }
  };
  for (auto& p : pending) {
    touch(p.msg.get(), p.touched);
  }
  for (auto& h : held) {
    touch(h.msg.get(), h.touched);
  }
}

NatsLiabilitySource::NatsLiabilitySource(NatsOptions options, LiabilityAdmission& admission)
    : state_(std::make_unique<State>(std::move(options), admission)) {
  // A throw below destroys state_, which releases whatever was set up.
  state_->connect();
  state_->bind_stream();
  state_->subscribe();
}

NatsLiabilitySource::~NatsLiabilitySource() = default;

bool NatsLiabilitySource::reserve_ahead() { return state_->admission.reserve_ahead(); }

std::vector<RejectionCount> NatsLiabilitySource::take_rejections() { return state_->rejections.take(); }

std::size_t NatsLiabilitySource::poll_once(int timeout_ms) {
  State& s = *state_;
  const std::uint64_t before = s.counters.messages;
  s.retry_held();
  if (s.held.empty()) {
    // While acks wait on the sink's durability (the kernel's journal), pull
    // with at most 10 ms so they follow it closely. Not less: every Fetch is
    // a pull request to the server, and an ack's latency costs nothing here
    // (the wallet's publish was acknowledged by the stream, not by us).
    s.fetch(std::max(1, s.pending.empty() ? timeout_ms : std::min(timeout_ms, 10)));
  } else {
    // The sink is still full: fetch nothing more (the backlog stays in the
    // stream) and retry soon; a retry is local, no round trip.
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // One durability step for the whole batch (one fdatasync for a journal
  // sink), then every ack it allows.
  if (!s.pending.empty()) {
    s.release(s.admission.make_durable());
  }
  const auto now = Clock::now();
  s.keep_alive(now);
  s.check_consumer(now);
  return static_cast<std::size_t>(s.counters.messages - before);
}

NatsCounters NatsLiabilitySource::counters() const noexcept {
  NatsCounters snapshot = state_->counters;
  snapshot.disconnects = state_->events.disconnects.load(std::memory_order_relaxed);
  snapshot.reconnects = state_->events.reconnects.load(std::memory_order_relaxed);
  return snapshot;
}

std::size_t NatsLiabilitySource::unacked() const noexcept { return state_->pending.size() + state_->held.size(); }

} // namespace synthusd::liabilities
