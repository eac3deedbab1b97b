"""The officer directory: who is told about complaints, by SMS and by email. The infra team runs it against the
deployed stack (boto3; the local cloud through AWS_ENDPOINT_URL):

    seva officers list | add ... | remove ... | import FILE | sync      (or: python -m seva_tools.officers ...)

Settings: ``--table``/``OFFICERS_TABLE`` (stack output OfficersTableName), ``--topic``/``OFFICER_EMAIL_TOPIC_ARN``
(output OfficerEmailTopicArn), ``--region``/``AWS_REGION``.

Rows live in the officers table (key: district, officer_id). Email goes through one SNS topic; SNS keeps one
subscription per address and topic, so each *mailbox* has one subscription whose filter policy keys on district,
officer id and mailbox together: ``{"district": ["162"], "officer_id": ["lko-cr", "lko-sp"], "mailbox": ["<hash>"]}``
(``$or`` of such clauses when a mailbox serves officers of several districts). The notifier's email publishes carry
those three attributes. So:

- a shared mailbox serves every officer who gives it (one subscription, their ids in its filter);
- changing an officer's email, or removing the officer, takes the officer out of the old mailbox's filter and
  unsubscribes that mailbox when nobody uses it any more; a subscription SNS would not remove (one still pending
  confirmation) can never match again: its mailbox hash is on nobody's mail;
- an email subscription needs the officer's confirmation (the link in the email SNS sends; unconfirmed, SNS deletes
  it after 48 hours): ``list`` shows each mailbox as confirmed, pending, missing or with a stale filter, from
  ListSubscriptionsByTopic; ``sync`` re-subscribes an expired one and repairs every filter.
Phone numbers are masked in everything this prints.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seva.officers import ROLES, InvalidOfficer, Officer, mailbox_key, masked, parse_officer

from seva_tools.errors import EXIT_CODES_HELP, CliError, ExitCode, Parser, aws_error, run

TABLE_ENV, TOPIC_ENV = "OFFICERS_TABLE", "OFFICER_EMAIL_TOPIC_ARN"
PENDING = "PendingConfirmation"
SUBSCRIPTION_ATTR = "email_subscription_arn"
MAX_FILTER_COMBINATIONS = 150  # SNS: the values of a filter policy may combine at most 150 ways


def mailbox(email: str | None) -> str | None:
    return email.strip().lower() if email else None


def filter_policy(members: Iterable[tuple[str, str]], email: str) -> dict[str, Any]:
    """The filter for one mailbox: its officers' (district, officer id) pairs, and the mailbox itself."""
    by_district: dict[str, set[str]] = {}
    for district, officer_id in members:
        by_district.setdefault(district, set()).add(officer_id)
    clauses = [
        {"district": [d], "officer_id": sorted(ids), "mailbox": [mailbox_key(email)]}
        for d, ids in sorted(by_district.items())
    ]
    if sum(len(c["officer_id"]) for c in clauses) > MAX_FILTER_COMBINATIONS:
        raise CliError(f"{email}: more than {MAX_FILTER_COMBINATIONS} officers share it (SNS's filter limit)")
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}


def officer_item(officer: Officer, subscription_arn: str | None = None) -> dict[str, Any]:
    """The table row (DynamoDB attribute values) the functions read (seva.dal.officers)."""
    item: dict[str, Any] = {
        "district": {"S": officer.district},
        "officer_id": {"S": officer.officer_id},
        "name": {"S": officer.name},
        "role": {"S": officer.role},
        "phone": {"S": officer.phone},
        "language": {"S": officer.language},
        "priorities": {"L": [{"S": p} for p in officer.priorities]},
        "categories": {"L": [{"S": c} for c in officer.categories]},
    }
    if officer.email:
        item["email"] = {"S": officer.email}
    if subscription_arn:
        item[SUBSCRIPTION_ATTR] = {"S": subscription_arn}
    return item


def _plain(value: dict[str, Any]) -> Any:
    """A DynamoDB attribute value as Python (the few types a row holds)."""
    kind, inner = next(iter(value.items()))
    if kind == "L":
        return [_plain(v) for v in inner]
    if kind == "NULL":
        return None
    return inner


@dataclass(frozen=True)
class Row:
    """One row of the table: an officer, or what is wrong with it (kept: its mailbox still needs managing)."""

    district: str
    officer_id: str
    parsed: Officer | InvalidOfficer
    email: str | None
    subscription_arn: str | None

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Row:
        raw = {k: _plain(v) for k, v in item.items()}
        email = raw.get("email") if isinstance(raw.get("email"), str) else None
        fields = {k: v for k, v in raw.items() if k in Officer.model_fields and v is not None}
        arn = raw.get(SUBSCRIPTION_ATTR)
        return cls(
            str(raw.get("district", "")),
            str(raw.get("officer_id", "")),
            parse_officer(fields),
            email,
            arn if isinstance(arn, str) else None,
        )

    @property
    def officer(self) -> Officer | None:
        return self.parsed if isinstance(self.parsed, Officer) else None


@dataclass(frozen=True)
class Subscription:
    arn: str  # PendingConfirmation while the owner has not confirmed
    endpoint: str

    @property
    def pending(self) -> bool:
        return self.arn == PENDING


@dataclass
class Changes:
    notes: list[str] = field(default_factory=list)

    def add(self, note: str) -> None:
        self.notes.append(note)


class Directory:
    """The officers table and the email topic's subscriptions, kept in step."""

    def __init__(
        self,
        table: str,
        topic: str | None,
        region: str | None = None,
        *,
        dynamodb: Any = None,
        sns: Any = None,
    ):
        self.table, self.topic = table, topic
        if dynamodb is None or (sns is None and topic):
            import boto3
            from botocore.config import Config

            config = Config(retries={"mode": "standard", "max_attempts": 5})
            dynamodb = dynamodb or boto3.client("dynamodb", region_name=region, config=config)
            sns = sns or boto3.client("sns", region_name=region, config=config)
        self.ddb, self.sns = dynamodb, sns

    # -- the table ------------------------------------------------------------------------------------------
    def rows(self) -> list[Row]:
        try:
            items: list[dict[str, Any]] = []
            for page in self.ddb.get_paginator("scan").paginate(TableName=self.table, ConsistentRead=True):
                items += page["Items"]
        except Exception as exc:
            raise self._aws(exc, f"officers table {self.table!r}") from None
        return sorted((Row.from_item(i) for i in items), key=lambda r: (r.district, r.officer_id))

    def get(self, district: str, officer_id: str) -> Row | None:
        try:
            out = self.ddb.get_item(
                TableName=self.table,
                Key={"district": {"S": district}, "officer_id": {"S": officer_id}},
                ConsistentRead=True,
            )
        except Exception as exc:
            raise self._aws(exc, f"officers table {self.table!r}") from None
        return Row.from_item(out["Item"]) if "Item" in out else None

    def put(self, officers: list[Officer]) -> Changes:
        """Add or update officers; then every mailbox they used or use now is subscribed, refiltered or
        unsubscribed to match."""
        self._need_topic(any(o.email for o in officers))
        touched: dict[str, str] = {}  # mailbox -> an address as written
        hints: dict[str, str] = {}  # mailbox -> a subscription ARN known from the old rows
        for officer in officers:
            old = self.get(officer.district, officer.officer_id)
            keep = old.subscription_arn if old and mailbox(old.email) == mailbox(officer.email) else None
            try:
                self.ddb.put_item(TableName=self.table, Item=officer_item(officer, keep))
            except Exception as exc:
                raise self._aws(exc, f"officers table {self.table!r}") from None
            for email, arn in ((old.email, old.subscription_arn) if old else (None, None), (officer.email, None)):
                if key := mailbox(email):
                    touched.setdefault(key, email or key)
                    if arn:
                        hints.setdefault(key, arn)
        return self.sync(touched, hints) if self.topic else Changes()

    def remove(self, district: str, officer_id: str) -> Changes | None:
        """Remove an officer (None when there is none); the old mailbox loses the officer, or its subscription."""
        old = self.get(district, officer_id)
        if old is None:
            return None
        self._need_topic(bool(old.email))
        try:
            self.ddb.delete_item(
                TableName=self.table, Key={"district": {"S": district}, "officer_id": {"S": officer_id}}
            )
        except Exception as exc:
            raise self._aws(exc, f"officers table {self.table!r}") from None
        key = mailbox(old.email)
        if not key or not self.topic:
            return Changes()
        return self.sync({key: old.email or key}, {key: old.subscription_arn} if old.subscription_arn else {})

    # -- the email topic ----------------------------------------------------------------------------------------
    def subscriptions(self) -> dict[str, Subscription]:
        """The topic's email subscriptions by mailbox (ListSubscriptionsByTopic)."""
        out: dict[str, Subscription] = {}
        if not self.topic:
            return out
        try:
            for page in self.sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=self.topic):
                for s in page["Subscriptions"]:
                    if s.get("Protocol") == "email" and (key := mailbox(s.get("Endpoint"))):
                        current = out.get(key)
                        if current is None or current.pending:
                            out[key] = Subscription(s["SubscriptionArn"], s["Endpoint"])
        except Exception as exc:
            raise self._aws(exc, f"email topic {self.topic!r}") from None
        return out

    def sync(self, mailboxes: dict[str, str] | None = None, hints: dict[str, str] | None = None) -> Changes:
        """Make the topic match the table for these mailboxes (all of them when None): each used mailbox
        subscribed with the filter of its officers, each unused one unsubscribed."""
        self._need_topic(True)
        changes, hints = Changes(), dict(hints or {})
        rows, subs = self.rows(), self.subscriptions()
        for row in rows:
            if (key := mailbox(row.email)) and row.subscription_arn:
                hints.setdefault(key, row.subscription_arn)
        if mailboxes is None:
            mailboxes = {k: s.endpoint for k, s in subs.items()}
            mailboxes.update({k: r.email for r in rows if r.email and (k := mailbox(r.email))})
        for key, email in sorted(mailboxes.items()):
            users = [r for r in rows if mailbox(r.email) == key and r.officer is not None]
            sub = subs.get(key)
            arn = sub.arn if sub and not sub.pending else hints.get(key)
            if users:
                self._serve(key, users[0].email or email, users, arn, changes)
            else:
                self._retire(email, arn, sub, changes)
        return changes

    def _serve(self, key: str, email: str, users: list[Row], arn: str | None, changes: Changes) -> None:
        from botocore.exceptions import ClientError

        policy = json.dumps(filter_policy(((u.district, u.officer_id) for u in users), email), sort_keys=True)
        ids = ", ".join(u.officer_id for u in users)
        try:
            if arn:
                try:
                    current = self.sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
                    if _same_policy(current.get("FilterPolicy"), policy):
                        return self._record(users, arn)
                    self.sns.set_subscription_attributes(
                        SubscriptionArn=arn, AttributeName="FilterPolicy", AttributeValue=policy
                    )
                    changes.add(f"{email}: filter now for {ids}")
                    return self._record(users, arn)
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") not in ("NotFound", "NotFoundException"):
                        raise
                    changes.add(f"{email}: its subscription expired unconfirmed or was deleted: subscribing again")
            out = self.sns.subscribe(
                TopicArn=self.topic,
                Protocol="email",
                Endpoint=email,
                Attributes={"FilterPolicy": policy},
                ReturnSubscriptionArn=True,
            )
        except Exception as exc:
            raise self._aws(exc, f"email topic {self.topic!r} ({email})") from None
        changes.add(
            f"{email}: subscribed for {ids}; SNS has emailed a confirmation link: nothing is delivered there "
            "until the officer confirms (within 48 hours; `seva officers list` shows it)"
        )
        self._record(users, str(out["SubscriptionArn"]))

    def _retire(self, email: str, arn: str | None, sub: Subscription | None, changes: Changes) -> None:
        from botocore.exceptions import ClientError

        if arn:
            try:
                self.sns.unsubscribe(SubscriptionArn=arn)
                changes.add(f"{email}: unsubscribed (no officer uses it now)")
                return
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code")
                if code in ("NotFound", "NotFoundException"):
                    return
                if code != "InvalidParameter":
                    raise self._aws(exc, f"email topic {self.topic!r} ({email})") from None
        if sub is not None:
            changes.add(
                f"{email}: its subscription is pending confirmation and SNS would not remove it; it can no longer "
                "match any officer's mail, and SNS deletes it after 48 hours unless confirmed (run sync then)"
            )

    def _record(self, users: list[Row], arn: str) -> None:
        for user in users:
            if user.subscription_arn != arn:
                self.ddb.update_item(
                    TableName=self.table,
                    Key={"district": {"S": user.district}, "officer_id": {"S": user.officer_id}},
                    UpdateExpression="SET #a = :a",
                    ConditionExpression="attribute_exists(officer_id)",
                    ExpressionAttributeNames={"#a": SUBSCRIPTION_ATTR},
                    ExpressionAttributeValues={":a": {"S": arn}},
                )

    def status(self, rows: list[Row] | None = None) -> dict[str, str]:
        """Each mailbox's state: confirmed, pending (the officer has not confirmed), missing (no subscription) or
        stale (its filter does not cover its officers: run sync)."""
        rows = self.rows() if rows is None else rows
        if not self.topic:
            return {}
        subs = self.subscriptions()
        out: dict[str, str] = {}
        for key in sorted({k for r in rows if (k := mailbox(r.email))}):
            users = [r for r in rows if mailbox(r.email) == key and r.officer is not None]
            sub = subs.get(key)
            if sub is None:
                out[key] = "missing" if users else "-"
            elif sub.pending:
                out[key] = "pending"
            elif not users:
                out[key] = "confirmed"
            else:
                try:
                    current = self.sns.get_subscription_attributes(SubscriptionArn=sub.arn)["Attributes"]
                except Exception as exc:
                    raise self._aws(exc, f"email topic {self.topic!r}") from None
                expected = filter_policy(((u.district, u.officer_id) for u in users), users[0].email or key)
                same = _same_policy(current.get("FilterPolicy"), json.dumps(expected))
                out[key] = "confirmed" if same else "stale filter"
        return out

    # -- helpers ------------------------------------------------------------------------------------------------
    def _need_topic(self, needed: bool) -> None:
        if needed and not self.topic:
            raise CliError(f"set {TOPIC_ENV} or --topic (stack output OfficerEmailTopicArn): emails need it")

    @staticmethod
    def _aws(exc: BaseException, what: str) -> BaseException:
        if isinstance(exc, CliError):
            return exc
        if type(exc).__module__.startswith("botocore"):
            return aws_error(exc, what)
        return exc


def _same_policy(current: str | None, expected: str) -> bool:
    try:
        return bool(current) and json.loads(current or "") == json.loads(expected)
    except ValueError:
        return False


# -- the command -----------------------------------------------------------------------------------------------
def read_officers(path: str) -> list[Officer]:
    """Every officer of an import file, all validated first: each bad record named, nothing written."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError(f"{path}: no such file", ExitCode.BAD_INPUT) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"{path}: cannot read it ({type(exc).__name__}: {exc})", ExitCode.BAD_INPUT) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"{path}: not JSON ({exc})", ExitCode.BAD_INPUT) from None
    records = doc.get("officers") if isinstance(doc, dict) else doc
    if not isinstance(records, list):
        raise CliError(f'{path}: expected {{"officers": [...]}} or a list of officers', ExitCode.BAD_INPUT)
    officers, bad, seen = [], [], set()
    for n, raw in enumerate(records, 1):
        if not isinstance(raw, dict):
            bad.append(f"{path}: officer #{n}: not an object")
            continue
        parsed = parse_officer(raw)
        if isinstance(parsed, InvalidOfficer):
            bad.append(f"{path}: officer #{n} ({parsed.officer_id or 'no id'}): {'; '.join(parsed.problems)}")
        elif (parsed.district, parsed.officer_id) in seen:
            bad.append(f"{path}: officer #{n} ({parsed.officer_id}): listed twice for district {parsed.district}")
        else:
            seen.add((parsed.district, parsed.officer_id))
            officers.append(parsed)
    if bad:
        for line in bad[:-1]:
            print(f"seva officers: {line}", file=sys.stderr)
        raise CliError(f"{bad[-1]} ({len(bad)} invalid, nothing imported)", ExitCode.BAD_INPUT)
    return officers


def _directory(args: Any) -> Directory:
    table = args.table or os.environ.get(TABLE_ENV)
    if not table:
        raise CliError(f"set {TABLE_ENV} or --table (stack output OfficersTableName)")
    region = args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "ap-south-1"
    try:
        return Directory(table, args.topic or os.environ.get(TOPIC_ENV), region)
    except Exception as exc:
        raise Directory._aws(exc, "AWS") from None


def _print_changes(changes: Changes) -> None:
    for note in changes.notes:
        print(f"  {note}")


def _list(directory: Directory) -> int:
    rows = directory.rows()
    status = directory.status(rows)
    invalid = 0
    for row in rows:
        o = row.officer
        sub = status.get(mailbox(row.email) or "", "?" if row.email else "-")
        if o is None:
            invalid += 1
            problems = "; ".join(row.parsed.problems) if isinstance(row.parsed, InvalidOfficer) else "?"
            print(f"{row.district:>4} {row.officer_id:<20} INVALID (the notifier skips it): {problems}")
            continue
        print(
            f"{o.district:>4} {o.officer_id:<20} {o.role:<13} {masked(o.phone):<15} {o.language} "
            f"{','.join(o.priorities):<9} {o.email or '-':<32} {sub:<12} {o.name}"
        )
    if invalid:
        print(f"seva officers: {invalid} invalid row(s): fix with `seva officers add`", file=sys.stderr)
    return 0


def command(args: Any) -> int:
    directory = _directory(args)
    if args.action == "list":
        return _list(directory)
    if args.action == "add":
        parsed = parse_officer(
            {
                "district": args.district,
                "officer_id": args.id,
                "name": args.name,
                "role": args.role,
                "phone": args.phone,
                "email": args.email,
                "language": args.language,
                "priorities": tuple(p.strip().upper() for p in args.priorities.split(",") if p.strip()),
                "categories": tuple(c.strip() for c in args.categories.split(",") if c.strip()),
            }
        )
        if isinstance(parsed, InvalidOfficer):
            raise CliError(f"invalid officer: {'; '.join(parsed.problems)}", ExitCode.USAGE)
        changes = directory.put([parsed])
        print(f"saved {parsed.officer_id} in district {parsed.district}")
        _print_changes(changes)
        return 0
    if args.action == "remove":
        district = str(args.district).strip().upper()
        removed = directory.remove(district, args.id)
        if removed is None:
            print(f"seva officers: no officer {args.id} in district {district}", file=sys.stderr)
            return int(ExitCode.CHECK_FAILED)
        print(f"removed {args.id} from district {district}")
        _print_changes(removed)
        return 0
    if args.action == "import":
        officers = read_officers(args.file)
        changes = directory.put(officers)
        print(f"imported {len(officers)} officers")
        _print_changes(changes)
        return 0
    if args.action == "sync":
        changes = directory.sync()
        print(f"email subscriptions in step with the directory ({len(changes.notes)} changes)")
        _print_changes(changes)
        return 0
    raise CliError(f"unknown action {args.action}")


def register(sub: Any) -> None:
    """The ``officers`` command, under ``seva`` (or standalone: ``main``)."""
    officers = sub.add_parser(
        "officers",
        help="manage the officer directory (env OFFICERS_TABLE, OFFICER_EMAIL_TOPIC_ARN)",
        description=__doc__.split("\n\n")[0],
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    officers.add_argument("--table", help=f"the officers table (default: ${TABLE_ENV})")
    officers.add_argument("--topic", help=f"the officer email topic ARN (default: ${TOPIC_ENV})")
    officers.add_argument("--region", help="AWS region (default: $AWS_REGION, else ap-south-1)")
    actions = officers.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="list officers (phones masked) and each mailbox's subscription state")
    add = actions.add_parser("add", help="add or update an officer (a changed email moves the subscription)")
    add.add_argument("--district", required=True, help="LGD district code, or HQ")
    add.add_argument("--id", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=list(ROLES))
    add.add_argument("--phone", required=True, help="E.164 or Indian national format")
    add.add_argument("--email", help="the officer's (or a shared) mailbox; SNS asks it to confirm")
    add.add_argument("--language", default="en", choices=["en", "hi"])
    add.add_argument("--priorities", default="P1,P2,P3")
    add.add_argument("--categories", default="*")
    remove = actions.add_parser("remove", help="remove an officer (an unused mailbox is unsubscribed)")
    remove.add_argument("--district", required=True)
    remove.add_argument("--id", required=True)
    load = actions.add_parser("import", help="add or update every officer of a JSON file ({officers: [...]})")
    load.add_argument("file")
    actions.add_parser("sync", help="bring every email subscription in step with the table")
    officers.set_defaults(func=command)


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="seva", description="Seva's officer directory (the infra team's tool).")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["officers", *(sys.argv[1:] if argv is None else argv)])
    return run("seva officers", args.func, args)


if __name__ == "__main__":
    sys.exit(main())
