#!/usr/bin/env python3
"""The demo's Lightning payments: the real Core Lightning plugin under a fake lightningd.

Runs liabilities/cln-plugin/synthusd_plugin.py exactly as lightningd would (fake_lightningd.py:
getmanifest, init with the engine socket, `invoice_payment` and `sendpay_success`
notifications, and the node's RPC socket for waitanyinvoice / listsendpays / wait), and pays
a seeded stream of payments in real time:

- credits: users receive dollars. An invoice is paid with an amount drawn log-uniformly
  between 1,000 and 5,000,000 sats, in msat (so sub-sat remainders occur).
- debits: users spend dollars. A payment of 1,000 to 1,000,000 sats (log-uniform), never more
  than half of what users hold at that moment, plus a routing fee (1 sat + 10..1,000 ppm);
  payments above 500,000 sats go out as 2 or 3 parts (multi-part), each part its own debit.
  About a third of the payments are debits, so the liability grows overall.

The same --seed, --duration and --rate give the same payments (amounts, hashes, order and
schedule); only the wall-clock timestamps differ. Running it twice against the same engine
journal therefore delivers the same events again, which the engine answers as duplicates.

At the end it waits (--ack-timeout, 10 s by default) until the plugin's state file says the
engine settled every payment, stops the plugin with lightningd's `shutdown` notification,
writes the summary and exits 1 if anything stayed unacknowledged.

What "acknowledged" means here: the plugin keeps two cursors in its state file,
lastpay_index and sendpay_updated_index, and moves each only over indexes whose events the
engine acked (a new sequence or a duplicate) or rejected; a reject is logged at error level
as "engine rejected <id>". A payment is acknowledged when its index is at or below its
cursor and its id was not rejected.

    python3 scripts/demo-tools/lightning_replay.py --engine-socket var/demo/liability.sock \\
        --lightning-dir var/demo/lightning --duration 60 --rate 5 --seed 1 \\
        --summary-json var/demo/lightning-summary.json

Standard library only.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import math
import os
import random
import signal
import stat
import sys
import threading
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEFAULT_PLUGIN = os.path.join(ROOT, "liabilities", "cln-plugin", "synthusd_plugin.py")
sys.path.insert(0, HERE)

from fake_lightningd import FakeLightningd  # noqa: E402

STATE_FILE = "synthusd-cln-state.json"  # relative to the lightning dir

CREDIT_SATS = (1_000, 5_000_000)
DEBIT_SATS = (1_000, 1_000_000)
DEBIT_SHARE = 0.35
# A debit never takes more than this share of what users hold when it is made.
DEBIT_MAX_SHARE_OF_BALANCE = 0.5
MULTIPART_ABOVE_SATS = 500_000
FEE_BASE_MSAT = 1_000
FEE_PPM = (10, 1_000)


@dataclasses.dataclass(frozen=True)
class Part:
    amount_msat: int       # what the payee receives for this part
    amount_sent_msat: int  # what left the node: amount plus routing fee
    partid: int | None     # None: a single-part payment (lightningd omits partid or says 0)


@dataclasses.dataclass(frozen=True)
class Payment:
    at: float              # seconds after the start
    kind: str              # "credit" or "debit"
    label: str = ""        # credit: the invoice label (its preimage is sha256(label))
    msat: int = 0          # credit: amount received
    payment_hash: str = ""  # debit
    parts: tuple[Part, ...] = ()  # debit


def load_plugin_module(path: str) -> Any:
    """The plugin's own module, for its msat -> sats rounding (one implementation)."""
    spec = importlib.util.spec_from_file_location("synthusd_cln_plugin", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"lightning_replay: cannot load the plugin {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def log_uniform_msat(rng: random.Random, low_sats: float, high_sats: float) -> int:
    return int(math.exp(rng.uniform(math.log(low_sats * 1000), math.log(high_sats * 1000))))


def split(total: int, count: int, rng: random.Random) -> list[int]:
    """`count` integers summing to `total`, in random proportions between 1:3 and 3:1."""
    weights = [rng.uniform(1.0, 3.0) for _ in range(count)]
    shares = [int(total * weight / sum(weights)) for weight in weights]
    shares[-1] += total - sum(shares)
    return shares


def plan(seed: int, duration: float, rate: float, credit_sats=None, debit_sats=None) -> list[Payment]:
    """The payments for a seed, in order; `at` spreads them over the duration at `rate`.

    credit_sats/debit_sats are the plugin's rounding functions (msat -> sats); they keep
    users' balance exactly as the engine will see it, so a debit never overdraws it.
    """
    credit_sats = credit_sats or (lambda msat: msat // 1000)
    debit_sats = debit_sats or (lambda msat: -(-msat // 1000))
    rng = random.Random(seed)
    count = max(1, round(duration * rate))
    balance_sats = 0
    payments: list[Payment] = []
    for i in range(count):
        # Every payment draws the same random numbers whatever it becomes, so changing one
        # rule does not reshuffle the rest of the stream.
        at = min(duration, (i + rng.random()) / rate)
        wants_debit = rng.random() < DEBIT_SHARE
        credit_msat = log_uniform_msat(rng, *CREDIT_SATS)
        debit_draw = rng.random()
        fee_ppm = rng.uniform(*FEE_PPM)
        parts_count = rng.choice((2, 3))
        part_rng = random.Random(rng.getrandbits(64))
        payment_hash = f"{rng.getrandbits(256):064x}"

        debit_ceiling = min(DEBIT_SATS[1], balance_sats * DEBIT_MAX_SHARE_OF_BALANCE)
        if wants_debit and debit_ceiling >= 2 * DEBIT_SATS[0]:
            log_low, log_high = math.log(DEBIT_SATS[0] * 1000), math.log(debit_ceiling * 1000)
            amount = int(math.exp(log_low + debit_draw * (log_high - log_low)))
            fee = FEE_BASE_MSAT + int(amount * fee_ppm / 1_000_000)
            if amount > MULTIPART_ABOVE_SATS * 1000:
                amounts, fees = split(amount, parts_count, part_rng), split(fee, parts_count, part_rng)
                parts = tuple(Part(a, a + f, partid) for partid, (a, f) in enumerate(zip(amounts, fees), start=1))
            else:
                parts = (Part(amount, amount + fee, None),)
            balance_sats -= sum(debit_sats(part.amount_sent_msat) for part in parts)
            payments.append(Payment(at=at, kind="debit", payment_hash=payment_hash, parts=parts))
        else:
            balance_sats += credit_sats(credit_msat)
            payments.append(Payment(at=at, kind="credit", label=f"synthusd-demo-{seed}-{i:06d}", msat=credit_msat))
    return payments


class Replay:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.plugin_module = load_plugin_module(args.plugin)
        self.lightning_dir = os.path.abspath(args.lightning_dir)
        self.engine_socket = args.engine_socket
        if "/" in self.engine_socket or ":" not in self.engine_socket:
            # A Unix socket path; the plugin would resolve a relative one against the lightning dir.
            self.engine_socket = os.path.abspath(self.engine_socket)
        self.state_path = os.path.join(self.lightning_dir, STATE_FILE)
        self.lightningd: FakeLightningd | None = None
        self.stop = threading.Event()  # first SIGINT/SIGTERM: stop paying, still wait for acks
        self.abort = threading.Event()  # second one: stop waiting too

    def on_signal(self, signum: int, frame: Any) -> None:
        if self.stop.is_set():
            self.abort.set()
        self.stop.set()

    def prepare_directory(self) -> None:
        """A fresh node each run: its indexes restart at 1, so old cursors must go too."""
        os.makedirs(self.lightning_dir, exist_ok=True)
        for name in (STATE_FILE, STATE_FILE + ".tmp", "plugin-stderr.log", "lightning-rpc"):
            path = os.path.join(self.lightning_dir, name)
            try:
                mode = os.lstat(path).st_mode
            except FileNotFoundError:
                continue
            if stat.S_ISREG(mode) or stat.S_ISSOCK(mode):
                os.unlink(path)

    def cursors(self) -> tuple[int, int]:
        try:
            with open(self.state_path) as file:
                state = json.load(file)
            return int(state.get("lastpay_index", 0)), int(state.get("sendpay_updated_index", 0))
        except (OSError, ValueError, AttributeError):
            return 0, 0

    def all_settled(self) -> bool:
        assert self.lightningd is not None
        lastpay, updated = self.cursors()
        return lastpay >= len(self.lightningd.invoices) and updated >= self.lightningd.sendpay_updated_index

    def pay(self, payment: Payment) -> None:
        assert self.lightningd is not None
        now = int(time.time())
        if payment.kind == "credit":
            self.lightningd.pay_invoice(payment.label, payment.msat, fields={"paid_at": now})
            return
        for part in payment.parts:
            self.lightningd.complete_sendpay(
                payment.payment_hash, part.amount_sent_msat, amount_msat=part.amount_msat, partid=part.partid,
                groupid=1, fields={"created_at": now, "completed_at": now})

    def run(self) -> int:
        args = self.args
        payments = plan(args.seed, args.duration, args.rate, self.plugin_module.credit_sats,
                        self.plugin_module.debit_sats)
        self.prepare_directory()
        self.lightningd = lightningd = FakeLightningd(args.plugin, self.lightning_dir)
        lightningd.start_rpc()
        started = time.monotonic()
        try:
            response = lightningd.start_plugin({"synthusd-socket": self.engine_socket,
                                                "synthusd-state-file": STATE_FILE})
            if response.get("result") != {}:
                print(f"lightning_replay: the plugin did not start: {json.dumps(response)}", file=sys.stderr)
                return 2
            paid: list[Payment] = []
            for payment in payments:
                if self.stop.wait(max(0.0, started + payment.at - time.monotonic())):
                    break
                if not lightningd.plugin_alive():
                    print("lightning_replay: the plugin exited during the replay", file=sys.stderr)
                    break
                self.pay(payment)
                paid.append(payment)
            paid_for = time.monotonic() - started

            deadline = time.monotonic() + args.ack_timeout
            while not self.all_settled() and time.monotonic() < deadline and not self.abort.is_set():
                if not lightningd.plugin_alive():
                    break
                time.sleep(0.05)
            status = None
            if lightningd.plugin_alive():
                status = lightningd.stop_plugin("shutdown", timeout=10)
            summary = self.summarize(paid, paid_for, status)
        finally:
            lightningd.close()
            try:
                os.unlink(lightningd.rpc_path)
            except OSError:
                pass
        self.report(summary)
        return 0 if summary["unacknowledged"] == 0 and not summary["protocol_violations"] else 1

    def summarize(self, paid: list[Payment], seconds: float, plugin_status: int | None) -> dict:
        lightningd = self.lightningd
        assert lightningd is not None
        lastpay, updated = self.cursors()  # the plugin saved its final cursors on the way out
        rejected = set()
        for level, message in lightningd.logs:
            if level == "error" and message.startswith("engine rejected "):
                rejected.add(message.split(" ")[2].rstrip(":"))
        credit_ids = {invoice["pay_index"]: "cln:" + invoice["payment_hash"] for invoice in lightningd.invoices}
        credits = list(lightningd.invoices)
        debits = [payment for payment in lightningd.sendpays if payment["status"] == "complete"]
        acknowledged = sum(1 for invoice in credits
                           if invoice["pay_index"] <= lastpay and credit_ids[invoice["pay_index"]] not in rejected)
        acknowledged += sum(1 for part in debits if part["updated_index"] <= updated
                            and f"cln:{part['payment_hash']}:{part['groupid']}:{part.get('partid', 0)}" not in rejected)
        credit_msat = sum(invoice["amount_received_msat"] for invoice in credits)
        debit_msat = sum(part["amount_sent_msat"] for part in debits)
        events = len(credits) + len(debits)
        return {
            "payments": events,
            "credits": len(credits),
            "debits": len(debits),
            "credit_msat": credit_msat,
            "debit_msat": debit_msat,
            "acknowledged": acknowledged,
            "unacknowledged": events - acknowledged,
            # As the plugin rounds: credits floor(msat / 1000), debits ceil(amount_sent_msat / 1000).
            "credit_sats": sum(self.plugin_module.credit_sats(invoice["amount_received_msat"]) for invoice in credits),
            "debit_sats": sum(self.plugin_module.debit_sats(part["amount_sent_msat"]) for part in debits),
            "debit_payments": sum(1 for payment in paid if payment.kind == "debit"),
            "rejected": len(rejected),
            "protocol_violations": len(lightningd.violations),
            "plugin_exit_status": plugin_status,
            "seed": self.args.seed,
            "duration_s": self.args.duration,
            "rate_per_s": self.args.rate,
            "paid_for_s": round(seconds, 3),
            "interrupted": self.stop.is_set(),
        }

    def report(self, summary: dict) -> None:
        if self.args.summary_json:
            directory = os.path.dirname(os.path.abspath(self.args.summary_json))
            os.makedirs(directory, exist_ok=True)
            temporary = self.args.summary_json + ".tmp"
            with open(temporary, "w") as file:
                json.dump(summary, file, indent=2, sort_keys=True)
                file.write("\n")
            os.replace(temporary, self.args.summary_json)
        net = summary["credit_sats"] - summary["debit_sats"]
        print(f"lightning replay: {summary['payments']} payments ({summary['credits']} credits "
              f"{summary['credit_msat'] // 1000:,} sats, {summary['debits']} debits "
              f"{summary['debit_msat'] // 1000:,} sats, net {net:+,} sats), "
              f"{summary['acknowledged']} acknowledged, {summary['unacknowledged']} unacknowledged", flush=True)
        if summary["unacknowledged"] or summary["protocol_violations"]:
            lightningd = self.lightningd
            assert lightningd is not None
            for violation in lightningd.violations[:10]:
                print(f"lightning_replay: plugin protocol violation: {violation}", file=sys.stderr)
            for level, message in lightningd.logs[-15:]:
                print(f"lightning_replay: plugin {level}: {message}", file=sys.stderr)
            stderr = lightningd.stderr().strip()
            if stderr:
                print(f"lightning_replay: plugin stderr:\n{stderr[-3000:]}", file=sys.stderr)


def positive(kind):
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0: {text}")
        return value
    return parse


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Replay seeded Lightning payments through the real synthusd Core Lightning plugin "
                    "under a fake lightningd, into the engine's liability intake.")
    parser.add_argument("--engine-socket", required=True,
                        help="the engine's liability intake: Unix socket path (or host:port)")
    parser.add_argument("--lightning-dir", required=True,
                        help="the fake node's directory (RPC socket, plugin state file, plugin stderr); "
                             "created if missing, old state removed")
    parser.add_argument("--duration", type=positive(float), required=True, help="seconds of payments")
    parser.add_argument("--rate", type=positive(float), required=True, help="payments per second")
    parser.add_argument("--seed", type=int, required=True, help="the same seed gives the same payments")
    parser.add_argument("--summary-json", help="write the summary here")
    parser.add_argument("--ack-timeout", type=positive(float), default=10.0,
                        help="seconds to wait at the end for the engine to acknowledge everything (10)")
    parser.add_argument("--plugin", default=DEFAULT_PLUGIN, help="the plugin to run (the repository's)")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    replay = Replay(parse_args(argv))
    signal.signal(signal.SIGTERM, replay.on_signal)
    signal.signal(signal.SIGINT, replay.on_signal)
    return replay.run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
