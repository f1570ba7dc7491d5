#!/usr/bin/env python3
"""The synthusd demo, everything on loopback (scripts/demo runs this):

1. build/synthusd-venue with venue/config/venue-demo.toml: FIX order entry and
   Deribit-format WebSocket tickers replaying March 2020 (a calm day, then
   the 12 March crash) at one simulated hour per second;
2. build/synthusd run with config/demo.toml (ports filled in): the feed, the
   kernel, pre-trade risk, the FIX gateway, the journal, the intake;
3. once the engine has a price, Lightning payments in Core Lightning format
   through the real plugin (liabilities/cln-plugin) into the intake: users
   receiving and sending USD.

The engine prints a status line every second; after --duration it stops
(SIGTERM: cancel, fsync, logout) and prints its summary; the demo adds what
the payment side saw and checks that no acknowledged payment is missing from
the journal. Exit 0 only if the hedge is inside its band at the end and no
event was lost. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import demo_transfers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")


def start_venue(run_directory: str, transfers: bool) -> tuple[subprocess.Popen, int, int, int]:
    """(process, FIX port, WebSocket port, wallet port or 0)."""
    venue = subprocess.Popen([os.path.join(BUILD, "synthusd-venue"), "--config", "venue/config/venue-demo.toml",
                              "--logon-secret", "demo-secret", *(demo_transfers.VENUE_FLAGS if transfers else [])],
                             cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=open(os.path.join(run_directory, "venue.log"), "w"), text=True)
    fix_port = ws_port = wallet_port = 0
    deadline = time.monotonic() + 20
    assert venue.stdout is not None
    while (fix_port == 0 or ws_port == 0 or (transfers and wallet_port == 0)) and time.monotonic() < deadline:
        line = venue.stdout.readline()
        if not line:
            break
        if m := re.search(r"FIX acceptor on port (\d+)", line):
            fix_port = int(m.group(1))
        if m := re.search(r"ws://127\.0\.0\.1:(\d+)", line):
            ws_port = int(m.group(1))
        wallet_port = wallet_port or demo_transfers.wallet_port(line)
    if not fix_port or not ws_port or (transfers and not wallet_port):
        venue.kill()
        sys.exit("demo: the venue simulator did not start (see venue.log)")
    return venue, fix_port, ws_port, wallet_port


def engine_config(run_directory: str, fix_port: int, ws_port: int, extra: str = "") -> str:
    with open(os.path.join(ROOT, "config", "demo.toml")) as template:
        text = template.read()
    text = (text.replace("@RUN_DIRECTORY@", run_directory).replace("@FIX_PORT@", str(fix_port))
            .replace("@WEBSOCKET_PORT@", str(ws_port))) + extra
    path = os.path.join(run_directory, "engine.toml")
    with open(path, "w") as out:
        out.write(text)
    return path


def metric(port: int, name: str) -> float | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=3) as response:
            for line in response.read().decode().splitlines():
                if line.startswith(name + " "):
                    return float(line.split()[-1])
    except OSError:
        return None
    return None


def journal_liability_events(config: str, journal: str) -> int:
    out = subprocess.run([os.path.join(BUILD, "synthusd"), "replay", journal, "--config", config],
                         capture_output=True, text=True).stdout
    m = re.search(r"liability events (\d+)", out)
    return int(m.group(1)) if m else -1


def conversion_spread_cents(config: str, journal: str) -> float:
    """What the conversion spread ([liability] conversion_spread) kept from the
    customers, from the journal's liability records: the sats taken in at the
    applied price minus the dollars credited (for a debit, the dollars minus
    the sats paid out). The operator's income, not hedge error."""
    m = re.search(r"^\s*conversion_spread\s*=\s*([0-9.]+)", open(config).read(), re.MULTILINE)
    spread = float(m.group(1)) if m else 0.0
    out = subprocess.run([os.path.join(BUILD, "synthusd"), "replay", journal, "--config", config, "--liabilities"],
                         capture_output=True, text=True).stdout
    total = 0.0
    for m in re.finditer(r"usd cents (-?\d+) sats (\d+) price (\d+)", out):
        cents, sats, applied = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if sats > 0 and applied > 0:
            # The journal keeps the applied price: the index less the spread
            # for a credit, plus it for a debit.
            index = applied / (1 - spread) if cents > 0 else applied / (1 + spread)
            value = sats * index / 1e14
            total += value - cents if cents > 0 else -cents - value
    return total


def print_hedge_error(summary: dict, spread: float) -> None:
    """Customers' dollars against the USD value held for them, with the hedge
    error (price moves alone) apart from fees, funding and the conversion
    spread: held value = (backing + hedge P&L - fees + funding) at the index."""
    liability = summary.get("liability_cents", 0)
    held = summary.get("usd_value_cents", 0)
    net_sats = (summary.get("backing_sats", 0) + summary.get("hedge_pnl_sats", 0) - summary.get("fees_sats", 0)
                + summary.get("funding_sats", 0))
    if liability <= 0 or net_sats <= 0:
        print("  hedge error: no liability held")
        return
    cents_per_sat = held / net_sats  # the index the held value was taken at (display only)
    fees = summary.get("fees_sats", 0) * cents_per_sat
    funding = summary.get("funding_sats", 0) * cents_per_sat
    error = held + fees - funding - spread - liability
    print(f"  customers' dollars ${liability / 100:,.2f}, USD value held for them ${held / 100:,.2f} "
          f"({(held - liability) * 1e4 / liability:+.1f} bps)")
    print(f"  hedge error (price moves alone) {error * 1e4 / liability:+.1f} bps of the liability; apart from it: "
          f"fees ${fees / 100:,.2f}, funding received ${funding / 100:,.2f}, conversion spread kept "
          f"${spread / 100:,.2f}")


def main() -> int:
    global BUILD
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of trading (default 60)")
    parser.add_argument("--rate", type=float, default=40.0, help="Lightning payments per second (default 40)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the run directory (journal, logs)")
    parser.add_argument("--build-dir", default=BUILD, help="where synthusd and synthusd-venue are (default build/)")
    parser.add_argument("--transfers", action="store_true",
                        help="execute collateral transfers against the simulator's wallet and a fake lnd wallet")
    args = parser.parse_args()
    BUILD = os.path.abspath(args.build_dir)

    run_directory = tempfile.mkdtemp(prefix="synthusd-demo-", dir="/tmp")
    print(f"demo: run directory {run_directory}")
    venue, fix_port, ws_port, wallet_port = start_venue(run_directory, args.transfers)
    node, extra = None, ""
    if args.transfers:
        node, node_port, macaroon = demo_transfers.start_node(run_directory, wallet_port)
        extra = demo_transfers.config_section(wallet_port, node_port, macaroon)
    config = engine_config(run_directory, fix_port, ws_port, extra)
    engine_log = open(os.path.join(run_directory, "engine.log"), "w")
    summary_path = os.path.join(run_directory, "summary.json")
    env = dict(os.environ, SYNTHUSD_FIX_CLIENT_ID="demo", SYNTHUSD_FIX_CLIENT_SECRET="demo-secret",
               SYNTHUSD_ADMIN_TOKEN=os.environ.get("SYNTHUSD_ADMIN_TOKEN", "demo-token"),
               **(demo_transfers.environment() if args.transfers else {}))
    engine = subprocess.Popen([os.path.join(BUILD, "synthusd"), "run", "--config", config, "--status-every", "1",
                               "--summary-json", summary_path], cwd=ROOT, stdout=subprocess.PIPE, stderr=engine_log,
                              text=True, env=env)
    assert engine.stdout is not None
    first = engine.stdout.readline()
    m = re.search(r"http (\d+)", first)
    if not m:
        venue.kill()
        engine.kill()
        sys.exit(f"demo: the engine did not start: {first!r} (see {run_directory}/engine.log)")
    http_port = int(m.group(1))
    print(f"demo: venue FIX {fix_port}, tickers ws://127.0.0.1:{ws_port}, engine ops http://127.0.0.1:{http_port}")

    # Users' sats are converted at the price oracle's index: start paying once it is valid
    # (payments sent earlier would only wait for it).
    deadline = time.monotonic() + 20
    while (metric(http_port, "synthusd_oracle_valid") or 0) < 1 and time.monotonic() < deadline:
        time.sleep(0.1)

    replay_summary = os.path.join(run_directory, "payments.json")
    replay = subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts", "demo-tools", "lightning_replay.py"),
                               "--engine-socket", os.path.join(run_directory, "liability.sock"),
                               "--lightning-dir", os.path.join(run_directory, "lightning"),
                               "--duration", str(max(args.duration - 8, 1)), "--rate", str(args.rate),
                               "--seed", str(args.seed), "--summary-json", replay_summary],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    started = time.monotonic()
    sampler = (demo_transfers.LeverageSampler(http_port, os.path.join(run_directory, "leverage.csv"))
               if args.transfers else None)
    next_sample = started
    os.set_blocking(engine.stdout.fileno(), False)
    while time.monotonic() - started < args.duration:
        if sampler is not None and time.monotonic() >= next_sample:
            sampler.sample()
            next_sample += demo_transfers.SAMPLE_SECONDS
        line = engine.stdout.readline()
        if line:
            print(line.rstrip(), flush=True)
        else:
            time.sleep(0.05)
        if engine.poll() is not None:
            break
    replay_out, _ = replay.communicate(timeout=60)
    engine.send_signal(signal.SIGTERM)
    os.set_blocking(engine.stdout.fileno(), True)
    rest, _ = engine.communicate(timeout=60)
    print(rest.rstrip())
    engine_code = engine.returncode
    totals = demo_transfers.wallet_totals(wallet_port) if args.transfers else {}
    venue.send_signal(signal.SIGTERM)
    venue.wait(timeout=20)
    if node is not None:
        node.terminate()
        node.wait(timeout=10)

    payments = json.load(open(replay_summary)) if os.path.exists(replay_summary) else {}
    engine_summary = json.load(open(summary_path)) if os.path.exists(summary_path) else {}
    journaled = journal_liability_events(config, os.path.join(run_directory, "state", "journal"))
    acknowledged = payments.get("acknowledged", -1)
    lost = max(acknowledged - journaled, 0) + payments.get("unacknowledged", 0) + engine_summary.get("events_lost", 0)
    print(f"payments: {replay_out.strip()}")
    print(f"  acknowledged by the engine {acknowledged}, liability events in the journal {journaled}")
    print(f"  events lost {lost}")
    print_hedge_error(engine_summary,
                      conversion_spread_cents(config, os.path.join(run_directory, "state", "journal")))
    within = engine_summary.get("within_band", False)
    leverage_inside = sampler.report(*demo_transfers.bands(config), totals) if sampler is not None else True
    ok = engine_code == 0 and within and lost == 0 and journaled == acknowledged and leverage_inside
    leverage_text = "" if sampler is None else f", leverage {'kept in' if leverage_inside else 'LEFT'} the collateral band"
    print(f"demo: {'PASS' if ok else 'FAIL'}: hedge {'within' if within else 'OUTSIDE'} band, events lost {lost}"
          f"{leverage_text}")
    if not args.keep and ok:
        subprocess.run(["rm", "-rf", run_directory])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
