// VenueRuntime's wallet ([wallet] enabled): the Deribit-shaped wallet API and
// the test chain on their own loopback port (TLS when configured), served by the venue thread so
// that deposits and withdrawals move the same balances FIX reports.

#include <chrono>
#include <utility>

#include "synthusd/venue/venue_runtime.hpp"

namespace synthusd::venue {

void VenueRuntime::start_wallet() {
  if (!config_.wallet.enabled) {
    return;
  }
  wallet_ = std::make_unique<Wallet>(config_.wallet);
  wallet_api_ = std::make_unique<WalletApi>(*wallet_, config_.fix.target_comp_ids);
  wallet_server_ = std::make_unique<WalletServer>(config_.wallet.port, config_.wallet.tls_certificate_file,
                                                  config_.wallet.tls_key_file,
                                                  std::chrono::milliseconds(config_.wallet.idle_timeout_ms));
}

std::uint16_t VenueRuntime::wallet_port() const { return wallet_server_ ? wallet_server_->port() : 0; }

bool VenueRuntime::wallet_tls() const { return wallet_server_ && wallet_server_->tls(); }

void VenueRuntime::handle_wallet(const std::vector<pollfd>& fds) {
  engine_.advance_to(simulated_now(), events_);
  // All of the amount or nothing: the engine takes at most what is free, so
  // a partial take is put back and the request refused.
  const Wallet::Debit debit = [this](const std::string& account, std::int64_t sats) {
    const Sats taken = engine_.withdraw(account, Sats{sats}, events_);
    if (taken.value == sats) {
      return true;
    }
    engine_.deposit(account, taken, events_);
    return false;
  };
  wallet_server_->handle_ready(
      fds, [&](const WalletRequest& request) { return wallet_api_->answer(request, wall_milliseconds(), debit); });
  advance_wallet();
  send_events();
}

void VenueRuntime::advance_wallet() {
  if (!wallet_) {
    return;
  }
  wallet_->advance(wall_milliseconds(), [this](const std::string& account, std::int64_t sats) {
    engine_.deposit(account, Sats{sats}, events_);
  });
}

} // namespace synthusd::venue
