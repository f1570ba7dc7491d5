"""`synthusd run` with its liability feed on NATS JetStream: a real
nats-server started here, wallet events published on the subject, the
engine's durable consumer acking only what it journaled. A kill -9 in the
middle must neither lose nor double-count an event.

Run: python3 tests/engine/run_nats_test.py --synthusd build/synthusd --venue build/synthusd-venue
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from engine_harness import Engine, NatsPublisher, NatsServer, Venue, engine_config, now_ms, run_tests  # noqa: E402

BINARIES = {"synthusd": "build/synthusd", "venue": "build/synthusd-venue"}
SUBJECT = "synthusd.liability"


class RunWithNatsTest(unittest.TestCase):
    def setUp(self) -> None:
        self.directory = tempfile.mkdtemp(prefix="surn", dir="/tmp")
        self.nats = NatsServer(self.directory)
        self.venue = Venue(BINARIES["venue"], self.directory)
        extra = f'\n[nats]\nurl = "{self.nats.url}"\nsubject = "{SUBJECT}"\ncreate_stream = true\nack_wait_seconds = 2\n'
        self.config = engine_config(self.directory, self.venue, snapshot_every=100, extra=extra)
        self.engine = Engine(BINARIES["synthusd"], self.config, self.directory)
        self.engine.start()
        self.publisher = NatsPublisher(self.nats.port)

    def tearDown(self) -> None:
        self.publisher.close()
        if self.engine.process and self.engine.process.poll() is None:
            self.engine.kill9()
        self.venue.stop()
        self.nats.stop()
        if not os.environ.get("KEEP"):
            shutil.rmtree(self.directory, ignore_errors=True)

    def wait_for(self, name: str, labels: str, value: float, timeout: float = 30) -> float | None:
        """The metric once it equals `value`; else the last value seen (None:
        unreadable), with what the engine was doing in self.why."""
        deadline = time.monotonic() + timeout
        seen = None
        last_read = None  # the last value actually read, and the last failure to read
        error = ""
        while time.monotonic() < deadline:
            try:
                seen = self.engine.metric(name, labels)
                if seen is None:
                    error = f"{name}{labels} missing from /metrics"
                else:
                    last_read = seen
            except OSError as failure:
                seen = None
                error = f"/metrics unreadable: {failure}"
            if seen == value:
                return seen
            time.sleep(0.1)
        self.why = f"waited {timeout} s for {name}{labels} == {value}: last read {last_read}, last problem: " \
                   f"{error or 'none'}\n{self.engine.describe()}"
        return seen

    def test_events_published_on_jetstream_are_journaled_once_across_a_crash(self) -> None:
        # The stream is created by the engine's source: publish once it is up.
        self.why = ""
        self.assertEqual(self.wait_for("synthusd_liability_source_up", '{source="nats"}', 1), 1, self.why)
        expected = 0
        for i in range(300):
            cents = 10_000 + i * 7
            expected += cents
            self.publisher.publish(SUBJECT, json.dumps(
                {"id": f"nats-{i}", "kind": "usd_credit", "usd_cents": cents, "ts": now_ms()}).encode())
            if i == 150:
                self.publisher.flush()
                time.sleep(0.3)
                self.engine.kill9()  # some of these are journaled, some acked, some neither
                self.engine.start()
        self.publisher.publish(SUBJECT, b'{"id":"bad","kind":"usd_credit","usd_cents":"12","ts":1}')
        self.publisher.publish(SUBJECT, b"not json at all")
        self.publisher.flush()
        self.assertEqual(self.wait_for("synthusd_liability_usd_cents", "", expected), expected, self.why)
        self.assertEqual(self.wait_for("synthusd_liability_rejected_total", '{source="nats"}', 2), 2, self.why)
        deadline = time.monotonic() + 30  # the restarted engine reconciles, then hedges the rest
        while not 0.95 <= (self.engine.metric("synthusd_hedge_ratio") or 0) <= 1.03 and time.monotonic() < deadline:
            time.sleep(0.1)
        code, out = self.engine.terminate()
        self.assertEqual(code, 0, out)
        import subprocess
        replay = subprocess.run([BINARIES["synthusd"], "replay", os.path.join(self.directory, "state", "journal"),
                                 "--config", self.config], capture_output=True, text=True).stdout
        self.assertIn("liability events 300,", replay)
        self.assertIn(f"liability cents {expected},", replay)


if __name__ == "__main__":
    run_tests(BINARIES)
