"""Coverage-guided fuzzing with atheris (libFuzzer) of the parsers that face untrusted bytes (SECURITY.md F7).

    python bench/fuzz_long.py --all --seconds 60           each target for 60 s (a child process per target)
    python bench/fuzz_long.py envelope -max_total_time=600   one target, any libFuzzer flags
    python bench/fuzz_long.py --list

Targets and the only errors each may raise (anything else is a crash, and libFuzzer writes the input that
caused it as crash-<sha1> in the working folder):

==========  ============================================================  ==================================
envelope    protocols.envelope.open_envelope (strict parse, verify,      protocols.errors.ProtocolError
            decrypt, schema) on bytes and on mutations of a real one
strictjson  protocols.strictjson.loads                                   StrictJSONError
canonical   strictjson.loads, then canonical_bytes; the bytes re-parse    StrictJSONError (parse only)
            to the same value (round trip)
names       matching.normalize.clean/fold/tokens, matching.names         none
            .name_key, protocols.validation.clean_text(name=True)        ValidationError (validation only)
mrz         matching.mrz.parse_mrz                                       MRZError
dates       matching.dates.parse_birth_date, protocols.validation        ValidationError (validation only)
            .clean_date / clean_partial_date
==========  ============================================================  ==================================

Without atheris (it needs a compiler-built wheel for the Python in use) the same targets run under hypothesis
for the time given (``--hypothesis``); tests/test_fuzz_targets.py runs a bounded atheris pass in the suite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _imports() -> dict:
    """The modules under test, imported here so atheris can instrument them as they load."""
    from matching import dates as mdates
    from matching import mrz, names, normalize
    from protocols import errors, strictjson, validation
    from protocols.canonical import canonical_bytes
    from protocols.envelope import open_envelope, seal
    from protocols.fixtures import NODE_KEYS, NOW, keyring, sample_bodies
    return {"mdates": mdates, "mrz": mrz, "names": names, "normalize": normalize, "errors": errors,
            "strictjson": strictjson, "validation": validation, "canonical_bytes": canonical_bytes,
            "open_envelope": open_envelope, "seal": seal, "NODE_KEYS": NODE_KEYS, "NOW": NOW, "keyring": keyring,
            "sample_bodies": sample_bodies}


def targets(m: dict) -> dict[str, Callable[[bytes], None]]:
    """One function per target: bytes in; returns quietly or raises only the declared errors (caught here)."""
    kh, th = m["NODE_KEYS"]["KH"], m["NODE_KEYS"]["TH"]
    later = m["NOW"] + dt.timedelta(seconds=10)
    ring = m["keyring"]()
    original = m["seal"]("record_upsert", m["sample_bodies"]()["record_upsert"], sender="KH", recipient="TH",
                         signing_key=kh.signing_key, kid=kh.kid, recipient_box_key=th.box_private.public_key,
                         now=m["NOW"])
    strict_error, validation_error = m["strictjson"].StrictJSONError, m["validation"].ValidationError

    def text(data: bytes) -> str:
        """UTF-8 text; after a leading NUL byte, raw UTF-16 code units (so lone surrogates and any BMP char)."""
        if data[:1] == b"\x00":
            units = data[1:] + b"\x00" * ((len(data) - 1) % 2)
            return units.decode("utf-16-le", errors="surrogatepass")
        return data.decode("utf-8", errors="replace")

    def envelope(data: bytes) -> None:
        wire = data
        if data[:1] == b"\x01" and len(data) > 3:  # a mutation of a real envelope: position, new byte
            wire = bytearray(original)
            at = int.from_bytes(data[1:3], "big") % len(wire)
            wire[at:at + 1] = data[3:5]
            wire = bytes(wire)
        try:
            m["open_envelope"](wire, me="TH", keyring=ring, my_box_key=th.box_private, now=later)
        except m["errors"].ProtocolError as exc:
            assert exc.code in set(m["errors"].ErrorCode)

    def strictjson_target(data: bytes) -> None:
        try:
            m["strictjson"].loads(data)
        except strict_error:
            pass

    def canonical(data: bytes) -> None:
        try:
            value = m["strictjson"].loads(data)
        except strict_error:
            return
        out = m["canonical_bytes"](value)  # a strictly parsed value always has a canonical form
        assert m["strictjson"].loads(out) == value and m["canonical_bytes"](m["strictjson"].loads(out)) == out

    def names_target(data: bytes) -> None:
        raw = text(data)
        folded = m["normalize"].fold(raw)
        assert isinstance(folded, str) and isinstance(m["normalize"].tokens(raw), list)
        m["normalize"].clean(raw)
        m["names"].name_key({"full": raw})
        try:
            m["validation"].clean_text(raw, "name", 200, name=True)
        except validation_error:
            pass

    def mrz_target(data: bytes) -> None:
        try:
            m["mrz"].parse_mrz(text(data), today=dt.date(2026, 1, 1))
        except m["mrz"].MRZError:
            pass

    def dates_target(data: bytes) -> None:
        raw = text(data)
        parsed, _problem = m["mdates"].parse_birth_date(raw, today=dt.date(2026, 1, 1))
        assert parsed is None or not parsed.plausible or 1 <= parsed.year <= 2026  # a future year is flagged
        for check in (m["validation"].clean_date, m["validation"].clean_partial_date):
            try:
                check(raw, "birth_date")
            except validation_error:
                pass

    return {"envelope": envelope, "strictjson": strictjson_target, "canonical": canonical, "names": names_target,
            "mrz": mrz_target, "dates": dates_target}


NAMES = ("envelope", "strictjson", "canonical", "names", "mrz", "dates")


def run_atheris(name: str, flags: list[str]) -> None:
    import atheris

    with atheris.instrument_imports(include=["protocols", "matching"]):
        mods = _imports()
    target = targets(mods)[name]
    atheris.Setup([sys.argv[0], *flags], target)
    atheris.Fuzz()


def run_hypothesis(name: str, seconds: float) -> int:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    target = targets(_imports())[name]
    deadline = time.monotonic() + seconds
    runs = 0

    @settings(max_examples=10**9, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.binary(max_size=600))
    def fuzz(data: bytes) -> None:
        nonlocal runs
        runs += 1
        if time.monotonic() > deadline:
            return
        target(data)

    try:
        fuzz()
    except Exception:
        raise
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", nargs="?", choices=NAMES)
    parser.add_argument("--all", action="store_true", help="every target, one after another")
    parser.add_argument("--seconds", type=int, default=60, help="time per target with --all or --hypothesis")
    parser.add_argument("--hypothesis", action="store_true", help="use hypothesis instead of atheris")
    parser.add_argument("--list", action="store_true")
    args, flags = parser.parse_known_args()
    if args.list:
        print("\n".join(NAMES))
        return 0
    if args.all:
        failed = []
        for name in NAMES:
            argv = [sys.executable, __file__, name]
            argv += ["--hypothesis", "--seconds", str(args.seconds)] if args.hypothesis else \
                [f"-max_total_time={args.seconds}", "-timeout=10", "-rss_limit_mb=2048"]
            started = time.monotonic()
            done = subprocess.run(argv, capture_output=True, text=True, timeout=args.seconds * 3 + 120)
            print(f"{name:<11} {'ok' if done.returncode == 0 else 'FAILED'} {time.monotonic() - started:6.1f} s")
            if done.returncode != 0:
                failed.append(name)
                print(done.stderr[-3000:])
        return 1 if failed else 0
    if args.target is None:
        parser.error("name a target, or --all")
    if args.hypothesis:
        runs = run_hypothesis(args.target, args.seconds)
        print(f"{args.target}: {runs} inputs, only declared errors")
        return 0
    run_atheris(args.target, flags)
    return 0


if __name__ == "__main__":
    sys.exit(main())
