"""`synthusd run` end to end on loopback: the venue simulator (FIX + WebSocket
tickers), the engine, a wallet backend on the liability intake, and the ops
HTTP endpoint. Each test starts its own processes.

Run: python3 tests/engine/run_e2e_test.py --synthusd build/synthusd --venue build/synthusd-venue
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import engine_harness  # noqa: E402
from engine_harness import (Engine, Venue, WalletClient, engine_config, now_ms, run_tests, summary,  # noqa: E402
                            wait_until)

BINARIES = {"synthusd": "build/synthusd", "venue": "build/synthusd-venue"}


class RunEndToEndTest(unittest.TestCase):
    def setUp(self) -> None:
        self.directory = tempfile.mkdtemp(prefix="suri", dir="/tmp")
        self.venue = Venue(BINARIES["venue"], self.directory)
        self.config = engine_config(self.directory, self.venue)
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
        if not getattr(self, "keep", False):
            shutil.rmtree(self.directory, ignore_errors=True)

    def deliver(self, events: list[dict], timeout: float = 20.0) -> None:
        for event in events:
            self.wallet.send(event)
        self.assertTrue(wait_until(lambda: (self.wallet.pump(), not self.wallet.unacked)[1], timeout),
                        f"{len(self.wallet.unacked)} events never acknowledged")

    def ratio(self) -> float:
        return self.engine.metric("synthusd_hedge_ratio") or 0.0

    def test_hedges_the_liability_and_the_journal_replays_to_the_live_action_hash(self) -> None:
        events = [{"id": f"e2e-{i}", "kind": "usd_credit" if i % 4 else "usd_debit",
                   "usd_cents": 250_000 if i % 4 else 90_000} for i in range(40)]
        self.deliver(events)
        expected = sum(e["usd_cents"] * (1 if e["kind"] == "usd_credit" else -1) for e in events)
        self.assertTrue(wait_until(lambda: 0.95 <= self.ratio() <= 1.03), f"hedge ratio stayed {self.ratio()}")
        self.assertEqual(self.engine.metric("synthusd_liability_usd_cents"), expected)
        # /health reads the status the kernel thread publishes on its timer
        # tick (timer_interval_ms), so it may trail the ratio metric, which
        # the kernel thread renders when asked, by one tick.
        health: list = []
        self.assertTrue(wait_until(lambda: health.append(self.engine.http("GET", "/health")) or
                                   (health[-1][0], health[-1][1].strip()) == (200, "ok"), 2.0), health[-1:])
        code, out = self.engine.terminate()
        self.assertEqual(code, 0, out)
        # The layout under test is the one that ran (engine_harness.HOT_PATH).
        one_thread = engine_harness.HOT_PATH == "one_thread"
        with open(self.engine.log_path) as log:
            threads = [line for line in log if " info thread " in line]
        self.assertEqual(any("thread hot-path:" in line for line in threads), one_thread, threads)
        self.assertEqual(any("thread kernel:" in line for line in threads), not one_thread, threads)
        # One thread: the payments above came through the intake that the
        # hot path polls on its io_uring; it has no thread of its own.
        self.assertEqual(any("thread intake:" in line for line in threads), not one_thread, threads)
        result = summary(self.summary_path)
        self.assertEqual(result["events_lost"], 0)
        self.assertEqual(result["liability_cents"], expected)
        self.assertTrue(result["within_band"])
        self.assertGreater(result["fills"], 0)
        replay = subprocess.run([BINARIES["synthusd"], "replay", os.path.join(self.directory, "state", "journal"),
                                 "--config", self.config], capture_output=True, text=True, check=True).stdout
        self.assertIn(f"action stream hash {result['action_hash']}", replay)
        self.assertIn("tail clean", replay)

    def test_bad_lines_are_rejected_with_reasons_and_the_connection_stays_up(self) -> None:
        assert self.wallet.sock is not None
        self.wallet.sock.sendall(b"not json\n{\"id\":\"x\",\"kind\":\"usd_gift\",\"usd_cents\":1,\"ts\":1}\n"
                                 b"{\"id\":\"y\",\"kind\":\"usd_credit\",\"usd_cents\":-5,\"ts\":1}\n")
        self.deliver([{"id": "good-after-bad", "kind": "usd_credit", "usd_cents": 100_000}])
        reasons = [r["reason"] for r in self.wallet.rejects]
        self.assertEqual(len(reasons), 3, reasons)
        self.assertIn("not a JSON object", reasons[0])
        self.assertIn("kind must be", reasons[1])
        self.assertIn("usd_cents must be a positive integer", reasons[2])
        self.assertEqual(self.engine.metric("synthusd_liability_rejected_total", '{source="intake"}'), 3)
        self.assertEqual(self.engine.metric("synthusd_liability_usd_cents"), 100_000)

    def test_sats_are_converted_at_the_price_oracles_index_and_a_stale_ts_is_refused(self) -> None:
        # One feed (the simulator), trusted alone ([oracle] min_sources = 1 in the harness).
        self.assertTrue(wait_until(lambda: self.engine.metric("synthusd_oracle_valid") == 1), "no valid index")
        index = self.engine.metric("synthusd_oracle_index_price_usd")
        self.assertGreater(index, 0)
        self.assertEqual(self.engine.metric("synthusd_oracle_sources_agreeing"), 1)
        assert self.wallet.sock is not None
        stale = {"id": "eleven-minutes", "kind": "usd_credit", "sats": 100_000, "ts": now_ms() - 11 * 60_000}
        self.wallet.sock.sendall((json.dumps(stale) + "\n").encode())
        self.deliver([{"id": "sats-1", "kind": "usd_credit", "sats": 100_000_000}])  # 1 BTC, ts now
        self.assertEqual([r["reject"] for r in self.wallet.rejects], ["eleven-minutes"])
        self.assertIn("ts is behind the engine's clock", self.wallet.rejects[0]["reason"])
        # 1 BTC at the index (which moves a little between the reading above and the conversion).
        liability = self.engine.metric("synthusd_liability_usd_cents")
        self.assertAlmostEqual(liability / 100, index, delta=index * 0.02)

    def test_a_duplicate_event_changes_nothing(self) -> None:
        event = {"id": "dup-1", "kind": "usd_credit", "usd_cents": 500_000, "ts": now_ms()}
        self.deliver([event])
        self.wallet.acked.clear()
        self.deliver([event])
        self.assertEqual(self.wallet.duplicates, 1)
        self.assertEqual(self.engine.metric("synthusd_liability_usd_cents"), 500_000)
        self.assertEqual(self.engine.metric("synthusd_liability_duplicates_total", '{source="intake"}'), 1)

    def test_kill_needs_the_token_blocks_orders_and_resume_lets_the_hedge_catch_up(self) -> None:
        self.deliver([{"id": "k-1", "kind": "usd_credit", "usd_cents": 1_000_000}])
        self.assertTrue(wait_until(lambda: 0.95 <= self.ratio() <= 1.03))
        self.assertEqual(self.engine.http("POST", "/kill")[0], 401)
        self.assertEqual(self.engine.http("POST", "/kill", token="wrong")[0], 401)
        self.assertEqual(self.engine.metric("synthusd_kill_switch_engaged"), 0)
        self.assertEqual(self.engine.http("POST", "/kill", token=self.engine.token)[0], 200)
        self.assertEqual(self.engine.metric("synthusd_kill_switch_engaged"), 1)
        status, body = self.engine.http("GET", "/health")
        self.assertEqual(status, 503)
        self.assertIn("kill switch engaged", body)
        self.deliver([{"id": "k-2", "kind": "usd_credit", "usd_cents": 3_000_000}])
        self.assertTrue(wait_until(lambda: (self.engine.metric(
            "synthusd_risk_rejects_total", '{reason="kill_switch"}') or 0) > 0))
        self.assertLess(self.ratio(), 0.95)  # the hedge did not follow while killed
        self.assertEqual(self.engine.http("POST", "/resume", token=self.engine.token)[0], 200)
        self.assertTrue(wait_until(lambda: 0.95 <= self.ratio() <= 1.03, timeout=30),
                        f"hedge ratio stayed {self.ratio()} after resume")

    def test_touching_the_kill_file_engages_the_kill_switch(self) -> None:
        self.deliver([{"id": "f-1", "kind": "usd_credit", "usd_cents": 1_000_000}])
        self.assertTrue(wait_until(lambda: 0.95 <= self.ratio() <= 1.03))
        self.assertEqual(self.engine.metric("synthusd_kill_switch_engaged"), 0)
        with open(os.path.join(self.directory, "state", "kill"), "w"):
            pass
        self.assertTrue(wait_until(lambda: self.engine.metric("synthusd_kill_switch_engaged") == 1, timeout=5),
                        "the kill file did not engage the kill switch")
        status, body = self.engine.http("GET", "/health")
        self.assertEqual(status, 503)
        self.assertIn("kill switch engaged", body)
        self.deliver([{"id": "f-2", "kind": "usd_credit", "usd_cents": 3_000_000}])
        self.assertTrue(wait_until(lambda: (self.engine.metric(
            "synthusd_risk_rejects_total", '{reason="kill_switch"}') or 0) > 0))
        # Removing the file does not resume; the token-guarded call does.
        os.remove(os.path.join(self.directory, "state", "kill"))
        self.assertEqual(self.engine.metric("synthusd_kill_switch_engaged"), 1)
        self.assertEqual(self.engine.http("POST", "/resume", token=self.engine.token)[0], 200)
        self.assertTrue(wait_until(lambda: 0.95 <= self.ratio() <= 1.03, timeout=30))

    def test_metrics_cover_what_an_operator_watches(self) -> None:
        self.deliver([{"id": "m-1", "kind": "usd_credit", "usd_cents": 700_000}])
        # The ratio counts the order in flight, so it is in band before the
        # venue answers; the answer is what the latency and position need.
        self.assertTrue(wait_until(lambda: 0.95 <= self.ratio() <= 1.03))
        self.assertTrue(wait_until(lambda: (self.engine.metric("synthusd_order_to_acknowledgement_seconds_count") or 0)
                                   >= 1))
        self.assertTrue(wait_until(lambda: (self.engine.metric(
            "synthusd_position_contracts", '{venue="1",instrument="BTC-PERPETUAL"}') or 0) < 0))
        _, text = self.engine.http("GET", "/metrics")
        for family in ["synthusd_liability_usd_cents", "synthusd_position_contracts", "synthusd_hedge_ratio",
                       "synthusd_funding_rate", "synthusd_queue_depth", "synthusd_market_updates_conflated_total",
                       "synthusd_risk_rejects_total", "synthusd_tick_to_order_seconds_bucket",
                       "synthusd_kernel_event_seconds_count", "synthusd_gateway_logged_on", "synthusd_feed_up",
                       "synthusd_journal_commits_total", "synthusd_gateway_resends_suppressed_total",
                       "synthusd_gateway_orders_held_by_backoff_total", "synthusd_gateway_reconcile_overdue",
                       "synthusd_orders_unpriced_total", "synthusd_gateway_venue_rejects_total",
                       "synthusd_oracle_index_price_usd", "synthusd_oracle_sources_agreeing",
                       "synthusd_oracle_quarantined", "synthusd_hot_path_wakeup_failures_total"]:
            self.assertIn(family, text)
        # The hedge order went out (a collared limit IOC by default) and the
        # venue answered it: order -> acknowledgement latency has samples.
        self.assertRegex(text, r"synthusd_order_to_acknowledgement_seconds_count [1-9]")
        self.assertRegex(text, r'synthusd_position_contracts\{venue="1",instrument="BTC-PERPETUAL"\} -\d+')
        self.assertRegex(text, r"synthusd_hot_path_wakeup_failures_total 0\n")
        self.assertNotIn(self.engine.token, text)


class IntakeThatCannotListenTest(unittest.TestCase):
    """An intake socket the engine cannot listen on. With one_thread the
    intake is built at start (it runs on hot-path): the start fails with the
    reason. With thread_per_stage its own thread retries while the rest runs."""

    def test_an_intake_that_cannot_listen_is_named_with_its_reason(self) -> None:
        directory = tempfile.mkdtemp(prefix="surb", dir="/tmp")
        try:
            # No venue is needed: the engine stops (or is stopped) before it matters.
            nowhere = type("NoVenue", (), {"ws_port": 1, "fix_port": 1})()
            config = engine_config(directory, nowhere)
            with open(config) as f:
                text = f.read()
            with open(config, "w") as f:
                f.write(text.replace(f'unix_socket = "{directory}/liability.sock"',
                                     'unix_socket = "/nonexistent-synthusd-directory/liability.sock"'))
            engine = Engine(BINARIES["synthusd"], config, directory)
            reason = "cannot listen on /nonexistent-synthusd-directory/liability.sock: No such file or directory"
            if engine_harness.HOT_PATH == "one_thread":
                with self.assertRaises(RuntimeError):
                    engine.start()
                self.assertEqual(engine.process.wait(timeout=30), 2)
                engine.process.stdout.close()
                with open(engine.log_path) as log:
                    self.assertIn(reason, log.read())
            else:
                engine.start()
                self.assertTrue(wait_until(lambda: reason in open(engine.log_path).read(), 10), engine.describe())
                self.assertIsNone(engine.process.poll())
                code, _ = engine.terminate()
                self.assertIn(code, (0, 1), engine.describe())
        finally:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    run_tests(BINARIES)
