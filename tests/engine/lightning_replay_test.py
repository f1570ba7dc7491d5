"""The demo's Lightning payment replay (scripts/demo-tools/lightning_replay.py) against the
real engine intake (`synthusd intake`).

The replay runs the real Core Lightning plugin under the fake lightningd and pays a seeded
stream of invoices (credits) and outgoing payments (debits). Checked here: it ends with
everything acknowledged; the journal (read record by record, and by `synthusd replay`) holds
exactly one liability event per payment, credits positive and debits negative, whose sats add
up to the plugin's rounding of the msat totals; the same seed gives the same payments, and
a second run against the same journal adds nothing; without an engine it fails, bounded.
Standard library only.

Run: python3 tests/engine/lightning_replay_test.py --synthusd build/synthusd
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEMO_TOOLS = os.path.join(ROOT, "scripts", "demo-tools")
REPLAY = os.path.join(DEMO_TOOLS, "lightning_replay.py")
sys.path.insert(0, DEMO_TOOLS)

import lightning_replay  # noqa: E402

SYNTHUSD = os.path.join(ROOT, "build", "synthusd")
PRICE_USD = 50_000

# engine/include/synthusd/engine/journal.hpp: u32 magic "SUJ1" | u32 payload bytes | u64 sequence |
# u8 record type | payload | u32 CRC32C. Type 128 is a hedging::LiabilityChange with the payment id it
# came from: key (a 64-bit hash of the id), delta (US cents, negative for a debit), sats, price,
# time: 8 bytes each, little endian, then the id's bytes. Type 0 is one without the id (older engines).
JOURNAL_MAGIC = 0x314A5553
LIABILITY_CHANGE = 0
LIABILITY_CHANGE_WITH_ID = 128


def fnv1a_64(data: bytes) -> int:
    value = 0xCBF29CE484222325
    for byte in data:
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value


def read_liability_changes(path: str) -> list[dict]:
    with open(path, "rb") as file:
        data = file.read()
    changes, offset = [], 0
    while offset < len(data):
        magic, length = struct.unpack_from("<II", data, offset)
        if magic != JOURNAL_MAGIC:
            raise AssertionError(f"bad record at byte {offset}")
        event_type = data[offset + 16]
        if event_type in (LIABILITY_CHANGE, LIABILITY_CHANGE_WITH_ID):
            event_id, delta, sats, price, time_ns = struct.unpack_from("<Qqqqq", data, offset + 17)
            payment_id = data[offset + 17 + 40:offset + 17 + length] if event_type == LIABILITY_CHANGE_WITH_ID else None
            changes.append({"id": event_id, "payment_id": payment_id, "delta_cents": delta, "sats": sats,
                            "price": price, "time_ns": time_ns})
        offset += 4 + 4 + 8 + 1 + length + 4
    return changes


class Intake:
    """`synthusd intake` as a child process on a Unix socket."""

    def __init__(self, directory: str) -> None:
        self.socket = os.path.join(directory, "liability.sock")
        self.journal = os.path.join(directory, "liabilities.journal")
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [SYNTHUSD, "intake", "--journal", self.journal, "--unix-socket", self.socket,
             "--price-usd", str(PRICE_USD)],
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
        return out

    def replay(self) -> str:
        result = subprocess.run([SYNTHUSD, "replay", self.journal], capture_output=True, text=True, check=False)
        return result.stdout


class LightningReplayTest(unittest.TestCase):
    def setUp(self) -> None:
        self.directory = tempfile.mkdtemp(prefix="sulr", dir="/tmp")
        self.intake = Intake(self.directory)
        self.summary_path = os.path.join(self.directory, "summary.json")

    def tearDown(self) -> None:
        self.intake.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def run_replay(self, *extra: str, seed: int = 7, duration: float = 2, rate: float = 20,
                   engine_socket: str | None = None) -> tuple[subprocess.CompletedProcess, dict]:
        if os.path.exists(self.summary_path):
            os.unlink(self.summary_path)
        result = subprocess.run(
            [sys.executable, REPLAY, "--engine-socket", engine_socket or self.intake.socket,
             "--lightning-dir", os.path.join(self.directory, "lightning"), "--duration", str(duration),
             "--rate", str(rate), "--seed", str(seed), "--summary-json", self.summary_path, *extra],
            capture_output=True, text=True, timeout=60, check=False)
        with open(self.summary_path) as file:
            summary = json.load(file)
        return result, summary

    def test_every_payment_is_journaled_once_with_the_plugins_rounding(self) -> None:
        self.intake.start()
        result, summary = self.run_replay()
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stdout.strip().splitlines()
        self.assertEqual(len(lines), 1, result.stdout)
        self.assertIn(f"{summary['payments']} payments", lines[0])
        self.assertIn("0 unacknowledged", lines[0])

        payments = summary["payments"]
        self.assertGreaterEqual(payments, 40)  # 2 s at 20 per second, plus the parts of multi-part debits
        self.assertEqual(summary["unacknowledged"], 0, summary)
        self.assertEqual(summary["acknowledged"], payments)
        self.assertEqual(summary["credits"] + summary["debits"], payments)
        self.assertGreater(summary["credits"], 0)
        self.assertGreater(summary["debits"], 0)
        self.assertGreater(summary["debits"], summary["debit_payments"], "seed 7 has a multi-part debit")
        self.assertGreater(summary["credit_msat"], summary["debit_msat"], "the liability grows overall")

        # The plugin credits floor(msat / 1000) and debits ceil(amount_sent_msat / 1000), per event.
        self.assertLessEqual(summary["credit_sats"] * 1000, summary["credit_msat"])
        self.assertLess(summary["credit_msat"], (summary["credit_sats"] + summary["credits"]) * 1000)
        self.assertGreaterEqual(summary["debit_sats"] * 1000, summary["debit_msat"])
        self.assertLess(summary["debit_sats"] * 1000, summary["debit_msat"] + summary["debits"] * 1000)

        out = self.intake.stop()
        self.assertIn(f"accepted {payments} ", out)
        self.assertIn(f"events {payments},", self.intake.replay())
        self.assertIn("tail clean", self.intake.replay())

        changes = read_liability_changes(self.intake.journal)
        self.assertEqual(len(changes), payments)
        self.assertEqual(len({change["id"] for change in changes}), payments)
        # Each record names the payment it came from: the plugin's id, whose hash is the kernel's key.
        self.assertEqual(len({change["payment_id"] for change in changes}), payments)
        for change in changes:
            self.assertIsNotNone(change["payment_id"])
            self.assertTrue(change["payment_id"].startswith(b"cln:"), change["payment_id"])
            self.assertEqual(change["id"], fnv1a_64(change["payment_id"]))
        replayed = subprocess.run([SYNTHUSD, "replay", self.intake.journal, "--liabilities"], capture_output=True,
                                  text=True, check=False).stdout
        for change in changes:
            self.assertIn(f'id "{change["payment_id"].decode()}" key {change["id"]:016x}', replayed)
        credits = [change for change in changes if change["delta_cents"] > 0]
        debits = [change for change in changes if change["delta_cents"] < 0]
        self.assertEqual(len(credits), summary["credits"])
        self.assertEqual(len(debits), summary["debits"])
        self.assertTrue(all(change["sats"] > 0 for change in changes))
        credit_sats = sum(change["sats"] for change in credits)
        debit_sats = sum(change["sats"] for change in debits)
        self.assertEqual(credit_sats, summary["credit_sats"])
        self.assertEqual(debit_sats, summary["debit_sats"])
        journaled_net = credit_sats - debit_sats
        msat_net = summary["credit_msat"] / 1000 - summary["debit_msat"] / 1000
        # Only the per-event rounding separates the two: under 1 sat per event, against the user.
        self.assertLessEqual(journaled_net, msat_net)
        self.assertLess(msat_net - journaled_net, payments)
        # Converted at the intake's fixed price, no spread: cents = sats * price / 1e8, rounded
        # down for credits and up for debits.
        for change in credits:
            self.assertEqual(change["delta_cents"], change["sats"] * PRICE_USD * 100 // 100_000_000)
        for change in debits:
            self.assertEqual(-change["delta_cents"], -(-change["sats"] * PRICE_USD * 100 // 100_000_000))

        # The same seed against the same journal: the same events, all duplicates.
        self.intake.start()
        result, again = self.run_replay()
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(again["unacknowledged"], 0, again)
        for key in ("payments", "credits", "debits", "credit_msat", "debit_msat"):
            self.assertEqual(again[key], summary[key], key)
        out = self.intake.stop()
        self.assertIn("accepted 0 ", out)
        self.assertIn(f"events {payments},", self.intake.replay())

    def test_the_same_seed_gives_the_same_payments(self) -> None:
        first = lightning_replay.plan(11, 30, 10)
        self.assertEqual(first, lightning_replay.plan(11, 30, 10))
        self.assertNotEqual(first, lightning_replay.plan(12, 30, 10))
        self.assertEqual(len(first), 300)
        times = [payment.at for payment in first]
        self.assertEqual(times, sorted(times))
        self.assertTrue(0 <= times[0] and times[-1] <= 30)
        credit_msat = [payment.msat for payment in first if payment.kind == "credit"]
        self.assertTrue(all(1_000_000 <= msat <= 5_000_000_000 for msat in credit_msat))
        balance = 0
        for payment in first:
            if payment.kind == "credit":
                balance += payment.msat // 1000
            else:
                sent = sum(-(-part.amount_sent_msat // 1000) for part in payment.parts)
                self.assertLessEqual(sent, balance, "a debit never overdraws users")
                self.assertTrue(all(part.amount_sent_msat > part.amount_msat > 0 for part in payment.parts))
                balance -= sent

    def test_without_an_engine_everything_stays_unacknowledged_and_it_fails(self) -> None:
        missing = os.path.join(self.directory, "nobody-listens.sock")
        result, summary = self.run_replay("--ack-timeout", "1", duration=0.5, rate=10, engine_socket=missing)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertEqual(summary["acknowledged"], 0)
        self.assertEqual(summary["unacknowledged"], summary["payments"])
        self.assertGreater(summary["payments"], 0)
        self.assertIn("unreachable", result.stderr)  # the plugin's log lines explain why


if __name__ == "__main__":
    if "--synthusd" in sys.argv:
        index = sys.argv.index("--synthusd")
        SYNTHUSD = sys.argv[index + 1]
        del sys.argv[index:index + 2]
    unittest.main()
