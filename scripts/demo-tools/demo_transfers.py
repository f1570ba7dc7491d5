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
VENUE_FLAGS = ["--wallet", "true", "--wallet-client-id", CLIENT_ID, "--wallet-client-secret", CLIENT_SECRET,
               "--wallet-credit-delay-ms", "500", "--wallet-withdrawal-delay-ms", "500",
               # $79 at the start price: below minimum_transfer_usd, so nothing is withdrawn
               # before the first payment; the node deposits as the liability grows.
               "--collateral", "0.01"]
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
    return f"""
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
poll_ms = 100
timeout_ms = 2000
"""


def environment() -> dict[str, str]:
    return {"SYNTHUSD_VENUE_CLIENT_ID": CLIENT_ID, "SYNTHUSD_VENUE_CLIENT_SECRET": CLIENT_SECRET}


def bands(config: str) -> tuple[float, float, float]:
    """[collateral] low_bound, high_bound and minimum_transfer_usd of the engine's configuration
    (defaults 2, 4 and 100)."""
    text = open(config).read()
    section = re.search(r"^\[collateral\](.*?)(^\[|\Z)", text, re.MULTILINE | re.DOTALL)
    body = section.group(1) if section else ""

    def key(name: str, default: float) -> float:
        m = re.search(rf"^\s*{name}\s*=\s*([0-9.]+)", body, re.MULTILINE)
        return float(m.group(1)) if m else default

    return key("low_bound", 2.0), key("high_bound", 4.0), key("minimum_transfer_usd", 100.0)


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


# How far leverage may stray past a band while a transfer is in flight: the
# transfer sized to bring it back has been asked for and is on its way, and
# payments keep coming meanwhile (one transfer at a time per venue).
IN_FLIGHT_TOLERANCE = 1.5
# Leverage is judged once the first deposit has landed and the liability is
# at least this many minimum transfers. Not judged: the cold start of a
# nearly empty account, where the first payments multiply the liability
# within seconds ($0 to $2,500 in the first 2-3 s at 20 payments a second),
# far faster than a deposit lands. Measured there: leverage 6 to 15 (README,
# demo).
JUDGED_FROM_MINIMUM_TRANSFERS = 25


class LeverageSampler:
    """synthusd_leverage, the liability, the transfer in flight and the transfer gauges from
    /metrics, once per call."""

    def __init__(self, http_port: int) -> None:
        self.http_port = http_port
        self.started = time.monotonic()
        # (seconds, leverage, sats in flight, liability $, withdrawable $: what the venue pays out)
        self.samples: list[tuple[float, float, int, float, float]] = []
        self.funded = False  # a transfer completed
        self.completed = self.failed = self.overdue = 0

    def sample(self) -> None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/metrics", timeout=3) as response:
                text = response.read().decode()
        except OSError:
            return
        leverage, in_flight, liability, collateral, withdrawable = None, 0, 0.0, 0, 0
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
            elif name == "synthusd_liability_usd_cents":
                liability = float(value) / 100
            elif name == "synthusd_transfers_completed":
                self.completed = int(float(value))
            elif name == "synthusd_transfers_failed":
                self.failed = int(float(value))
            elif name == "synthusd_transfers_overdue":
                self.overdue = int(float(value))
        self.funded = self.funded or self.completed > 0
        if leverage is not None:
            # liability 0 until funded: such samples are shown, not judged
            # the collateral's dollars are the exposure over leverage; the payout its share of them
            payout = liability / leverage * withdrawable / collateral if leverage > 0 and collateral > 0 else 0.0
            self.samples.append((time.monotonic() - self.started, leverage, in_flight,
                                 liability if self.funded else 0.0, payout))

    def report(self, low: float, high: float, minimum_transfer: float, totals: dict[str, tuple[int, int]]) -> bool:
        """Prints the summary lines; True when no transfer failed or is overdue and leverage stayed
        inside [low, high] once judged (within the tolerance while a transfer was in flight)."""
        deposits, withdrawals = totals.get("deposits", (0, 0)), totals.get("withdrawals", (0, 0))
        print(f"transfers: completed {self.completed}, failed {self.failed}, overdue {self.overdue}; "
              f"deposits {deposits[0]} ({deposits[1]:,} sats), withdrawals {withdrawals[0]} ({withdrawals[1]:,} sats)")
        floor = JUDGED_FROM_MINIMUM_TRANSFERS * minimum_transfer
        judged = [s for s in self.samples if s[3] >= floor]
        if not judged:
            print(f"  leverage: never judged (no deposit landed, or the liability never reached ${floor:,.0f})")
            return False
        levels = [s[1] for s in judged]
        outside = [s for s in judged if not low <= s[1] <= high]
        waiting = [s for s in outside if s[2] != 0 and low - IN_FLIGHT_TOLERANCE <= s[1] <= high + IN_FLIGHT_TOLERANCE]
        # Below the band with less than a minimum transfer withdrawable: the venue holds the
        # rest (unrealised profit, margin), and no withdrawal could bring leverage back.
        held = [s for s in outside if s not in waiting and s[1] < low and s[4] < minimum_transfer]
        bad = [s for s in outside if s not in waiting and s not in held]
        inside = not bad and self.failed == 0 and self.overdue == 0
        print(f"  leverage min {min(levels):.2f} max {max(levels):.2f} over {len(judged)} samples after the first deposit "
              f"with the liability at ${floor:,.0f} or more (all {len(self.samples)}: max {max(s[1] for s in self.samples):.2f}), "
              f"collateral band {low:g}..{high:g}: {len(outside)} outside, {len(waiting)} of them within "
              f"{IN_FLIGHT_TOLERANCE:g} while a transfer was in flight, {len(held)} below it with less than "
              f"${minimum_transfer:g} withdrawable: {'kept in band' if inside else 'LEFT THE BAND'}")
        for seconds, leverage, in_flight, liability, payout in bad[:10]:
            print(f"    at {seconds:5.1f} s leverage {leverage:.2f}, liability ${liability:,.2f}, payout ${payout:,.2f}, "
                  f"{'transfer in flight ' + format(in_flight, ',') + ' sats' if in_flight else 'no transfer in flight'}")
        return inside
