"""The demo's verdict, from ground truth only: what SNS accepted (the AWS middleware's record), what the fake X
received, what the store holds and the officer directory the local cloud was given — never the pipeline's own
counters or ledgers.

For every routed complaint the directory says who must be told (its district's officers whose priorities and
categories match, the state cell when the district has none; SMS, email when they have one, the SOS topic for
P1) and the citizen must be answered. The only legitimate gaps: SMS held by the per-citizen hourly guard (never
a P1), each covered by a digest to that officer, and replies still waiting for X's posting window."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

REFERENCE = re.compile(r"UP-[A-Z]{2,3}-\d{4}-\d{6}")
PYNAMO_TIME = "%Y-%m-%dT%H:%M:%S.%f%z"
HOUR = 3600.0


def parse_time(value: str) -> float:
    return datetime.strptime(value, PYNAMO_TIME).timestamp()


@dataclass(frozen=True)
class Sent:
    """One message SNS accepted, classified."""

    channel: str  # sms | email | sos
    to: str  # officer id (sms: by phone), or the SOS topic
    reference: str | None
    purpose: str  # complaint | followup | digest
    body: str
    at: float
    key: str  # what makes it unique: (to, channel, reference, purpose, follow-up)


def classify_published(
    published: list[dict[str, Any]], templates: Any, phones: dict[str, str], topics: dict[str, str]
) -> list[Sent]:
    out = []
    by_kind = {t.key: t for t in templates}
    for p in published:
        message = p.get("message") or ""
        if p.get("phone"):
            kind = next((k.rsplit("_", 1)[0] for k, t in by_kind.items() if t.matches(message)), "off_template")
            ref = REFERENCE.search(message)
            status = re.search(r"x\.com/i/status/(\d+)", message)
            officer = phones.get(p["phone"], p["phone"])
            key = f"{officer}|sms|{ref.group(0) if ref else '-'}|{kind}|{status.group(1) if status else '-'}"
            if kind in ("digest", "escalation", "reopened"):  # one per event: told apart by what they say
                key = f"{officer}|sms|{kind}|{message}"
            out.append(Sent("sms", officer, ref.group(0) if ref else None, kind, message, p["at"], key))
        elif p.get("topic") == topics.get("email"):
            attrs = p.get("attributes") or {}
            purpose = str(attrs.get("purpose") or "complaint")
            officer, ref = str(attrs.get("officer_id")), attrs.get("reference")
            out.append(
                Sent("email", officer, ref, purpose.split("-")[0], message, p["at"], f"{officer}|email|{ref}|{purpose}")
            )
        elif p.get("topic") == topics.get("sos"):
            ref = json.loads(message).get("reference")
            out.append(Sent("sos", "sos-topic", ref, "complaint", message, p["at"], f"sos|{ref}"))
    return out


def crash_window_keys(notes: Iterable[dict[str, Any]], classified_keys: dict[tuple[str, str], str]) -> set[str]:
    """Messages an invocation published and then crashed before any request succeeded after it (the last
    request, or one whose recording failed): the documented window (SNS accepted it, the ledger never heard) in
    which a retry may send it again."""
    keys = set()
    for note in notes:
        for request in (note.get("crashing_after") or {}, note.get("unrecorded_publish") or {}):
            form = {k: v[0] for k, v in parse_qs(request.get("body") or "").items()}
            if form.get("Action") != "Publish":
                continue
            target = form.get("PhoneNumber") or form.get("TopicArn") or ""
            key = classified_keys.get((target, form.get("Message", "")))
            if key:
                keys.add(key)
    return keys


def judge_notifications(
    stored: list[dict[str, Any]],
    officers: list[Any],
    sent: list[Sent],
    sms_limit: int,
    documented: set[str],
) -> dict[str, Any]:
    by_district: dict[str, list[Any]] = defaultdict(list)
    for officer in officers:
        by_district[officer.district].append(officer)
    routed = [i for i in stored if "reference" in i]
    received: dict[tuple[str, str, str, str], list[Sent]] = defaultdict(list)  # (to, channel, ref, purpose)
    for s in sent:
        received[(s.to, s.channel, s.reference or "", s.purpose)].append(s)
    digests: dict[str, list[Sent]] = defaultdict(list)
    for s in sent:
        if s.purpose == "digest":
            digests[s.to].append(s)
    # each citizen's non-P1 complaints by tweet time, to judge the hourly guard
    authored: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for item in routed:
        if item["priority"]["S"] != "P1":
            authored[item.get("author_id", {}).get("S", "?")].append(
                (parse_time(item["tweet_created_at"]["S"]), item["reference"]["S"])
            )
    expected = 0
    missing: list[str] = []
    held = 0
    for item in routed:
        ref, priority = item["reference"]["S"], item["priority"]["S"]
        category = item.get("category", {}).get("S", "other")
        district = str(item["district_code"]["N"]) if "district_code" in item else "HQ"
        team = by_district.get(district) or (by_district.get("HQ", []) if district != "HQ" else [])
        if item.get("status", {}).get("S") in ("NOISE", "RECEIVED"):
            continue
        for officer in team:
            if not officer.receives(priority, category):
                continue
            expected += 1
            if not received[(officer.officer_id, "sms", ref, "complaint")]:
                if priority != "P1" and _guard_held(
                    authored, item, ref, digests.get(officer.officer_id, []), sms_limit
                ):
                    held += 1
                else:
                    missing.append(f"{ref} sms {officer.officer_id}")
            if officer.email:
                expected += 1
                if not received[(officer.officer_id, "email", ref, "complaint")]:
                    missing.append(f"{ref} email {officer.officer_id}")
        if priority == "P1":
            expected += 1
            if not received[("sos-topic", "sos", ref, "complaint")]:
                missing.append(f"{ref} sos")
    keys = Counter(s.key for s in sent)
    duplicates = {k: n - 1 for k, n in keys.items() if n > 1}
    documented_dups = sum(n for k, n in duplicates.items() if k in documented)
    return {
        "sms": sum(1 for s in sent if s.channel == "sms"),
        "email": sum(1 for s in sent if s.channel == "email"),
        "sos": sum(1 for s in sent if s.channel == "sos"),
        "followup": sum(1 for s in sent if s.purpose == "followup"),
        "digest": sum(1 for s in sent if s.purpose == "digest"),
        "expected": expected,
        "missing": len(missing),
        "missing_detail": missing[:20],
        "held_by_guard": held,
        "guard_violations": _guard_violations(sent, routed, sms_limit)
        + _digest_violations(digests, authored, sms_limit),
        "duplicates": sum(duplicates.values()) - documented_dups,
        "duplicate_sample": [k[:160] for k in duplicates if k not in documented][:3],
        "duplicates_in_crash_window": documented_dups,
        "sms_not_matching_a_registered_template": sum(1 for s in sent if s.purpose == "off_template"),
    }


def _guard_held(
    authored: dict[str, list[tuple[float, str]]], item: dict[str, Any], ref: str, digests: list[Sent], limit: int
) -> bool:
    """Held legitimately: the citizen had more than ``limit`` non-P1 complaints within an hour of this one,
    and this officer got a digest within that hour."""
    author = item.get("author_id", {}).get("S", "?")
    t = parse_time(item["tweet_created_at"]["S"])
    near = [r for when, r in authored.get(author, []) if abs(when - t) <= HOUR]
    return len(near) > limit and bool(digests)


def _guard_violations(sent: list[Sent], routed: list[dict[str, Any]], limit: int) -> int:
    """Per officer and citizen: more than ``limit`` complaint SMS for non-P1 complaints tweeted within an hour
    (digests: ``_digest_violations``)."""
    info = {i["reference"]["S"]: i for i in routed}
    per: dict[tuple[str, str], list[float]] = defaultdict(list)
    for s in sent:
        item = info.get(s.reference or "")
        if s.channel == "sms" and s.purpose == "complaint" and item and item["priority"]["S"] != "P1":
            per[(s.to, item.get("author_id", {}).get("S", "?"))].append(parse_time(item["tweet_created_at"]["S"]))
    return sum(1 for times in per.values() if _more_than_in_an_hour(times, limit))


def _more_than_in_an_hour(times: list[float], limit: int) -> bool:
    times = sorted(times)
    return any(sum(1 for t in times[i:] if t - start <= HOUR) > limit for i, start in enumerate(times))


def _digest_violations(digests: dict[str, list[Sent]], authored: dict[str, list[tuple[float, str]]], limit: int) -> int:
    """Officers sent more digests than the guard allows: one per officer and citizen past the limit, and no two
    for one citizen within an hour of tweet time — so at most ``span // hour + 1`` for each such citizen."""
    allowed = 0
    for complaints in authored.values():
        times = [t for t, _ in complaints]
        if _more_than_in_an_hour(times, limit):
            allowed += int((max(times) - min(times)) // HOUR) + 1
    return sum(1 for sent in digests.values() if len(sent) > allowed)


def judge_replies(stored: list[dict[str, Any]], replies: list[dict[str, Any]]) -> dict[str, Any]:
    """The first answer of each routed complaint, from what the fake X received."""
    routed = [i for i in stored if "reference" in i]
    posted_to = Counter(r["in_reply_to_tweet_id"] for r in replies if REFERENCE.search(r["text"] or ""))
    acks = Counter(r["in_reply_to_tweet_id"] for r in replies if "registered" in r["text"] or "दर्ज हो गई" in r["text"])
    states = Counter(i.get("reply_status", {}).get("S", "NONE") for i in routed)
    unanswered, pending = [], 0
    for item in routed:
        tweet_id = item["tweet_id"]["S"]
        if acks[tweet_id]:
            continue
        state = item.get("reply_status", {}).get("S")
        reason = item.get("reply_error", {}).get("S", "")
        if state == "REPLY_PENDING" and reason in ("rate budget", "429"):
            pending += 1  # waiting for X's posting window: a legitimate end state
        else:
            unanswered.append(f"{item['reference']['S']} {state or 'no reply'} {reason}".strip())
    return {
        "posted": len(replies),
        "acknowledgements": sum(acks.values()),
        "duplicates": sum(n - 1 for n in acks.values() if n > 1),
        "failed": states.get("REPLY_FAILED", 0) + states.get("REPLY_NOT_ALLOWED", 0),
        "not_allowed": states.get("REPLY_NOT_ALLOWED", 0),
        "pending": pending,
        "unanswered": len(unanswered),
        "unanswered_detail": unanswered[:20],
        "answers_per_complaint": round(sum(posted_to.values()) / max(1, len(routed)), 2),
    }


# -- the lifecycle, judged from what the simulated officers did ------------------------------------------------------
_AFTER = {"acknowledge": "ACKNOWLEDGED", "on_the_way": "ON_THE_WAY", "resolve": "RESOLVED", "reassign": "ROUTED"}
_ACTION = {"acknowledge": "ACKNOWLEDGE", "on_the_way": "ON_THE_WAY", "resolve": "RESOLVE", "reassign": "REASSIGN"}


def settle_unknown_outcomes(taken: list[Any], audit: list[dict[str, Any]], slack_s: float = 1.0) -> list[Any]:
    """Officers' requests whose answer was lost (no answer, or a 5xx: the API may have acted before it failed,
    as any HTTP API may) took effect exactly when the trail holds that officer's event for that action, written
    while the request was out; such a request counts as accepted, answered when its event was written. Nothing
    the officers did not ask for is taken from the trail."""
    from dataclasses import replace

    def s(item: dict[str, Any], key: str) -> str | None:
        value = item.get(key)
        return value.get("S") if isinstance(value, dict) else None

    written: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for e in audit:
        if s(e, "via") == "link" and s(e, "at"):
            at = datetime.strptime(str(s(e, "at")), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
            written[(s(e, "complaint_id") or "", s(e, "action") or "", s(e, "actor_id") or "")].append(at)
    settled = []
    for t in taken:
        if (t.status == 0 or t.status >= 500) and t.action in _ACTION:
            times = written.get((t.tweet_id, _ACTION[t.action], t.officer_id), [])
            hit = next((at for at in times if (t.sent_at or t.at) - slack_s <= at <= t.at + slack_s), None)
            if hit is not None:
                t = replace(t, status=200, at=max(hit, t.sent_at or hit))
        settled.append(t)
    return settled


def judge_lifecycle(
    stored: list[dict[str, Any]],
    audit: list[dict[str, Any]],
    taken: list[Any],
    allowed: dict[str, set[str]] | None = None,
) -> dict[str, Any]:
    """Counts by state against what the officers' accepted actions imply; every accepted action and every
    transition with its audit event (actor, time, channel); median time to acknowledge by priority."""
    import statistics

    def s(item: dict[str, Any], key: str) -> str | None:
        value = item.get(key)
        return value.get("S") if isinstance(value, dict) else None

    complaints = {s(i, "tweet_id"): i for i in stored if s(i, "reference") and s(i, "status") != "ATTACHED"}
    by_state: dict[str, int] = {}
    for item in complaints.values():
        by_state[s(item, "status") or "?"] = by_state.get(s(item, "status") or "?", 0) + 1
    events: dict[str, list[dict[str, Any]]] = {}
    for e in sorted(audit, key=lambda e: s(e, "sk") or ""):
        events.setdefault(s(e, "complaint_id") or "", []).append(e)
    link_actions = [t for t in taken if t.action in _AFTER]
    accepted = sorted((t for t in link_actions if t.status == 200), key=lambda t: t.at)
    answered_on_x = {t.tweet_id for t in taken if t.action == "x_reply" and t.post_id}
    first_responses = {tid for tid, item in complaints.items() if s(item, "first_response_by")}
    expected: dict[str, str] = {}
    audit_missing = 0
    for t in accepted:
        expected[t.tweet_id] = _AFTER[t.action]
        trail = events.get(t.tweet_id, [])
        if not any(
            s(e, "action") == _ACTION[t.action] and s(e, "actor_id") == t.officer_id and s(e, "via") == "link"
            for e in trail
        ):
            audit_missing += 1
    # every state a complaint went through has its event: the trail's transitions chain to the stored state
    for tweet_id, item in complaints.items():
        chain = [e for e in events.get(tweet_id, []) if s(e, "kind") == "transition" and s(e, "to_status")]
        state = "RECEIVED"
        for e in chain:
            if s(e, "from_status") != state:
                audit_missing += 1
            state = s(e, "to_status") or state
        if state != s(item, "status"):
            audit_missing += 1
    mismatched = sorted(
        tweet_id
        for tweet_id, item in complaints.items()
        if s(item, "status") != "NOISE"
        and s(item, "status") not in (allowed or {}).get(tweet_id, {expected.get(tweet_id, "ROUTED")})
    )
    ack: dict[str, list[float]] = {}
    for item in complaints.values():
        acked, routed = s(item, "acknowledged_at"), s(item, "routed_at")
        if acked and routed:
            at = [datetime.strptime(v, "%Y-%m-%dT%H:%M:%S.%f%z") for v in (acked, routed)]
            seconds = (at[0] - at[1]).total_seconds()
            ack.setdefault(s(item, "priority") or "?", []).append(seconds)
    return {
        "by_state": dict(sorted(by_state.items())),
        "officer_actions": len(accepted),
        "officer_actions_refused": sum(1 for t in link_actions if t.status != 200),
        "answered_on_x": len(answered_on_x),
        "first_responses": len(first_responses),
        "first_responses_missing": len(answered_on_x - first_responses),
        "first_responses_wrong": len(first_responses - answered_on_x),  # e.g. Seva's own reply taken for one
        "previews": sum(1 for t in taken if t.action == "preview"),
        "reassigned": sum(1 for t in accepted if t.action == "reassign"),
        "median_ack_s_by_priority": {p: round(statistics.median(v), 1) for p, v in sorted(ack.items())},
        "state_mismatches": len(mismatched),
        "state_mismatch_sample": [
            {
                "id": t,
                "stored": s(complaints[t], "status"),
                "expected": expected.get(t, "ROUTED"),
                "accepted": [(x.officer_id, x.action) for x in accepted if x.tweet_id == t],
                "trail": [(s(e, "action"), s(e, "actor_id"), s(e, "to_status")) for e in events.get(t, [])],
            }
            for t in mismatched[:5]
        ],
        "audit_missing": audit_missing,
    }


def judge_escalations(
    stored: list[dict[str, Any]],
    audit: list[dict[str, Any]],
    taken: list[Any],
    officers: list[Any],
    policy: Any,
    end: float,
    tolerance_s: float,
    sent: list[Sent],
) -> dict[str, Any]:
    """Escalations against ground truth: when each complaint was routed, what its officers did and when (the
    simulator's accepted actions), the policy's deadlines and the directory. A level the clock should have
    reached well before the stage's action (or the end) must have been escalated once; one whose time came
    only after the action must not have been. Within ``tolerance_s`` of the action (the clock runs once a
    minute) either is right. Complaints whose clock was restarted (reassigned, reopened, re-prioritised by a
    follow-up) are left unjudged."""

    def s(item: dict[str, Any], key: str) -> str | None:
        value = item.get(key)
        return value.get("S") if isinstance(value, dict) else None

    def when(value: str | None) -> float | None:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp() if value else None

    team: dict[str, set[str]] = {}
    for o in officers:
        team.setdefault(str(o.district), set()).add(o.role)
    events: dict[str, list[dict[str, Any]]] = {}
    for e in audit:
        events.setdefault(s(e, "complaint_id") or "", []).append(e)
    acted: dict[str, list[tuple[float, float, str]]] = {}  # (request sent, answer received, action)
    for t in taken:
        if t.status == 200 and t.action in _AFTER:
            acted.setdefault(t.tweet_id, []).append((t.sent_at or t.at, t.at, t.action))
    told = {(x.to, x.reference) for x in sent if x.purpose == "escalation"}
    expected = wrong = unjudged = escalated = messages_missing = 0
    wrong_sample: list[dict[str, Any]] = []
    for item in stored:
        tweet_id, reference, priority = s(item, "tweet_id"), s(item, "reference"), s(item, "priority")
        routed = when(s(item, "routed_at"))
        if not (tweet_id and reference and priority and routed) or s(item, "status") in ("NOISE", "ATTACHED"):
            continue
        trail = events.get(tweet_id, [])
        observed = []
        for e in trail:
            if s(e, "action") == "ESCALATE":
                d = json.loads(s(e, "details") or "{}")
                observed.append((d.get("stage"), d.get("level"), when(s(e, "at")), d.get("to") or []))
        escalated += len(observed)
        restarted = {"REASSIGN", "REOPEN", "TO_COMPLAINT"} & {s(e, "action") for e in trail}
        changed_priority = any(s(e, "action") == "FOLLOW_UP" and "priority" in (s(e, "details") or "") for e in trail)
        if restarted or changed_priority:
            unjudged += 1
            continue
        twice = [k for k, n in Counter((o[0], o[1]) for o in observed).items() if n > 1]
        if twice:  # one clock, one stage: a level is told once
            wrong += len(twice)
            wrong_sample.append({"ref": reference, "escalated_twice": twice})
        district = str(item["district_code"]["N"]) if "district_code" in item else "HQ"
        actions = sorted(acted.get(tweet_id, []))
        ack = next(((lo, hi) for lo, hi, a in actions if a in ("acknowledge", "on_the_way", "resolve")), None)
        resolve = next(((lo, hi) for lo, hi, a in actions if a == "resolve"), None)
        stages = [("acknowledge", routed, routed, ack or (end, end))]
        if ack is not None:
            stages.append(("resolve", ack[0], routed, resolve or (end, end)))
        for stage, started, since, (stop, stop_late) in stages:
            deadline = since + policy_seconds(policy, stage, priority)
            step = policy_seconds(policy, stage, priority) * policy.step_fraction
            fires = _fires(policy, priority, district, team)
            for n, level in fires:
                at = max(started, deadline + (n - 1) * step)
                got = [o for o in observed if o[0] == stage and o[1] == level]
                if at < min(stop, end) - tolerance_s:  # the clocks stopped at the end, whatever came after
                    expected += 1
                    if len(got) != 1:
                        wrong += 1
                        wrong_sample.append(
                            {
                                "ref": reference,
                                "stage": stage,
                                "level": level,
                                "observed": len(got),
                                "due_in_s": round(at - routed, 1),
                                "stop_in_s": round(stop - routed, 1),
                                "end_in_s": round(end - routed, 1),
                                "status": s(item, "status"),
                                "escalation_level": (item.get("escalation_level") or {}).get("N"),
                                "clock_due_in_s": round(when(s(item, "clock_due_at")) - routed, 1)
                                if s(item, "clock_due_at")
                                else None,
                                "seen": [(o[0], o[1]) for o in observed],
                            }
                        )
                    elif stop >= end:  # still overdue when the clocks stopped: the level must have been told
                        # (one acted on meanwhile may be skipped: notify tells no one a resolved complaint is late)
                        messages_missing += sum(1 for o in got[0][3] if (o, reference) not in told)
                elif at > stop_late + tolerance_s and got:
                    wrong += 1
                    wrong_sample.append({"ref": reference, "stage": stage, "level": level, "not_called_for": True})
    return {
        "escalated": escalated,
        "escalations_expected": expected,
        "escalations_wrong": wrong,
        "escalations_wrong_sample": wrong_sample[:5],
        "escalations_unjudged": unjudged,
        "escalation_messages_missing": messages_missing,
    }


def policy_seconds(policy: Any, stage: str, priority: str) -> float:
    from seva.lifecycle import Priority

    table = policy.acknowledge if stage == "acknowledge" else policy.resolve
    return float(table[Priority(priority)].total_seconds())


def _fires(policy: Any, priority: str, district: str, team: dict[str, set[str]]) -> list[tuple[int, int]]:
    """(the level whose time it is, the level told then): a level with nobody is passed over to the next one
    that has someone, at the passed-over level's time."""
    from seva.lifecycle import Priority

    chain = [lv for lv in policy.levels if Priority(priority) in lv.priorities]
    fires, current = [], 0
    while True:
        nxt = [lv for lv in chain if lv.level > current]
        if not nxt:
            return fires
        told = next((lv for lv in nxt if team.get(lv.district or district, set()) & set(lv.roles)), None)
        level = told.level if told else nxt[-1].level
        fires.append((nxt[0].level, level))
        current = level


def _closed_before_read(auto: list[dict[str, Any]], answer: Any, read: dict[str | None, float]) -> bool:
    """The clock closed the complaint before the citizen's answer was read from X (it was posted in time, but a
    post reaches Seva only when it is polled): nothing could have acted on it earlier."""
    ingested = read.get(answer.post_id)
    times = [datetime.strptime(str(e["at"]["S"]), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp() for e in auto]
    return bool(times) and (ingested is None or min(times) <= ingested)


def judge_closing(
    stored: list[dict[str, Any]],
    audit: list[dict[str, Any]],
    replies: list[dict[str, Any]],
    taken: list[Any] = (),  # type: ignore[assignment]
    answers: list[Any] = (),  # type: ignore[assignment]
    auto_close_s: float = float("inf"),
    end: float = 0.0,
    tolerance_s: float = 0.0,
) -> dict[str, Any]:
    """Resolution replies, reopenings and closings against ground truth: every citizen's "not resolved" reopened
    their complaint and every thanks or rating closed it (with the rating), by the citizen, via X; a resolved
    complaint nobody answered was closed by the clock once the objection period had passed well before the end,
    and never before it. Also: the states these allow, for the lifecycle's state check."""
    from sevalocal.citizens_sim import is_resolution_reply

    def s(item: dict[str, Any], key: str) -> str | None:
        value = item.get(key)
        return value.get("S") if isinstance(value, dict) else None

    def when(value: str | None) -> float:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp() if value else 0.0

    events: dict[str, list[dict[str, Any]]] = {}
    for e in audit:
        events.setdefault(s(e, "complaint_id") or "", []).append(e)
    resolved_at: dict[str, float] = {}
    # when the officer's resolve was accepted: the complaint's own resolved_at (the simulator's clock reads the
    # answer, which a loaded machine may deliver seconds later)
    accepted_at = {s(i, "tweet_id"): when(s(i, "resolved_at")) for i in stored if s(i, "resolved_at")}
    for t in sorted(taken, key=lambda t: t.at):
        if t.status == 200 and t.action == "resolve":
            resolved_at[t.tweet_id] = min(t.at, accepted_at.get(t.tweet_id) or t.at)
        elif t.status == 200 and t.action in _AFTER and t.tweet_id in resolved_at:
            del resolved_at[t.tweet_id]  # acted on again (reassigned): not the last word
    answered = {a.tweet_id: a for a in answers if a.post_id}
    read = {s(i, "tweet_id"): when(s(i, "ingested_at")) for i in stored if s(i, "ingested_at")}
    wrong: list[dict[str, Any]] = []
    allowed: dict[str, set[str]] = {}
    ratings = []
    for tweet_id, at in resolved_at.items():
        trail = events.get(tweet_id, [])

        def found(action: str, by: str, trail: list[dict[str, Any]] = trail) -> list[dict[str, Any]]:
            return [
                e for e in trail if s(e, "action") == action and json.loads(s(e, "details") or "{}").get("by") == by
            ]

        answer = answered.get(tweet_id)
        if answer is not None and answer.kind == "reopen":
            allowed[tweet_id] = {"REOPENED"}
            hits = [
                e
                for e in found("REOPEN", "citizen")
                if json.loads(s(e, "details") or "{}").get("post") == answer.post_id
            ]
            if len(hits) != 1 or s(hits[0], "via") != "x" or s(hits[0], "actor_kind") != "citizen":
                wrong.append({"id": tweet_id, "expected": "reopen by the citizen", "found": len(hits)})
            if answer.at < at:
                answer = None  # an officer resolved it again after the citizen's "not resolved": judged anew
        if answer is not None and answer.kind == "close" and _closed_before_read(found("CLOSE", "auto"), answer, read):
            allowed[tweet_id] = {"CLOSED"}  # the clock closed it before Seva could read the thanks (ingest lag)
        elif answer is not None and answer.kind == "reopen":
            pass  # judged above: reopened, and nothing after it
        elif answer is not None and answer.at > at + auto_close_s - tolerance_s:
            allowed[tweet_id] = {"CLOSED"}  # thanked once the objection period was (nearly) over: closed either way
        elif answer is not None:
            allowed[tweet_id] = {"CLOSED"}
            hits = found("CLOSE", "citizen")
            if len(hits) != 1 or json.loads(s(hits[0], "details") or "{}").get("rating") != answer.rating:
                wrong.append(
                    {"id": tweet_id, "expected": f"closed by the citizen ({answer.rating})", "found": len(hits)}
                )
            elif answer.rating is not None:
                ratings.append(answer.rating)
        else:
            due = at + auto_close_s
            # the clock's closings of this resolution (a closing before a reopening belongs to the earlier one)
            auto = [e for e in found("CLOSE", "auto") if when(s(e, "at")) >= at - tolerance_s]
            if due < end - tolerance_s:
                allowed[tweet_id] = {"CLOSED"}
                if len(auto) != 1:
                    wrong.append({"id": tweet_id, "expected": "closed by the clock", "found": len(auto)})
            else:
                allowed[tweet_id] = {"RESOLVED", "CLOSED"} if due < end + tolerance_s else {"RESOLVED"}
            if any(when(s(e, "at")) < due - tolerance_s for e in auto):
                wrong.append({"id": tweet_id, "expected": "not closed before the objection period ended"})
    closes = [json.loads(s(e, "details") or "{}").get("by") for e in audit if s(e, "action") == "CLOSE"]
    return {
        "resolution_replies": sum(1 for r in replies if is_resolution_reply(str(r.get("text") or ""))),
        "citizen_answers": dict(Counter(a.kind for a in answers if a.post_id)),
        "reopened": sum(1 for e in audit if s(e, "action") == "REOPEN"),
        "closed": dict(Counter(str(by) for by in closes)),
        "satisfaction_mean": round(sum(ratings) / len(ratings), 2) if ratings else None,
        "closing_wrong": len(wrong),
        "closing_wrong_sample": wrong[:5],
        "_allowed_states": allowed,
    }
