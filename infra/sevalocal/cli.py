"""The ``seva`` command: ``demo`` and ``classify`` (the local cloud), ``officers`` (the deployable tooling,
``seva_tools.officers``, also usable on its own against a real account). Every mistake ends in one line on stderr
and a documented exit code (``seva_tools.errors``), never a traceback."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from seva_tools.errors import EXIT_CODES_HELP, CliError, ExitCode, Parser, run


def _demo(args: argparse.Namespace) -> int:
    from sevalocal.demo import DemoOptions, run_demo
    from sevalocal.scenario import DEFAULT_SCENARIO, ScenarioError

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
    try:
        _, status = run_demo(options)
    except ScenarioError as exc:
        raise CliError(str(exc), ExitCode.BAD_INPUT) from None
    return status


def _up(args: argparse.Namespace) -> int:
    from sevalocal.scenario import DEFAULT_SCENARIO, ScenarioError
    from sevalocal.up import run_up

    scenario = Path(args.scenario) if args.scenario else DEFAULT_SCENARIO
    if not scenario.is_file():
        raise CliError(f"no scenario file {scenario}", ExitCode.BAD_INPUT)
    try:
        return run_up(scenario, args.port, args.speed)
    except ScenarioError as exc:
        raise CliError(str(exc), ExitCode.BAD_INPUT) from None
    except OSError as exc:
        raise CliError(f"cannot serve on port {args.port}: {exc.strerror or exc}") from None


def _tweet_problem(record: Any) -> str | None:
    """Why a line is not ``{"tweet": {..., "text": ...}, "author": {...}?, "place": {...}?}``, or None."""
    if not isinstance(record, dict):
        return f"expected a JSON object, got {type(record).__name__}"
    tweet = record.get("tweet")
    if not isinstance(tweet, dict):
        hint = ' (a bare tweet? wrap it: {"tweet": {...}})' if "text" in record else ""
        return f"no tweet object{hint}"
    if not isinstance(tweet.get("text"), str):
        return "tweet.text missing or not a string"
    for key in ("author", "place"):
        if record.get(key) is not None and not isinstance(record[key], dict):
            return f"{key} must be an object"
    return None


def classify_lines(lines, out, errors=None) -> int:  # type: ignore[no-untyped-def]
    """JSON Lines in (``{"tweet", "author", "place"}``), one triage JSON object per line out. A line that is not
    such a record gets ``{"error": "line N: ...", "line": N}`` in its place (so output stays line for line) and is
    named on ``errors``; it is never triaged (an SOS in the wrong shape must not come back as noise). Returns the
    number of tweets classified; ``errors`` (a list) collects the bad lines."""
    import orjson  # JSON Lines at classifier speed: the standard library's json takes a fifth of the time
    from seva.triage import default_triager

    triager = default_triager()
    loads, dumps = orjson.loads, json.dumps
    count = 0
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = loads(line)
        except orjson.JSONDecodeError as exc:
            problem: str | None = f"not JSON ({exc})"
        else:
            problem = _tweet_problem(record)
        if problem is not None:
            message = f"line {lineno}: {problem}"
            out.write(dumps({"error": message, "line": lineno}) + "\n")
            if errors is not None:
                errors.append(message)
            continue
        result = triager.classify(record["tweet"], record.get("author"), record.get("place"))
        out.write(orjson.dumps(result.as_dict(), option=orjson.OPT_APPEND_NEWLINE).decode())
        count += 1
    return count


def _classify(args: argparse.Namespace) -> int:
    errors: list[str] = []
    try:
        if args.file and args.file != "-":
            with open(args.file, encoding="utf-8") as fh:
                classify_lines(fh, sys.stdout, errors)
        else:
            classify_lines(sys.stdin, sys.stdout, errors)
    except FileNotFoundError:
        raise CliError(f"{args.file}: no such file", ExitCode.BAD_INPUT) from None
    except (OSError, UnicodeDecodeError) as exc:
        if isinstance(exc, BrokenPipeError):
            raise
        raise CliError(f"{args.file or 'stdin'}: cannot read it ({type(exc).__name__})", ExitCode.BAD_INPUT) from None
    sys.stdout.flush()
    if errors:
        for message in errors[:-1][:20]:
            print(f"seva classify: {message}", file=sys.stderr)
        raise CliError(f"{errors[-1]} ({len(errors)} invalid line(s), each answered with an error)", ExitCode.BAD_INPUT)
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
    from seva_tools import officers

    parser = Parser(
        prog="seva",
        description="Seva: tweets to the UP police, as complaints.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run a scenario end to end on the local cloud", epilog=EXIT_CODES_HELP)
    demo.add_argument("--scenario", help="JSON Lines scenario (default: the bundled one)")
    demo.add_argument(
        "--burst",
        type=int,
        metavar="N",
        help="instead of a scenario: N tweets of the usual mix to every registered handle within one minute",
    )
    demo.add_argument("--speed", type=float, default=60.0, help="scenario seconds per wall second (> 0; default 60)")
    demo.add_argument("--faults", type=float, default=0.0, help="fraction of X/AWS calls and invocations to fail")
    demo.add_argument("--seed", type=int, default=0, help="seed for reproducible faults")
    demo.add_argument("--report", help="write the JSON report here")
    demo.add_argument("--quiet", action="store_true", help="no progress lines")
    demo.add_argument(
        "--grace",
        type=float,
        metavar="S",
        help="wall seconds allowed to drain after the scenario (default 60 + 0.1 a tweet, more with faults "
        "and with officers acting)",
    )
    demo.set_defaults(func=_demo)
    up = sub.add_parser(
        "up", help="the local cloud with the web app, playing a scenario, until stopped", epilog=EXIT_CODES_HELP
    )
    up.add_argument("--scenario", help="JSON Lines scenario (default: the bundled one)")
    up.add_argument("--port", type=int, default=8080, help="where the web app answers (default 8080; 0: any)")
    up.add_argument("--speed", type=float, default=60.0, help="scenario seconds per wall second (default 60)")
    up.set_defaults(func=_up)
    classify = sub.add_parser(
        "classify",
        help="triage JSON Lines ({tweet, author, place}) from stdin or FILE to JSON Lines on stdout",
        epilog=EXIT_CODES_HELP,
    )
    classify.add_argument("file", nargs="?", help="JSON Lines file (default: stdin)")
    classify.set_defaults(func=_classify)
    officers.register(sub)
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


def _check(args: argparse.Namespace) -> None:
    if args.command == "up":
        if not 0 <= args.port <= 65535:
            raise CliError("--port must be 0..65535 (0: any free port)")
        if not args.speed > 0 or args.speed == float("inf"):
            raise CliError("--speed must be a number above 0 (scenario seconds per wall second)")
    if args.command == "demo":
        if not 0 <= args.faults < 1:
            raise CliError("--faults must be in [0, 1)")
        if not args.speed > 0 or args.speed != args.speed or args.speed == float("inf"):
            raise CliError("--speed must be a number above 0 (scenario seconds per wall second)")
        if args.report and not Path(args.report).resolve().parent.is_dir():
            raise CliError(f"--report {args.report}: no such directory")
        if getattr(args, "burst", None) is not None and (args.burst < 1 or args.scenario):
            raise CliError("--burst takes a positive number of tweets, and no --scenario")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)

    def command(args: argparse.Namespace) -> int:
        _check(args)
        return int(args.func(args))

    return run(f"seva {args.command}", command, args)


if __name__ == "__main__":
    sys.exit(main())
