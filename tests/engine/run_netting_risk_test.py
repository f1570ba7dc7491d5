"""Netting and the risk trigger live in `synthusd run`, end to end on loopback:
the venue simulator, the engine, and a wallet backend that also sends the
intake's provider_increase / provider_decrease and risk_position lines
(liabilities/PROTOCOL.md). Each test starts its own processes.

Run: python3 tests/engine/run_netting_risk_test.py --synthusd build/synthusd --venue build/synthusd-venue
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from engine_harness import Engine, Venue, WalletClient, engine_config, run_tests, summary, wait_until  # noqa: E402

BINARIES = {"synthusd": "build/synthusd", "venue": "build/synthusd-venue"}
POSITION = 'synthusd_position_contracts{venue="1",instrument="BTC-PERPETUAL"}'

# Rule 9 routed: market 7's positions are hedged on instrument 1; a hedge
# closes after 2 s without risk (the Timer events the kernel thread makes
# every 100 ms drive it).
RISK_ROUTES = """
[[risk_routes]]
market = 7
instrument = 1

[risk_trigger]
vault_factor = 0.8
vault_profit_limit_factor = 0.9
close_after_seconds = 2
"""


class NettingAndRiskTriggerTest(unittest.TestCase):
    def setUp(self) -> None:
        self.directory = tempfile.mkdtemp(prefix="sunr", dir="/tmp")
        self.venue = Venue(BINARIES["venue"], self.directory)
        self.config = engine_config(self.directory, self.venue, extra=RISK_ROUTES)
        self.engine = Engine(BINARIES["synthusd"], self.config, self.directory)
        self.summary_path = os.path.join(self.directory, "summary.json")
        self.engine.start("--summary-json", self.summary_path)
        self.wallet = WalletClient(self.engine.socket)
        self.assertTrue(self.wallet.connect())

    def tearDown(self) -> None:
        self.wallet.close()
        if self.engine.process and self.engine.process.poll() is None:
            self.engine.kill9()
        self.venue.stop()
        if os.environ.get("SYNTHUSD_KEEP_TEST_DIRECTORY"):
            print(f"kept {self.directory}", file=sys.stderr)
        else:
            shutil.rmtree(self.directory, ignore_errors=True)

    def deliver(self, events: list[dict], timeout: float = 20.0) -> None:
        for event in events:
            self.wallet.send(event)
        self.assertTrue(wait_until(lambda: (self.wallet.pump(), not self.wallet.unacked)[1], timeout),
                        f"{len(self.wallet.unacked)} events never acknowledged; rejects {self.wallet.rejects}")

    def metric(self, name: str) -> float:
        return self.engine.metric(name) or 0

    def in_band(self) -> bool:
        return 0.95 <= self.metric("synthusd_hedge_ratio") <= 1.03

    def sold(self) -> int:
        return sum(quantity for side, quantity in self.venue.outbound_fills() if side == "2")

    def test_netting_lowers_the_contracts_sent_by_the_netted_amount_and_survives_a_restart(self) -> None:
        # $100,000 owed to receivers, $30,000 of it netted against a stable
        # provider's interest: $70,000 reaches the venue, 7,000 contracts of $10.
        # The provider's interest first: with the credit first, a kernel that
        # reads the two lines in separate batches would rightly hedge the whole
        # $100,000 and buy back when the interest arrives (seen under load).
        self.deliver([{"id": "nr-provider-1", "kind": "provider_increase", "provider": "alice",
                       "usd_cents": 3_000_000},
                      {"id": "nr-credit", "kind": "usd_credit", "usd_cents": 10_000_000}])
        self.assertTrue(wait_until(lambda: self.metric("synthusd_venue_hedge_usd_cents") == 7_000_000 and
                                   self.in_band() and self.metric(POSITION) <= -6_860),
                        f"venue hedge {self.metric('synthusd_venue_hedge_usd_cents')}, position "
                        f"{self.metric(POSITION)}")
        self.assertEqual(self.metric("synthusd_provider_interest_usd_cents"), 3_000_000)
        self.assertEqual(self.metric("synthusd_liability_usd_cents"), 10_000_000)
        # What went to the venue is the net: the band's safe range of $70,000
        # (6,860 to 7,000 contracts), 3,000 contracts fewer than unnetted.
        self.assertTrue(wait_until(lambda: 6_860 <= self.sold() <= 7_000, 5), self.sold())
        self.assertEqual(-self.metric(POSITION), self.sold())

        # Killed and restarted: the provider's interest comes back from the
        # journal, and the same line again is a duplicate (its id was journaled).
        self.engine.kill9()
        self.wallet.close()
        self.engine = Engine(BINARIES["synthusd"], self.config, self.directory)
        self.engine.start("--summary-json", self.summary_path)
        self.assertTrue(self.wallet.connect())
        self.wallet.duplicates = 0
        self.deliver([{"id": "nr-provider-1", "kind": "provider_increase", "provider": "alice",
                       "usd_cents": 3_000_000}])
        self.assertEqual(self.wallet.duplicates, 1)
        self.assertEqual(self.metric("synthusd_provider_interest_usd_cents"), 3_000_000)

        # The provider closes: the whole $100,000 reaches the venue.
        self.deliver([{"id": "nr-provider-2", "kind": "provider_decrease", "provider": "alice",
                       "usd_cents": 3_000_000}])
        self.assertTrue(wait_until(lambda: self.metric("synthusd_venue_hedge_usd_cents") == 10_000_000 and
                                   self.metric(POSITION) <= -9_800 and self.in_band()),
                        f"position {self.metric(POSITION)}")
        code, out = self.engine.terminate()
        self.assertEqual(code, 0, out)
        self.assertEqual(summary(self.summary_path)["events_lost"], 0)
        replay = subprocess.run([BINARIES["synthusd"], "replay", os.path.join(self.directory, "state", "journal"),
                                 "--config", self.config], capture_output=True, text=True, check=True).stdout
        self.assertIn("tail clean", replay)

    def test_a_risk_position_opens_its_hedge_and_closes_it_after_the_window_without_risk(self) -> None:
        # The venue up and priced: a hedge order needs a touch to be shaped,
        # and the kernel opens a risk hedge on an observation, not on a timer
        # (an order refused for want of a price waits for the next one).
        self.assertTrue(wait_until(lambda: self.engine.metric("synthusd_venue_up", '{venue="deribit"}') == 1 and
                                   self.engine.metric("synthusd_oracle_valid") == 1),
                        "the venue never came up with prices")
        # An external long of $20,000 whose shield no longer covers its P&L
        # (shield - pnl <= 0): at risk, hedged with 2,000 contracts short.
        at_risk = {"kind": "risk_position", "market": 7, "position": 42, "notional_usd_cents": 2_000_000,
                   "vault_usd_cents": 10_000_000, "shield_usd_cents": 1_000_000, "pnl_usd_cents": 3_000_000}
        self.deliver([{"id": "risk-1", **at_risk}])
        self.assertTrue(wait_until(lambda: self.metric(POSITION) == -2_000, 10),
                        f"no risk hedge: position {self.metric(POSITION)}")
        # The liability hedge does not see the risk hedge as its own.
        self.assertEqual(self.metric("synthusd_hedge_exposure_usd_cents"), 0)
        # The same position without risk (the shield covers the P&L again):
        # the hedge stays for the window, then closes.
        self.deliver([{"id": "risk-2", **at_risk, "pnl_usd_cents": 0}])
        no_risk_since = time.monotonic()
        self.assertEqual(self.metric(POSITION), -2_000)  # not at once: the window has just begun
        self.assertTrue(wait_until(lambda: self.metric(POSITION) == 0, 10), "the risk hedge never closed")
        self.assertGreaterEqual(time.monotonic() - no_risk_since, 1.5)
        self.assertEqual(self.sold(), 2_000)
        bought = sum(quantity for side, quantity in self.venue.outbound_fills() if side == "1")
        self.assertEqual(bought, 2_000)

    def test_provider_and_risk_lines_are_checked_and_bad_ones_refused_with_reasons(self) -> None:
        assert self.wallet.sock is not None
        bad = [
            b'{"id":"p-x","kind":"provider_increase","usd_cents":100,"ts":1}',  # no provider
            b'{"id":"p-y","kind":"provider_increase","provider":"bob","sats":100,"ts":1}',
            b'{"id":"r-x","kind":"risk_position","position":1,"notional_usd_cents":5,"ts":1}',  # no market
            b'{"id":"r-y","kind":"risk_position","market":70000,"position":1,"notional_usd_cents":5,"ts":1}',
            b'{"id":"c-x","kind":"usd_credit","usd_cents":100,"market":7,"ts":1}',
        ]
        self.wallet.sock.sendall(b"\n".join(bad) + b"\n")
        self.deliver([{"id": "r-unrouted", "kind": "risk_position", "market": 8, "position": 1,
                       "notional_usd_cents": 500_000, "vault_usd_cents": 100, "shield_usd_cents": 0,
                       "pnl_usd_cents": 0}])
        reasons = [r["reason"] for r in self.wallet.rejects]
        self.assertEqual(len(reasons), 5, reasons)
        self.assertIn("provider is missing", reasons[0])
        self.assertIn("provider_increase and provider_decrease take", reasons[1])
        self.assertIn("market is missing", reasons[2])
        self.assertIn("market must be an integer from 0 to 65535", reasons[3])
        self.assertIn("usd_credit and usd_debit take no provider or risk position fields", reasons[4])
        # A market without a route is journaled but the kernel refuses it (counted, alerted).
        self.assertTrue(wait_until(lambda: self.metric("synthusd_kernel_invalid_events_total") >= 1, 5))
        self.assertEqual(self.metric(POSITION), 0)


if __name__ == "__main__":
    run_tests(BINARIES)
