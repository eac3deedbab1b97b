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


ERASE_NOT_FOUND, ERASE_USAGE, ERASE_FAILED = 1, 2, 3


def _erase(args: argparse.Namespace) -> int:
    """Erase personal data (env COMPLAINTS_TABLE, AUDIT_TABLE, STATE_TABLE; X_SECRET_NAME for --deleted-on-x).
    Prints the report as JSON; exit 0 done (or already erased), 1 nothing found, 2 usage, 3 AWS or X failed."""
    from pydantic import ValidationError
    from seva.settings import EraseSettings

    try:
        settings = EraseSettings.load()
    except ValidationError as exc:
        names = ", ".join(sorted({str(e["loc"][0]).upper() for e in exc.errors()}))
        print(f"seva erase: set {names} (the stack's resource names)", file=sys.stderr)
        return ERASE_USAGE
    for value, what in ((args.tweet, "--tweet"), (args.author, "--author")):
        if value is not None and not value.isdigit():
            print(f"seva erase: {what} takes a numeric X id, not {value[:30]!r}", file=sys.stderr)
            return ERASE_USAGE
    from seva.bootstrap import erasure, utcnow
    from seva.lifecycle import Actor, ActorKind, Status
    from seva.privacy import Eraser

    complaints, deleted = erasure(settings)
    eraser = Eraser(complaints, utcnow)
    actor = Actor(ActorKind.STATE_CELL, args.by)
    try:
        if args.tweet:
            report = eraser.erase_post(args.tweet, actor, args.reason)
        elif args.author:
            report = eraser.erase_author(args.author, actor, args.reason)
        else:
            report = eraser.erase_deleted(complaints.unerased(frozenset(Status)), deleted())
    except ValueError as exc:
        print(f"seva erase: {exc}", file=sys.stderr)
        return ERASE_USAGE
    except Exception as exc:  # AWS or X: one line, never a traceback (nothing half-done: each item is atomic)
        print(f"seva erase: failed ({type(exc).__name__}: {str(exc)[:200]}); run it again", file=sys.stderr)
        return ERASE_FAILED
    print(json.dumps(report.as_dict()))
    return ERASE_NOT_FOUND if report.missing and not (report.erased or report.already) else 0


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
    erase = sub.add_parser(
        "erase",
        help="erase a citizen's personal data: a post (with its edits and follow-ups), an author, or posts deleted "
        "on X (env COMPLAINTS_TABLE, AUDIT_TABLE, STATE_TABLE; X_SECRET_NAME)",
    )
    which = erase.add_mutually_exclusive_group(required=True)
    which.add_argument("--tweet", help="the post's X id")
    which.add_argument("--author", help="the author's X user id: every post of theirs")
    which.add_argument("--deleted-on-x", action="store_true", help="ask X (GET /2/tweets) which posts were deleted")
    erase.add_argument("--reason", default="erasure request", help="recorded on the audit event")
    erase.add_argument("--by", default="operator", help="who asked (recorded as the state cell's actor id)")
    erase.set_defaults(func=_erase)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "demo" and not 0 <= args.faults < 1:
        print("seva demo: --faults must be in [0, 1)", file=sys.stderr)
        return 2
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
