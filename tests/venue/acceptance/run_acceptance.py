#!/usr/bin/env python3
"""Runs QuickFIX's server acceptance scenarios (.def files) against synthusd-venue --acceptance.

The .def format and its checks follow QuickFIX's Ruby runner (test/Reflector.rb,
ReflectorClient.rb, FixParser.rb, Comparator.rb, Runner.rb); fix.md section 3
summarises them:

  I[N,]<msg>     send <msg> on connection N (default 1); 9= and 10= are filled in
                 when absent, <TIME>, <TIME+n>, <TIME-n> and <FILE:path> are expanded
  E[N,]<msg>     read one message (framed by 9=<length>, then 10=) and compare it:
                 same number of fields, same tags in the same order, values equal,
                 except tags listed in fields.fmt, whose value must match a regex
  iCONNECT       open a TCP connection to the venue
  iDISCONNECT    close it
  eCONNECT       (client mode, unused by server/ scenarios) nothing to do
  eDISCONNECT    the venue must close the connection within 10 s; data first is a failure
  # ...          comment; blank lines are skipped

Each scenario gets a fresh venue process on a free loopback port, so scenarios are
isolated and run in parallel (--jobs). The last line printed is "N passed, M failed".
The exit status is 0 when every failure is listed in known_failures.txt, 1 otherwise,
and 77 (ctest's skip) when the scenario directory does not exist.

Standard library only.
"""

import argparse
import concurrent.futures
import datetime
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

SOH = "\x01"
HERE = os.path.dirname(os.path.abspath(__file__))
REPOSITORY = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
SHARED = os.path.normpath(os.path.join(REPOSITORY, "..", "shared", "quickfix-acceptance"))

DISCONNECT_WAIT_SECONDS = 10.0  # Reflector: "Connection hangs after ten seconds."
SKIP_STATUS = 77


class ScenarioFailure(Exception):
    pass


# ---- the .def line language (Reflector.rb) -------------------------------------------


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def timeify(message):
    """<TIME> -> now as YYYYMMDD-HH:MM:SS (UTC); <TIME+n>/<TIME-n> shift by n seconds."""
    message = message.replace("<TIME>", utc_now().strftime("%Y%m%d-%H:%M:%S"))

    def shifted(match):
        seconds = int(match.group(2))
        delta = datetime.timedelta(seconds=seconds if match.group(1) == "+" else -seconds)
        return (utc_now() + delta).strftime("%Y%m%d-%H:%M:%S")

    return re.sub(r"<TIME([+-])(\d+)>", shifted, message)


def fileify(message, base_directory):
    """<FILE:path> -> the file's contents, stripped."""

    def contents(match):
        path = match.group(1)
        if not os.path.isabs(path):
            path = os.path.join(base_directory, path)
        with open(path, "rb") as handle:
            return handle.read().decode("latin-1").strip()

    return re.sub(r"<FILE:([^>]+)>", contents, message)


def fixify(message):
    """Inserts BodyLength (9=) and CheckSum (10=) when the line does not give them.

    Mirrors Reflector.rb#fixify!: the head is the leading "8=...SOH"; a message that
    does not start with 8= is sent exactly as written. An explicit 10= field (up to
    the last SOH) is kept as written and excluded from the computed length.
    """
    has_length = re.search(r"\x019=.*?\x01", message) is not None
    head_match = re.match(r"8=.*?\x01", message)
    if head_match is None:
        return message
    head = head_match.group(0)
    rest = message[head_match.end():]
    checksum_match = re.search(r"\x0110=.*\x01$", rest)
    checksum = None
    if checksum_match is not None:
        checksum = checksum_match.group(0)
        rest = rest[: checksum_match.start()] + rest[checksum_match.end():]
    length = "" if has_length else "9=%d\x01" % len(rest)
    if checksum is None:
        total = sum((head + length + rest).encode("latin-1")) % 256
        checksum = "10=%03d\x01" % total
    return head + length + rest + checksum


def chomp(line):
    if line.endswith("\r\n"):
        return line[:-2]
    if line.endswith("\n") or line.endswith("\r"):
        return line[:-1]
    return line


def parse_definition(text):
    """Yields (line number, raw line, action letter, connection id, body)."""
    for number, raw in enumerate(text.splitlines(keepends=True), start=1):
        line = chomp(raw)
        if not line or line.startswith("#"):
            continue
        action = line[0]
        if action not in "IEie":
            raise ScenarioFailure("line %d: syntax error: %r" % (number, line))
        if re.match(r"^[IEie]\d,", line):
            connection, body = int(line[1]), line[3:]
        else:
            connection, body = 1, line[1:]
        yield number, line, action, connection, body


# ---- comparison (Comparator.rb) ------------------------------------------------------


def ruby_split(text, separator):
    """String#split: trailing empty fields are dropped."""
    parts = text.split(separator)
    while parts and parts[-1] == "":
        parts.pop()
    return parts


def ruby_to_i(text):
    match = re.match(r"\s*([+-]?\d+)", text or "")
    return int(match.group(1)) if match else 0


def load_patterns(path):
    patterns = {}
    with open(path, "r", encoding="latin-1") as handle:
        for line in handle:
            line = chomp(line)
            if not line:
                continue
            parts = line.split("=")
            patterns[ruby_to_i(parts[0])] = re.compile(parts[1] if len(parts) > 1 else "")
    return patterns


def compare(expected, received, patterns):
    """None if the messages match, else the reason (Comparator#compare)."""
    left = ruby_split(expected, SOH)
    right = ruby_split(received, SOH)
    if len(left) != len(right):
        return "Number of fields do not match"
    for left_text, right_text in zip(left, right):
        left_field = ruby_split(left_text, "=")
        right_field = ruby_split(right_text, "=")
        left_tag = left_field[0] if left_field else None
        right_tag = right_field[0] if right_field else None
        if left_tag != right_tag:
            return "Expected field (%s) but found field (%s)" % (left_tag, right_tag)
        left_value = left_field[1] if len(left_field) > 1 else None
        right_value = right_field[1] if len(right_field) > 1 else None
        pattern = patterns.get(ruby_to_i(left_tag))
        if pattern is None:
            if left_value != right_value:
                return "Value in field (%s) should be (%s) but was (%s)" % (left_tag, left_value, right_value)
        elif right_value is None or pattern.search(right_value) is None:
            return "Field (%s) does not match pattern" % left_tag
    return None


# ---- connections (ReflectorClient.rb, FixParser.rb) -------------------------------------


class Connection:
    def __init__(self, host, port):
        self.socket = socket.create_connection((host, port), timeout=10)
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = bytearray()
        self.at_eof = False

    def close(self):
        try:
            self.socket.close()
        except OSError:
            pass

    def send(self, message):
        self.socket.sendall(message.encode("latin-1"))

    def _fill(self, deadline):
        """Reads more bytes into the buffer; False at end of stream."""
        if self.at_eof:
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ScenarioFailure("timed out waiting for a message")
        ready, _, _ = select.select([self.socket], [], [], remaining)
        if not ready:
            raise ScenarioFailure("timed out waiting for a message")
        try:
            chunk = self.socket.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.at_eof = True
            return False
        self.buffer.extend(chunk)
        return True

    def _read_through(self, separator, deadline, start=0):
        while True:
            index = self.buffer.find(separator, start)
            if index >= 0:
                return index + len(separator)
            if not self._fill(deadline):
                raise ScenarioFailure("Was disconnected, expected data")

    def read_message(self, timeout):
        """One message: up to SOH 9=, the length, that many bytes, then the CheckSum field."""
        deadline = time.monotonic() + timeout
        if not self.buffer and not self._fill(deadline):
            raise ScenarioFailure("Was disconnected, expected data")
        length_start = self._read_through(b"\x019=", deadline)
        length_end = self._read_through(b"\x01", deadline, length_start)
        length = self.buffer[length_start : length_end - 1].decode("latin-1")
        if not re.fullmatch(r"\d*", length) or not length:
            self.close()
            raise ScenarioFailure("bad BodyLength %r" % length)
        body_end = length_end + int(length)
        while len(self.buffer) < body_end:
            if not self._fill(deadline):
                raise ScenarioFailure("Was disconnected, expected data")
        message_end = self._read_through(b"\x01", deadline, body_end)
        message = bytes(self.buffer[:message_end]).decode("latin-1")
        del self.buffer[:message_end]
        return message

    def wait_disconnect(self, timeout):
        """The peer must close within timeout; any data first is a failure."""
        if self.buffer:
            raise ScenarioFailure("Expected disconnection, got data")
        if self.at_eof:
            return
        ready, _, _ = select.select([self.socket], [], [], timeout)
        if not ready:
            raise ScenarioFailure("Connection hangs after ten seconds.")
        try:
            chunk = self.socket.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if chunk:
            self.buffer.extend(chunk)
            raise ScenarioFailure("Expected disconnection, got data")
        self.at_eof = True


def run_scenario(path, host, port, patterns, read_timeout):
    """Raises ScenarioFailure with the line and reason on the first mismatch."""
    with open(path, "rb") as handle:
        text = handle.read().decode("latin-1")
    connections = {}
    base_directory = os.path.dirname(path)
    try:
        for number, line, action, connection_id, body in parse_definition(text):
            try:
                body = fixify(fileify(timeify(body), base_directory))
                if action == "i":
                    if body == "CONNECT":
                        connections[connection_id] = Connection(host, port)
                    elif body == "DISCONNECT":
                        connections.pop(connection_id).close()
                    else:
                        raise ScenarioFailure("Syntax error: " + body)
                elif action == "e":
                    if body == "CONNECT":
                        pass
                    elif body == "DISCONNECT":
                        connection = connections.get(connection_id)
                        if connection is None:
                            raise ScenarioFailure("no connection %d to wait on" % connection_id)
                        connection.wait_disconnect(DISCONNECT_WAIT_SECONDS)
                    else:
                        raise ScenarioFailure("Syntax error: " + body)
                elif action == "I":
                    connection = connections.get(connection_id)
                    if connection is None:
                        raise ScenarioFailure("Unable to send message because connection was dropped")
                    connection.send(body)
                else:  # E
                    connection = connections.get(connection_id)
                    if connection is None:
                        raise ScenarioFailure("no connection %d to read from" % connection_id)
                    received = connection.read_message(read_timeout)
                    reason = compare(body, received, patterns)
                    if reason is not None:
                        raise ScenarioFailure(
                            "reason  : %s\n    expected: %s\n    received: %s"
                            % (reason, body.replace(SOH, "|"), received.replace(SOH, "|"))
                        )
            except ScenarioFailure as failure:
                raise ScenarioFailure("line %d: %s" % (number, failure)) from None
            except (OSError, KeyError, ValueError) as error:
                raise ScenarioFailure("line %d: %s: %s" % (number, type(error).__name__, error)) from None
    finally:
        for connection in connections.values():
            connection.close()


# ---- the venue process ---------------------------------------------------------------


class Venue:
    """A synthusd-venue --acceptance process on a free port."""

    PORT_LINE = re.compile(r"FIX acceptor on port (\d+)")

    def __init__(self, executable, dictionary, startup_timeout, extra_arguments=()):
        # {tmpdir} in an extra argument becomes a directory of this process's own,
        # e.g. --venue-arg=--fix-store-path={tmpdir} for a FileStore per scenario.
        self.directory = tempfile.mkdtemp(prefix="synthusd-acceptance-")
        arguments = [argument.replace("{tmpdir}", self.directory) for argument in extra_arguments]
        self.process = subprocess.Popen(
            [executable, "--acceptance", "--fix-port", "0", "--data-dictionary", dictionary] + arguments,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.port = None
        self.stdout = b""
        deadline = time.monotonic() + startup_timeout
        while self.port is None:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self.process.stdout], [], [], max(remaining, 0))
            if not ready:
                self.stop()
                raise ScenarioFailure("venue did not report its port within %.0f s" % startup_timeout)
            chunk = os.read(self.process.stdout.fileno(), 4096)
            if not chunk:
                status = self.stop()
                raise ScenarioFailure("venue exited (status %s) before listening: %s" % (status, self.stderr))
            self.stdout += chunk
            match = self.PORT_LINE.search(self.stdout.decode("latin-1"))
            if match:
                self.port = int(match.group(1))

    def stop(self):
        """Stops the venue; returns its exit status (0 after a clean SIGTERM shutdown)."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            _, stderr = self.process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, stderr = self.process.communicate()
        self.stderr = stderr.decode("latin-1", "replace").strip()
        shutil.rmtree(self.directory, ignore_errors=True)
        return self.process.returncode


def run_one(path, options, patterns):
    """(passed, details) for one scenario, on its own venue process."""
    started = time.monotonic()
    try:
        venue = Venue(options.venue, options.dictionary, options.startup_timeout, options.venue_arg)
    except ScenarioFailure as failure:
        return False, str(failure), time.monotonic() - started
    failure_text = None
    try:
        run_scenario(path, "127.0.0.1", venue.port, patterns, options.read_timeout)
    except ScenarioFailure as failure:
        failure_text = str(failure)
    status = venue.stop()
    if status != 0:
        # A crash or a sanitizer report fails the scenario even if the exchange matched.
        detail = "venue exited with status %s" % status
        if venue.stderr:
            detail += ":\n" + "\n".join("      " + line for line in venue.stderr.splitlines()[-20:])
        failure_text = detail if failure_text is None else failure_text + "\n    " + detail
    return failure_text is None, failure_text, time.monotonic() - started


def load_known_failures(path):
    """{scenario: reason}; every entry must give a reason."""
    known = {}
    if not path or not os.path.exists(path):
        return known
    with open(path, "r", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, _, reason = line.partition(" ")
            if not reason.strip():
                raise SystemExit("%s:%d: %s has no reason" % (path, number, name))
            known[name[:-4] if name.endswith(".def") else name] = reason.strip()
    return known


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venue", required=True, help="the synthusd-venue executable")
    parser.add_argument("--definitions", default=os.path.join(SHARED, "server", "fix44"),
                        help="directory of .def scenarios (default: %(default)s)")
    parser.add_argument("--fields", default=os.path.join(SHARED, "fields.fmt"),
                        help="fields.fmt: tags compared by regex (default: %(default)s)")
    parser.add_argument("--dictionary", default=os.path.join(SHARED, "spec", "FIX44.xml"),
                        help="the FIX44.xml data dictionary the venue validates with (default: %(default)s)")
    parser.add_argument("--known-failures", default=os.path.join(HERE, "known_failures.txt"),
                        help="scenarios allowed to fail, one per line with the reason")
    parser.add_argument("--venue-arg", action="append", default=[],
                        help="extra venue argument, repeatable; {tmpdir} is a per-scenario directory "
                             "(e.g. --venue-arg=--fix-store=file --venue-arg=--fix-store-path={tmpdir})")
    parser.add_argument("--jobs", type=int, default=8, help="scenarios run at once (default: %(default)s)")
    parser.add_argument("--read-timeout", type=float, default=20.0,
                        help="seconds an E line waits for its message (default: %(default)s)")
    parser.add_argument("--startup-timeout", type=float, default=30.0,
                        help="seconds to wait for the venue to listen (default: %(default)s)")
    parser.add_argument("scenarios", nargs="*", help="scenario names (default: every .def in --definitions)")
    options = parser.parse_args()

    if not os.path.isdir(options.definitions):
        print("SKIP: no scenario directory %s" % options.definitions)
        return SKIP_STATUS
    for path in (options.fields, options.dictionary, options.venue):
        if not os.path.exists(path):
            print("error: %s does not exist" % path, file=sys.stderr)
            return 2

    patterns = load_patterns(options.fields)
    known = load_known_failures(options.known_failures)
    names = sorted(f[:-4] for f in os.listdir(options.definitions) if f.endswith(".def"))
    if options.scenarios:
        wanted = [n[:-4] if n.endswith(".def") else os.path.basename(n) for n in options.scenarios]
        missing = [n for n in wanted if n not in names]
        if missing:
            print("error: no such scenario: %s" % ", ".join(missing), file=sys.stderr)
            return 2
        names = wanted
    for name in sorted(set(known) - set(names)):
        if not options.scenarios:
            print("note: known_failures.txt lists %s, which is not a scenario" % name)

    started = time.monotonic()
    passed = failed = unexpected = 0
    print_lock = threading.Lock()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(options.jobs, 1)) as pool:
        futures = [
            (name, pool.submit(run_one, os.path.join(options.definitions, name + ".def"), options, patterns))
            for name in names
        ]
        for name, future in futures:
            ok, details, seconds = future.result()
            with print_lock:
                if ok:
                    passed += 1
                    note = "  (listed in known_failures.txt: %s)" % known[name] if name in known else ""
                    print("PASS %s [%.1f s]%s" % (name, seconds, note))
                else:
                    failed += 1
                    if name in known:
                        print("FAIL %s [%.1f s] (known: %s)" % (name, seconds, known[name]))
                    else:
                        unexpected += 1
                        print("FAIL %s [%.1f s]" % (name, seconds))
                    print("    " + details.replace("\n", "\n    "))
                sys.stdout.flush()
    print("%d unexpected failures; %.1f s" % (unexpected, time.monotonic() - started))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
