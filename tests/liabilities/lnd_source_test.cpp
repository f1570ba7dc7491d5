#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "lnd_test_support.hpp"
#include "synthusd/liabilities/lnd_source.hpp"

namespace synthusd::liabilities {
namespace {

using namespace std::chrono_literals;
using namespace lnd_test;

TEST(LndInvoiceSource, settled_invoices_become_credits_and_open_ones_are_ignored) {
  const Invoice first{.hash_seed = 1, .settle_index = 1, .sats = 1000, .settle_date = 1'700'000'001};
  const Invoice second{.hash_seed = 2, .settle_index = 2, .sats = 2000, .settle_date = 1'700'000'002};
  const Invoice third{.hash_seed = 3, .settle_index = 3, .sats = 2500, .with_amt_paid_sat = false, .extra_msat = 999};
  FakeLnd lnd({[&](FakeLnd::Session& session) {
    session.stream_head();
    session.message(invoice_json(Invoice{.state = "OPEN", .hash_seed = 9}));
    session.message(invoice_json(first));
    // one message over three chunks, as Go splits a write larger than its buffer
    const std::string split = invoice_json(second) + "\n";
    session.chunk(split.substr(0, 10));
    session.chunk(split.substr(10, 300));
    session.chunk(split.substr(310));
    // two messages in one chunk
    session.chunk(invoice_json(Invoice{.state = "ACCEPTED", .hash_seed = 8}) + "\n" + invoice_json(third) + "\n");
    session.hold();
  }});
  TemporaryDirectory directory;
  TestSink sink;
  LiabilityAdmission admission(sink, hedging::Ratio{});
  LndOptions options = plain_options(lnd.port());
  options.state_file = directory.file("lnd.state");
  LndInvoiceSource source(options, admission);
  ASSERT_TRUE(drive(source, [&] { return source.counters().messages == 5 && source.acknowledged_settle_index() == 3; }))
      << source.last_error();

  ASSERT_EQ(sink.taken.size(), 3u);
  EXPECT_EQ(sink.taken[0].id, liability_event_id(lnd_id(first)));
  EXPECT_EQ(sink.taken[1].id, liability_event_id(lnd_id(second)));
  EXPECT_EQ(sink.taken[2].id, liability_event_id(lnd_id(third)));
  EXPECT_EQ(sink.taken[0].sats, hedging::Sats{1000});
  EXPECT_EQ(sink.taken[1].sats, hedging::Sats{2000});
  EXPECT_EQ(sink.taken[2].sats, hedging::Sats{2500}); // from amt_paid_msat, rounded down
  // credits at $50,000 per bitcoin: 1000 sats = 50 cents
  EXPECT_EQ(sink.taken[0].delta, hedging::UsdCents{50});
  EXPECT_EQ(sink.taken[1].delta, hedging::UsdCents{100});
  EXPECT_EQ(sink.taken[2].delta, hedging::UsdCents{125});
  EXPECT_EQ(sink.taken[0].time, hedging::Timestamp{1'700'000'001'000'000'000});
  EXPECT_EQ(source.counters().settled, 3u);
  EXPECT_EQ(source.counters().ignored, 2u);
  EXPECT_EQ(source.counters().rejected, 0u);
  EXPECT_TRUE(source.streaming());
  EXPECT_EQ(read_text(options.state_file), "3\n");
  EXPECT_FALSE(std::filesystem::exists(options.state_file + ".tmp"));
  const auto requests = lnd.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].substr(0, requests[0].find("\r\n")), "GET /v1/invoices/subscribe?settle_index=0 HTTP/1.1");
}

TEST(LndInvoiceSource, sends_the_macaroon_hex_encoded_in_the_grpc_metadata_header) {
  FakeLnd lnd({});
  TemporaryDirectory directory;
  const std::string macaroon("\x02\x01\x03lnd\x00\xff", 8);
  std::ofstream(directory.file("admin.macaroon"), std::ios::binary) << macaroon;
  TestSink sink;
  LiabilityAdmission admission(sink, hedging::Ratio{});
  LndOptions options = plain_options(lnd.port());
  options.macaroon_file = directory.file("admin.macaroon");
  LndInvoiceSource source(options, admission);
  ASSERT_TRUE(drive(source, [&] { return !lnd.requests().empty(); }));
  const std::string request = lnd.requests()[0];
  EXPECT_NE(request.find("\r\nGrpc-Metadata-macaroon: 0201036c6e6400ff\r\n"), std::string::npos) << request;
  EXPECT_EQ(request.find(macaroon), std::string::npos);
}

TEST(LndInvoiceSource, malformed_lines_are_rejected_and_counted_while_the_stream_goes_on) {
  const std::string good = invoice_json(Invoice{.hash_seed = 5, .settle_index = 5});
  FakeLnd lnd({[&](FakeLnd::Session& session) {
    session.stream_head();
    session.message(invoice_json(Invoice{.hash_seed = 4, .settle_index = 4}));
    session.message("not json");
    session.message(replace(good, R"("settle_index":"5")", R"("settle_index":"-5")"));
    session.message(replace(good, R"("amt_paid_sat":"1000")", R"("amt_paid_sat":1000)"));
    session.message(replace(good, R"("r_hash")", R"("r_hash_gone")"));
    session.message(R"({"error":{"code":2,"message":"boom","details":[]}})");
    session.message("[1,2]");
    // over 1 MiB without a newline, in 64 KiB chunks
    for (int i = 0; i < 17; ++i) {
      session.chunk(std::string(64 * 1024, 'x'));
    }
    session.chunk("\n");
    session.message(good);
    session.hold();
  }});
  TestSink sink;
  LiabilityAdmission admission(sink, hedging::Ratio{});
  LndInvoiceSource source(plain_options(lnd.port()), admission);
  ASSERT_TRUE(drive(source, [&] { return source.counters().settled == 2; })) << source.last_error();
  EXPECT_EQ(source.counters().rejected, 7u);
  EXPECT_EQ(source.counters().messages, 9u);
  EXPECT_EQ(source.counters().connections, 1u);
  EXPECT_EQ(source.counters().disconnects, 0u);
  ASSERT_EQ(sink.taken.size(), 2u);
  EXPECT_EQ(sink.taken[1].id, liability_event_id(lnd_id(Invoice{.hash_seed = 5, .settle_index = 5})));
}

TEST(LndInvoiceSource, reconnects_from_the_last_durable_settle_index_and_dedupes_the_replayed_overlap) {
  const std::vector<Invoice> ledger = {{.hash_seed = 1, .settle_index = 1},
                                       {.hash_seed = 2, .settle_index = 2},
                                       {.hash_seed = 3, .settle_index = 3, .sats = 3000}};
  // the first connection drops after two settlements
  FakeLnd lnd({serve_ledger({ledger[0], ledger[1]}, false, false), serve_ledger(ledger, true, true)});
  TestSink sink;
  LiabilityAdmission admission(sink, hedging::Ratio{});
  LndInvoiceSource source(plain_options(lnd.port()), admission);
  ASSERT_TRUE(drive(source, [&] { return source.counters().settled == 3 && source.counters().duplicates == 1; }))
      << source.last_error();
  const auto requests = lnd.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].substr(0, requests[1].find("\r\n")), "GET /v1/invoices/subscribe?settle_index=2 HTTP/1.1");
  ASSERT_EQ(sink.taken.size(), 3u); // invoice 2 came twice, and went in once
  EXPECT_EQ(sink.taken[2].id, liability_event_id(lnd_id(ledger[2])));
  EXPECT_EQ(sink.taken[2].sats, hedging::Sats{3000});
  EXPECT_EQ(source.counters().connections, 2u);
  EXPECT_EQ(source.counters().disconnects, 1u);
  ASSERT_TRUE(drive(source, [&] { return source.acknowledged_settle_index() == 3; }));
}

TEST(LndInvoiceSource, a_stream_lnd_ends_with_an_error_is_resubscribed_though_the_connection_stays_open) {
  FakeLnd lnd({[](FakeLnd::Session& session) {
                 session.stream_head();
                 session.message(invoice_json(Invoice{.hash_seed = 1, .settle_index = 1}));
                 // what grpc-gateway writes when the subscription fails, then
                 // the last chunk; Go keeps the connection for another request
                 session.message(R"({"error":{"code":14,"message":"lnd is shutting down","details":[]}})");
                 session.chunk("");
                 session.hold();
               },
               serve_ledger({{.hash_seed = 2, .settle_index = 2}}, false, true)});
  TestSink sink;
  LiabilityAdmission admission(sink, hedging::Ratio{});
  LndInvoiceSource source(plain_options(lnd.port()), admission);
  ASSERT_TRUE(drive(source, [&] { return source.counters().settled == 2; })) << source.last_error();
  EXPECT_EQ(source.counters().rejected, 1u);
  EXPECT_EQ(source.counters().disconnects, 1u);
  ASSERT_EQ(lnd.requests().size(), 2u);
  EXPECT_NE(lnd.requests()[1].find("?settle_index=1 "), std::string::npos);
}

TEST(LndInvoiceSource, an_idle_stream_without_a_response_head_is_up_until_its_idle_timer_resubscribes) {
  // lnd's gateway writes the head only with the first message: an idle node
  // answers nothing. That is a live subscription, not a dead server.
  FakeLnd lnd({serve_ledger({}, false, true), serve_ledger({{.hash_seed = 1, .settle_index = 1}}, false, true)});
  TestSink sink;
  LiabilityAdmission admission(sink, hedging::Ratio{});
  LndOptions options = plain_options(lnd.port());
  options.connect_timeout_ms = 50;
  options.idle_resubscribe_ms = 1500;
  LndInvoiceSource source(options, admission);
  ASSERT_TRUE(drive(source, [&] { return source.up(); })) << source.last_error();
  EXPECT_TRUE(source.streaming());
  // Well past the connect timeout: still the one connection, still up.
  for (int i = 0; i < 30; ++i) {
    (void)source.poll_once(10);
  }
  EXPECT_TRUE(source.up()) << source.last_error();
  EXPECT_EQ(lnd.requests().size(), 1u);
  EXPECT_EQ(source.counters().disconnects, 0u);
  EXPECT_EQ(source.counters().idle_resubscribes, 0u);
  EXPECT_EQ(source.last_error(), "");
  // The idle timer resubscribes; the second session has a settlement.
  ASSERT_TRUE(drive(source, [&] { return source.counters().settled == 1; })) << source.last_error();
  EXPECT_EQ(source.counters().idle_resubscribes, 1u);
  EXPECT_EQ(lnd.requests().size(), 2u);
}

TEST(LndInvoiceSource, a_server_that_never_completes_the_tls_handshake_is_given_up_and_tried_again) {
  TemporaryDirectory directory;
  const Certificate certificate = make_certificate(directory, "tls");
  // A listener nobody accepts on: TCP connects (the kernel's backlog), TLS
  // never starts, the request never goes out.
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener, 8), 0);
  socklen_t length = sizeof address;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  TestSink sink;
  LiabilityAdmission admission(sink, hedging::Ratio{});
  LndOptions options = plain_options(ntohs(address.sin_port));
  options.tls = true;
  options.tls_cert_file = certificate.certificate;
  options.connect_timeout_ms = 100;
  LndInvoiceSource source(options, admission);
  ASSERT_TRUE(drive(
      source, [&] { return source.counters().disconnects >= 2; }, 5s))
      << source.last_error();
  EXPECT_EQ(source.last_error(), "lnd did not take the request within 100 ms");
  EXPECT_FALSE(source.up());
  ::close(listener);
}

TEST(LndInvoiceSource, a_restart_resumes_from_the_persisted_settle_index) {
  const std::vector<Invoice> ledger = {{.hash_seed = 5, .settle_index = 5},
                                       {.hash_seed = 6, .settle_index = 6},
                                       {.hash_seed = 7, .settle_index = 7, .sats = 7000}};
  FakeLnd lnd({serve_ledger({ledger[0], ledger[1]}, false, true), serve_ledger(ledger, false, true)});
  TemporaryDirectory directory;
  LndOptions options = plain_options(lnd.port());
  options.state_file = directory.file("lnd.state");
  {
    TestSink sink;
    LiabilityAdmission admission(sink, hedging::Ratio{});
    LndInvoiceSource source(options, admission);
    ASSERT_TRUE(drive(source, [&] { return source.acknowledged_settle_index() == 6; })) << source.last_error();
    EXPECT_EQ(sink.taken.size(), 2u);
  }
  EXPECT_EQ(read_text(options.state_file), "6\n");
  TestSink sink; // a new process: nothing remembered but the state file
  LiabilityAdmission admission(sink, hedging::Ratio{});
  LndInvoiceSource source(options, admission);
  EXPECT_EQ(source.acknowledged_settle_index(), 6u);
  ASSERT_TRUE(drive(source, [&] { return source.acknowledged_settle_index() == 7; })) << source.last_error();
  ASSERT_EQ(lnd.requests().size(), 2u);
  EXPECT_NE(lnd.requests()[1].find("?settle_index=6 "), std::string::npos);
  ASSERT_EQ(sink.taken.size(), 1u);
  EXPECT_EQ(sink.taken[0].id, liability_event_id(lnd_id(ledger[2])));
  EXPECT_EQ(read_text(options.state_file), "7\n");
}

TEST(LndInvoiceSource, a_state_file_without_a_settle_index_refuses_to_start) {
  TemporaryDirectory directory;
  LndOptions options = plain_options(1);
  options.state_file = directory.file("lnd.state");
  std::ofstream(options.state_file) << "-3\n";
  TestSink sink;
  LiabilityAdmission admission(sink, hedging::Ratio{});
  EXPECT_THROW(LndInvoiceSource(options, admission), std::runtime_error);
}

TEST(LndInvoiceSource, the_settle_index_is_not_acknowledged_before_its_event_is_durable) {
  const std::vector<Invoice> ledger = {
      {.hash_seed = 1, .settle_index = 1}, {.hash_seed = 2, .settle_index = 2}, {.hash_seed = 3, .settle_index = 3}};
  FakeLnd lnd({serve_ledger(ledger, false, true)});
  TemporaryDirectory directory;
  TestSink sink;
  sink.auto_durable = false;
  LiabilityAdmission admission(sink, hedging::Ratio{});
  // Invoice 3 is already in the journal (durable): its duplicate must still
  // not acknowledge past 1 and 2 while they are in flight.
  admission.remember(lnd_id(ledger[2]));
  LndOptions options = plain_options(lnd.port());
  options.state_file = directory.file("lnd.state");
  LndInvoiceSource source(options, admission);
  ASSERT_TRUE(drive(source, [&] { return source.counters().settled == 2 && source.counters().duplicates == 1; }))
      << source.last_error();
  for (int i = 0; i < 20; ++i) {
    (void)source.poll_once(1);
  }
  EXPECT_EQ(source.acknowledged_settle_index(), 0u);
  EXPECT_FALSE(std::filesystem::exists(options.state_file));
  sink.durable = 1;
  ASSERT_TRUE(drive(source, [&] { return source.acknowledged_settle_index() == 1; }));
  for (int i = 0; i < 20; ++i) {
    (void)source.poll_once(1);
  }
  EXPECT_EQ(source.acknowledged_settle_index(), 1u);
  EXPECT_EQ(read_text(options.state_file), "1\n");
  sink.durable = 2; // invoice 2 durable: 3 was already
  ASSERT_TRUE(drive(source, [&] { return source.acknowledged_settle_index() == 3; }));
  EXPECT_EQ(read_text(options.state_file), "3\n");
}

TEST(LndInvoiceSource, a_line_over_the_limit_is_rejected_whether_it_arrives_whole_or_in_pieces) {
  const Invoice invoice{.hash_seed = 1, .settle_index = 1};
  FakeLnd lnd({[&](FakeLnd::Session& session) {
    session.stream_head();
    session.message(std::string(100'000, 'y')); // over many reads
    // a valid settlement, but too long: arrives in one read
    session.message(replace(invoice_json(Invoice{.hash_seed = 2, .settle_index = 2}), R"("memo":"deposit")",
                            R"("memo":")" + std::string(3000, 'm') + "\""));
    session.message(invoice_json(invoice));
    session.hold();
  }});
  TestSink sink;
  LiabilityAdmission admission(sink, hedging::Ratio{});
  LndOptions options = plain_options(lnd.port());
  options.max_line_bytes = 2000;
  LndInvoiceSource source(options, admission);
  ASSERT_TRUE(drive(source, [&] { return source.counters().settled == 1; })) << source.last_error();
  EXPECT_EQ(source.counters().rejected, 2u);
  EXPECT_EQ(source.counters().messages, 3u);
  EXPECT_EQ(source.last_error(), "rejected: line longer than 2000 bytes");
  ASSERT_EQ(sink.taken.size(), 1u);
  EXPECT_EQ(sink.taken[0].id, liability_event_id(lnd_id(invoice)));
}

TEST(LndInvoiceSource, a_payment_waits_for_an_index_price_instead_of_being_skipped) {
  FakeLnd lnd({serve_ledger({{.hash_seed = 1, .settle_index = 1}, {.hash_seed = 2, .settle_index = 2}}, false, true)});
  TestSink sink;
  sink.price = hedging::Price{}; // no price yet
  LiabilityAdmission admission(sink, hedging::Ratio{});
  LndInvoiceSource source(plain_options(lnd.port()), admission);
  ASSERT_TRUE(drive(source, [&] { return source.counters().held == 1; })) << source.last_error();
  for (int i = 0; i < 20; ++i) {
    (void)source.poll_once(1);
  }
  EXPECT_EQ(source.counters().settled, 0u);
  EXPECT_EQ(source.counters().held, 1u);        // counted once, however often it is retried
  EXPECT_EQ(admission.counters().unpriced, 1u); // and not asked again until there is a price
  EXPECT_EQ(admission.counters().rejected, 0u);
  EXPECT_EQ(source.acknowledged_settle_index(), 0u);
  EXPECT_NE(source.last_error().find("no valid index price"), std::string::npos) << source.last_error();
  sink.price = hedging::Price::from_dollars(50'000);
  ASSERT_TRUE(drive(source, [&] { return source.acknowledged_settle_index() == 2; })) << source.last_error();
  EXPECT_EQ(sink.taken.size(), 2u);
  EXPECT_EQ(source.counters().connections, 1u);
}

TEST(LndInvoiceSource, an_http_error_answer_is_reported_and_retried) {
  const std::string body = R"({"code":2,"message":"verification failed: signature mismatch","details":[]})";
  FakeLnd lnd({[&](FakeLnd::Session& session) {
                 session.raw("HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
                             "Content-Length: " +
                             std::to_string(body.size()) + "\r\n\r\n" + body);
                 session.hold();
               },
               serve_ledger({{.hash_seed = 1, .settle_index = 1}}, false, true)});
  TestSink sink;
  LiabilityAdmission admission(sink, hedging::Ratio{});
  LndInvoiceSource source(plain_options(lnd.port()), admission);
  ASSERT_TRUE(drive(source, [&] { return source.counters().disconnects == 1; }));
  EXPECT_NE(source.last_error().find("HTTP/1.1 500"), std::string::npos) << source.last_error();
  EXPECT_NE(source.last_error().find("signature mismatch"), std::string::npos) << source.last_error();
  ASSERT_TRUE(drive(source, [&] { return source.counters().settled == 1; })) << source.last_error();
}

// --------------------------------------------------------------------- TLS

TEST(LndInvoiceSource, streams_over_tls_verified_against_the_lnd_certificate) {
  TemporaryDirectory directory;
  const Certificate certificate = make_certificate(directory, "tls");
  SSL_CTX* context = server_context(certificate);
  {
    FakeLnd lnd({serve_ledger({{.hash_seed = 1, .settle_index = 1}}, false, true)}, context);
    TestSink sink;
    LiabilityAdmission admission(sink, hedging::Ratio{});
    LndOptions options = plain_options(lnd.port());
    options.tls = true;
    options.tls_cert_file = certificate.certificate;
    LndInvoiceSource source(options, admission);
    ASSERT_TRUE(drive(source, [&] { return source.acknowledged_settle_index() == 1; })) << source.last_error();
    EXPECT_EQ(sink.taken.size(), 1u);
    EXPECT_EQ(lnd.handshake_failures(), 0);
  }
  SSL_CTX_free(context);
}

TEST(LndInvoiceSource, refuses_a_tls_server_whose_certificate_is_not_the_configured_one) {
  TemporaryDirectory directory;
  const Certificate served = make_certificate(directory, "served");
  const Certificate trusted = make_certificate(directory, "trusted");
  SSL_CTX* context = server_context(served);
  {
    FakeLnd lnd({serve_ledger({{.hash_seed = 1, .settle_index = 1}}, false, true)}, context);
    TestSink sink;
    LiabilityAdmission admission(sink, hedging::Ratio{});
    LndOptions options = plain_options(lnd.port());
    options.tls = true;
    options.tls_cert_file = trusted.certificate;
    LndInvoiceSource source(options, admission);
    ASSERT_TRUE(drive(source, [&] { return source.counters().disconnects >= 1; }));
    EXPECT_NE(source.last_error().find("certificate verify failed"), std::string::npos) << source.last_error();
    EXPECT_FALSE(source.streaming());
    EXPECT_TRUE(sink.taken.empty());
    EXPECT_TRUE(lnd.requests().empty()); // the macaroon never left
  }
  SSL_CTX_free(context);
}

TEST(LndInvoiceSource, refuses_a_tls_certificate_made_for_another_address) {
  TemporaryDirectory directory;
  // the right certificate file, but it names 127.0.0.2 and we dial 127.0.0.1
  const Certificate elsewhere = make_certificate(directory, "elsewhere", "IP:127.0.0.2");
  SSL_CTX* context = server_context(elsewhere);
  {
    FakeLnd lnd({serve_ledger({{.hash_seed = 1, .settle_index = 1}}, false, true)}, context);
    TestSink sink;
    LiabilityAdmission admission(sink, hedging::Ratio{});
    LndOptions options = plain_options(lnd.port());
    options.tls = true;
    options.tls_cert_file = elsewhere.certificate;
    LndInvoiceSource source(options, admission);
    ASSERT_TRUE(drive(source, [&] { return source.counters().disconnects >= 1; }));
    EXPECT_NE(source.last_error().find("IP address mismatch"), std::string::npos) << source.last_error();
    EXPECT_TRUE(sink.taken.empty());
    EXPECT_TRUE(lnd.requests().empty());
  }
  SSL_CTX_free(context);
}

} // namespace
} // namespace synthusd::liabilities
