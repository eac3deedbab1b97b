"""Poll cost on a big scenario: X requests per poll cycle and AWS requests per ingested tweet.

    python bench/poll_bench.py [--tweets 5000] [--minutes 10] [--faults 0] [--scenario FILE]

Generates (or reads) a scenario spread over all 122 registered handles, runs `seva demo` on the local
cloud, and prints figures from the ground-truth report: the minimum X requests a cycle needs is the number
of 512-character queries (5 for 122 handles) plus one per further 100 tweets.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT / "infra")]

from seva.querypack import pack_queries  # noqa: E402
from seva.registry import load_registry  # noqa: E402
from sevalocal.demo import DemoOptions, run_demo  # noqa: E402
from sevalocal.scenario_gen import generate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tweets", type=int, default=5000)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--faults", type=float, default=0.0)
    parser.add_argument(
        "--speed",
        type=float,
        default=4.0,
        help="scenario seconds per wall second; low enough that a cycle's writes to moto fit in its minute",
    )
    parser.add_argument("--scenario", type=Path, help="use this scenario instead of generating one")
    args = parser.parse_args()
    scenario = args.scenario
    if scenario is None:
        scenario = Path(tempfile.mkdtemp()) / "big.jsonl"
        records = generate(args.tweets, args.minutes, seed=5000, all_handles=True)
        scenario.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    queries = len(pack_queries(load_registry().usernames))
    options = DemoOptions(scenario=scenario, speed=args.speed, faults=args.faults, seed=7, quiet=True, grace_s=900)
    report, status = run_demo(options)
    t, poll = report["tweets"], report["poll"]
    busy_cycles = [c for c in poll.get("cycles_detail", []) if c]
    handles = len(load_registry().handles)
    print(f"scenario: {scenario} ({t['published']} tweets, {t['matching']} matching, {handles} handles)")
    print(f"ingested {t['ingested']}  lost {t['lost']}  duplicates {report['complaints']['duplicates']}  exit {status}")
    print(f"queries per cycle (512-char packing): {queries}")
    print(
        f"poll cycles {poll['cycles']}: search requests/cycle mean {poll['search_requests_per_cycle']['mean']} "
        f"max {poll['search_requests_per_cycle']['max']}"
    )
    if busy_cycles:
        print(f"  per cycle: {busy_cycles}")
    per_minute = t["matching"] / max(1.0, args.minutes)
    print(f"  expected minimum at {per_minute:.0f} tweets/minute: {queries} + about {per_minute / 100:.1f} extra pages")
    aws = report["aws_requests"]
    print(
        f"AWS requests per ingested tweet: {report['aws_requests_per_ingested_tweet']} (all functions); by operation:"
    )
    for op, n in sorted(aws.items(), key=lambda kv: -kv[1]):
        print(f"  {op:40} {n:>7}  ({n / max(1, t['ingested']):.3f}/tweet)")
    print(f"latency_s: {json.dumps(report['latency_s'])}")
    print(f"wall {report['wall_s']} s")


if __name__ == "__main__":
    main()
