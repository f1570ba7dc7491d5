"""`synthusd run` with LND as its liability feed: a fake lnd REST stream
(tests/engine/engine_harness.py FakeLnd) on loopback. Settled invoices become
credits at the index price; OPEN ones and malformed lines change nothing; a
restart resumes from the settle_index the engine made durable.

Run: python3 tests/engine/run_lnd_test.py --synthusd build/synthusd --venue build/synthusd-venue
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
from engine_harness import Engine, FakeLnd, Venue, engine_config, run_tests  # noqa: E402

BINARIES = {"synthusd": "build/synthusd", "venue": "build/synthusd-venue"}


class RunWithLndTest(unittest.TestCase):
    def test_settled_invoices_become_credits_once_across_a_restart(self) -> None:
        directory = tempfile.mkdtemp(prefix="surl", dir="/tmp")
        lnd = FakeLnd()
        venue = Venue(BINARIES["venue"], directory)
        engine = None
        try:
            macaroon = os.path.join(directory, "readonly.macaroon")
            with open(macaroon, "wb") as f:
                f.write(b"\x02\x01macaroon-bytes")
            os.chmod(macaroon, 0o600)
            extra = f'\n[lnd]\nport = {lnd.port}\ntls = false\nmacaroon_file = "{macaroon}"\n'
            config = engine_config(directory, venue, extra=extra)
            engine = Engine(BINARIES["synthusd"], config, directory)
            engine.start()

            def metric(name: str) -> float:
                try:
                    return engine.metric(name, '{source="lnd"}') or 0
                except OSError:
                    return 0

            # No invoice yet: the fake, like lnd, has not even sent the
            # response head. The source is up all the same, on one stream.
            deadline = time.monotonic() + 20
            while metric("synthusd_liability_source_up") < 1 and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(1.0)  # a while later: still up, still the one stream
            self.assertEqual(metric("synthusd_liability_source_up"), 1)
            self.assertEqual(len(lnd.requests), 1)
            for index in range(1, 11):
                lnd.push(FakeLnd.invoice(index, 20_000 + index))
            lnd.push(FakeLnd.invoice(0, 5_000, state="OPEN"))
            lnd.push(b'{"result":{"r_hash":"not base64!","state":"SETTLED"}}\n')
            lnd.push(b"garbage\n")

            deadline = time.monotonic() + 20
            while metric("synthusd_liability_accepted_total") < 10 and time.monotonic() < deadline:
                time.sleep(0.1)
            self.assertEqual(metric("synthusd_liability_accepted_total"), 10)
            self.assertEqual(metric("synthusd_liability_rejected_total"), 2)
            # Both rejections' reasons reach the log (not only the last one).
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                log = open(engine.log_path).read()
                if "not a JSON object" in log and "r_hash must be 32 bytes in base64" in log:
                    break
                time.sleep(0.1)
            self.assertIn("lnd: rejected 1 input: r_hash must be 32 bytes in base64", log)
            self.assertIn("lnd: rejected 1 input: not a JSON object", log)
            self.assertGreater(engine.metric("synthusd_liability_usd_cents") or 0, 0)
            self.assertIn("Grpc-Metadata-macaroon: 0201", lnd.requests[0])
            self.assertNotIn("macaroon-bytes", open(engine.log_path).read())

            engine.kill9()
            time.sleep(0.2)
            engine.start()
            # The overlap lnd replays is deduplicated; new invoices still come.
            lnd.push(FakeLnd.invoice(11, 30_000))
            deadline = time.monotonic() + 20
            while metric("synthusd_liability_accepted_total") < 1 and time.monotonic() < deadline:
                time.sleep(0.1)
            self.assertEqual(lnd.settle_indexes_requested()[-1], 10)
            code, out = engine.terminate()
            self.assertEqual(code, 0, out)
            replay = subprocess.run([BINARIES["synthusd"], "replay", os.path.join(directory, "state", "journal"),
                                     "--config", config], capture_output=True, text=True).stdout
            self.assertIn("liability events 11,", replay)
        finally:
            if engine and engine.process and engine.process.poll() is None:
                engine.kill9()
            venue.stop()
            lnd.stop()
            if not os.environ.get("KEEP"):
                shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    run_tests(BINARIES)
