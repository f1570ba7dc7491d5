#!/usr/bin/env python3
"""synthusd backtest end to end on the bundled crash excerpt (tests/data/backtest):
the same input twice gives byte-identical HTML and JSON; the HTML parses, is
self-contained (no scripts, no network) and carries every chart; the JSON
shows the default policy within its bound and stablesats short."""

import argparse
import html.parser
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHARTS = ["chart-price", "chart-liability-hedge", "chart-hedge-error", "chart-costs", "chart-leverage",
          "chart-liquidation-distance"]
VOID = {"meta", "br", "img", "input", "link", "hr"}


class Checker(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack = []
        self.ids = set()
        self.problems = []
        self.svg_children = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            self.problems.append("a <script> in the report")
        for name in ("src", "href"):
            if name in attributes and "://" in attributes[name]:
                self.problems.append("a network reference: %s" % attributes[name])
        if "id" in attributes:
            self.ids.add(attributes["id"])
        if self.stack and self.stack[-1][0] == "svg" and tag == "polyline":
            svg_id = self.stack[-1][1]
            self.svg_children[svg_id] = self.svg_children.get(svg_id, 0) + 1
        if tag not in VOID:
            self.stack.append((tag, attributes.get("id")))

    def handle_startendtag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.add(attributes["id"])

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1][0] != tag:
            self.problems.append("</%s> does not close %s" % (tag, self.stack[-1] if self.stack else "anything"))
            return
        self.stack.pop()


def run(synthusd, directory, name):
    report = os.path.join(directory, name + ".html")
    result = os.path.join(directory, name + ".json")
    completed = subprocess.run(
        [synthusd, "backtest", "--config", os.path.join(ROOT, "config/backtest.toml"),
         "--prices", os.path.join(ROOT, "tests/data/backtest/btcusdt_binance_5m_2020-03-12_excerpt.csv"),
         "--funding", os.path.join(ROOT, "tests/data/backtest/deribit_btc-perpetual_funding_1h_2020-03-12_excerpt.csv"),
         "--flows", "1", "--policy", "stablesats,banded,passive", "--report", report, "--json", result],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    if completed.returncode != 0:
        sys.exit("backtest failed (%d): %s" % (completed.returncode, completed.stderr))
    if "backtest: banded 100%" not in completed.stderr:
        sys.exit("no progress on stderr: %r" % completed.stderr[-300:])
    with open(report, "rb") as file:
        html_bytes = file.read()
    with open(result, "rb") as file:
        json_bytes = file.read()
    return completed.stdout, html_bytes, json_bytes


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--synthusd", required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        table, first_html, first_json = run(args.synthusd, directory, "first")
        _, second_html, second_json = run(args.synthusd, directory, "second")
    failures = []
    if first_html != second_html:
        failures.append("the HTML report differs between two runs of the same input")
    if first_json != second_json:
        failures.append("the JSON differs between two runs of the same input")
    checker = Checker()
    checker.feed(first_html.decode("utf-8"))
    checker.close()
    failures += checker.problems
    if checker.stack:
        failures.append("unclosed elements: %s" % checker.stack)
    for chart in CHARTS:
        if chart not in checker.ids:
            failures.append("chart %s is missing" % chart)
        elif checker.svg_children.get(chart, 0) == 0:
            failures.append("chart %s draws no line" % chart)
    if "events" not in checker.ids:
        failures.append("the events table is missing")
    results = {policy["policy"]: policy for policy in json.loads(first_json)["policies"]}
    if sorted(results) != ["banded", "passive", "stablesats"]:
        failures.append("policies in the JSON: %s" % sorted(results))
    elif not (results["banded"]["hedge_error_bps"]["worst_shortfall"] >= -10 and
              results["stablesats"]["hedge_error_bps"]["worst_shortfall"] < -20):
        failures.append("hedge errors: %s" % {k: v["hedge_error_bps"] for k, v in results.items()})
    if "hedge error: worst shortfall, bps" not in table:
        failures.append("the table on stdout has no hedge error row:\n" + table)
    if failures:
        sys.exit("\n".join(failures))
    print("ok: identical reports, %d bytes of HTML with %d charts" % (len(first_html), len(CHARTS)))


if __name__ == "__main__":
    main()
