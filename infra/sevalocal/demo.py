"""``seva demo``: run a scenario through the real handlers on the local cloud and report from ground truth
(what the fake X server published and received, what the store holds), never from the pipeline's counters."""

from __future__ import annotations

import json
import statistics
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sevalocal.aws import CREDENTIALS, REGION, infra_client, moto_app
from sevalocal.emulator import Emulator, InvokeResult
from sevalocal.fakex import CREATE_TWEET, SEARCH, FakeX, ServerThread, UserCredentials
from sevalocal.faults import FaultPlan
from sevalocal.scenario import DEFAULT_SCENARIO, ScenarioTweet, load_scenario, matching_ids
from sevalocal.template import Deployment, deploy

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
REGISTRY = ROOT / "infra" / "data" / "handles.json"
PYNAMO_TIME = "%Y-%m-%dT%H:%M:%S.%f%z"


@dataclass
class DemoOptions:
    scenario: Path = DEFAULT_SCENARIO
    speed: float = 60.0
    faults: float = 0.0
    seed: int = 0
    report: Path | None = None
    template: Path = TEMPLATE
    registry: Path = REGISTRY
    officers: Path = ROOT / "infra" / "data" / "officers_sample.json"
    quiet: bool = False
    settle_minutes: float = 15.0  # scenario minutes allowed after the last tweet for the pipeline to catch up
    grace_s: float | None = None  # wall seconds on top for the pipeline to drain (default: 60 s + 50 min × faults)
    log_dir: Path = ROOT / ".localcloud" / "logs"


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p95": 0.0, "max": 0.0}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50": round(statistics.median(ordered), 3), "p95": round(p95, 3), "max": round(ordered[-1], 3)}


class LocalCloud:
    """moto server + fake X + the template deployed + the emulator, for the demo and the e2e tests."""

    def __init__(self, options: DemoOptions):
        self.options = options
        self.faults = FaultPlan(options.faults, options.seed)
        self.aws_app = moto_app(self.faults)
        self.aws = ServerThread(self.aws_app).__enter__()
        self.fakex = FakeX(speed=options.speed, faults=self.faults)
        self.x = ServerThread(self.fakex.wsgi).__enter__()
        # moto's backends are per process: each local cloud gets its own stack (and so its own names).
        self.deployment: Deployment = deploy(options.template, self.aws.url, stack=f"seva-{uuid.uuid4().hex[:6]}")
        registry = json.loads(Path(options.registry).read_text(encoding="utf-8"))
        self.handles = [h["username"] for h in registry["handles"]]
        users: dict[str, dict[str, str]] = {}
        for i, username in enumerate(self.handles):
            user_id = str(900_000_000 + i)
            self.fakex.add_user({"id": user_id, "username": username, "name": username})
            creds = {
                "consumer_key": "local-app-key",
                "consumer_secret": "local-app-secret",
                "access_token": f"{user_id}-{username.lower()}",
                "access_token_secret": f"secret-{user_id}",
            }
            self.fakex.credentials[creds["access_token"]] = UserCredentials(
                user_id, username, creds["consumer_key"], creds["access_token"]
            )
            users[username.lower()] = creds
        self.ddb = infra_client("dynamodb", self.aws.url)
        self.sqs = infra_client("sqs", self.aws.url)
        self.officers: list = []
        self.sm = infra_client("secretsmanager", self.aws.url)
        for logical, arn in self.deployment.secrets.items():
            if logical == "XApiSecret":
                self.sm.put_secret_value(
                    SecretId=arn, SecretString=json.dumps({"bearer_token": self.fakex.bearer_token})
                )
            elif logical == "XUserCredentialsSecret":
                self.sm.put_secret_value(SecretId=arn, SecretString=json.dumps({"handles": users}))
        self.sns = infra_client("sns", self.aws.url)
        self._seed_officers(Path(options.officers))
        # The post-deploy step of the README: SNS SMS attributes have no CloudFormation resource
        spend = self.deployment.parameters.get("SmsMonthlySpendLimitUsd", "100")
        self.sns.set_sms_attributes(attributes={"MonthlySpendLimit": spend, "DefaultSMSType": "Transactional"})
        lambda_env = {
            "AWS_ENDPOINT_URL": self.aws.url,
            "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "X_API_BASE_URL": self.x.url,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "HANDLE_REGISTRY_PATH": str(options.registry),
            # X's posting windows run on scenario time, like the fake X server's
            "USER_WINDOW_SECONDS": str(900 / options.speed),
            "APP_WINDOW_SECONDS": str(86400 / options.speed),
            "REPLY_RETRY_BASE_SECONDS": str(60 / options.speed),
            "REPLY_OUTBOX_DELAY_SECONDS": str(120 / options.speed),
        }
        for spec in self.deployment.functions:
            spec.env.update(
                lambda_env,
                AWS_LAMBDA_FUNCTION_NAME=spec.name,
                AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(spec.memory_mb),
            )
        self.emulator = Emulator(
            self.deployment, self.aws.url, speed=options.speed, faults=self.faults, log_dir=options.log_dir
        )

    def _seed_officers(self, path: Path) -> None:
        from seva.officers import Officer

        table = self.deployment.tables.get("OfficersTable")
        topic = self.deployment.topics.get("OfficerEmailTopic")
        if not table or not path.exists():
            return
        for raw in json.loads(path.read_text(encoding="utf-8"))["officers"]:
            officer = Officer(**raw)
            item = {
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
            self.ddb.put_item(TableName=table, Item=item)
            if officer.email and topic:
                self.sns.subscribe(
                    TopicArn=topic,
                    Protocol="email",
                    Endpoint=officer.email,
                    Attributes={"FilterPolicy": json.dumps({"officer_id": [officer.officer_id]})},
                )
        self.officers = [Officer(**raw) for raw in json.loads(path.read_text(encoding="utf-8"))["officers"]]

    def publish(self, items: list[ScenarioTweet]) -> None:
        t0 = self.emulator.started
        for item in items:
            self.fakex.publish(item.tweet, item.author, item.place, t0 + item.at / self.options.speed)

    def stored(self, projection: str | None = None) -> list[dict[str, Any]]:
        table = self.deployment.tables["ComplaintsTable"]
        args: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
        if projection:
            args["ProjectionExpression"] = projection
        items: list[dict[str, Any]] = []
        for page in self.ddb.get_paginator("scan").paginate(**args):
            items.extend(page["Items"])
        return items

    def stored_ids(self) -> set[str]:
        return {i["tweet_id"]["S"] for i in self.stored("tweet_id")}

    def item_count(self) -> int:
        table = self.deployment.tables["ComplaintsTable"]
        return int(self.ddb.describe_table(TableName=table)["Table"].get("ItemCount", 0))

    def present(self, tweet_ids: set[str]) -> set[str]:
        """Which of these tweets are stored (BatchGetItem: no full-table scans while the pipeline runs)."""
        table = self.deployment.tables["ComplaintsTable"]
        ids, found = sorted(tweet_ids), set()
        for start in range(0, len(ids), 100):
            keys = [{"tweet_id": {"S": i}} for i in ids[start : start + 100]]
            request = {table: {"Keys": keys, "ProjectionExpression": "tweet_id", "ConsistentRead": True}}
            while request:
                out = self.ddb.batch_get_item(RequestItems=request)
                found |= {i["tweet_id"]["S"] for i in out["Responses"].get(table, [])}
                request = out.get("UnprocessedKeys") or {}
        return found

    def pending_replies(self) -> int:
        table = self.deployment.tables.get("StateTable")
        if not table:
            return 0
        out = self.ddb.query(
            TableName=table,
            KeyConditionExpression="pk = :p",
            Select="COUNT",
            ExpressionAttributeValues={":p": {"S": "reply#pending"}},
            ConsistentRead=True,
        )
        return int(out["Count"])

    def dlq_depth(self) -> int:
        total = 0
        for url in self.deployment.queues.values():
            attrs = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
            total += int(attrs["Attributes"]["ApproximateNumberOfMessages"])
        return total

    def close(self) -> None:
        self.emulator.close()
        self.x.__exit__()
        self.aws.__exit__()


def _parse_time(value: str) -> float:
    return datetime.strptime(value, PYNAMO_TIME).timestamp()


def run_demo(options: DemoOptions) -> tuple[dict[str, Any], int]:
    wall_start = time.time()
    items = load_scenario(options.scenario)
    say = (lambda *a: None) if options.quiet else (lambda *a: print(*a, flush=True))
    say(
        f"seva demo: {len(items)} tweets from {options.scenario.name}, speed x{options.speed:g}, "
        f"faults {options.faults:g} (seed {options.seed})"
    )
    cloud = LocalCloud(options)
    try:
        emulator = cloud.emulator
        emulator.wait_ready()
        cloud.publish(items)
        matching = matching_ids(items, set(cloud.handles))
        last_at = max((s.at for s in items), default=0.0)
        poll_cycles: list[int] = []
        seen = {"search": 0}

        def on_poll(event: dict[str, Any], result: InvokeResult) -> None:
            now_count = cloud.fakex.requests[SEARCH]
            poll_cycles.append(now_count - seen["search"])
            seen["search"] = now_count

        for logical, invoker in emulator.async_invokers.items():
            if logical == "PollFunction":
                invoker.on_result = on_poll

        state = {"next_check": 0.0, "next_print": 60.0}
        confirmed: set[str] = set()

        def done() -> bool:
            now = time.time()
            t = emulator.scenario_seconds()
            if t >= state["next_print"]:
                state["next_print"] += 60.0
                published = sum(1 for s in items if s.at <= t)
                say(
                    f"  [{int(t // 60):02d}:{int(t % 60):02d}] published {published:>5}/{len(items)}  "
                    f"stored {cloud.item_count():>5}  polls {len(poll_cycles):>3}  "
                    f"x requests {sum(cloud.fakex.requests.values()):>5}  faults {sum(cloud.faults.injected.values())}"
                )
            if t < last_at + 60 or now < state["next_check"]:
                return False
            state["next_check"] = now + 0.5
            if not emulator.streams_idle:  # schedules fire every scenario minute: they never all rest at once
                return False
            confirmed.update(cloud.present(matching - confirmed))
            return matching <= confirmed and cloud.pending_replies() == 0

        # Handlers run at real speed and back off on throttling: give the pipeline time to drain.
        grace = options.grace_s if options.grace_s is not None else 60 + 3000 * options.faults
        timeout = (last_at + options.settle_minutes * 60) / options.speed + grace
        emulator.run_until(done, timeout=timeout)
        emulator.quiesce(timeout=60)  # a poll still running would have searched without being counted as a cycle
        report = build_report(cloud, items, matching, poll_cycles, wall_start)
    finally:
        cloud.close()
    say(render_summary(report))
    if options.report:
        Path(options.report).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        say(f"report written to {options.report}")
    return report, (1 if report["tweets"]["lost"] else 0)


def build_report(
    cloud: LocalCloud,
    items: list[ScenarioTweet],
    matching: set[str],
    poll_cycles: list[int],
    wall_start: float,
) -> dict[str, Any]:
    stored = cloud.stored()
    ids = Counter(i["tweet_id"]["S"] for i in stored)
    ingested = matching & set(ids)
    published_at = {s.id: p.visible_at for s in items if (p := cloud.fakex.tweets.get(int(s.id)))}
    tweet_to_ingested = [
        _parse_time(i["ingested_at"]["S"]) - published_at[i["tweet_id"]["S"]]
        for i in stored
        if i["tweet_id"]["S"] in published_at
    ]
    notifications, notified_latency = _notifications(cloud, stored)
    replies, replied_latency = _replies(cloud, stored)
    statuses = Counter(i.get("status", {}).get("S") for i in stored)
    ingested_to_routed = [
        _parse_time(i["routed_at"]["S"]) - _parse_time(i["ingested_at"]["S"]) for i in stored if "routed_at" in i
    ]
    references = Counter(i["reference"]["S"] for i in stored if "reference" in i)
    busy = [c for c in poll_cycles if c > 0]
    report: dict[str, Any] = {
        "tweets": {
            "published": len(published_at),
            "matching": len(matching),
            "ingested": len(ingested),
            "lost": len(matching - ingested),
            "unexpected": len(set(ids) - matching),
        },
        "complaints": {
            "total": len(ids),
            "noise": statuses.get("NOISE", 0),
            "routed": statuses.get("ROUTED", 0),
            "attached": statuses.get("ATTACHED", 0),
            "unrouted": statuses.get("RECEIVED", 0),
            "by_priority": dict(sorted(Counter(i["priority"]["S"] for i in stored if "reference" in i).items())),
            "duplicate_references": sum(n - 1 for n in references.values() if n > 1),
            "notified": sum(1 for i in stored if "notified_at" in i),
            "replied": sum(1 for i in stored if i.get("reply_status", {}).get("S") == "REPLIED"),
            "duplicates": sum(n - 1 for n in ids.values() if n > 1),
        },
        "notifications": notifications,
        "replies": replies,
        "dlq": cloud.dlq_depth(),
        "x_requests": dict(sorted(cloud.fakex.requests.items())),
        "aws_requests": dict(sorted(cloud.aws_app.requests.items())),
        "latency_s": {
            "tweet_to_ingested": percentiles(tweet_to_ingested),
            "ingested_to_routed": percentiles(ingested_to_routed),
            "ingested_to_notified": percentiles(notified_latency),
            "ingested_to_replied": percentiles(replied_latency),
        },
        "routed_sample": [
            {
                "reference": i["reference"]["S"],
                "priority": i.get("priority", {}).get("S"),
                "category": i.get("category", {}).get("S"),
                "district": i.get("district", {}).get("S") or "state HQ (district unknown)",
                "text": i["text"]["S"][:70],
            }
            for i in sorted(
                (i for i in stored if "reference" in i),
                key=lambda i: (i.get("priority", {}).get("S", "P9"), i["reference"]["S"]),
            )[:12]
        ],
        "poll": {
            "cycles": len(poll_cycles),
            "cycles_detail": poll_cycles,
            "search_requests_per_cycle": {
                "mean": round(statistics.mean(poll_cycles), 2) if poll_cycles else 0,
                "max": max(poll_cycles, default=0),
                "min_nonzero": min(busy, default=0),
            },
        },
        "aws_requests_per_ingested_tweet": round(sum(cloud.aws_app.requests.values()) / max(1, len(ingested)), 3),
        "faults_injected": dict(cloud.faults.injected),
        "functions": dict(sorted(cloud.emulator.stats.items())),
        "speed": cloud.options.speed,
        "wall_s": round(time.time() - wall_start, 2),
    }
    return report


def _notifications(cloud: LocalCloud, stored: list[dict[str, Any]]) -> tuple[dict[str, Any], list[float]]:
    """From what SNS accepted (the middleware's record), never from the pipeline's own ledger."""
    import re

    from seva.sms import load_templates

    templates = load_templates().templates.values()
    email_topic = cloud.deployment.topics.get("OfficerEmailTopic")
    sos_topic = cloud.deployment.topics.get("SosTopic")
    published = list(cloud.aws_app.published)
    sms = [p for p in published if p["phone"]]
    emails = [p for p in published if p["topic"] == email_topic]
    sos = [p for p in published if p["topic"] == sos_topic]
    reference = re.compile(r"UP-[A-Z]{2,3}-\d{4}-\d{6}")
    sms_keys = Counter((p["phone"], m.group(0)) for p in sms if (m := reference.search(p["message"])))
    email_keys = Counter((p["attributes"].get("officer_id"), p["attributes"].get("reference")) for p in emails)
    sos_keys = Counter(json.loads(p["message"]).get("reference") for p in sos)
    dlt = ("AWS.MM.SMS.EntityId", "AWS.MM.SMS.TemplateId", "AWS.SNS.SMS.SenderID", "AWS.SNS.SMS.SMSType")
    first_send: dict[str, float] = {}
    for p in sms + emails:
        ref = p["attributes"].get("reference") or ((m := reference.search(p["message"])) and m.group(0))
        if ref:
            first_send[ref] = min(first_send.get(ref, p["at"]), p["at"])
    latency = [
        first_send[i["reference"]["S"]] - _parse_time(i["ingested_at"]["S"])
        for i in stored
        if "reference" in i and i["reference"]["S"] in first_send
    ]
    return {
        "sms": len(sms),
        "email": len(emails),
        "sos": len(sos),
        "duplicates": sum(n - 1 for c in (sms_keys, email_keys, sos_keys) for n in c.values() if n > 1),
        "sms_not_matching_a_registered_template": sum(
            1 for p in sms if not any(t.matches(p["message"]) for t in templates)
        ),
        "sms_without_dlt_attributes": sum(1 for p in sms if not all(p["attributes"].get(k) for k in dlt)),
    }, latency


def _replies(cloud: LocalCloud, stored: list[dict[str, Any]]) -> tuple[dict[str, Any], list[float]]:
    """From what the fake X received and the store's reply states."""
    posted = list(cloud.fakex.replies)
    per_target = Counter(r["in_reply_to_tweet_id"] for r in posted)
    routed = [i for i in stored if "reference" in i]
    states = Counter(i.get("reply_status", {}).get("S", "NONE") for i in routed)
    ingested_at = {i["tweet_id"]["S"]: _parse_time(i["ingested_at"]["S"]) for i in stored}
    latency = [r["posted_at"] - ingested_at[t] for r in posted if (t := r["in_reply_to_tweet_id"]) in ingested_at]
    return {
        "posted": len(posted),
        "duplicates": sum(n - 1 for n in per_target.values() if n > 1),
        "failed": states.get("REPLY_FAILED", 0) + states.get("REPLY_NOT_ALLOWED", 0),
        "not_allowed": states.get("REPLY_NOT_ALLOWED", 0),
        "pending": states.get("REPLY_PENDING", 0),
        "unanswered": states.get("NONE", 0),
        "refused_by_x_rate_limit": cloud.fakex.refused.get(CREATE_TWEET, 0),
    }, latency


def render_summary(report: dict[str, Any]) -> str:
    t, c, n, r = report["tweets"], report["complaints"], report["notifications"], report["replies"]
    lat = report["latency_s"]["tweet_to_ingested"]
    routed = report["latency_s"]["ingested_to_routed"]
    rows = [
        (
            "tweets",
            f"published {t['published']}  matching {t['matching']}  ingested {t['ingested']}  "
            f"lost {t['lost']}  unexpected {t['unexpected']}",
        ),
        (
            "complaints",
            f"total {c['total']}  noise {c['noise']}  routed {c['routed']} {c['by_priority']}  attached "
            f"{c['attached']}  unrouted {c['unrouted']}  notified {c['notified']}  replied {c['replied']}  "
            f"duplicates {c['duplicates']}",
        ),
        (
            "notifications",
            f"sms {n['sms']}  email {n['email']}  sos {n.get('sos', 0)}  duplicates {n['duplicates']}  "
            f"sms off-template {n.get('sms_not_matching_a_registered_template', 0)}",
        ),
        (
            "replies",
            f"posted {r['posted']}  duplicates {r['duplicates']}  failed {r['failed']}  pending {r.get('pending', 0)}  "
            f"unanswered {r.get('unanswered', 0)}",
        ),
        ("dlq", str(report["dlq"])),
        (
            "poll",
            f"cycles {report['poll']['cycles']}  search requests/cycle "
            f"mean {report['poll']['search_requests_per_cycle']['mean']} "
            f"max {report['poll']['search_requests_per_cycle']['max']}",
        ),
        ("x requests", "  ".join(f"{k} {v}" for k, v in report["x_requests"].items())),
        (
            "aws requests",
            f"{sum(report['aws_requests'].values())} ({report['aws_requests_per_ingested_tweet']} per ingested tweet)",
        ),
        (
            "latency (s)",
            "  ".join(
                f"{name} p50 {v['p50']} p95 {v['p95']}"
                for name, v in (
                    ("tweet→ingested", lat),
                    ("ingested→routed", routed),
                    ("→notified", report["latency_s"]["ingested_to_notified"]),
                    ("→replied", report["latency_s"]["ingested_to_replied"]),
                )
            ),
        ),
        ("faults", "  ".join(f"{k} {v}" for k, v in sorted(report["faults_injected"].items())) or "none"),
        ("wall", f"{report['wall_s']} s"),
    ]
    width = max(len(k) for k, _ in rows)
    sample = [
        f"  {x['reference']:<19} {x['priority'] or '-':<3} {x['category'] or '-':<15} "
        f"{x['district'][:22]:<22} {x['text']}"
        for x in report.get("routed_sample", [])
    ]
    lines = ["", "Routed complaints (sample, most urgent first)", *sample] if sample else []
    lines += ["", "Summary", "-" * 72] + [f"{k:<{width}}  {v}" for k, v in rows] + ["-" * 72]
    verdict = "OK: nothing lost" if not t["lost"] else f"FAILED: {t['lost']} matching tweets lost"
    return "\n".join([*lines, verdict])


def main(options: DemoOptions) -> int:
    _, status = run_demo(options)
    return status


if __name__ == "__main__":
    sys.exit(main(DemoOptions()))
