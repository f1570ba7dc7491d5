"""The demo's collateral transfers (scripts/demo --transfers): the venue
simulator's wallet (synthusd-venue --wallet true: Deribit's wallet methods,
deposits credited to the account after a delay) and the lnd test double
tests/support/fake_lnd_wallet.py as the operator's node, with the engine's
[transfers] section pointing at both. While the demo runs, leverage is
sampled from /metrics; the summary prints the transfers done and leverage's
range against the collateral bands of config/demo.toml. Standard library only.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLIENT_ID, CLIENT_SECRET = "demo-wallet", "demo-wallet-secret"
# The simulator's wallet credits a deposit, and completes a withdrawal, this long after it
# is sent or asked for; the engine's transfer executor polls the venue and the node every
# POLL_MS (config_section).
WALLET_DELAY_MS = 500
POLL_MS = 100
VENUE_FLAGS = ["--wallet", "true", "--wallet-client-id", CLIENT_ID, "--wallet-client-secret", CLIENT_SECRET,
               "--wallet-credit-delay-ms", str(WALLET_DELAY_MS), "--wallet-withdrawal-delay-ms", str(WALLET_DELAY_MS),
               # $2,000 at the start price (7,939.32): what the engine keeps at the venue
               # (KEEP_AT_VENUE_USD), so nothing is withdrawn before the first payments.
               "--collateral", "0.252"]
# An operator keeps collateral at the venue for the payments to come. The demo's flow (40
# payments a second, about $900 a second on average, bursts of $1,000 in half a second) takes
# the liability from nothing to $3,000-4,000 in its first 3-4 seconds: relative to what is
# held, that is more than one deposit at a time can follow from an empty account (measured:
# with $500 kept, seed 3 reached leverage 4.4 at 3.5 s while two deposits landed one after the
# other). With $2,000 kept the band's bottom (2) is reached at $4,000 of liability and its
# middle (3, where deposits are asked for) at $6,000, where a burst is a small share of what
# is held.
KEEP_AT_VENUE_USD = 2000
NODE_BALANCE_SATS = 5_000_000_000  # 50 BTC on the operator's node


def wallet_port(line: str) -> int:
    m = re.search(r"wallet API on http://127\.0\.0\.1:(\d+)", line)
    return int(m.group(1)) if m else 0


def start_node(run_directory: str, port: int) -> tuple[subprocess.Popen, int, str]:
    """The fake lnd wallet on the simulator's chain: (process, its port, the macaroon file)."""
    macaroon = os.path.join(run_directory, "admin.macaroon")
    with open(macaroon, "wb") as f:
        f.write(b"demo-admin-macaroon")
    os.chmod(macaroon, 0o600)
    node = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "support", "fake_lnd_wallet.py"),
                             "--chain", f"http://127.0.0.1:{port}", "--macaroon-file", macaroon,
                             "--balance-sats", str(NODE_BALANCE_SATS)], stdout=subprocess.PIPE, text=True)
    assert node.stdout is not None
    m = re.search(r"on port (\d+)", node.stdout.readline())
    if not m:
        node.kill()
        sys.exit("demo: the fake lnd wallet did not start")
    return node, int(m.group(1)), macaroon


def config_section(venue_wallet_port: int, node_port: int, macaroon: str) -> str:
    """The engine's [transfers] (the simulator's wallet, the fake node) and [collateral]: the band
    stays 2..4 (the defaults), but a deposit is asked for once leverage passes the band's middle (3)
    instead of its top, and deposits and withdrawals aim at 2.5. Deposits land a while after they
    are asked for and the payments keep raising the exposure meanwhile: asked for at 3 and sized to
    2.5, one deposit leaves room for the exposure to grow by a third before it lands (3 -> 4) and by
    60 % after it (2.5 -> 4); at the defaults (asked for at 4, sized to 3) leverage is past the band
    on every deposit. A withdrawal lands at 2.5 as well, below where a deposit is asked for."""
    return f"""
[collateral]
low_bound = 2
low_safe_bound = 2.5
high_safe_bound = 2.5
deposit_above = 3
high_bound = 4
keep_at_venue_usd = {KEEP_AT_VENUE_USD}

[transfers]
enabled = true
venue = "deribit"
venue_host = "127.0.0.1"
venue_port = {venue_wallet_port}
node_host = "127.0.0.1"
node_port = {node_port}
node_tls = false                 # the simulator and the fake lnd serve plain HTTP on loopback
venue_tls = false
macaroon_file = "{macaroon}"
max_transfer_sats = 2000000000   # the demo's account holds 10 BTC: one transfer may move all of it
max_daily_sats = 100000000000
credit_timeout_seconds = 30
poll_ms = {POLL_MS}
timeout_ms = 2000
"""


def environment() -> dict[str, str]:
    return {"SYNTHUSD_VENUE_CLIENT_ID": CLIENT_ID, "SYNTHUSD_VENUE_CLIENT_SECRET": CLIENT_SECRET}


def bands(config: str) -> tuple[float, float, float, float]:
    """[collateral] low_bound, high_bound, minimum_transfer_usd and keep_at_venue_usd of the
    engine's configuration (defaults 2, 4, 100 and 0)."""
    text = open(config).read()
    section = re.search(r"^\[collateral\](.*?)(^\[|\Z)", text, re.MULTILINE | re.DOTALL)
    body = section.group(1) if section else ""

    def key(name: str, default: float) -> float:
        m = re.search(rf"^\s*{name}\s*=\s*([0-9.]+)", body, re.MULTILINE)
        return float(m.group(1)) if m else default

    return (key("low_bound", 2.0), key("high_bound", 4.0), key("minimum_transfer_usd", 100.0),
            key("keep_at_venue_usd", 0.0))


def wallet_totals(port: int) -> dict[str, tuple[int, int]]:
    """Completed deposits and withdrawals at the simulator's wallet: {kind: (count, sats)}."""
    token = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    totals = {}
    for kind in ("deposits", "withdrawals"):
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v2/private/get_{kind}?currency=BTC&count=1000")
        request.add_header("Authorization", "Basic " + token)
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                data = json.loads(answer.read())["result"]["data"]
        except (OSError, KeyError, ValueError):
            data = []
        done = [entry for entry in data if entry.get("state") == "completed"]
        totals[kind] = (len(done), sum(round(float(entry["amount"]) * 1e8) for entry in done))
    return totals


# The pass rule (scripts/demo --transfers): leverage inside [low_bound, high_bound] at every
# sample from the first payment on, and at least one deposit executed, with two exceptions that
# follow from how the rule works, not from runs:
# - After leverage leaves the band the transfer that brings it back is asked for at once and
#   lands one transfer time later: the wallet's delay plus two of the executor's polls (the one
#   that sends or asks, the one that sees it credited or paid out). The crossing happened at
#   the latest at the first sample that shows leverage on that side. So a sample outside the
#   band is allowed while the first sample of that excursion (on the same side, after a sample
#   inside or on the other side) is at most TRANSFER_SECONDS old. Each side counts on its own:
#   a price rebound can take leverage from under the band to over it within one transfer time
#   (the demo plays 48 hours of March 2020 in 60 s: one half-hour candle every 0.4 s), and the
#   deposit can only be asked for once the top is crossed. A sample /metrics did not answer in
#   time (a loaded machine) leaves no gap in this: the excursion's start is a sample taken.
# - Below the band when nothing may be withdrawn: the kernel never moves less than
#   minimum_transfer_usd, never takes the collateral below keep_at_venue_usd, and, while a
#   position is open, leaves one minimum transfer of the payout behind
#   (hedging/src/collateral.cpp, kernel_collateral.cpp); so with less than 2 minimum transfers
#   of payout, or of collateral above what is kept, no withdrawal is possible. At the start the
#   liability is still below what the kept collateral covers at the band's bottom.
SAMPLE_SECONDS = 0.5
TRANSFER_SECONDS = (WALLET_DELAY_MS + 2 * POLL_MS) / 1000


class LeverageSampler:
    """synthusd_leverage, the transfer in flight, collateral, payout, index price and the transfer
    gauges from /metrics, once per call; every sample also goes to a CSV file (the run
    directory's leverage.csv)."""

    def __init__(self, http_port: int, csv_path: str | None = None) -> None:
        self.http_port = http_port
        self.started = time.monotonic()
        # (seconds, leverage, sats in flight, liability $, payout $: what the venue pays out,
        # collateral $ at the index)
        self.samples: list[tuple[float, float, int, float, float, float]] = []
        self.completed = self.failed = self.overdue = 0
        self.csv = open(csv_path, "w") if csv_path else None
        if self.csv:
            self.csv.write("seconds,leverage,in_flight_sats,liability_usd,collateral_sats,withdrawable_sats,index_usd\n")

    def sample(self) -> None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/metrics", timeout=3) as response:
                text = response.read().decode()
        except OSError:
            return
        leverage, in_flight, liability, collateral, withdrawable, index = None, 0, 0.0, 0, 0, 0.0
        for line in text.splitlines():
            name, _, value = line.rpartition(" ")
            if name == 'synthusd_leverage{venue="deribit"}':
                leverage = float(value)
            elif name == 'synthusd_transfer_in_flight_sats{venue="deribit"}':
                in_flight = int(float(value))
            elif name == 'synthusd_collateral_sats{venue="deribit"}':
                collateral = int(float(value))
            elif name == 'synthusd_withdrawable_sats{venue="deribit"}':
                withdrawable = int(float(value))
            elif name == "synthusd_oracle_index_price_usd":
                index = float(value)
            elif name == "synthusd_liability_usd_cents":
                liability = float(value) / 100
            elif name == "synthusd_transfers_completed":
                self.completed = int(float(value))
            elif name == "synthusd_transfers_failed":
                self.failed = int(float(value))
            elif name == "synthusd_transfers_overdue":
                self.overdue = int(float(value))
        seconds = time.monotonic() - self.started
        if self.csv:
            self.csv.write(f"{seconds:.2f},{'' if leverage is None else f'{leverage:.4f}'},{in_flight},{liability:.2f},"
                           f"{collateral},{withdrawable},{index:.2f}\n")
            self.csv.flush()
        if leverage is not None:
            self.samples.append((seconds, leverage, in_flight, liability, withdrawable * index / 1e8,
                                 collateral * index / 1e8))

    def report(self, low: float, high: float, minimum_transfer: float, keep_at_venue: float,
               totals: dict[str, tuple[int, int]]) -> bool:
        """Prints the summary lines; True when a deposit was executed, no transfer failed or is
        overdue, and every judged leverage sample is inside [low, high] or excused by the rule
        above."""
        deposits, withdrawals = totals.get("deposits", (0, 0)), totals.get("withdrawals", (0, 0))
        print(f"transfers: completed {self.completed}, failed {self.failed}, overdue {self.overdue}; "
              f"deposits {deposits[0]} ({deposits[1]:,} sats), withdrawals {withdrawals[0]} ({withdrawals[1]:,} sats)")
        paying = [s for s in self.samples if s[3] > 0]
        if not paying:
            print("  leverage: never judged (no payment reached the liability)")
            return False
        judged_from = paying[0][0]
        allowance = TRANSFER_SECONDS
        judged, outside, crossing, held, bad = [], [], [], [], []
        side, excursion_start = 0, judged_from  # -1 under the band, 0 inside, +1 over it
        for sample in self.samples:
            seconds, leverage, _, _, payout, collateral = sample
            if seconds < judged_from:
                continue
            judged.append(sample)
            now = -1 if leverage < low else (1 if leverage > high else 0)
            if now != side:
                side, excursion_start = now, seconds
            if now == 0:
                continue
            outside.append(sample)
            if seconds - excursion_start <= allowance:
                crossing.append(sample)
            elif leverage < low and min(payout, collateral - keep_at_venue) < 2 * minimum_transfer:
                held.append(sample)
            else:
                bad.append(sample)
        inside = not bad and self.failed == 0 and self.overdue == 0 and deposits[0] > 0
        levels = [s[1] for s in judged]
        print(f"  leverage min {min(levels):.2f} max {max(levels):.2f} over {len(judged)} samples from the first "
              f"payment at {judged_from:.1f} s, band {low:g}..{high:g}: "
              f"{len(outside)} outside, {len(crossing)} of them within {allowance:g} s of leaving it, "
              f"{len(held)} below it with less than ${2 * minimum_transfer:g} that could be withdrawn "
              f"(${keep_at_venue:g} kept at the venue): "
              f"{'kept in band' if inside else 'LEFT THE BAND'}{'' if deposits[0] else ' (no deposit executed)'}")
        for seconds, leverage, in_flight, liability, payout, collateral in bad[:10]:
            print(f"    at {seconds:5.1f} s leverage {leverage:.2f}, liability ${liability:,.2f}, "
                  f"collateral ${collateral:,.2f}, payout ${payout:,.2f}, "
                  f"{'transfer in flight ' + format(in_flight, ',') + ' sats' if in_flight else 'no transfer in flight'}")
        return inside
