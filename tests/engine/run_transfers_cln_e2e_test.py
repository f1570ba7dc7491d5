"""Collateral transfers end to end with Core Lightning as the operator's node:
`synthusd run` with [transfers] node = "cln", the venue simulator with its
wallet on, and the fake CLN wallet (tests/support/fake_cln_wallet.py: CLN's
JSON-RPC on a unix socket, "broadcasting" its sends to the simulator's test
chain). The same harness as run_transfers_e2e_test.py (lnd), shared in
transfers_e2e_support.py, with the CLN cases that differ: CLN's withdraw
keeps no label, so a send interrupted by kill -9 is found again by the
deposit address's output script and the exact amount, Deribit's deposit
address is the same for every deposit, and a withdrawal's receipt is an
output in listfunds.

  - deposits in a row to the one deposit address, the node in CLN's legacy
    "NNNmsat" format, leverage back in band after each;
  - kill -9 while the node holds a send to that same address, the node then
    broadcasting it and answering the restart's first three listtransactions
    with CLN's error -5 (counted in synthusd_transfer_lookups_failed_total,
    logged once, never held for the operator): the restart finds the new
    send (not the earlier deposit's) and completes; never two sends for one
    transfer (two sends of the same amount to one address:
    tests/transfers/cln_node_wallet_test.cpp);
  - kill -9 while the node holds the send, the node then dropping it: the
    transfer is held for the operator, never sent again;
  - withdrawals with kill -9 at every step, through the relay that holds
    private/withdraw (tests/support/held_venue_wallet.py): after CLN's
    address (newaddr) was journaled; while the relay holds the request, then
    passes it (found at the venue on restart, not asked again); after the
    venue took it; after CLN received it (in listfunds; the executor halted
    by /kill), the restart's first two listfunds answered with -5. Exactly
    one venue withdrawal per transfer, each to its own newaddr address;
  - with nothing to hedge, the collateral comes back to a CLN address
    (newaddr) and is matched in listfunds.

Run: python3 tests/engine/run_transfers_cln_e2e_test.py --synthusd build/synthusd --venue build/synthusd-venue
"""

from __future__ import annotations

import os
import shutil
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "support"))
from engine_harness import run_tests  # noqa: E402
from fake_cln_wallet import FakeClnWallet  # noqa: E402
from transfers_e2e_support import BINARIES, TransferSetup, read, wait_for  # noqa: E402


class ClnSetup(TransferSetup):
    """Venue, CLN node and engine in one temporary directory (plain HTTP to
    the venue: the TLS client is the one lnd's test covers)."""

    def __init__(self, *args, legacy: bool = False, **kwargs) -> None:
        self.legacy = legacy
        super().__init__(*args, **kwargs)

    def start_node(self) -> str:
        socket_path = os.path.join(self.directory, "lightning-rpc")
        self.node = FakeClnWallet(self.venue.url, socket_path, balance_sats=100_000_000, legacy=self.legacy).start()
        return f"""venue_tls = false
node = "cln"
node_rpc_socket = "{socket_path}"
node_feerate = "normal"
"""


class RunTransfersClnTest(unittest.TestCase):
    def test_deposits_to_the_reused_address_are_each_sent_once_across_kill_minus_nine(self) -> None:
        s = ClnSetup(collateral="0.01", credit_delay_ms=1000, legacy=True)
        try:
            s.start_engine()
            s.add_liability(150_000)  # $1,500 against $600: 2.5x, in band
            wait_for(lambda: (s.leverage() or 0) > 2.4, 30, "the hedge at 2.5x")

            def in_band() -> bool:
                lev = s.leverage()
                return lev is not None and 2.9 <= lev <= 4.0

            def complete(transfer_id: int) -> None:
                wait_for(lambda: s.has_step(transfer_id, "completed"), 30, f"transfer {transfer_id} completed")
                wait_for(in_band, 30, "leverage back in its band")

            # 1. No crash: the liability doubles, one deposit brings leverage back.
            s.add_liability(150_000)
            first = s.new_transfer(0)
            complete(first)
            address = s.has_step(first, "address")[1]
            self.assertEqual(len(s.node.sends), 1)
            self.assertEqual(s.node.sends[0]["address"], address)
            self.assertEqual(s.has_step(first, "sent")[1], s.node.sends[0]["txid"])

            # 2. kill -9 while the node holds the send; the node then broadcasts it.
            s.node.hold_sends = True
            s.add_liability(s.liability_cents)
            second = s.new_transfer(first)
            wait_for(s.node.held.is_set, 30, "the send held at the node")
            s.kill_engine()
            s.node.release_held()
            wait_for(lambda: len(s.node.sends) == 2, 10, "the held send broadcast")
            # CLN restarting too: its first three listtransactions answer its
            # error -5, which decides nothing (not needs_operator, not resent).
            s.node.failing_lookups = 3
            s.start_engine()
            complete(second)
            self.assertEqual(s.has_step(second, "address")[1], address, "Deribit's address is reused")
            self.assertEqual(s.has_step(second, "sent")[1], s.node.sends[1]["txid"],
                             "the restart took the new send, not the first deposit's")
            self.assertEqual(s.node.failed_lookups, 3)
            self.assertEqual(s.engine.metric("synthusd_transfer_lookups_failed_total"), 3)
            self.assertEqual([w[0] for w in s.steps(second)], ["requested", "address", "sending", "sent", "completed"])
            # Logged once for the streak, with CLN's code and message.
            wait_for(lambda: "listtransactions: CLN error -5: lightningd is shutting down" in read(s.engine.log_path),
                     10, "the unanswered lookup logged")
            self.assertEqual(read(s.engine.log_path).count("a lookup went unanswered"), 1)
            self.assertEqual(s.node.withdraw_requests, 2)

            # 3. kill -9 while the node holds the send; the node then drops it.
            s.node.hold_sends = True
            s.node.drop_held = True
            s.add_liability(s.liability_cents)
            third = s.new_transfer(second)
            wait_for(s.node.held.is_set, 30, "the send held at the node")
            s.kill_engine()
            s.node.release_held()
            wait_for(lambda: not s.node.held.is_set(), 10, "the held send dropped")
            s.start_engine()
            wait_for(lambda: s.has_step(third, "needs_operator"), 30, "the interrupted send reported")
            wait_for(lambda: s.engine.metric("synthusd_transfers_needing_operator") == 1, 10, "the metric")

            self.assertEqual(len(s.node.sends), 2, "one send per transfer, none for the dropped one")
            self.assertEqual(s.node.withdraw_requests, 3)
            self.assertEqual(sorted(d["state"] for d in s.venue.deposits()), ["completed"] * 2)
        finally:
            s.close()
        shutil.rmtree(s.directory, ignore_errors=True)

    def test_withdrawals_to_cln_execute_once_and_survive_kill_minus_nine_at_every_step(self) -> None:
        # Nothing hedged: leverage 0 is below the band (2..3), so whatever the
        # account holds is withdrawn; each later withdrawal is made by topping
        # the account up from outside. poll_ms 3000 for the first start only (a
        # kill between the address and the request: the margin the test has to
        # kill once it saw the address); timeout_ms 30000 so that a request
        # parked at the relay is still waited for when the test kills; the
        # venue's withdrawal stays unconfirmed for 2 s (the margin to see it so).
        s = ClnSetup(collateral="0.01", credit_delay_ms=300, low_bounds=(2, 3), relay=True,
                     withdrawal_delay_ms=2000, timeout_ms=30_000, poll_ms=3000)
        relay = s.relay
        assert relay is not None
        try:
            def completed(transfer_id: int) -> None:
                wait_for(lambda: s.has_step(transfer_id, "completed"), 30, f"withdrawal {transfer_id} completed")

            def address_of(transfer_id: int) -> str:
                return s.has_step(transfer_id, "address")[1]

            # 1. kill -9 after CLN's address (newaddr) was journaled, before the venue is asked.
            s.start_engine()
            first = s.new_transfer(0)
            wait_for(lambda: s.has_step(first, "address"), 30, "the node's address journaled")
            s.kill_engine()
            self.assertIsNone(s.has_step(first, "requesting"))
            self.assertEqual(relay.withdraw_requests, 0)
            self.assertEqual(s.node.addresses, [address_of(first)])
            s.set_poll_ms(100)
            s.start_engine()
            completed(first)
            self.assertEqual(s.node.addresses, [address_of(first)], "the journaled address is used, no new one")

            # 2. kill -9 while the relay holds private/withdraw, then passes it:
            # the restart finds it at the venue and does not ask again.
            relay.hold_withdrawals = True
            s.venue.top_up(1_000_000)
            second = s.new_transfer(first)
            wait_for(relay.held.is_set, 30, "the withdrawal held on its way to the venue")
            self.assertTrue(s.has_step(second, "requesting"))
            s.kill_engine()
            relay.release_held()
            wait_for(lambda: s.venue.withdrawal_to(address_of(second)), 10, "the venue took the held request")
            s.start_engine()
            completed(second)
            self.assertIsNone(s.has_step(second, "needs_operator"))

            # 3. kill -9 after the venue took it, while it is still unconfirmed.
            s.venue.top_up(1_000_000)
            third = s.new_transfer(second)
            wait_for(lambda: s.has_step(third, "requested_at_venue"), 30, "the venue's withdrawal id journaled")
            self.assertEqual(s.venue.withdrawal_to(address_of(third))["state"], "unconfirmed")
            s.kill_engine()
            s.start_engine()
            completed(third)

            # 4. kill -9 after CLN received it (listfunds shows it), the executor
            # halted by /kill so that the completion is not journaled; CLN
            # restarting too answers the restart's first two listfunds with -5.
            s.venue.top_up(1_000_000)
            fourth = s.new_transfer(third)
            wait_for(lambda: s.has_step(fourth, "requested_at_venue"), 30, "the venue's withdrawal id journaled")
            s.halt_transfers()
            wait_for(lambda: any(o["address"] == address_of(fourth) for o in s.node.funds()), 10,
                     "the withdrawal in CLN's listfunds")
            self.assertIsNone(s.has_step(fourth, "completed"))
            s.kill_engine()
            s.node.failing_lookups = 2
            s.start_engine()
            completed(fourth)
            self.assertEqual(s.node.failed_lookups, 2)
            self.assertEqual(s.engine.metric("synthusd_transfer_lookups_failed_total"), 2)
            self.assertIn("listfunds: CLN error -5: lightningd is shutting down", read(s.engine.log_path))
            self.assertEqual([w[0] for w in s.steps(fourth)],
                             ["requested", "address", "requesting", "requested_at_venue", "completed"])

            # One withdrawal at the venue per transfer, each to its own newaddr
            # address and received by CLN; nothing ever sent from the node.
            done = (first, second, third, fourth)
            self.assertEqual(s.transfer_ids(), list(done))
            self.assertEqual(sorted(s.node.addresses), sorted(address_of(t) for t in done))
            withdrawals = s.venue.withdrawals()
            self.assertEqual(sorted(w["address"] for w in withdrawals), sorted(s.node.addresses))
            self.assertEqual([w["state"] for w in withdrawals], ["completed"] * 4)
            self.assertEqual((relay.withdraw_requests, relay.withdrawals_passed), (4, 4))
            self.assertEqual({t: int(s.has_step(t, "requested")[3]) for t in done}, dict.fromkeys(done, 1_000_000))
            self.assertEqual(s.node.received_sats(), 4_000_000)
            self.assertEqual(s.node.sends, [])
            self.assertEqual(s.node.withdraw_requests, 0)
            self.assertIsNone(next((t for t in done if s.has_step(t, "needs_operator")), None))
            wait_for(lambda: s.engine.metric("synthusd_transfers_completed") == 4, 10, "the completions counted")
            self.assertEqual(s.engine.metric("synthusd_transfers_needing_operator"), 0)
        finally:
            s.close()
        shutil.rmtree(s.directory, ignore_errors=True)

    def test_collateral_comes_back_to_a_cln_address_and_is_matched_in_listfunds(self) -> None:
        s = ClnSetup(collateral="0.02", credit_delay_ms=500, low_bounds=(2, 3))
        try:
            s.start_engine()
            withdrawal = s.new_transfer(0)
            wait_for(lambda: s.has_step(withdrawal, "completed"), 30, "the withdrawal completed")
            self.assertIn(s.has_step(withdrawal, "address")[1], s.node.addresses)
            self.assertEqual(s.node.received_sats(), 2_000_000)
            self.assertEqual(s.node.sends, [])
            s.add_liability(150_000)
            deposit = s.new_transfer(withdrawal)
            wait_for(lambda: s.has_step(deposit, "completed"), 30, "the deposit completed")
            wait_for(lambda: 2.0 <= (s.leverage() or 0) <= 4.0, 30, "leverage in its band")
            self.assertEqual(len(s.node.sends), 1)
        finally:
            s.close()
        shutil.rmtree(s.directory, ignore_errors=True)


if __name__ == "__main__":
    run_tests(BINARIES)
