"""Collateral transfers end to end with Core Lightning as the operator's node:
`synthusd run` with [transfers] node = "cln", the venue simulator with its
wallet on, and the fake CLN wallet (tests/support/fake_cln_wallet.py: CLN's
JSON-RPC on a unix socket, "broadcasting" its sends to the simulator's test
chain). The same harness as run_transfers_e2e_test.py (lnd), with the CLN
cases that differ: CLN's withdraw keeps no label, so a send interrupted by
kill -9 is found again by the deposit address's output script and the exact
amount, and Deribit's deposit address is the same for every deposit.

  - deposits in a row to the one deposit address, the node in CLN's legacy
    "NNNmsat" format, leverage back in band after each;
  - kill -9 while the node holds a send to that same address, the node then
    broadcasting it: the restart finds the new send (not the earlier
    deposit's) and completes; never two sends for one transfer (two sends of
    the same amount to one address: tests/transfers/cln_node_wallet_test.cpp);
  - kill -9 while the node holds the send, the node then dropping it: the
    transfer is held for the operator, never sent again;
  - with nothing to hedge, the collateral comes back to a CLN address
    (newaddr) and is matched in listfunds.

Run: python3 tests/engine/run_transfers_cln_e2e_test.py --synthusd build/synthusd --venue build/synthusd-venue
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "support"))
import run_transfers_e2e_test as lnd_e2e  # noqa: E402
from engine_harness import Engine, engine_config, run_tests  # noqa: E402
from fake_cln_wallet import FakeClnWallet  # noqa: E402

wait_for = lnd_e2e.wait_for


class ClnSetup(lnd_e2e.Setup):
    """Venue, CLN node and engine in one temporary directory."""

    def __init__(self, collateral: str, credit_delay_ms: int, low_bounds: tuple[int, int] = (0, 1),
                 legacy: bool = False) -> None:
        # Not super().__init__: that one builds an lnd node.
        self.directory = tempfile.mkdtemp(prefix="sucl", dir="/tmp")
        self.venue = lnd_e2e.WalletVenue(lnd_e2e.BINARIES["venue"], self.directory, collateral, credit_delay_ms)
        self.relay = None  # plain HTTP on loopback, no relay (Setup.close looks for it)
        socket_path = os.path.join(self.directory, "lightning-rpc")
        self.node = FakeClnWallet(self.venue.url, socket_path, balance_sats=100_000_000, legacy=legacy).start()
        os.environ["SYNTHUSD_VENUE_CLIENT_ID"] = lnd_e2e.CLIENT_ID
        os.environ["SYNTHUSD_VENUE_CLIENT_SECRET"] = lnd_e2e.CLIENT_SECRET
        extra = f"""
[collateral]
low_bound = {low_bounds[0]}
low_safe_bound = {low_bounds[1]}
high_safe_bound = 3
high_bound = 4
minimum_transfer_usd = 100

[transfers]
enabled = true
venue = "deribit"
venue_host = "127.0.0.1"
venue_port = {self.venue.wallet_port}
venue_tls = false
node = "cln"
node_rpc_socket = "{socket_path}"
node_feerate = "normal"
credit_timeout_seconds = 600
poll_ms = 100
timeout_ms = 5000
"""
        self.config = engine_config(self.directory, self.venue, extra=extra)
        self.journal = os.path.join(self.directory, "state", "transfers.journal")
        self.engine = Engine(lnd_e2e.BINARIES["synthusd"], self.config, self.directory)
        self.wallet = None
        self.liability_cents = 0
        self.events = 0


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
            s.start_engine()
            complete(second)
            self.assertEqual(s.has_step(second, "address")[1], address, "Deribit's address is reused")
            self.assertEqual(s.has_step(second, "sent")[1], s.node.sends[1]["txid"],
                             "the restart took the new send, not the first deposit's")

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
    run_tests(lnd_e2e.BINARIES)
