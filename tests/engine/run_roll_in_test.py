"""`synthusd run` rolling across a dated future's expiry, end to end on
loopback, with no restart: one venue simulator serving the perpetual and two
dated inverse futures (the first expiring 30 s after it starts, the next
ten minutes later), one engine whose [[instruments]] entry with
series = "venue" takes its futures from the simulator's
public/get_instruments when it starts.

The first future's basis (50 % a year) beats the perpetual's funding
(0.01 % per 8 h, 11 % a year) and the next future's (30 %), so the hedge
goes into it; roll_before_expiry (8 s) then makes it ineligible and the
kernel moves the hedge into the next future before the expiry; the
simulator settles the expired one (nothing left to settle) and stops
listing it.

Run: python3 tests/engine/run_roll_in_test.py --synthusd build/synthusd --venue build/synthusd-venue
"""

from __future__ import annotations

import datetime
import os
import shutil
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from engine_harness import (Engine, Venue, WalletClient, engine_config, run_tests, summary,  # noqa: E402
                            wait_until)

BINARIES = {"synthusd": "build/synthusd", "venue": "build/synthusd-venue"}
FIRST_EXPIRY_SECONDS = 30
ROLL_BEFORE_EXPIRY_HOURS = "0.0022"  # 7.9 s


def deribit_name(day: datetime.date) -> str:
    """Deribit's future naming: BTC-5DEC26 (no leading zero on the day)."""
    return f"BTC-{day.day}{day.strftime('%b').upper()}{day.strftime('%y')}"


# The harness's one-venue configuration plus the venue's dated futures
# (ids 10.. by expiry) and a short roll window.
FUTURES = f"""
[[instruments]]
id = 10
venue = "deribit"
symbol = "BTC"
kind = "inverse_future"
series = "venue"
contract_value_usd = 10
tick_size = 0.5
maker_fee = 0
taker_fee = 0

[carry]
roll_before_expiry_hours = {ROLL_BEFORE_EXPIRY_HOURS}
"""


class RollInTest(unittest.TestCase):
    def setUp(self) -> None:
        self.directory = tempfile.mkdtemp(prefix="suroll", dir="/tmp")
        today = datetime.datetime.now(datetime.timezone.utc).date()
        self.expiring = deribit_name(today)
        self.next = deribit_name(today + datetime.timedelta(days=1))
        self.venue = Venue(BINARIES["venue"], self.directory, "--funding-rate", "0.0001",
                           "--future", self.expiring, "--future", self.next,
                           "--future-expiry-seconds", f"{FIRST_EXPIRY_SECONDS},600",
                           "--future-annual-basis", "0.5,0.3")
        self.started = time.monotonic()
        self.venue_lines: list[str] = []
        threading.Thread(target=self.read_venue_output, daemon=True).start()
        # Taker fees 0 here: the carry rule moves the hedge onto a future only
        # if its advantage repays the two taker fees before the future's roll
        # point, which a 30 s future never could at 0.05 % (carry_test.cpp
        # covers that rule); the roll's mechanics are what is tested here.
        self.engine = Engine(BINARIES["synthusd"],
                             engine_config(self.directory, self.venue, extra=FUTURES, taker_fee="0"), self.directory)
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

    def position(self, symbol: str) -> float:
        return self.engine.metric("synthusd_position_contracts", f'{{venue="1",instrument="{symbol}"}}') or 0

    def in_band(self) -> bool:
        return 0.95 <= (self.engine.metric("synthusd_hedge_ratio") or 0) <= 1.03

    def log(self) -> str:
        with open(self.engine.log_path) as log:
            return log.read()

    def test_the_hedge_rolls_out_of_the_expiring_future_into_the_next_without_a_restart(self) -> None:
        # Both futures were discovered from the venue's list at start.
        log = self.log()
        self.assertIn(f"listed {self.expiring} as instrument 10", log)
        self.assertIn(f"listed {self.next} as instrument 11", log)
        self.assertTrue(wait_until(lambda: self.engine.metric("synthusd_venue_up", '{venue="deribit"}') == 1),
                        "the gateway never logged on")
        self.wallet.send({"id": "roll-1", "kind": "usd_credit", "usd_cents": 10_000_000})  # $100,000
        self.assertTrue(wait_until(lambda: (self.wallet.pump(), not self.wallet.unacked)[1]), "never acknowledged")

        # The best carry: the expiring future holds the whole hedge.
        self.assertTrue(wait_until(lambda: self.position(self.expiring) <= -9_500 and self.in_band(), 15),
                        f"not hedged in {self.expiring}: {self.position(self.expiring)}")
        self.assertLess(time.monotonic() - self.started, FIRST_EXPIRY_SECONDS - 8, "hedged too late to see the roll")
        self.assertEqual(self.position("BTC-PERPETUAL"), 0)

        # Rolled before the expiry into the next future, in band all along.
        self.assertTrue(wait_until(lambda: self.position(self.next) <= -9_500 and self.position(self.expiring) == 0
                                   and self.in_band(), 25),
                        f"no roll: {self.expiring} {self.position(self.expiring)}, {self.next} "
                        f"{self.position(self.next)}")
        rolled_at = time.monotonic() - self.started
        self.assertLess(rolled_at, FIRST_EXPIRY_SECONDS, "rolled only after the expiry")
        # The alert names the venue, the future left and the one entered (the
        # log is written asynchronously: wait for it).
        self.assertTrue(wait_until(lambda: "kernel alert instrument_rolled: 1 10 11" in self.log(), 5),
                        "no instrument_rolled alert from 10 to 11")

        # The simulator settles the expired future with nothing left in it.
        self.assertTrue(wait_until(lambda: "expired and settled" in self.venue_output(), 20),
                        "the simulator never settled the expiring future")
        self.assertTrue(self.in_band())
        self.assertLessEqual(self.position(self.next), -9_500)
        self.assertEqual(self.position("BTC-PERPETUAL"), 0)

        # The venue's position reports agreed with the fills all along (one
        # report per account listing every instrument).
        self.assertNotIn("position_mismatch", self.log())
        self.assertNotIn("venue_liquidated", self.log())

        code, out = self.engine.terminate()
        self.assertEqual(code, 0, out)
        result = summary(self.summary_path)
        self.assertEqual(result["events_lost"], 0)
        self.assertEqual(result["liability_cents"], 10_000_000)
        self.assertTrue(result["within_band"])
        self.assertLess(time.monotonic() - self.started, 60)

    def venue_output(self) -> str:
        return "".join(self.venue_lines)

    def read_venue_output(self) -> None:
        """Keeps what the simulator prints after its ports (its settlement lines)."""
        assert self.venue.process.stdout is not None
        for line in self.venue.process.stdout:
            self.venue_lines.append(line)


if __name__ == "__main__":
    run_tests(BINARIES)
