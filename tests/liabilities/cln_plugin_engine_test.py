"""The Core Lightning plugin against the real engine intake (`synthusd intake`).

fake_lightningd.FakeLightningd runs the plugin and pays invoices; the plugin
forwards them to the C++ intake, which journals them and acknowledges only
durable events; the plugin's state file must then hold the acknowledged
pay_index, and `synthusd replay` must find exactly the events in the journal.
A second run shows that the same payments delivered again after a restart are
duplicates, not new liability. Standard library only.

Run: python3 tests/liabilities/cln_plugin_engine_test.py --synthusd build/synthusd
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PLUGIN = os.path.join(ROOT, "liabilities", "cln-plugin", "synthusd_plugin.py")
sys.path.insert(0, HERE)

from fake_lightningd import FakeLightningd  # noqa: E402

SYNTHUSD = os.path.join(ROOT, "build", "synthusd")
TIMEOUT = 20.0


class Intake:
    """`synthusd intake` as a child process on a Unix socket."""

    def __init__(self, directory: str) -> None:
        self.socket = os.path.join(directory, "in.sock")
        self.journal = os.path.join(directory, "liabilities.journal")
        self.process: subprocess.Popen | None = None
        self.output = ""

    def start(self) -> None:
        self.process = subprocess.Popen(
            [SYNTHUSD, "intake", "--journal", self.journal, "--unix-socket", self.socket, "--price-usd", "50000"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("LISTENING"):
            raise AssertionError(f"intake did not start: {line!r}")

    def stop(self) -> str:
        if self.process is None:
            return ""
        self.process.terminate()
        out, _ = self.process.communicate(timeout=10)
        self.process = None
        self.output = out
        return out

    def replay(self) -> str:
        return subprocess.run([SYNTHUSD, "replay", self.journal], capture_output=True, text=True, check=False).stdout


class PluginAgainstEngineTest(unittest.TestCase):
    def setUp(self) -> None:
        self.directory = tempfile.mkdtemp(prefix="suce", dir="/tmp")
        self.intake = Intake(self.directory)
        self.intake.start()
        self.lightningd = FakeLightningd(PLUGIN, self.directory)
        self.lightningd.start_rpc()

    def tearDown(self) -> None:
        self.lightningd.close()
        self.intake.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def state(self) -> dict:
        for name in os.listdir(self.directory):
            if name.endswith(".json") and "state" in name:
                with open(os.path.join(self.directory, name)) as file:
                    return json.load(file)
        return {}

    def wait_for(self, predicate, what: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.05)
        self.fail(f"timed out waiting for {what}; state {self.state()}; plugin logs {self.lightningd.logs[-5:]}")

    def start_plugin(self) -> None:
        response = self.lightningd.start_plugin({"synthusd-socket": self.intake.socket, "synthusd-state-file": ""})
        self.assertEqual(response.get("result"), {}, response)

    def test_payments_reach_the_journal_once_and_the_plugin_resumes_from_the_acknowledged_index(self) -> None:
        self.start_plugin()
        self.lightningd.pay_invoice("coffee", 50_000_000)   # 50,000 sats = $25.00 at $50,000
        self.lightningd.pay_invoice("lunch", 120_000_000)   # 120,000 sats
        self.wait_for(lambda: self.state().get("lastpay_index") == 2, "the acknowledged pay_index 2")
        self.lightningd.stop_plugin("eof")
        out = self.intake.stop()
        self.assertIn("accepted 2", out)
        self.assertIn("events 2,", self.intake.replay())

        # Restart both: the plugin resumes after pay_index 2, a third payment
        # made while it was down arrives, the first two are not counted again.
        self.intake.start()
        self.lightningd.pay_invoice("dinner", 10_000_000, notify=False)
        self.start_plugin()
        self.wait_for(lambda: self.state().get("lastpay_index") == 3, "the acknowledged pay_index 3")
        self.lightningd.stop_plugin("eof")
        out = self.intake.stop()
        self.assertIn("accepted 1", out)
        self.assertIn("events 3,", self.intake.replay())


if __name__ == "__main__":
    if "--synthusd" in sys.argv:
        index = sys.argv.index("--synthusd")
        SYNTHUSD = sys.argv[index + 1]
        del sys.argv[index:index + 2]
    unittest.main()
