// FIX over TLS the documented way (engine/DEPLOYMENT.md, "First connection to
// Deribit's test environment"): QuickFIX 1.15.1's SSL initiator verifies the
// chain but not the host name, so the gateway speaks clear text to a local
// stunnel client (verifyChain + checkHost) that carries it over TLS. Here a
// second stunnel terminates TLS in front of the test venue, with a CA and
// certificates made by the openssl CLI for this run. Skipped, with the reason,
// when stunnel or openssl is not installed (scripts/setup installs both).
#include "gateway_test_support.hpp"
#include "gateway_test_venue.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <spawn.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <vector>

extern char** environ;

namespace synthusd::fix::testing {
namespace {

constexpr char kVenueHost[] = "venue.synthusd.test";

std::string find_program(const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    for (const char* directory : {"/usr/bin/", "/usr/sbin/", "/usr/local/bin/", "/bin/"}) {
      const std::string path = std::string(directory) + name;
      if (::access(path.c_str(), X_OK) == 0) {
        return path;
      }
    }
  }
  return std::string();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A stunnel in the foreground with its log in a file, stopped with SIGTERM.
class Stunnel {
public:
  Stunnel(const std::string& binary, const std::string& config) {
    std::vector<std::string> arguments = {binary, config};
    std::vector<char*> argv;
    for (std::string& argument : arguments) {
      argv.push_back(argument.data());
    }
    argv.push_back(nullptr);
    if (::posix_spawn(&pid_, binary.c_str(), nullptr, nullptr, argv.data(), environ) != 0) {
      pid_ = -1;
    }
  }
  ~Stunnel() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  Stunnel(const Stunnel&) = delete;
  Stunnel& operator=(const Stunnel&) = delete;
  [[nodiscard]] bool running() const { return pid_ > 0; }

  // Whether it listens: at debug level 6 stunnel logs "Service [fix] (FD=n)
  // bound to ..." once bound, and it exits when the bind fails (the port
  // find_free_port() picked was taken by another test before stunnel bound it).
  bool wait_bound(const std::string& log) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
      if (read_file(log).find(" bound to ") != std::string::npos) {
        return true;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

private:
  pid_t pid_ = -1;
};

class GatewayTlsStunnelTest : public ::testing::Test {
protected:
  void SetUp() override {
    stunnel_ = find_program({"stunnel4", "stunnel"});
    openssl_ = find_program({"openssl"});
    if (stunnel_.empty() || openssl_.empty()) {
      GTEST_SKIP() << "stunnel or openssl is not installed (scripts/setup installs stunnel4 and openssl): "
                      "the TLS route of DEPLOYMENT.md is untested here";
    }
    ASSERT_TRUE(make_ca("ca"));
    ASSERT_TRUE(make_ca("other-ca"));
  }

  void TearDown() override {
    if (gateway_) {
      gateway_->stop();
    }
    client_.reset();
    server_.reset();
    if (venue_) {
      venue_->stop();
    }
  }

  std::string file(const std::string& name) const { return directory_.file(name); }

  bool run(const std::string& command) {
    return std::system((command + " >>" + file("openssl.log") + " 2>&1").c_str()) == 0;
  }

  bool make_ca(const std::string& name) {
    return run(openssl_ + " req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=" + name + " -keyout " +
               file(name + ".key") + " -out " + file(name + ".pem"));
  }

  // A server certificate for host, signed by ca.
  bool make_server_certificate(const std::string& name, const std::string& host, const std::string& ca) {
    std::ofstream(file(name + ".ext")) << "subjectAltName=DNS:" << host << "\n";
    return run(openssl_ + " req -newkey rsa:2048 -nodes -subj /CN=" + host + " -keyout " + file(name + ".key") +
               " -out " + file(name + ".csr")) &&
           run(openssl_ + " x509 -req -days 2 -in " + file(name + ".csr") + " -CA " + file(ca + ".pem") + " -CAkey " +
               file(ca + ".key") + " -CAcreateserial -extfile " + file(name + ".ext") + " -out " + file(name + ".pem"));
  }

  // A stunnel (`name`.conf, its log in `name`-<attempt>.log) accepting on a
  // port picked here, with the service `section(port)`. A port taken by
  // another test before stunnel bound it makes stunnel exit; it is started
  // again on another, at most 5 times. Returns the port it bound (`out` set).
  int start_stunnel(const std::string& name, std::unique_ptr<Stunnel>& out, std::string& log,
                    const std::function<std::string(int)>& section) {
    for (int attempt = 0; attempt < 5; ++attempt) {
      const int port = find_free_port();
      log = file(name + "-" + std::to_string(attempt) + ".log");
      std::ofstream(file(name + ".conf")) << "foreground = quiet\npid =\ndebug = 6\noutput = " << log << "\n"
                                          << section(port);
      auto stunnel = std::make_unique<Stunnel>(stunnel_, file(name + ".conf"));
      if (stunnel->wait_bound(log)) {
        out = std::move(stunnel);
        return port;
      }
    }
    return 0;
  }

  // The venue behind a TLS-terminating stunnel presenting `certificate`, and
  // the gateway behind a stunnel client that trusts only ca.pem and checks
  // kVenueHost: the configuration DEPLOYMENT.md documents, with loopback
  // addresses and this run's CA instead of Deribit's.
  void start(const std::string& certificate) {
    venue_ = std::make_unique<TestVenue>();
    venue_->start();
    const int tls_port = start_stunnel("server", server_, server_log_, [&](int port) {
      return "[fix]\naccept = 127.0.0.1:" + std::to_string(port) +
             "\nconnect = 127.0.0.1:" + std::to_string(venue_->port()) + "\ncert = " + file(certificate + ".pem") +
             "\nkey = " + file(certificate + ".key") + "\n";
    });
    ASSERT_TRUE(server_) << "the TLS-terminating stunnel did not bind (" << file("server-0.log") << ")";
    const int clear_port = start_stunnel("client", client_, client_log_, [&](int port) {
      return "[fix]\nclient = yes\naccept = 127.0.0.1:" + std::to_string(port) +
             "\nconnect = 127.0.0.1:" + std::to_string(tls_port) + "\nverifyChain = yes\nCAfile = " + file("ca.pem") +
             "\ncheckHost = " + kVenueHost + "\nsslVersionMin = TLSv1.2\n";
    });
    ASSERT_TRUE(client_) << "the client stunnel did not bind (" << file("client-0.log") << ")";
    gateway_ = std::make_unique<OrderGateway>(test_gateway_config(clear_port, directory_), listener_);
    gateway_->start();
  }

  // The stunnel client's verdict on the venue's certificate, as it logs it.
  bool client_refused_certificate() {
    return poll_until(
        *gateway_, [&] { return read_file(client_log_).find("certificate verify failed") != std::string::npos; },
        10'000);
  }

  TemporaryDirectory directory_;
  RecordingListener listener_;
  std::string stunnel_;
  std::string openssl_;
  std::unique_ptr<TestVenue> venue_;
  std::unique_ptr<Stunnel> server_;
  std::unique_ptr<Stunnel> client_;
  std::string server_log_;
  std::string client_log_;
  std::unique_ptr<OrderGateway> gateway_;
};

TEST_F(GatewayTlsStunnelTest, LogonAndAnOrderWorkOverTls) {
  ASSERT_TRUE(make_server_certificate("venue", kVenueHost, "ca"));
  start("venue");
  ASSERT_TRUE(poll_until(
      *gateway_, [&] { return !listener_.alerts_of(AlertKind::logon).empty(); }, 10'000));
  ASSERT_EQ(gateway_->submit(market_intent(1, hedging::Side::sell, 2)), SubmitResult::sent);
  ASSERT_TRUE(poll_until(*gateway_, [&] {
    for (const auto& report : listener_.executions_for(1)) {
      if (report.status == hedging::OrderStatus::filled) {
        return true;
      }
    }
    return false;
  }));
  // The bytes did cross the TLS hop: the server side logs the TLS session.
  EXPECT_NE(read_file(server_log_).find("accepted connection"), std::string::npos);
}

TEST_F(GatewayTlsStunnelTest, CertificateForAnotherHostIsRefused) {
  ASSERT_TRUE(make_server_certificate("impostor", "other.synthusd.test", "ca"));
  start("impostor");
  ASSERT_TRUE(client_refused_certificate());
  EXPECT_NE(read_file(client_log_).find("CERT: Subject checks failed"), std::string::npos); // checkHost
  EXPECT_TRUE(listener_.alerts_of(AlertKind::logon).empty());
  EXPECT_EQ(venue_->logons_received(), 0U);
}

TEST_F(GatewayTlsStunnelTest, CertificateFromAnUntrustedCaIsRefused) {
  ASSERT_TRUE(make_server_certificate("stranger", kVenueHost, "other-ca"));
  start("stranger");
  ASSERT_TRUE(client_refused_certificate());
  EXPECT_NE(read_file(client_log_).find("unable to get local issuer certificate"), std::string::npos);
  EXPECT_TRUE(listener_.alerts_of(AlertKind::logon).empty());
  EXPECT_EQ(venue_->logons_received(), 0U);
}

} // namespace
} // namespace synthusd::fix::testing
