"""The ``seva`` command."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _demo(args: argparse.Namespace) -> int:
    from sevalocal.demo import DemoOptions, run_demo
    from sevalocal.scenario import DEFAULT_SCENARIO

    options = DemoOptions(
        scenario=Path(args.scenario) if args.scenario else DEFAULT_SCENARIO,
        speed=args.speed,
        faults=args.faults,
        seed=args.seed,
        report=Path(args.report) if args.report else None,
        quiet=args.quiet,
    )
    _, status = run_demo(options)
    return status


def classify_lines(lines, out) -> int:  # type: ignore[no-untyped-def]
    """JSON Lines in (``{"tweet", "author", "place"}``), one triage JSON object per line out."""
    from seva.triage import default_triager

    triager = default_triager()
    dumps, loads = json.dumps, json.loads
    count = 0
    for line in lines:
        if not line.strip():
            continue
        try:
            record = loads(line)
            if not isinstance(record, dict):
                raise ValueError("each line must be a JSON object")
        except ValueError as exc:
            out.write(dumps({"error": f"invalid input line: {exc}"}) + "\n")
            continue
        result = triager.classify(record.get("tweet"), record.get("author"), record.get("place"))
        out.write(dumps(result.as_dict(), ensure_ascii=False) + "\n")
        count += 1
    return count


def _classify(args: argparse.Namespace) -> int:
    classify_lines(sys.stdin, sys.stdout)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seva", description="Seva: tweets to the UP police, as complaints.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run a scenario end to end on the local cloud")
    demo.add_argument("--scenario", help="JSON Lines scenario (default: the bundled one)")
    demo.add_argument("--speed", type=float, default=60.0, help="scenario seconds per wall second (default 60)")
    demo.add_argument("--faults", type=float, default=0.0, help="fraction of X/AWS calls and invocations to fail")
    demo.add_argument("--seed", type=int, default=0, help="seed for reproducible faults")
    demo.add_argument("--report", help="write the JSON report here")
    demo.add_argument("--quiet", action="store_true", help="no progress lines")
    demo.set_defaults(func=_demo)
    classify = sub.add_parser(
        "classify", help="triage JSON Lines from stdin ({tweet, author, place}) to JSON Lines on stdout"
    )
    classify.set_defaults(func=_classify)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "demo" and not 0 <= args.faults < 1:
        print("seva demo: --faults must be in [0, 1)", file=sys.stderr)
        return 2
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
