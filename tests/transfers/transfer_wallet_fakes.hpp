#pragma once
// Stand-ins for the operator's node and the venue's wallet API, shaped from
// their documentation:
// - Core Lightning `withdraw destination satoshi` returns {tx, txid, psbt};
//   `listtransactions` lists outputs by address and amount (CLN keeps no
//   label); `newaddr` returns {bech32}. LND's `sendcoins` takes a `label`.
// - Deribit private/get_current_deposit_address returns {address, currency,
//   type}; private/get_deposits lists {address, amount, state ("pending",
//   "completed", ...), transaction_id}; private/withdraw returns
//   {id, state "unconfirmed", ...}; private/get_withdrawals lists them.
// Both outlive an executor, as the real daemons outlive a crash of synthusd.
// `unreachable_lookups` makes the next n lookups of one stand-in answer
// Lookup::unknown ("connection refused"), as a daemon that is restarting
// does, without looking.
// `crash_at` makes the n-th call (counting every call of both) throw
// SimulatedCrash, before or after the call's effect, as a kill -9 would stop
// the engine on either side of a counterparty's action.

#include <cstdint>
#include <string>
#include <vector>

#include "synthusd/transfers/transfer_executor.hpp"

namespace synthusd::transfers::test {

struct SimulatedCrash {};

struct CrashPlan {
  int calls = 0;
  int crash_at = -1;         // the call number that crashes; -1: none
  bool after_effect = false; // crash after the call did what it does
  void before(int& call) {
    call = ++calls;
    if (call == crash_at && !after_effect) {
      throw SimulatedCrash{};
    }
  }
  void after(int call) const {
    if (call == crash_at && after_effect) {
      throw SimulatedCrash{};
    }
  }
};

struct OnChainSend {
  std::string address;
  std::int64_t sats = 0;
  std::string txid;
};

class FakeNode final : public NodeWallet {
public:
  explicit FakeNode(CrashPlan& plan) : plan_(plan) {}
  Answer send(const std::string& address, std::int64_t sats, const std::string& /*label: CLN has none*/) override {
    int call = 0;
    plan_.before(call);
    if (refuse_sends) {
      return Answer::failure("Could not afford 1000000sat using all 2 available UTXOs");
    }
    sends.push_back({address, sats, "tx" + std::to_string(sends.size() + 1)});
    plan_.after(call);
    return Answer::of(sends.back().txid);
  }
  Lookup find_send(const std::string& address, std::int64_t sats, const std::string& /*label*/) override {
    int call = 0;
    plan_.before(call);
    ++lookups;
    if (unreachable_lookups > 0) {
      --unreachable_lookups;
      plan_.after(call);
      return Lookup::unknown("connect to the node: Connection refused");
    }
    for (const OnChainSend& send : sends) {
      if (send.address == address && send.sats == sats) {
        plan_.after(call);
        return Lookup::found(send.txid);
      }
    }
    plan_.after(call);
    return Lookup::absent();
  }
  Answer new_address() override {
    int call = 0;
    plan_.before(call);
    addresses.push_back("bcrt1qnode" + std::to_string(addresses.size() + 1));
    plan_.after(call);
    return Answer::of(addresses.back());
  }
  Lookup find_incoming(const std::string& address, std::int64_t sats) override {
    int call = 0;
    plan_.before(call);
    ++lookups;
    if (unreachable_lookups > 0) {
      --unreachable_lookups;
      plan_.after(call);
      return Lookup::unknown("connect to the node: Connection refused");
    }
    for (const OnChainSend& incoming : received) {
      if (incoming.address == address && incoming.sats == sats) {
        plan_.after(call);
        return Lookup::found(incoming.txid);
      }
    }
    plan_.after(call);
    return Lookup::absent();
  }

  bool refuse_sends = false;
  int unreachable_lookups = 0; // the next n lookups fail (unknown)
  int lookups = 0;             // find_send and find_incoming calls
  std::vector<OnChainSend> sends;
  std::vector<OnChainSend> received; // confirmed incoming outputs (the venue's withdrawals)
  std::vector<std::string> addresses;

private:
  CrashPlan& plan_;
};

struct VenueWithdrawal {
  std::string id;
  std::string address;
  std::int64_t sats = 0;
};

class FakeVenue final : public VenueWallet {
public:
  FakeVenue(CrashPlan& plan, FakeNode& node) : plan_(plan), node_(node) {}
  Answer deposit_address(hedging::VenueId /*venue*/) override {
    int call = 0;
    plan_.before(call);
    plan_.after(call);
    return Answer::of("bcrt1qderibitdeposit");
  }
  Lookup deposit_credited(hedging::VenueId /*venue*/, const std::string& txid) override {
    int call = 0;
    plan_.before(call);
    ++lookups;
    if (unreachable_lookups > 0) {
      --unreachable_lookups;
      plan_.after(call);
      return Lookup::unknown("deribit get_deposits: HTTP 500: internal_server_error");
    }
    // "completed" once the chain confirmed it: after `confirm_after_checks` asks
    const bool credited = credits && ++checks_[txid] > confirm_after_checks;
    plan_.after(call);
    return credited ? Lookup::found(txid) : Lookup::absent();
  }
  Answer request_withdrawal(hedging::VenueId /*venue*/, const std::string& address, std::int64_t sats,
                            const std::string& /*label*/) override {
    int call = 0;
    plan_.before(call);
    withdrawals.push_back({std::to_string(withdrawals.size() + 100), address, sats});
    // The venue broadcasts it; the node sees it arrive.
    node_.received.push_back({address, sats, "venuetx" + withdrawals.back().id});
    plan_.after(call);
    return Answer::of(withdrawals.back().id);
  }
  Lookup find_withdrawal(hedging::VenueId /*venue*/, const std::string& address, std::int64_t sats) override {
    int call = 0;
    plan_.before(call);
    ++lookups;
    if (unreachable_lookups > 0) {
      --unreachable_lookups;
      plan_.after(call);
      return Lookup::unknown("deribit get_withdrawals: HTTP 500: internal_server_error");
    }
    for (const VenueWithdrawal& withdrawal : withdrawals) {
      if (withdrawal.address == address && withdrawal.sats == sats) {
        plan_.after(call);
        return Lookup::found(withdrawal.id);
      }
    }
    plan_.after(call);
    return Lookup::absent();
  }

  bool credits = true;
  int unreachable_lookups = 0; // the next n lookups fail (unknown)
  int lookups = 0; // deposit_credited and find_withdrawal calls          // false: a deposit that never arrives
  int confirm_after_checks = 1; // pending this many times, then completed
  std::vector<VenueWithdrawal> withdrawals;

private:
  CrashPlan& plan_;
  FakeNode& node_;
  struct Checks {
    std::vector<std::pair<std::string, int>> entries;
    int& operator[](const std::string& key) {
      for (auto& [k, v] : entries) {
        if (k == key) {
          return v;
        }
      }
      entries.emplace_back(key, 0);
      return entries.back().second;
    }
  } checks_;
};

} // namespace synthusd::transfers::test
