#!/usr/bin/env python3
"""The multi-venue synthusd demo, everything on loopback (scripts/demo --multi-venue):

1. two build/synthusd-venue processes with venue/config/venue-demo.toml (March 2020 at one
   simulated hour per second), as venues alpha and beta: alpha at +0.01 % funding per 8 h and
   5 bp taker fee, with two dated futures whose basis beats its funding, the first expiring
   40 s into the run (the kernel holds alpha's share in it once the receivers outgrow the
   providers, rolls into the next before the expiry, and the simulator settles it); beta at 4 bp, its funding turning to -0.05 % per 8 h from 8 s to 20 s (the
   funding guard takes its share away and gives it back), and hanging from 26 s to 46 s
   (SIGSTOP, then SIGCONT: its share moves to alpha while its stranded short still counts,
   then the hedge rebalances);
2. build/synthusd run with config/demo-multi-venue.toml: two feeds, two FIX gateways, the
   kernel's weights (alpha 2 : beta 1) and alpha's cap;
3. Lightning payments in Core Lightning format through the real plugin (receivers), and
   stable providers on the intake (provider_increase / provider_decrease) netted against
   them before anything reaches a venue.

Every second it samples /metrics; the summary shows the allocation per venue over time, the
roll, the guard's switch, the failover, and what netting saved in contracts and fees. Exit 0 only if
the hedge is inside its band at the end and no event was lost. Standard library only.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")
CONTRACT_USD = 10
TAKER_FEE = {"alpha": 0.0005, "beta": 0.0004}
FUTURE_EXPIRY_SECONDS = 40  # wall seconds after alpha starts (its clock runs 3600x)


def future_names() -> list[str]:
    """Alpha's two futures, in Deribit's naming (BTC-5DEC26) for today and tomorrow."""
    today = datetime.datetime.now(datetime.timezone.utc).date()
    return [f"BTC-{d.day}{d.strftime('%b').upper()}{d.strftime('%y')}"
            for d in (today, today + datetime.timedelta(days=1))]


def alpha_futures() -> tuple[str, ...]:
    """Simulator flags: the first future expires FUTURE_EXPIRY_SECONDS in, the next after 10
    minutes; 50 % and 30 % a year of basis against alpha's 11 % of funding."""
    expiring, following = future_names()
    return ("--future", expiring, "--future", following, "--future-expiry-seconds",
            f"{FUTURE_EXPIRY_SECONDS * 3600},{600 * 3600}", "--future-annual-basis", "0.5,0.3")


def start_venue(run_directory: str, name: str, comp_id: str, *extra: str) -> tuple[subprocess.Popen, int, int]:
    venue = subprocess.Popen([os.path.join(BUILD, "synthusd-venue"), "--config", "venue/config/venue-demo.toml",
                              "--logon-secret", "demo-secret", "--sender-comp-id", comp_id, *extra],
                             cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=open(venue_log(run_directory, name), "w"), text=True)
    fix_port = ws_port = 0
    deadline = time.monotonic() + 20
    assert venue.stdout is not None
    while (fix_port == 0 or ws_port == 0) and time.monotonic() < deadline:
        line = venue.stdout.readline()
        if not line:
            break
        if m := re.search(r"FIX acceptor on port (\d+)", line):
            fix_port = int(m.group(1))
        if m := re.search(r"ws://127\.0\.0\.1:(\d+)", line):
            ws_port = int(m.group(1))
    if not fix_port or not ws_port:
        venue.kill()
        sys.exit(f"demo: venue {name} did not start (see venue-{name}.log)")
    venue.stdout.close()  # nothing more is read: a full pipe must never stall the simulator
    return venue, fix_port, ws_port


def venue_log(run_directory: str, name: str) -> str:
    return os.path.join(run_directory, f"venue-{name}.log")


def alpha_position(m: dict[str, float]) -> tuple[float, str]:
    """Alpha's short over all its instruments, and the one holding most of it."""
    held = {symbol: m.get(f'synthusd_position_contracts{{venue="1",instrument="{symbol}"}}', 0)
            for symbol in ["BTC-PERPETUAL", *future_names()]}
    largest = min(held, key=lambda symbol: held[symbol])
    return sum(held.values()), largest if held[largest] != 0 else "-"


def beta_funding(run_directory: str) -> str:
    """Beta's 8-hour rate by simulated hour: +0.01 %, then -0.05 % from hour 8 to hour 20
    (8 s to 20 s into the run), then +0.01 % again."""
    path = os.path.join(run_directory, "beta-funding.csv")
    with open(path, "w") as out:
        out.write("epoch_s,funding_8h\n0,0.0001\n28800,-0.0005\n72000,0.0001\n")
    return path


def metrics(port: int) -> dict[str, float]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=3) as response:
            text = response.read().decode()
    except OSError:
        return {}
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            try:
                values[name] = float(value)
            except ValueError:
                pass
    return values


def send_provider_lines(socket_path: str, lines: list[dict]) -> int:
    """Stable providers on the intake: returns how many were acknowledged."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(socket_path)
        sock.settimeout(10)
        for line in lines:
            sock.sendall((json.dumps({**line, "ts": time.time_ns() // 1_000_000}) + "\n").encode())
        answers = b""
        while answers.count(b"\n") < len(lines):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answers += chunk
    return sum(1 for answer in answers.splitlines() if b'"ack"' in answer)


def sample_line(t: float, m: dict[str, float], events: list[str]) -> str:
    def venue(name: str, venue_id: int) -> str:
        up = "up" if m.get(f'synthusd_venue_up{{venue="{name}"}}') == 1 else "DOWN"
        guard = " guarded" if m.get(f'synthusd_funding_guard_engaged{{venue="{venue_id}",'
                                     'instrument="BTC-PERPETUAL"}') == 1 else ""
        allocation = m.get(f'synthusd_allocation_usd_cents{{venue="{name}"}}', 0) / 100
        if venue_id == 1:
            position, instrument = alpha_position(m)
            return f"{name} {up}{guard} ${allocation:,.0f} ({position:,.0f} contracts, {instrument})"
        position = m.get(f'synthusd_position_contracts{{venue="{venue_id}",instrument="BTC-PERPETUAL"}}', 0)
        return f"{name} {up}{guard} ${allocation:,.0f} ({position:,.0f} contracts)"
    return (f"{t:5.1f}s  liability ${m.get('synthusd_liability_usd_cents', 0) / 100:,.0f}  netted "
            f"${m.get('synthusd_provider_interest_usd_cents', 0) / 100:,.0f}  | {venue('alpha', 1)} | "
            f"{venue('beta', 2)} | ratio {m.get('synthusd_hedge_ratio', 0):.4f}" + (f"  <- {', '.join(events)}"
                                                                                 if events else ""))


def journal_liability_events(config: str, journal: str) -> int:
    out = subprocess.run([os.path.join(BUILD, "synthusd"), "replay", journal, "--config", config],
                         capture_output=True, text=True).stdout
    m = re.search(r"liability events (\d+)", out)
    return int(m.group(1)) if m else -1


def main() -> int:
    global BUILD
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of trading (default 60, at least 50)")
    parser.add_argument("--rate", type=float, default=40.0, help="Lightning payments per second (default 40)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the run directory (journal, logs)")
    parser.add_argument("--build-dir", default=BUILD, help="where synthusd and synthusd-venue are (default build/)")
    args = parser.parse_args()
    BUILD = os.path.abspath(args.build_dir)
    duration = max(args.duration, 50.0)

    run_directory = tempfile.mkdtemp(prefix="synthusd-demo-multi-", dir="/tmp")
    print(f"demo: run directory {run_directory}")
    alpha, alpha_fix, alpha_ws = start_venue(run_directory, "alpha", "ALPHASERVER", "--funding-rate", "0.0001",
                                             *alpha_futures())
    beta, beta_fix, beta_ws = start_venue(run_directory, "beta", "BETASERVER", "--taker-fee", "0.0004",
                                          "--funding-csv", beta_funding(run_directory))
    with open(os.path.join(ROOT, "config", "demo-multi-venue.toml")) as template:
        text = template.read()
    for key, value in {"RUN_DIRECTORY": run_directory, "ALPHA_FIX_PORT": alpha_fix, "BETA_FIX_PORT": beta_fix,
                       "ALPHA_WEBSOCKET_PORT": alpha_ws, "BETA_WEBSOCKET_PORT": beta_ws}.items():
        text = text.replace(f"@{key}@", str(value))
    config = os.path.join(run_directory, "engine.toml")
    with open(config, "w") as out:
        out.write(text)
    summary_path = os.path.join(run_directory, "summary.json")
    env = dict(os.environ, SYNTHUSD_FIX_CLIENT_ID="demo", SYNTHUSD_FIX_CLIENT_SECRET="demo-secret",
               SYNTHUSD_ADMIN_TOKEN=os.environ.get("SYNTHUSD_ADMIN_TOKEN", "demo-token"))
    engine = subprocess.Popen([os.path.join(BUILD, "synthusd"), "run", "--config", config, "--summary-json",
                               summary_path], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=open(os.path.join(run_directory, "engine.log"), "w"), text=True, env=env)
    assert engine.stdout is not None
    first = engine.stdout.readline()
    m = re.search(r"http (\d+)", first)
    if not m:
        for process in (alpha, beta, engine):
            process.kill()
        sys.exit(f"demo: the engine did not start: {first!r} (see {run_directory}/engine.log)")
    http_port = int(m.group(1))
    print(f"demo: alpha FIX {alpha_fix} ws {alpha_ws}, beta FIX {beta_fix} ws {beta_ws}, "
          f"engine ops http://127.0.0.1:{http_port}")
    deadline = time.monotonic() + 20
    while metrics(http_port).get("synthusd_oracle_valid", 0) < 1 and time.monotonic() < deadline:
        time.sleep(0.1)

    socket_path = os.path.join(run_directory, "liability.sock")
    replay_summary = os.path.join(run_directory, "payments.json")
    replay = subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts", "demo-tools", "lightning_replay.py"),
                               "--engine-socket", socket_path, "--lightning-dir",
                               os.path.join(run_directory, "lightning"), "--duration", str(duration - 10),
                               "--rate", str(args.rate), "--seed", str(args.seed), "--summary-json",
                               replay_summary], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # Stable providers: two open positions early, one closes half later.
    schedule = [(5.0, [{"id": "provider-1", "kind": "provider_increase", "provider": "carol", "usd_cents": 400_000},
                       {"id": "provider-2", "kind": "provider_increase", "provider": "dave", "usd_cents": 300_000}]),
                (15.0, [{"id": "provider-3", "kind": "provider_increase", "provider": "erin", "usd_cents": 500_000}]),
                (40.0, [{"id": "provider-4", "kind": "provider_decrease", "provider": "dave",
                         "usd_cents": 200_000}])]
    provider_lines = sum(len(lines) for _, lines in schedule)
    providers_acknowledged = 0
    hang_at, resume_at = 26.0, 46.0
    timeline: list[tuple[float, dict[str, float], list[str]]] = []
    peak_netted = 0.0
    started = time.monotonic()
    next_sample = started
    hung = resumed = False
    while time.monotonic() - started < duration and engine.poll() is None:
        t = time.monotonic() - started
        events = []
        while schedule and t >= schedule[0][0]:
            providers_acknowledged += send_provider_lines(socket_path, schedule.pop(0)[1])
            events.append("providers")
        if not hung and t >= hang_at:
            beta.send_signal(signal.SIGSTOP)
            hung = True
            events.append("beta hangs (SIGSTOP)")
        if hung and not resumed and t >= resume_at:
            beta.send_signal(signal.SIGCONT)
            resumed = True
            events.append("beta resumes (SIGCONT)")
        if time.monotonic() >= next_sample or events:
            m = metrics(http_port)
            peak_netted = max(peak_netted, m.get("synthusd_provider_interest_usd_cents", 0) / 100)
            timeline.append((t, m, events))
            print(sample_line(t, m, events), flush=True)
            next_sample += 1.0
        time.sleep(0.05)
    replay_out, _ = replay.communicate(timeout=60)
    final = metrics(http_port)
    engine.send_signal(signal.SIGTERM)
    rest, _ = engine.communicate(timeout=60)
    print(rest.rstrip())
    for venue in (alpha, beta):
        venue.send_signal(signal.SIGCONT)
        venue.send_signal(signal.SIGTERM)
        venue.wait(timeout=20)

    # What the timeline shows.
    def seconds(predicate) -> list[float]:
        return [t for t, m, _ in timeline if m and predicate(m)]
    guarded = seconds(lambda m: m.get('synthusd_funding_guard_engaged{venue="2",instrument="BTC-PERPETUAL"}') == 1)
    expiring, following = future_names()
    in_expiring = seconds(lambda m: alpha_position(m)[1] == expiring)
    in_following = seconds(lambda m: alpha_position(m)[1] == following)
    with open(venue_log(run_directory, "alpha")) as log:
        settled = re.search(rf"{expiring} expired and settled at \S+", log.read())
    rolled = bool(in_expiring) and bool(in_following) and in_expiring[-1] < in_following[0] and \
        in_following[0] < FUTURE_EXPIRY_SECONDS
    beta_down = seconds(lambda m: m.get('synthusd_venue_up{venue="beta"}') == 0)
    print("summary (multi-venue):")
    print("  allocation per venue over time (every 5 s):")
    for t, m, events in timeline[::5]:
        print("   " + sample_line(t, m, events))
    print(f"  roll on alpha: {expiring} held {in_expiring[0]:.0f}s .. {in_expiring[-1]:.0f}s, {following} from "
          f"{in_following[0]:.0f}s (expiry at {FUTURE_EXPIRY_SECONDS}s; venue: "
          f"{settled.group(0) if settled else 'not settled'})" if rolled else
          f"  roll on alpha: NOT SEEN ({expiring} held at {in_expiring[:1]}, {following} at {in_following[:1]})")
    print(f"  funding guard on beta: engaged {guarded[0]:.0f}s .. {guarded[-1]:.0f}s" if guarded else
          "  funding guard on beta: never engaged")
    print(f"  beta down (failover to alpha): {beta_down[0]:.0f}s .. {beta_down[-1]:.0f}s" if beta_down else
          "  beta never marked down")
    netted_contracts = peak_netted / CONTRACT_USD
    fees_saved = peak_netted * TAKER_FEE["alpha"]
    print(f"  netting: up to ${peak_netted:,.0f} of provider interest netted: {netted_contracts:,.0f} contracts "
          f"(${peak_netted:,.0f} notional) never sent, about ${fees_saved:,.2f} of taker fees saved at 5 bp")

    payments = json.load(open(replay_summary)) if os.path.exists(replay_summary) else {}
    engine_summary = json.load(open(summary_path)) if os.path.exists(summary_path) else {}
    journaled = journal_liability_events(config, os.path.join(run_directory, "state", "journal"))
    acknowledged = payments.get("acknowledged", -1)
    lost = (max(acknowledged - journaled, 0) + payments.get("unacknowledged", 0) +
            engine_summary.get("events_lost", 0) + (provider_lines - providers_acknowledged))
    print(f"payments: {replay_out.strip()}")
    print(f"  acknowledged by the engine {acknowledged}, liability events in the journal {journaled}, provider "
          f"lines acknowledged {providers_acknowledged}/{provider_lines}")
    within = engine_summary.get("within_band", False) and 0.95 <= final.get("synthusd_hedge_ratio", 0) <= 1.03
    ok = engine.returncode == 0 and within and lost == 0 and journaled == acknowledged and bool(guarded) and \
        bool(beta_down) and rolled
    print(f"demo: {'PASS' if ok else 'FAIL'}: hedge {'within' if within else 'OUTSIDE'} band, events lost {lost}, "
          f"roll {'seen' if rolled else 'NOT SEEN'}, guard {'switched' if guarded else 'NEVER SWITCHED'}, "
          f"failover {'seen' if beta_down else 'NOT SEEN'}")
    if not args.keep and ok:
        subprocess.run(["rm", "-rf", run_directory])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
