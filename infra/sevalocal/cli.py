"""The ``seva`` command."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _demo(args: argparse.Namespace) -> int:
    from sevalocal.demo import DemoOptions, run_demo
    from sevalocal.scenario import DEFAULT_SCENARIO

    scenario = Path(args.scenario) if args.scenario else DEFAULT_SCENARIO
    if args.burst:
        import tempfile

        from sevalocal.scenario_gen import burst, write_jsonl

        scenario = write_jsonl(burst(args.burst), Path(tempfile.mkdtemp(prefix="seva-burst-")) / "burst.jsonl")
    options = DemoOptions(
        scenario=scenario,
        speed=args.speed,
        faults=args.faults,
        seed=args.seed,
        report=Path(args.report) if args.report else None,
        quiet=args.quiet,
        grace_s=args.grace,
    )
    _, status = run_demo(options)
    return status


def classify_lines(lines, out) -> int:  # type: ignore[no-untyped-def]
    """JSON Lines in (``{"tweet", "author", "place"}``), one triage JSON object per line out."""
    import orjson  # JSON Lines at classifier speed: the standard library's json takes a fifth of the time
    from seva.triage import default_triager

    triager = default_triager()
    loads, dumps = orjson.loads, json.dumps
    count = 0
    for line in lines:
        if not line.strip():
            continue
        try:
            record = loads(line)
            if not isinstance(record, dict):
                raise ValueError("each line must be a JSON object")
        except (ValueError, orjson.JSONDecodeError) as exc:
            out.write(dumps({"error": f"invalid input line: {exc}"}) + "\n")
            continue
        result = triager.classify(record.get("tweet"), record.get("author"), record.get("place"))
        out.write(orjson.dumps(result.as_dict(), option=orjson.OPT_APPEND_NEWLINE).decode())
        count += 1
    return count


def _classify(args: argparse.Namespace) -> int:
    classify_lines(sys.stdin, sys.stdout)
    return 0


def _officers(args: argparse.Namespace) -> int:
    """Manage the officer directory (OFFICERS_TABLE; OFFICER_EMAIL_TOPIC_ARN for email subscriptions)."""
    import os

    from pydantic import ValidationError
    from seva.dal.officers import DynamoOfficerDirectory
    from seva.officers import Officer, masked

    table, region = os.environ.get("OFFICERS_TABLE"), os.environ.get("AWS_REGION", "ap-south-1")
    if not table:
        print("seva officers: set OFFICERS_TABLE (the stack output OfficersTableName)", file=sys.stderr)
        return 2
    directory = DynamoOfficerDirectory(table, region)
    topic = os.environ.get("OFFICER_EMAIL_TOPIC_ARN")

    def save(officer: Officer) -> None:
        directory.put(officer)
        if officer.email and topic:
            from seva.clients.sns import SnsSender

            SnsSender(topic, topic, region).subscribe_officer_email(officer.officer_id, officer.email)

    try:
        if args.action == "list":
            for o in directory.all():
                print(
                    f"{o.district:>4} {o.officer_id:<16} {o.role:<13} {masked(o.phone):<16} {o.language} "
                    f"{','.join(o.priorities):<9} {o.name}"
                )
        elif args.action == "add":
            save(
                Officer(
                    district=args.district,
                    officer_id=args.id,
                    name=args.name,
                    role=args.role,
                    phone=args.phone,
                    email=args.email,
                    language=args.language,
                    priorities=tuple(args.priorities.split(",")),
                    categories=tuple(args.categories.split(",")),
                )
            )
            print(f"added {args.id}")
        elif args.action == "remove":
            found = directory.remove(args.district.upper(), args.id)
            print(f"removed {args.id}" if found else f"no officer {args.id} in {args.district}")
            return 0 if found else 1
        elif args.action == "import":
            records = json.loads(Path(args.file).read_text(encoding="utf-8"))
            officers = [Officer(**raw) for raw in records.get("officers", records)]  # validate all first
            for officer in officers:
                save(officer)
            print(f"imported {len(officers)} officers")
    except ValidationError as exc:
        print(f"seva officers: invalid officer: {exc}", file=sys.stderr)
        return 2
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seva", description="Seva: tweets to the UP police, as complaints.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run a scenario end to end on the local cloud")
    demo.add_argument("--scenario", help="JSON Lines scenario (default: the bundled one)")
    demo.add_argument(
        "--burst",
        type=int,
        metavar="N",
        help="instead of a scenario: N tweets of the usual mix to every registered handle within one minute",
    )
    demo.add_argument("--speed", type=float, default=60.0, help="scenario seconds per wall second (default 60)")
    demo.add_argument("--faults", type=float, default=0.0, help="fraction of X/AWS calls and invocations to fail")
    demo.add_argument("--seed", type=int, default=0, help="seed for reproducible faults")
    demo.add_argument("--report", help="write the JSON report here")
    demo.add_argument("--quiet", action="store_true", help="no progress lines")
    demo.add_argument(
        "--grace",
        type=float,
        metavar="S",
        help="wall seconds allowed to drain after the scenario (default 60 + 0.1 a tweet, more with faults)",
    )
    demo.set_defaults(func=_demo)
    classify = sub.add_parser(
        "classify", help="triage JSON Lines from stdin ({tweet, author, place}) to JSON Lines on stdout"
    )
    classify.set_defaults(func=_classify)
    officers = sub.add_parser("officers", help="manage the officer directory (env OFFICERS_TABLE)")
    actions = officers.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="list officers (phone numbers masked)")
    add = actions.add_parser("add", help="add or update an officer")
    add.add_argument("--district", required=True, help="LGD district code, or HQ")
    add.add_argument("--id", required=True)
    add.add_argument("--name", required=True)
    add.add_argument(
        "--role", required=True, choices=["control_room", "sho", "co", "sp", "ssp", "cp", "dcp", "hq_cell"]
    )
    add.add_argument("--phone", required=True, help="E.164 or Indian national format")
    add.add_argument("--email")
    add.add_argument("--language", default="en", choices=["en", "hi"])
    add.add_argument("--priorities", default="P1,P2,P3")
    add.add_argument("--categories", default="*")
    remove = actions.add_parser("remove", help="remove an officer")
    remove.add_argument("--district", required=True)
    remove.add_argument("--id", required=True)
    load = actions.add_parser("import", help="add or update every officer of a JSON file ({officers: [...]})")
    load.add_argument("file")
    officers.set_defaults(func=_officers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "demo" and not 0 <= args.faults < 1:
        print("seva demo: --faults must be in [0, 1)", file=sys.stderr)
        return 2
    if args.command == "demo" and args.burst is not None and (args.burst < 1 or args.scenario):
        print("seva demo: --burst takes a positive number of tweets, and no --scenario", file=sys.stderr)
        return 2
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
