"""`synthusd run` with two venues end to end on loopback: two venue simulators
(each its own FIX acceptor and WebSocket tickers, different funding), one
engine with a gateway and a feed per venue, and a wallet backend on the
liability intake. Each test starts its own processes.

What the kernel's allocation, failover and funding-guard rules do once they
are live: the hedge split by weight, a venue going down (its stranded short
still counts) and coming back (rebalanced), and the funding guard switching
the hedge away from a venue whose 8-hour rate stays negative, without
switching back and forth on a noisy rate.

Run: python3 tests/engine/run_multi_venue_test.py --synthusd build/synthusd --venue build/synthusd-venue
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from engine_harness import Engine, Venue, WalletClient, hot_path_line, run_tests, summary, wait_until  # noqa: E402

BINARIES = {"synthusd": "build/synthusd", "venue": "build/synthusd-venue"}
CONTRACT_USD = 10  # the simulator's BTC-PERPETUAL: $10 per contract


def two_venue_config(directory: str, alpha: Venue, beta: Venue, *, kernel_extra: str = "",
                     heartbeat_seconds: int = 5) -> str:
    """Venues alpha (id 1) and beta (id 2), weight 1 each, one BTC-PERPETUAL
    each; a feed and a Deribit-dialect gateway per venue."""
    venues = ""
    for venue_id, name, venue in ((1, "alpha", alpha), (2, "beta", beta)):
        venues += f"""
[[venues]]
id = {venue_id}
name = "{name}"
weight = 1
"""
    instruments = ""
    feeds = ""
    gateways = ""
    for venue_id, name, venue in ((1, "alpha", alpha), (2, "beta", beta)):
        instruments += f"""
[[instruments]]
id = {venue_id}
venue = "{name}"
symbol = "BTC-PERPETUAL"
kind = "inverse_perpetual"
contract_value_usd = {CONTRACT_USD}
tick_size = 0.5
maker_fee = 0
taker_fee = 0.0005
"""
        feeds += f"""
[[feeds]]
venue = "{name}"
protocol = "deribit"
host = "127.0.0.1"
port = {venue.ws_port}
path = "/ws/api/v2"
tls = false
symbols = ["BTC-PERPETUAL"]
"""
        gateways += f"""
[[gateways]]
venue = "{name}"
dialect = "deribit"
host = "127.0.0.1"
port = {venue.fix_port}
sender_comp_id = "SYNTHUSD"
target_comp_id = "{venue.comp_id}"
heartbeat_seconds = {heartbeat_seconds}
reconnect_seconds = 1
reset_on_logon = true
file_store = false
position_request_seconds = 1
collateral_inquiry = true
collateral_request_seconds = 1
"""
    text = f"""{venues}{instruments}
[bands]
policy = "stablesats"
minimum_liability_usd = 50
{kernel_extra}
[engine]
wait = "blocking"
{hot_path_line()}
state_directory = "{directory}/state"
timer_interval_ms = 100
{feeds}
[oracle]                       # the two simulators replay the same price path: they agree
min_sources = 1
jump_confirmations = 1
{gateways}
[intake]
unix_socket = "{directory}/liability.sock"

[http]
port = 0

[risk]
max_order_contracts = 100000
max_position_contracts = 10000000
max_order_notional_usd = 10000000
max_aggregate_notional_usd = 100000000
orders_per_second = 1000
order_burst = 1000
messages_per_second = 2000
message_burst = 2000
"""
    path = os.path.join(directory, "engine.toml")
    with open(path, "w") as out:
        out.write(text)
    return path


class TwoVenueRun(unittest.TestCase):
    """One engine, two simulators; subclasses say how beta's funding moves."""

    kernel_extra = ""
    heartbeat_seconds = 5

    def setUp(self) -> None:
        self.directory = tempfile.mkdtemp(prefix="sumv", dir="/tmp")
        self.alpha = Venue(BINARIES["venue"], self.directory, "--funding-rate", "0.0001", comp_id="ALPHASERVER",
                           name="alpha")
        self.beta = Venue(BINARIES["venue"], self.directory, *self.extra_beta_arguments(), comp_id="BETASERVER",
                          name="beta")
        self.config = two_venue_config(self.directory, self.alpha, self.beta, kernel_extra=self.kernel_extra,
                                       heartbeat_seconds=self.heartbeat_seconds)
        self.engine = Engine(BINARIES["synthusd"], self.config, self.directory)
        self.summary_path = os.path.join(self.directory, "summary.json")
        self.engine.start("--summary-json", self.summary_path)
        self.wallet = WalletClient(self.engine.socket)
        self.assertTrue(self.wallet.connect())

    def extra_beta_arguments(self) -> tuple[str, ...]:
        return ("--funding-rate", "0.0001")

    def tearDown(self) -> None:
        self.wallet.close()
        if self.engine.process and self.engine.process.poll() is None:
            self.engine.kill9()
        self.alpha.stop()
        self.beta.stop()
        if os.environ.get("SYNTHUSD_KEEP_TEST_DIRECTORY"):
            print(f"kept {self.directory}", file=sys.stderr)
        else:
            shutil.rmtree(self.directory, ignore_errors=True)

    def deliver(self, events: list[dict], timeout: float = 20.0) -> None:
        for event in events:
            self.wallet.send(event)
        self.assertTrue(wait_until(lambda: (self.wallet.pump(), not self.wallet.unacked)[1], timeout),
                        f"{len(self.wallet.unacked)} events never acknowledged")

    def metrics(self) -> dict[str, float]:
        _, text = self.engine.http("GET", "/metrics")
        values = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                values[name] = float(value)
        return values

    def position(self, venue_id: int) -> float:
        return self.metrics().get(f'synthusd_position_contracts{{venue="{venue_id}",instrument="BTC-PERPETUAL"}}', 0)

    def both_venues_up(self) -> bool:
        m = self.metrics()
        return m.get('synthusd_venue_up{venue="alpha"}') == 1 and m.get('synthusd_venue_up{venue="beta"}') == 1

    def in_band(self) -> bool:
        return 0.95 <= (self.metrics().get("synthusd_hedge_ratio") or 0) <= 1.03

    def alerts(self, name: str) -> list[str]:
        with open(self.engine.log_path) as log:
            return re.findall(rf"kernel alert {name}: .*", log.read())

    def finish(self, liability_cents: int) -> dict:
        up = self.both_venues_up()
        logouts_before = {venue.comp_id: len(venue.inbound_messages("5")) for venue in (self.alpha, self.beta)}
        code, out = self.engine.terminate()
        self.assertEqual(code, 0, out)
        if up:
            # Shutdown logs out of every venue that is up (with one_thread,
            # of both at once, taking their reports meanwhile).
            for venue in (self.alpha, self.beta):
                self.assertTrue(wait_until(lambda v=venue: len(v.inbound_messages("5")) > logouts_before[v.comp_id], 5),
                                f"{venue.comp_id} got no Logout at shutdown")
        result = summary(self.summary_path)
        self.assertEqual(result["events_lost"], 0)
        self.assertEqual(result["liability_cents"], liability_cents)
        return result


class AllocationAndFailoverTest(TwoVenueRun):
    heartbeat_seconds = 1  # a hung venue is noticed within a few seconds (FIX test request, then logout)

    def test_the_hedge_splits_by_weight_fails_over_to_the_venue_left_and_rebalances_on_return(self) -> None:
        self.assertTrue(wait_until(self.both_venues_up), "both gateways never logged on and reconciled")
        self.deliver([{"id": "mv-1", "kind": "usd_credit", "usd_cents": 10_000_000}])  # $100,000
        # Weight 1 : 1 -> $50,000 = 5,000 contracts each (each slot kept in its band).
        self.assertTrue(wait_until(lambda: self.position(1) <= -4_750 and self.position(2) <= -4_750 and
                                   self.in_band()),
                        f"no even split: alpha {self.position(1)}, beta {self.position(2)}")
        beta_short = self.position(2)

        # Beta hangs (SIGSTOP: no heartbeats, no tickers; the gateway's
        # heartbeat check takes the session down). Its short stays and still
        # hedges: the next $50,000 goes to alpha alone, and beta's share is
        # not hedged twice.
        self.beta.process.send_signal(signal.SIGSTOP)
        try:
            self.assertTrue(wait_until(lambda: self.metrics().get('synthusd_venue_up{venue="beta"}') == 0, 15),
                            "beta never marked down")
            self.deliver([{"id": "mv-2", "kind": "usd_credit", "usd_cents": 5_000_000}])
            self.assertTrue(wait_until(lambda: self.position(1) <= -9_500 and self.in_band()),
                            f"alpha did not take the new liability: alpha {self.position(1)}")
            self.assertEqual(self.position(2), beta_short)  # stranded, still counted
            self.assertGreaterEqual(self.position(1), -10_300)  # ... and not hedged twice
        finally:
            # Beta comes back with its account as it was; the kernel splits
            # the $150,000 evenly again: alpha buys back, beta sells.
            self.beta.process.send_signal(signal.SIGCONT)
        self.assertTrue(wait_until(self.both_venues_up, 30), "beta never came back up")
        self.assertTrue(wait_until(lambda: -7_900 <= self.position(1) <= -7_100 and
                                   -7_900 <= self.position(2) <= -7_100 and self.in_band(), 20),
                        f"no rebalance on return: alpha {self.position(1)}, beta {self.position(2)}")
        result = self.finish(15_000_000)
        self.assertTrue(result["within_band"])


class FundingGuardTest(TwoVenueRun):
    """Beta's 8-hour rate (funding_8h on its tickers) follows a schedule in
    simulated seconds from the simulator's start: positive, then noisy
    around the engage level, then negative for longer than the guard's
    window (still noisy, and in its second half above the engage level but
    below the release level), then positive again. The guard engages once
    and releases once."""

    # engage_after_hours = 0.0005 h = 1.8 s of continuous readings below
    # -0.0001; release at >= 0; the hedge moves 0.2 s after either (the
    # default 5 minutes, compressed like the rest).
    kernel_extra = """
[funding_guard]
engage_below = -0.0001
engage_after_hours = 0.0005
release_at_or_above = 0
move_after_seconds = 0.2
"""

    def extra_beta_arguments(self) -> tuple[str, ...]:
        rows = ["epoch_ms,funding_8h"]
        start = 1_000_000_000_000  # any base: the simulator rebases the series to its own start

        def phase(begin_s: float, end_s: float, rates: tuple[str, ...], every_s: float = 0.3) -> None:
            t, k = begin_s, 0
            while t < end_s - 1e-9:
                rows.append(f"{start + int(t * 1000)},{rates[k % len(rates)]}")
                t, k = t + every_s, k + 1

        phase(0, 6, ("0.0001",), 6)
        # noisy around the engage level: never 1.8 s in a row below it
        phase(6, 10, ("-0.0003", "0.00005"))
        # sustained below: the guard engages after 1.8 s
        phase(10, 13, ("-0.0003", "-0.00015"))
        # between engage and release levels (hysteresis): stays engaged
        phase(13, 16, ("-0.00005", "-0.0003"))
        phase(16, 17, ("0.0001",), 1)
        path = os.path.join(self.directory, "beta-funding.csv")
        with open(path, "w") as out:
            out.write("\n".join(rows) + "\n")
        # The simulator moves its quote (funding included) once per path
        # step: 100 ms steps sample the 0.3 s schedule without aliasing it
        # into longer runs (1 s steps would).
        return ("--funding-csv", path, "--step-ms", "100")

    def test_the_guard_moves_the_hedge_off_a_venue_with_sustained_negative_funding_without_flapping(self) -> None:
        started = time.monotonic()
        self.assertTrue(wait_until(self.both_venues_up), "both gateways never logged on and reconciled")
        self.deliver([{"id": "fg-1", "kind": "usd_credit", "usd_cents": 10_000_000}])
        guard = 'synthusd_funding_guard_engaged{venue="2",instrument="BTC-PERPETUAL"}'
        # Engaged: beta takes no share, its short is bought back, alpha holds it all.
        self.assertTrue(wait_until(lambda: self.metrics().get(guard) == 1, 25), "the guard never engaged")
        self.assertTrue(wait_until(lambda: self.position(2) == 0 and self.position(1) <= -9_500 and self.in_band(),
                                   10),
                        f"no switch to alpha: alpha {self.position(1)}, beta {self.position(2)}")
        # Released once the rate is back at 0 or above: beta takes its share again.
        self.assertTrue(wait_until(lambda: self.metrics().get(guard) == 0, 20), "the guard never released")
        self.assertTrue(wait_until(lambda: self.position(2) <= -4_750 and self.position(1) >= -5_250 and
                                   self.in_band(), 10),
                        f"no return to beta: alpha {self.position(1)}, beta {self.position(2)}")
        result = self.finish(10_000_000)
        self.assertTrue(result["within_band"])
        # One engagement and one release over the whole noisy schedule.
        engaged = self.alerts("funding_guard_engaged")
        released = self.alerts("funding_guard_released")
        self.assertEqual(len(engaged), 1, engaged)
        self.assertEqual(len(released), 1, released)
        self.assertTrue(engaged[0].startswith("kernel alert funding_guard_engaged: 2 2 "), engaged)
        self.assertLess(time.monotonic() - started, 40)


if __name__ == "__main__":
    run_tests(BINARIES)
