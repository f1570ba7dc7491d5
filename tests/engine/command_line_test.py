#!/usr/bin/env python3
"""The command lines of build/synthusd and build/synthusd-venue refuse a value
that would silently be another one: a seed of -1 (read as 2^64 - 1 by an
unsigned option) or too large for 64 bits, a delay too long for the clock's
nanoseconds, a price model parameter that is nan, infinite or absurd. Each
refusal exits non-zero, names the option and starts nothing."""

import argparse
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PRICES = os.path.join(ROOT, "tests", "data", "backtest", "btcusdt_binance_5m_2020-03-12_excerpt.csv")
CONFIG = os.path.join(ROOT, "config", "backtest.toml")


def run(command):
    # A refusal is immediate; a venue that was not refused would serve until
    # killed, so the timeout is the failure, not a retry.
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return None, "", "timed out: the value was not refused"
    return done.returncode, done.stdout, done.stderr


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--synthusd", required=True)
    parser.add_argument("--venue", required=True)
    args = parser.parse_args()
    backtest = [args.synthusd, "backtest", "--config", CONFIG, "--prices", PRICES]
    refused = [
        ([args.synthusd, "simulate", "--steps", "1", "--seed=-1"], "--seed"),
        ([args.synthusd, "simulate", "--steps", "1", "--seed", "18446744073709551616"], "--seed"),
        ([args.synthusd, "simulate", "--steps", "1", "--seed", "+3"], "--seed"),
        (backtest + ["--flows=-1"], "--flows"),
        (backtest + ["--flows", "1", "--transfer-delay", "9223372036854775807"], "--transfer-delay"),
        (backtest + ["--flows", "1", "--transfer-delay", "-1"], "--transfer-delay"),
        (backtest + ["--flows", "1", "--post-only-wait", "0"], "--post-only-wait"),
        (backtest + ["--flows", "1", "--post-only-wait", "86401"], "--post-only-wait"),
        ([args.venue, "--volatility", "nan"], "path.volatility (--volatility)"),
        ([args.venue, "--volatility", "-1"], "path.volatility"),
        ([args.venue, "--drift", "inf"], "path.drift"),
        ([args.venue, "--steps", "100000000"], "path.steps"),
    ]
    failures = []
    for command, option in refused:
        code, out, err = run(command)
        shown = " ".join(command[1:])
        if code is None or code == 0:
            failures.append("%s: accepted (exit %s): %s" % (shown, code, (out + err)[-300:]))
        elif option not in err:
            failures.append("%s: the refusal does not name %s: %s" % (shown, option, err.strip()[-300:]))
    # The same commands with good values run: the checks refuse only what they should.
    accepted = [
        [args.synthusd, "simulate", "--steps", "1", "--seed", "18446744073709551615"],
        backtest + ["--flows", "0", "--transfer-delay", "604800", "--post-only-wait", "86400"],
    ]
    for command in accepted:
        code, out, err = run(command)
        if code != 0:
            failures.append("%s: refused (exit %s): %s" % (" ".join(command[1:]), code, err.strip()[-300:]))
    for failure in failures:
        print("FAIL", failure)
    print("%d refusals and %d good command lines checked, %d failures" % (len(refused), len(accepted), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
