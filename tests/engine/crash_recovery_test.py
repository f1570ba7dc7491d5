"""Crash recovery of `synthusd run`: kill -9 the engine at random points of a
5,000-event liability run, at least 20 times, restarting it each time, while
the venue simulator keeps running and a wallet backend re-sends whatever was
not acknowledged (as liabilities/PROTOCOL.md tells sources to).

At the end:
- the liability equals the sum of all 5,000 events, each exactly once (the
  live engine's metric and `synthusd replay` of the journal agree);
- the position the venue holds equals the engine's position and the hedge
  ratio is inside its band (the position matches the target);
- no ClOrdID reached the venue twice (QuickFIX's message log of the venue);
- every fifth restart finds half a record appended to the journal's active
  segment (what a power loss leaves) and cuts it with a warning;
- the journal is cut into segments at snapshots, sealed segments move to the
  archive directory while the engine runs, restarts read only the segments
  after the snapshot (the ids of the rest come from the id indexes), and
  `synthusd replay` reads the whole chain, archive included;
- the backing ledger's figures (USD value held, backing, hedge P&L, fees,
  funding, largest deviation, state digest) of the last restarted run equal
  those of `synthusd replay`, an uninterrupted run over the same journal.

Run: python3 tests/engine/crash_recovery_test.py --synthusd build/synthusd --venue build/synthusd-venue
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from engine_harness import (Engine, Venue, WalletClient, engine_config, journal_segments, run_tests,  # noqa: E402
                            summary)

BINARIES = {"synthusd": "build/synthusd", "venue": "build/synthusd-venue"}
EVENTS = 5000
MINIMUM_KILLS = 20


def events(seed: int) -> list[dict]:
    rng = random.Random(seed)
    out, balance = [], 0
    for i in range(EVENTS):
        if balance > 2_000_000 and rng.random() < 0.3:
            cents = rng.randint(1_000, balance // 4)
            kind = "usd_debit"
            balance -= cents
        else:
            cents = rng.randint(1_000, 200_000)
            kind = "usd_credit"
            balance += cents
        # No ts: the wallet stamps each event when it first sends it (a live payment).
        out.append({"id": f"crash-{seed}-{i}", "kind": kind, "usd_cents": cents})
    return out


class CrashRecoveryTest(unittest.TestCase):
    def test_kill_minus_nine_during_a_5000_event_run_loses_and_duplicates_nothing(self) -> None:
        directory = tempfile.mkdtemp(prefix="sucr", dir="/tmp")
        venue = Venue(BINARIES["venue"], directory, "--volatility", "0.5")
        engine = None
        try:
            # Snapshots every 250 inputs: most restarts load one and replay a tail.
            # Sealed segments move to the archive as the engine runs.
            state, archive = os.path.join(directory, "state"), os.path.join(directory, "archive")
            config = engine_config(directory, venue, snapshot_every=250,
                                   engine_extra=f'journal_archive_directory = "{archive}"')
            engine = Engine(BINARIES["synthusd"], config, directory)
            engine.start()
            wallet = WalletClient(engine.socket)
            self.assertTrue(wallet.connect())
            rng = random.Random(7)
            planned = events(seed=11)
            expected = sum(e["usd_cents"] * (1 if e["kind"] == "usd_credit" else -1) for e in planned)
            sent, kills = 0, 0
            next_kill = time.monotonic() + rng.uniform(0.2, 0.6)
            deadline = time.monotonic() + 240
            while (sent < EVENTS or wallet.unacked or kills < MINIMUM_KILLS) and time.monotonic() < deadline:
                for event in planned[sent:sent + 20]:
                    wallet.send(event)
                sent = min(sent + 20, EVENTS)
                pump_until = time.monotonic() + 0.04
                while time.monotonic() < pump_until:
                    wallet.pump()
                if time.monotonic() >= next_kill and kills < MINIMUM_KILLS + 4:
                    engine.kill9()  # anywhere: mid-commit, mid-order, mid-snapshot
                    kills += 1
                    if kills % 5 == 0:
                        # What a power loss leaves after a write that never
                        # reached the disk: half a record at the tail.
                        with open(journal_segments(state)[-1], "ab") as journal:
                            journal.write(b"SUJ1" + bytes(rng.randrange(256) for _ in range(rng.randint(1, 40))))
                    wallet.close()
                    engine.start()
                    self.assertTrue(wallet.connect(), "the restarted engine did not accept connections")
                    next_kill = time.monotonic() + rng.uniform(0.15, 0.7)
                elif wallet.sock is None:
                    self.assertTrue(wallet.connect())
            self.assertGreaterEqual(kills, MINIMUM_KILLS)
            self.assertEqual(len(wallet.unacked), 0, "events never acknowledged")
            self.assertEqual(len(wallet.acked), EVENTS)

            # Exactly once: the live liability ...
            self.assertEqual(engine.metric("synthusd_liability_usd_cents"), expected)
            # ... and the hedge catches up with it; the venue agrees on the position.
            def settled() -> bool:
                ratio = engine.metric("synthusd_hedge_ratio") or 0
                in_flight = engine.metric("synthusd_in_flight_contracts", '{venue="1",instrument="BTC-PERPETUAL"}')
                return 0.95 <= ratio <= 1.03 and in_flight == 0
            deadline = time.monotonic() + 30
            while not settled() and time.monotonic() < deadline:
                time.sleep(0.1)
            self.assertTrue(settled(), f"hedge ratio {engine.metric('synthusd_hedge_ratio')}")
            engine_position = engine.metric("synthusd_position_contracts", '{venue="1",instrument="BTC-PERPETUAL"}')
            # The last run writes its summary: restart it once more, cleanly,
            # after a kill, so its ledger came from a snapshot and a tail.
            engine.kill9()
            summary_path = os.path.join(directory, "summary.json")
            engine.start("--summary-json", summary_path)
            code, out = engine.terminate()
            self.assertEqual(code, 0, out)
            live = summary(summary_path)

            fills = venue.outbound_fills()
            venue_position = sum(q if side == "1" else -q for side, q in fills)
            self.assertEqual(venue_position, engine_position)
            target = expected / 1000  # contracts of $10 at ratio 1 (cents / 100 / 10)
            self.assertGreaterEqual(-venue_position, 0.95 * target - 1)
            self.assertLessEqual(-venue_position, 1.03 * target + 1)

            orders = venue.inbound_messages("D")
            client_order_ids = [m["11"] for m in orders]
            self.assertGreater(len(client_order_ids), 0)
            self.assertEqual(len(client_order_ids), len(set(client_order_ids)), "a ClOrdID was sent twice")

            replay = subprocess.run([BINARIES["synthusd"], "replay", os.path.join(directory, "state", "journal"),
                                     "--config", config], capture_output=True, text=True).stdout
            self.assertIn(f"liability events {EVENTS},", replay)
            self.assertIn(f"liability cents {expected},", replay)
            # The ledger after all those restarts is the uninterrupted one.
            figures = re.search(r"usd value cents (-?\d+), backing sats (-?\d+), hedge pnl sats (-?\d+), "
                                r"fees sats (-?\d+), funding sats (-?\d+), max deviation (-?\d+), "
                                r"ledger digest ([0-9a-f]{16})", replay)
            self.assertIsNotNone(figures, replay)
            self.assertEqual(live["ledger_digest"], figures.group(7), f"live {live}\nreplay {replay}")
            self.assertEqual(live["usd_value_cents"], int(figures.group(1)))
            self.assertEqual(live["backing_sats"], int(figures.group(2)))
            self.assertEqual(live["hedge_pnl_sats"], int(figures.group(3)))
            self.assertEqual(live["fees_sats"], int(figures.group(4)))
            self.assertEqual(live["funding_sats"], int(figures.group(5)))
            self.assertEqual(live["max_deviation_raw"], int(figures.group(6)))
            self.assertGreater(live["fills"], 0)
            self.assertFalse(live["ledger_overflowed"])
            with open(engine.log_path) as log:
                text = log.read()
            from_snapshot = len(re.findall(r"recovery: used snapshot", text))
            torn = len(re.findall(r"had a (torn|corrupt) tail", text))
            # Restarts from a snapshot read the segment after it, not the history.
            tails = [int(n) for n in re.findall(r"records replayed from (\d+) segment", text)]
            self.assertGreater(len(tails), kills)
            self.assertLessEqual(sorted(tails)[len(tails) // 2], 2, f"segments read per start: {tails}")
            self.assertGreater(len(journal_segments(archive)), 3, "no sealed segment was archived")
            self.assertNotIn("archiving to", text)
            self.assertGreater(from_snapshot, 0, "no restart recovered from a snapshot")
            self.assertGreaterEqual(torn, kills // 5, "a damaged journal tail was not cut")
            self.assertNotIn("critical", text)
            print(f"\n{kills} kills ({from_snapshot} restarts from a snapshot, {torn} torn journal tails cut, "
                  f"{len(journal_segments(archive))} segments archived), "
                  f"{len(client_order_ids)} orders, position {venue_position}, liability {expected} cents",
                  file=sys.stderr)
        finally:
            if engine and engine.process and engine.process.poll() is None:
                engine.kill9()
            venue.stop()
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    run_tests(BINARIES)
