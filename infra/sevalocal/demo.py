"""``seva demo``: run a scenario through the real handlers on the local cloud and report from ground truth
(what the fake X server published and received, what the store holds), never from the pipeline's counters."""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sevalocal.aws import CREDENTIALS, REGION, MotoProcess, infra_client
from sevalocal.citizens_sim import CitizenSimulator
from sevalocal.cost import Usage, cost_per_1000_complaints, load_prices
from sevalocal.emulator import Emulator, InvokeResult
from sevalocal.fakex import FakeX, ServerThread, UserCredentials, snowflake
from sevalocal.faults import FaultPlan
from sevalocal.front import Front, publish_assets
from sevalocal.httpapi import HttpApiGateway
from sevalocal.officers_sim import OfficerBehaviour, OfficerSimulator
from sevalocal.scenario import DEFAULT_SCENARIO, ScenarioTweet, check_authors, load_scenario, matching_ids
from sevalocal.template import Deployment, deploy
from sevalocal.verdict import (
    classify_published,
    crash_window_keys,
    judge_closing,
    judge_escalations,
    judge_lifecycle,
    judge_notifications,
    judge_replies,
    settle_unknown_outcomes,
)

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
    index_lag: tuple[float, float] = (1.0, 25.0)  # X seconds from posting to being searchable (X: ~30 s)
    x_users: dict | None = None  # the handles' credentials, if not the working ones (tests: none at all)
    officers_act: bool = True  # simulated officers act on the links that reach them
    never_share: float = 0.2  # complaints no officer ever acts on
    port: int = 0  # where the web app and the HTTP API answer (0: any free port)
    p1_cpu_first: bool = False  # a backlog's invocations run at a lower CPU priority (sevalocal.emulator.CpuClass)
    # The SLA policy in scenario minutes (the template's parameters are divided by the speed): short enough that
    # the demo sees late acknowledgements, escalations up the chain and auto-closing
    sla_minutes: dict[str, float] = field(
        default_factory=lambda: {
            "SlaP1Minutes": 10,
            "SlaP2Minutes": 20,
            "SlaP3Minutes": 30,
            "SlaP1ResolveMinutes": 60,
            "SlaP2ResolveMinutes": 90,
            "SlaP3ResolveMinutes": 120,
        }
    )
    auto_close_minutes: float = 60.0


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
        Path(options.log_dir).mkdir(parents=True, exist_ok=True)
        for old in Path(options.log_dir).glob("*.log"):
            old.unlink()  # each run's logs start empty
        self.faults = FaultPlan(options.faults, options.seed)
        self.aws_app = self.aws = MotoProcess(self.faults)  # AWS on a core of its own
        # The HTTP API's address is known before the stack exists: links in SMS point at it (LinkBaseUrl)
        self.gateway: HttpApiGateway | None = None
        self.api = ServerThread(self._api_wsgi, port=options.port).__enter__()
        self.fakex = FakeX(speed=options.speed, faults=self.faults, index_lag=options.index_lag)
        self.x = ServerThread(self.fakex.wsgi).__enter__()
        # moto's backends are per process: each local cloud gets its own stack (and so its own names).
        self.deployment: Deployment = deploy(
            options.template,
            self.aws.url,
            stack=f"seva-{uuid.uuid4().hex[:6]}",
            parameter_overrides={
                "LinkBaseUrl": self.api.url,
                **{k: f"{v / options.speed:.6f}" for k, v in options.sla_minutes.items()},
                "AutoCloseDays": f"{options.auto_close_minutes / options.speed / 1440:.8f}",
            },
        )
        self.handles = registered_handles(options.registry)
        users: dict[str, dict[str, str]] = {}
        for username, user_id in handle_user_ids(self.handles).items():
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
        self.simulator: OfficerSimulator | None = None  # the officers acting on their links (the demo's)
        self.citizens: CitizenSimulator | None = None  # citizens answering "resolved" (the demo's)
        self.speed = options.speed
        self.clocks_stopped_at: float | None = None
        self.ids: dict[str, str] = {}  # scenario tweet id -> the id X gave it
        self.sm = infra_client("secretsmanager", self.aws.url)
        for logical, arn in self.deployment.secrets.items():
            if logical == "XApiSecret":
                self.sm.put_secret_value(
                    SecretId=arn, SecretString=json.dumps({"bearer_token": self.fakex.bearer_token})
                )
            elif logical == "XUserCredentialsSecret":
                handles = users if options.x_users is None else options.x_users
                self.sm.put_secret_value(SecretId=arn, SecretString=json.dumps({"handles": handles}))
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
            "COGNITO_ENDPOINT_URL": self.aws.url,  # where the web app signs in (the public config says so)
            "POWERTOOLS_TRACE_DISABLED": "true",
            "HANDLE_REGISTRY_PATH": str(options.registry),
            # X's posting windows run on scenario time, like the fake X server's
            "USER_WINDOW_SECONDS": str(900 / options.speed),
            "APP_WINDOW_SECONDS": str(86400 / options.speed),
            "REPLY_RETRY_BASE_SECONDS": str(60 / options.speed),
            "REPLY_OUTBOX_DELAY_SECONDS": str(600 / options.speed),
            "POLL_INTERVAL_SECONDS": str(15 / options.speed),
            "CREDENTIALS_RETRY_SECONDS": str(300 / options.speed),
            "CREDENTIALS_WAIT_SECONDS": str(600 / options.speed),
            "RATE_WAIT_SECONDS": str(900 / options.speed),
            "SETTLE_SECONDS": str(40 / options.speed),
            **({"SEVA_PROFILE_DIR": os.environ["SEVA_PROFILE_DIR"]} if os.environ.get("SEVA_PROFILE_DIR") else {}),
        }
        for spec in self.deployment.functions:
            spec.env.update(
                lambda_env,
                AWS_LAMBDA_FUNCTION_NAME=spec.name,
                AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(spec.memory_mb),
            )
        self.emulator = Emulator(
            self.deployment,
            self.aws.url,
            speed=options.speed,
            faults=self.faults,
            log_dir=options.log_dir,
            p1_cpu_first=options.p1_cpu_first,
        )
        for api in self.deployment.http_apis.values():
            self.gateway = HttpApiGateway(api, self.aws.url)
            self.emulator.gateways.append(self.gateway)
        # The web app: the README's post-deploy upload of web/ to the bucket, CloudFront played by ``Front``
        self.front: Front | None = None
        for config in self.deployment.distributions.values():
            bucket = next(iter(self.deployment.buckets.values()), None)
            if bucket is None:
                continue
            s3 = infra_client("s3", self.aws.url)
            publish_assets(s3, bucket)
            self.front = Front(config, s3, bucket, self._gateway_wsgi)

    @property
    def url(self) -> str:
        """Where the web app answers (the distribution's domain; the links' base URL too)."""
        return self.api.url

    def _gateway_wsgi(self, environ, start_response):  # type: ignore[no-untyped-def]
        if self.gateway is None:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"the local cloud is starting"]
        return self.gateway.wsgi(environ, start_response)

    def _api_wsgi(self, environ, start_response):  # type: ignore[no-untyped-def]
        front = getattr(self, "front", None)
        if front is not None:
            return front.wsgi(environ, start_response)
        return self._gateway_wsgi(environ, start_response)

    def _seed_officers(self, path: Path) -> None:
        """The sample directory, written as the infra team would (seva_tools.officers: rows and mail subscriptions)."""
        from seva.officers import Officer
        from seva_tools.officers import Directory

        table = self.deployment.tables.get("OfficersTable")
        topic = self.deployment.topics.get("OfficerEmailTopic")
        if not table or not path.exists():
            return
        self.officers = [Officer(**raw) for raw in json.loads(path.read_text(encoding="utf-8"))["officers"]]
        Directory(table, topic, dynamodb=self.ddb, sns=self.sns).put(self.officers)

    def publish(self, items: list[ScenarioTweet]) -> None:
        """Publish the scenario, each tweet at its time. X's ids are snowflakes of the posting time (the poller
        relies on it: an empty window moves its cursor to the id of its end time), so each tweet gets the id of
        the moment it is published; references between scenario tweets are rewritten, and ``ids`` maps the
        scenario's ids to X's."""
        t0 = self.emulator.started
        last = 0
        for item in sorted(items, key=lambda i: (i.at, int(i.id))):
            at = t0 + item.at / self.options.speed
            last = max(last + 1, snowflake(datetime.fromtimestamp(at, UTC)))
            self.ids[item.id] = str(last)
        for item in items:
            tweet = dict(item.tweet, id=self.ids[item.id])
            if tweet.get("conversation_id") in self.ids:
                tweet["conversation_id"] = self.ids[tweet["conversation_id"]]
            tweet["referenced_tweets"] = [
                dict(r, id=self.ids.get(str(r.get("id")), r.get("id"))) for r in tweet.get("referenced_tweets") or []
            ] or None
            tweet = {k: v for k, v in tweet.items() if v is not None}
            at = t0 + item.at / self.options.speed
            self.fakex.publish(tweet, item.author, item.place, at, item.indexed_after)

    def stored(self, projection: str | None = None) -> list[dict[str, Any]]:
        table = self.deployment.tables["ComplaintsTable"]
        args: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
        if projection:
            args["ProjectionExpression"] = projection
        items: list[dict[str, Any]] = []
        for page in self.ddb.get_paginator("scan").paginate(**args):
            items.extend(page["Items"])
        return items

    def reply_on_x(self, tweet_id: str) -> str | None:
        """An officer answers a complaint by hand in the X app, from the handle the citizen wrote to."""
        table = self.deployment.tables["ComplaintsTable"]
        item = self.ddb.get_item(TableName=table, Key={"tweet_id": {"S": tweet_id}}, ConsistentRead=True)["Item"]
        handles = [h["S"] for h in item.get("mentioned_handles", {}).get("L", [])]
        author = item.get("author_username", {}).get("S", "")
        if not handles:
            return None
        text = f"@{author} We have seen your complaint and are looking into it. Please share details by DM."
        return self.fakex.post_from_app(handles[0], text, tweet_id)

    def audit(self) -> list[dict[str, Any]]:
        table = self.deployment.tables["AuditTable"]
        items: list[dict[str, Any]] = []
        for page in self.ddb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
            items.extend(page["Items"])
        return items

    def author_of(self, tweet_id: str) -> str | None:
        found = self.fakex.tweets.get(int(tweet_id)) if tweet_id.isdigit() else None
        return str(found.author["username"]) if found is not None else None

    def author_id_of(self, tweet_id: str) -> str | None:
        found = self.fakex.tweets.get(int(tweet_id)) if tweet_id.isdigit() else None
        return str(found.author["id"]) if found is not None else None

    def sla_policy(self) -> Any:
        """The SLA policy the functions run with (the deployed parameters, in real minutes)."""
        from seva.sla import SlaPolicy

        p = self.deployment.parameters
        return SlaPolicy.from_minutes(
            acknowledge={f"P{n}": float(p[f"SlaP{n}Minutes"]) for n in (1, 2, 3)},
            resolve={f"P{n}": float(p[f"SlaP{n}ResolveMinutes"]) for n in (1, 2, 3)},
            auto_close_minutes=float(p["AutoCloseDays"]) * 1440,
        )

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
        """Messages parked in dead-letter and on-failure queues: every queue but the lanes (the queues an event
        source mapping reads, whose messages are work still to do, not failures)."""
        lanes = {q.queue_arn.rsplit(":", 1)[-1] for f in self.deployment.functions for q in f.queues}
        total = 0
        for url in self.deployment.queues.values():
            if url.rsplit("/", 1)[-1] in lanes:
                continue
            attrs = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
            total += int(attrs["Attributes"]["ApproximateNumberOfMessages"])
        return total

    def close(self) -> None:
        self.emulator.close()
        self.x.__exit__()
        self.api.__exit__()
        self.aws.close()


def _parse_time(value: str) -> float:
    return datetime.strptime(value, PYNAMO_TIME).timestamp()


class Judge:
    """The verdict from ground truth, recomputed while the pipeline drains (the demo waits for it, within a
    budget) and once more for the report."""

    def __init__(self, cloud: LocalCloud, sms_limit: int):
        from seva.sms import load_templates

        self.cloud, self.sms_limit = cloud, sms_limit
        self.templates = list(load_templates().templates.values())
        self.phones = {o.phone: o.officer_id for o in cloud.officers}
        self.topics = {
            "email": cloud.deployment.topics.get("OfficerEmailTopic"),
            "sos": cloud.deployment.topics.get("SosTopic"),
        }

    def __call__(self, stored: list[dict[str, Any]]) -> dict[str, Any]:
        published = list(self.cloud.aws_app.published)
        sent = classify_published(published, self.templates, self.phones, self.topics)
        by_request = {
            (p.get("phone") or p.get("topic") or "", p.get("message", "")): s.key
            for p, s in zip(published, sent, strict=False)
        }
        documented = crash_window_keys(self.cloud.emulator.crash_notes, by_request)
        statuses = Counter(i.get("status", {}).get("S") for i in stored)
        notifications = judge_notifications(stored, self.cloud.officers, sent, self.sms_limit, documented)
        notifications["slowest_publish_s"] = max((float(p.get("waited_s") or 0) for p in published), default=0.0)
        # for a doubled message: when each copy was accepted, and the crashes right after a publish (the window)
        doubled = set(notifications["duplicate_sample"])
        notifications["duplicate_detail"] = [
            {"key": s.key[:160], "at": round(s.at - published[0]["at"], 2), "waited_s": p.get("waited_s")}
            for p, s in zip(published, sent, strict=False)
            if s.key[:160] in doubled
        ][:10]
        notifications["crashes_after_a_publish"] = {
            "notes": sum(1 for n in self.cloud.emulator.crash_notes if "Action=Publish" in str(n)),
            "matched": len(documented),
        }
        return {
            "unrouted": statuses.get("RECEIVED", 0),
            "notifications": notifications,
            "replies": judge_replies(stored, list(self.cloud.fakex.replies)),
            "sent": sent,
        }


def registered_handles(registry: Path) -> list[str]:
    return [h["username"] for h in json.loads(Path(registry).read_text(encoding="utf-8"))["handles"]]


def handle_user_ids(handles: list[str]) -> dict[str, str]:
    """The X user id each registered handle has on the fake X."""
    return {username: str(900_000_000 + i) for i, username in enumerate(handles)}


def run_demo(options: DemoOptions) -> tuple[dict[str, Any], int]:
    wall_start = time.time()
    if not options.speed > 0:
        raise ValueError("speed must be above 0")
    items = load_scenario(options.scenario)
    check_authors(items, handle_user_ids(registered_handles(options.registry)), options.scenario)
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
        matching = {cloud.ids[i] for i in matching_ids(items, set(cloud.handles))}
        last_at = max((s.at for s in items), default=0.0)
        poll_cycles: list[int] = []
        judge = Judge(cloud, int(cloud.deployment.parameters.get("SmsPerAuthorPerHour", "5")))

        def on_poll(event: dict[str, Any], result: InvokeResult) -> None:
            # the searches of each cycle the invocation ran (from its answer; a crashed one ran one at most)
            cycles = (result.payload or {}).get("cycles") if result.ok and isinstance(result.payload, dict) else None
            if cycles:
                poll_cycles.extend(int(c.get("requests", 0)) for c in cycles)

        emulator.async_invokers["PollFunction"].on_result = on_poll
        officers = None
        if options.officers_act:
            phones = {o.phone: o.officer_id for o in cloud.officers}
            behaviour = OfficerBehaviour(never_share=options.never_share, seed=options.seed)
            officers = OfficerSimulator(
                lambda: cloud.aws.published, phones, options.speed, behaviour, cloud.reply_on_x
            ).start()
        cloud.simulator = officers
        citizens = None
        if options.officers_act:
            citizens = CitizenSimulator(
                lambda: list(cloud.fakex.replies),
                cloud.author_of,
                cloud.fakex.post_from_app,
                options.speed,
                author_id_of=cloud.author_id_of,
            ).start()
        cloud.citizens = citizens
        state: dict[str, Any] = {"next_check": 0.0, "next_print": 60.0, "check_cost": 0.0}
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
                    f"x requests {sum(cloud.fakex.requests.values()):>5}  "
                    f"faults {sum(cloud.faults.injected.values()) + sum(cloud.aws.injected.values())}"
                    + (f"  waiting on: {state['waiting_on']}" if state.get("waiting_on") else "")
                )
            if t < last_at + 60 or now < state["next_check"]:
                return False  # schedules fire every scenario minute: they never all rest at once
            if not emulator.streams_idle:
                state["waiting_on"] = "streams and queues still busy: " + ", ".join(emulator.busy_sources()[:6])
                return False
            if officers is not None and officers.pending:
                state["waiting_on"] = f"{officers.pending} officers' steps still planned"
                return False
            if citizens is not None and citizens.pending:
                state["waiting_on"] = f"{citizens.pending} citizens' answers still planned"
                return False
            answers = {t.post_id for t in officers.taken if t.post_id} if officers is not None else set()
            answers |= {a.post_id for a in citizens.answers if a.post_id} if citizens is not None else set()
            if unpolled := answers - cloud.present(answers):
                state["next_check"], state["waiting_on"] = now + 0.5, f"{len(unpolled)} officers' answers on X unpolled"
                return False
            confirmed.update(cloud.present(matching - confirmed))
            if not matching <= confirmed:
                state["next_check"] = now + 0.5
                state["waiting_on"] = f"{len(matching - confirmed)} matching tweets not stored"
                return False
            # Everything stored: judge every delivery from ground truth (costs a scan; not too often)
            started = time.time()
            verdict = judge(cloud.stored())
            state["check_cost"] = time.time() - started
            state["next_check"] = time.time() + max(1.0, 4 * state["check_cost"])
            state["waiting_on"] = (
                f"unrouted {verdict['unrouted']}, notifications missing {verdict['notifications']['missing']}, "
                f"unanswered {verdict['replies']['unanswered']}"
            )
            return not (verdict["unrouted"] or verdict["notifications"]["missing"] or verdict["replies"]["unanswered"])

        # Handlers run at real speed and back off on throttling: the drain budget grows with the scenario and
        # the fault rate (a 3,000-tweet burst must be allowed to finish)
        # Officers acting bring their own work: escalations, reopenings, replies that say so (a minute and more,
        # and more with every complaint: the bundled demo's 160 took up to 3 minutes to settle on 2 cores)
        lifecycle_s = 90.0 + 0.5 * len(matching) if options.officers_act else 0.0
        grace = (
            options.grace_s
            if options.grace_s is not None
            else 60 + lifecycle_s + 3000 * options.faults + 0.1 * len(matching)
        )
        timeout = (last_at + options.settle_minutes * 60) / options.speed + grace
        drained = emulator.run_until(done, timeout=timeout)
        cloud.clocks_stopped_at = time.time()  # schedules fire no more: no clock can act after this
        if officers is not None:
            officers.stop()
        if citizens is not None:
            citizens.stop()
        emulator.quiesce(timeout=60)  # a poll still running would have searched without being counted as a cycle
        report = build_report(cloud, items, matching, poll_cycles, wall_start, judge)
        report["drained"] = drained
        if not drained:
            report["waiting_on"] = state.get("waiting_on", "the scenario's last minute")
    finally:
        cloud.close()
    status, verdict = verdict_line(report)
    report["verdict"] = verdict
    say(render_summary(report))
    if options.report:
        Path(options.report).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        say(f"report written to {options.report}")
    return report, status


def verdict_line(report: dict[str, Any]) -> tuple[int, str]:
    """Exit status and one line: OK, or what fell short."""
    n, r, lc = report["notifications"], report["replies"], report.get("lifecycle", {})
    short = [
        f"{report['tweets']['lost']} matching tweets lost" if report["tweets"]["lost"] else "",
        f"{report['complaints']['unrouted']} complaints unrouted" if report["complaints"]["unrouted"] else "",
        f"{n['missing']} notifications missing" if n["missing"] else "",
        f"{r['unanswered']} citizens unanswered" if r["unanswered"] else "",
        f"{n['duplicates']} notifications doubled" if n["duplicates"] else "",
        f"{r['duplicates']} replies doubled" if r["duplicates"] else "",
        f"{n['guard_violations']} SMS guard violations" if n["guard_violations"] else "",
        f"{report['complaints']['duplicates']} tweets stored twice" if report["complaints"]["duplicates"] else "",
        f"{report['complaints']['duplicate_references']} references given twice"
        if report["complaints"].get("duplicate_references")
        else "",
        f"{lc['audit_missing']} transitions without their audit event" if lc.get("audit_missing") else "",
        f"{lc['first_responses_missing']} answers on X not recorded" if lc.get("first_responses_missing") else "",
        f"{lc['first_responses_wrong']} first responses no officer made" if lc.get("first_responses_wrong") else "",
        f"{lc['escalations_wrong']} escalations wrong" if lc.get("escalations_wrong") else "",
        f"{lc['escalation_messages_missing']} escalation messages missing"
        if lc.get("escalation_messages_missing")
        else "",
        f"{lc['closing_wrong']} reopenings/closings wrong" if lc.get("closing_wrong") else "",
        f"{lc['state_mismatches']} complaints not in the state their officers left them"
        if lc.get("state_mismatches")
        else "",
    ]
    short = [s for s in short if s]
    if not report.get("drained", True):
        short.append(f"the drain budget ran out with work left ({report.get('waiting_on', '?')})")
    if short:
        return 1, "FAILED: " + "; ".join(short)
    pending = f", {r['pending']} replies waiting for X's posting window" if r["pending"] else ""
    return 0, f"OK: nothing lost, every complaint routed, every officer told, every citizen answered{pending}"


def build_report(
    cloud: LocalCloud,
    items: list[ScenarioTweet],
    matching: set[str],
    poll_cycles: list[int],
    wall_start: float,
    judge: Judge,
) -> dict[str, Any]:
    stored = cloud.stored()
    verdict = judge(stored)
    ids = Counter(i["tweet_id"]["S"] for i in stored)
    ingested = matching & set(ids)
    citizen_answers = {a.post_id for a in cloud.citizens.answers if a.post_id} if cloud.citizens else set()
    police_posts = {str(p["id"]) for p in [*cloud.fakex.replies, *cloud.fakex.app_posts]} - citizen_answers
    published_at = {
        x_id: p.visible_at for s in items if (p := cloud.fakex.tweets.get(int(x_id := cloud.ids.get(s.id, s.id))))
    }
    tweet_to_ingested = [
        _parse_time(i["ingested_at"]["S"]) - published_at[i["tweet_id"]["S"]]
        for i in stored
        if i["tweet_id"]["S"] in published_at
    ]
    statuses = Counter(i.get("status", {}).get("S") for i in stored)
    ingested_to_routed = [
        _parse_time(i["routed_at"]["S"]) - _parse_time(i["ingested_at"]["S"]) for i in stored if "routed_at" in i
    ]
    references = Counter(i["reference"]["S"] for i in stored if "reference" in i)
    busy = [c for c in poll_cycles if c > 0]
    latency = _latencies(stored, verdict["sent"], list(cloud.fakex.replies), published_at)
    audit = cloud.audit()
    taken = settle_unknown_outcomes(cloud.simulator.taken if cloud.simulator else [], audit)
    policy, tolerance = cloud.sla_policy(), 3 * 60 / cloud.speed + 5
    end = cloud.clocks_stopped_at or time.time()
    closing = judge_closing(
        stored,
        audit,
        list(cloud.fakex.replies),
        taken,
        cloud.citizens.answers if cloud.citizens else [],
        auto_close_s=policy.auto_close.total_seconds(),
        end=end,
        tolerance_s=tolerance,
    )
    lifecycle = judge_lifecycle(stored, audit, taken, closing.pop("_allowed_states"))
    lifecycle |= judge_escalations(
        stored,
        audit,
        taken,
        cloud.officers,
        policy,
        end=end,
        tolerance_s=tolerance,
        sent=verdict["sent"],
    )
    lifecycle |= closing
    simulated = [
        *(cloud.simulator.errors if cloud.simulator else []),
        *(cloud.citizens.errors if cloud.citizens else []),
    ]
    lifecycle["simulator_errors"] = len(simulated)
    lifecycle["simulator_error_sample"] = simulated[:5]
    report: dict[str, Any] = {
        "tweets": {
            "published": len(published_at),
            "matching": len(matching),
            "ingested": len(ingested),
            "lost": len(matching - ingested),
            # the police handles' own posts (Seva's replies, officers' answers) come back through the response
            # queries on purpose: they are expected, and counted apart
            "police_posts": len(set(ids) & police_posts),
            "citizen_answers": len(set(ids) & citizen_answers),
            "unexpected": len(set(ids) - matching - police_posts - citizen_answers),
        },
        "complaints": {
            "total": len(ids),
            "noise": statuses.get("NOISE", 0),
            "routed": sum(1 for i in stored if "reference" in i),
            "attached": statuses.get("ATTACHED", 0),
            "unrouted": verdict["unrouted"],
            "by_priority": dict(sorted(Counter(i["priority"]["S"] for i in stored if "reference" in i).items())),
            "by_status": dict(sorted(statuses.items())),
            "duplicate_references": sum(n - 1 for n in references.values() if n > 1),
            "review_queue": sum(1 for i in stored if i.get("needs_review", {}).get("BOOL")),
            "duplicates": sum(n - 1 for n in ids.values() if n > 1),
        },
        "notifications": verdict["notifications"],
        "replies": verdict["replies"],
        "lifecycle": lifecycle,
        # the dashboard's figures as the figures function kept them (the pipeline's own aggregates, for comparison
        # with the ground truth above)
        "figures": figures_report(cloud),
        "dlq": cloud.dlq_depth(),
        "x_requests": dict(sorted(cloud.fakex.requests.items())),
        "aws_requests": dict(sorted(cloud.aws_app.requests.items())),
        "latency_s": {
            "tweet_to_ingested": percentiles(tweet_to_ingested),
            "ingested_to_routed": percentiles(ingested_to_routed),
            **latency,
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
        "cost_usd_per_1000_complaints": cost_per_1000_complaints(
            usage(cloud, sum(1 for i in stored if "reference" in i)), load_prices()
        ),
        "faults_injected": dict(cloud.faults.injected + cloud.aws.injected),
        "functions": dict(sorted(cloud.emulator.stats.items())),
        "cpu": "p1_first" if cloud.options.p1_cpu_first else "shared",
        "speed": cloud.options.speed,
        "wall_s": round(time.time() - wall_start, 2),
    }
    return report


def figures_report(cloud: LocalCloud) -> dict[str, Any]:
    """The state's figures for the days of the run (a query of the figures table's state partition, no scan)."""
    from datetime import timedelta

    from seva.figures import IST, summary

    table = cloud.deployment.tables.get("FiguresTable")
    if not table:
        return {}
    today = datetime.now(IST).date()
    first, last = (today - timedelta(days=1)).isoformat(), (today + timedelta(days=1)).isoformat()
    rows: list[dict[str, Any]] = []
    for page in cloud.ddb.get_paginator("query").paginate(
        TableName=table,
        KeyConditionExpression="pk = :pk AND sk BETWEEN :a AND :b",
        ExpressionAttributeValues={":pk": {"S": "fig#state"}, ":a": {"S": first}, ":b": {"S": f"{last}~"}},
        ConsistentRead=True,
    ):
        rows += [{k: int(v["N"]) for k, v in item.items() if "N" in v} for item in page["Items"]]
    return {k: v for k, v in summary(rows).items() if not k.endswith("_histogram")}


def usage(cloud: LocalCloud, complaints: int) -> Usage:
    """What the run used, from ground truth: the fake X's reads and posts, what SNS accepted, the handlers' AWS
    calls, the emulator's invocations, pipe events and lane batches."""
    from seva.sms import segments

    published = list(cloud.aws_app.published)
    email_topic = cloud.deployment.topics.get("OfficerEmailTopic")
    stats = cloud.emulator.stats
    lanes = {k.rsplit(".", 1)[0] for k in stats if k.endswith(".records")}
    posts = [r.get("text") or "" for r in cloud.fakex.replies]
    return Usage(
        complaints=complaints,
        x_posts_read=cloud.fakex.returned["posts"],
        x_users_read=cloud.fakex.returned["users"],
        x_posts_created=sum(1 for t in posts if "://" not in t),
        x_posts_created_with_url=sum(1 for t in posts if "://" in t),
        sms_segments=sum(segments(p["message"]) for p in published if p.get("phone")),
        sns_topic_publishes=sum(1 for p in published if p.get("topic")),
        sns_email_deliveries=sum(1 for p in published if email_topic and p.get("topic") == email_topic),
        aws_requests=dict(cloud.aws_app.requests),
        lambda_invocations=sum(v for k, v in stats.items() if k.endswith(".invocations")),
        pipe_events=sum(v for k, v in stats.items() if k.startswith("Pipe.") and k.endswith(".events")),
        sqs_lane_requests=sum(stats[f"{lane}.records"] + 2 * stats[f"{lane}.batches"] for lane in lanes),
    )


def _latencies(
    stored: list[dict[str, Any]], sent: list[Any], replies: list[dict[str, Any]], published_at: dict[str, float]
) -> dict[str, Any]:
    """Ingested → first message to an officer, → first answer on X; overall and by priority (ground truth)."""
    first_sent: dict[str, float] = {}
    for s in sent:
        if s.reference and s.purpose == "complaint":
            first_sent[s.reference] = min(first_sent.get(s.reference, s.at), s.at)
    first_reply: dict[str, float] = {}
    for r in replies:
        target = r.get("in_reply_to_tweet_id")
        if target:
            first_reply[target] = min(first_reply.get(target, r["posted_at"]), r["posted_at"])
    rows: dict[str, dict[str, list[float]]] = {}
    for item in stored:
        if "reference" not in item:
            continue
        ingested = _parse_time(item["ingested_at"]["S"])
        tweet_id, ref, priority = item["tweet_id"]["S"], item["reference"]["S"], item["priority"]["S"]
        for key in (priority, "all"):
            row = rows.setdefault(
                key,
                {
                    "tweet_to_notified": [],
                    "ingested_to_notified": [],
                    "ingested_to_replied": [],
                    "ingested_to_routed": [],
                },
            )
            if "routed_at" in item:
                row["ingested_to_routed"].append(_parse_time(item["routed_at"]["S"]) - ingested)
            if ref in first_sent:
                row["ingested_to_notified"].append(first_sent[ref] - ingested)
                if tweet_id in published_at:
                    row["tweet_to_notified"].append(first_sent[ref] - published_at[tweet_id])
            if tweet_id in first_reply:
                row["ingested_to_replied"].append(first_reply[tweet_id] - ingested)
    overall = rows.pop("all", {"ingested_to_notified": [], "ingested_to_replied": []})
    return {
        "ingested_to_notified": percentiles(overall["ingested_to_notified"]),
        "ingested_to_replied": percentiles(overall["ingested_to_replied"]),
        "by_priority": {
            p: {name: percentiles(values) for name, values in row.items()} for p, row in sorted(rows.items())
        },
    }


def render_summary(report: dict[str, Any]) -> str:
    t, c, n, r = report["tweets"], report["complaints"], report["notifications"], report["replies"]
    lat = report["latency_s"]
    cost = report["cost_usd_per_1000_complaints"]
    rows = [
        (
            "tweets",
            f"published {t['published']}  matching {t['matching']}  ingested {t['ingested']}  "
            f"lost {t['lost']}  unexpected {t['unexpected']}  police posts {t['police_posts']}",
        ),
        (
            "complaints",
            f"total {c['total']}  noise {c['noise']}  routed {c['routed']} {c['by_priority']}  attached "
            f"{c['attached']}  unrouted {c['unrouted']}  review {c['review_queue']}  duplicates {c['duplicates']}",
        ),
        (
            "notifications",
            f"expected {n['expected']}  missing {n['missing']}  held by guard {n['held_by_guard']}  "
            f"sms {n['sms']} (follow-up {n['followup']}, digest {n['digest']})  email {n['email']}  sos {n['sos']}  "
            f"duplicates {n['duplicates']} (+{n['duplicates_in_crash_window']} in the crash window)  "
            f"off-template {n['sms_not_matching_a_registered_template']}",
        ),
        (
            "replies",
            f"posted {r['posted']}  acknowledgements {r['acknowledgements']}  unanswered {r['unanswered']}  "
            f"pending {r['pending']}  failed {r['failed']}  duplicates {r['duplicates']}",
        ),
        ("dlq", str(report["dlq"])),
        *(
            [
                (
                    "lifecycle",
                    f"{lc['by_state']}  officer actions {lc['officer_actions']}  audit missing {lc['audit_missing']}  "
                    f"state mismatches {lc['state_mismatches']}",
                ),
                (
                    "sla",
                    f"escalated {lc.get('escalated', 0)} (expected {lc.get('escalations_expected', 0)}, wrong "
                    f"{lc.get('escalations_wrong', 0)}, messages missing {lc.get('escalation_messages_missing', 0)})  "
                    f"resolution replies {lc.get('resolution_replies', 0)}  reopened {lc.get('reopened', 0)}  "
                    f"closed {lc.get('closed', {})}  satisfaction {lc.get('satisfaction_mean')}  "
                    f"wrong {lc.get('closing_wrong', 0)}",
                ),
            ]
            if (lc := report.get("lifecycle"))
            else []
        ),
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
                    ("tweet→ingested", lat["tweet_to_ingested"]),
                    ("ingested→routed", lat["ingested_to_routed"]),
                    ("→notified", lat["ingested_to_notified"]),
                    ("→replied", lat["ingested_to_replied"]),
                )
            ),
        ),
        *(
            (
                f"  {priority}",
                "  ".join(f"{name.replace('_', ' ')} p50 {v['p50']} p95 {v['p95']}" for name, v in row.items()),
            )
            for priority, row in lat["by_priority"].items()
        ),
        (
            "cost",
            f"${cost['total']:.2f} per 1,000 complaints (X reads {cost['x_reads']:.2f}, X posts "
            f"{cost['x_posts']:.2f}, SMS {cost['sms']:.2f}, AWS {cost['aws']:.4f}; prices: infra/data/prices.json)",
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
    return "\n".join([*lines, report["verdict"]])


def main(options: DemoOptions) -> int:
    _, status = run_demo(options)
    return status


if __name__ == "__main__":
    sys.exit(main(DemoOptions()))
