"""Officer notifications: who gets what, at least once and never twice, the per-citizen guard, follow-ups."""

from __future__ import annotations

import random
import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from seva.districts import load_districts
from seva.lifecycle import Action, Actor, Channel, Event, Priority, Status
from seva.notify import NotificationsPending, Notifier, NotifyService, Outcome, SendFailed, admit
from seva.officers import Officer, masked, normalise_phone
from seva.sms import load_templates, segments

from tests.unit.fakes import (
    NOW,
    Clock,
    Complaints,
    Crash,
    Directory,
    FailureQueue,
    Guard,
    Leases,
    Sender,
    complaint,
    throttled,
)


def notifier(sender, ledger=None, guard=None, limit=5, clock=None, attempts=1):
    clock = clock or Clock()
    return Notifier(
        ledger=ledger if ledger is not None else Leases(),
        guard=guard if guard is not None else Guard(),
        sender=sender,
        templates=load_templates(),
        districts=load_districts(),
        now=clock,
        lease_until=lambda: clock().timestamp() + 35,  # the invocation's deadline and a margin
        sms_per_author_per_hour=limit,
        send_attempts=attempts,
        pause=lambda seconds: clock.advance(seconds=seconds),
    )


def routed(c, event_id="e1", action=Action.ROUTE, **details):
    return Event(
        complaint_id=c.tweet_id,
        event_id=event_id,
        kind="transition",
        at=NOW,
        actor=Actor.system("route"),
        via=Channel.SYSTEM,
        action=action,
        priority=c.priority,
        district_code=c.district_code,
        details=details,
    )


def notify(n, c, people=None, event=None, follow_up=None):
    return n.notify(event or routed(c), c, people if people is not None else Directory().for_district("162"), follow_up)


def test_p2_reaches_the_sp_and_p1_also_the_control_room_and_the_sos_topic():
    sender = Sender()
    notify(notifier(sender), complaint(priority=Priority.P2))
    assert sorted((k, to) for k, to, _ in sender.sent) == [("email", "lko-sp"), ("sms", "+447700900002")]
    sender = Sender()
    notify(notifier(sender), complaint(priority=Priority.P1))
    assert sorted(k for k, _, _ in sender.sent) == ["email", "email", "sms", "sms", "sos"]


def test_hindi_officers_get_a_hindi_sms_within_two_segments_without_citizen_numbers_or_links():
    sender = Sender()
    notify(notifier(sender), complaint(priority=Priority.P1))
    hindi = next(body for kind, to, body in sender.sent if kind == "sms" and to == "+447700900001")
    assert load_templates().template("complaint", "hi").matches(hindi)
    assert "लखनऊ" in hindi and "चोरी" in hindi
    assert segments(hindi) <= 2 and "9876543210" not in hindi and "t.co" not in hindi


def test_redelivery_sends_nothing_twice():
    sender, ledger = Sender(), Leases()
    first = notify(notifier(sender, ledger), complaint(priority=Priority.P1))
    again = notify(notifier(sender, ledger), complaint(priority=Priority.P1))
    assert len(sender.sent) == 5
    assert {r.outcome for r in first} == {Outcome.SENT} and {r.outcome for r in again} == {Outcome.ALREADY}


def test_a_send_that_fails_is_retried_not_taken_as_sent():
    # Given SNS failing the control room's SMS (throttling that outlasted the SDK's retries)
    ledger, c = Leases(), complaint(priority=Priority.P1)
    failing = Sender(fail={1: SendFailed("SNS Throttling")})
    # When the event is handled, the others still go, and the event is reported for a retry
    with pytest.raises(NotificationsPending) as pending:
        notify(notifier(failing, ledger), c)
    assert [r.outcome for r in pending.value.results].count(Outcome.RETRY) == 1
    assert len(failing.sent) == 4  # one failure never blocks the rest
    # Then the redelivered event sends the one that failed, and nothing else again
    retry = Sender()
    results = notify(notifier(retry, ledger), c)
    assert len(retry.sent) == 1 and retry.sent[0][0] == "sms"
    assert sorted(r.outcome for r in results).count(Outcome.SENT) == 1


def test_a_brief_sns_failure_is_tried_again_at_once_within_the_invocation():
    # Given SNS throttling one SMS twice in a row, then recovering
    c = complaint(priority=Priority.P1)
    flaky = Sender(fail={1: throttled(), 2: throttled()})
    # When the event is handled with three attempts per send
    results = notify(notifier(flaky, attempts=3), c)
    # Then everything went in this invocation, each message once
    assert {r.outcome for r in results} == {Outcome.SENT}
    assert len(flaky.sent) == 5 and flaky.calls == 7


def test_a_delivery_that_keeps_failing_ends_failed_on_the_complaint_and_the_failure_queue():
    c = complaint(priority=Priority.P2)
    store, failures, ledger = Complaints(), FailureQueue(), Leases(max_attempts=3)
    store.put(c)
    for attempt in range(3):
        sender = Sender(fail={1: SendFailed("SNS InternalError")})
        service = NotifyService(store, Directory(), notifier(sender, ledger), failures)
        if attempt < 2:
            with pytest.raises(NotificationsPending):
                service.handle(routed(c))
        else:
            results = service.handle(routed(c))
    assert [r.outcome for r in results if r.channel == "sms"] == [Outcome.FAILED]
    assert store.notified[c.tweet_id][1] == ["lko-sp#sms"]  # visible on the complaint, never "notified"
    assert failures.messages[0]["failed"][0]["to"] == "lko-sp"


def test_sns_refusing_a_recipient_is_final_at_once():
    c, ledger = complaint(priority=Priority.P2), Leases()
    results = notify(notifier(Sender(fail={1: SendFailed("SNS InvalidParameter", final=True)}), ledger), c)
    assert [r.outcome for r in results] == [Outcome.FAILED, Outcome.SENT]


@pytest.mark.parametrize("crash_after", [1, 2, 3, 4, 5])
def test_a_crash_after_sns_accepted_is_retried_only_once_the_lease_has_passed(crash_after):
    # Given an invocation that dies right after SNS accepted its k-th message (before the ledger heard)
    clock, ledger, c = Clock(), Leases(), complaint(priority=Priority.P1)
    crashing = Sender(crash_after=crash_after)
    with pytest.raises(Crash):
        notify(notifier(crashing, ledger, clock=clock), c)
    # When the event comes back while the dead invocation's lease still holds: nothing is sent twice
    early = Sender()
    with pytest.raises(NotificationsPending) as pending:
        notify(notifier(early, ledger, clock=clock), c)
    assert Outcome.HELD in {r.outcome for r in pending.value.results}
    sent_before = {(k, to) for k, to, _ in crashing.sent + early.sent}
    assert len(sent_before) == len(crashing.sent + early.sent)
    # Then after the lease, what is still unconfirmed is sent: every message at least once; the only one that
    # can go twice is the one SNS accepted right before the crash (the documented window)
    clock.advance(seconds=60)
    late = Sender()
    notify(notifier(late, ledger, clock=clock), c)
    everything = [(k, to) for k, to, _ in crashing.sent + early.sent + late.sent]
    assert set(everything) == {
        ("sms", "+447700900001"),
        ("sms", "+447700900002"),
        ("email", "lko-cr"),
        ("email", "lko-sp"),
        ("sos", "topic"),
    }
    doubled = {m for m in everything if everything.count(m) > 1}
    assert doubled <= {(crashing.sent[-1][0], crashing.sent[-1][1])}


def test_no_delivery_starts_too_close_to_the_invocations_deadline():
    # Given an invocation with time for two deliveries (each is given 5 s: claim, publish, record)
    clock, ledger, c = Clock(), Leases(), complaint(priority=Priority.P1)
    deadline = clock().timestamp() + 10.5
    sender = Sender(on_send=lambda: clock.advance(seconds=3))
    n = replace(
        notifier(sender, ledger, clock=clock), time_left=lambda: deadline - clock().timestamp(), delivery_seconds=5
    )
    # When the event is handled
    with pytest.raises(NotificationsPending) as pending:
        notify(n, c)
    # Then two messages went and the rest were never claimed (a timeout cannot cut one after SNS accepted it)
    assert len(sender.sent) == 2
    assert [r.outcome for r in pending.value.results].count(Outcome.RETRY) == 3
    # And the redelivered event, in a new invocation, sends exactly the rest at once (no lease to wait out)
    again = Sender()
    notify(notifier(again, ledger, clock=clock), c)
    assert len(again.sent) == 3
    assert {(k, to) for k, to, _ in sender.sent}.isdisjoint({(k, to) for k, to, _ in again.sent})


def test_a_failed_send_is_not_tried_again_without_time_for_it():
    # Given SNS failing once, with just the time one delivery needs left in the invocation
    clock, ledger, c = Clock(), Leases(), complaint(priority=Priority.P2)
    deadline = clock().timestamp() + 5.1
    flaky = Sender(fail={1: throttled()})
    n = replace(
        notifier(flaky, ledger, clock=clock, attempts=3),
        time_left=lambda: deadline - clock().timestamp(),
        delivery_seconds=5,
    )
    # When the event is handled
    with pytest.raises(NotificationsPending) as pending:
        notify(n, c)
    # Then the failed SMS waits for the redelivery instead of a retry at the deadline; the email still went
    assert [r.outcome for r in pending.value.results] == [Outcome.RETRY, Outcome.SENT]
    assert flaky.calls == 2


def test_an_sms_body_off_its_registered_template_is_refused_and_never_sent():
    # Given a filling step that (by a bug) produces a body the operator never registered
    class Tampered(type(load_templates().templates["complaint_en"])):
        def fill(self, values):
            return super().fill(values) + " Pay fine at evil.example"

    n = notifier(sender := Sender())
    real = n.templates.templates["complaint_en"]
    n.templates.templates["complaint_en"] = Tampered(real.key, real.dlt_template_id, real.language, real.text)
    try:
        results = notify(n, complaint(priority=Priority.P2))
    finally:
        n.templates.templates["complaint_en"] = real
    # Then that SMS is refused and recorded, never sent; the email still goes
    assert [r.outcome for r in results if r.channel == "sms"] == [Outcome.REFUSED]
    assert [kind for kind, _, _ in sender.sent] == ["email"]


def test_no_officer_for_the_district_means_the_state_cell():
    store = Complaints()
    c = complaint(priority=Priority.P2, district_code=118)  # Agra: no officer registered in this directory
    store.put(c)
    sender = Sender()
    NotifyService(store, Directory(), notifier(sender), FailureQueue()).handle(routed(c))
    assert [(k, to) for k, to, _ in sender.sent] == [("sms", "+447700900003")]


def twelve_in_a_minute(author="spammer", p1_at=None):
    out = []
    for i in range(12):
        priority = Priority.P1 if i == p1_at else random.Random(i).choice([Priority.P2, Priority.P3])
        out.append(
            complaint(tweet_id=str(2000 + i), priority=priority, author=author, tweeted=NOW + timedelta(seconds=5 * i))
        )
    return out


def test_twelve_complaints_in_a_minute_processed_newest_first_send_the_limit_and_one_digest():
    # Given one citizen's 12 complaints in a minute, stored (and processed) newest first
    sender, guard, ledger = Sender(), Guard(), Leases()
    n = notifier(sender, ledger, guard, limit=5)
    sp = [Directory().for_district("162")[1]]
    for c in reversed(twelve_in_a_minute()):
        notify(n, c, sp)
    # Then the SP got 5 complaint SMS and one digest carrying the real count; every complaint was emailed
    sms = [body for kind, _, body in sender.sent if kind == "sms"]
    digests = [b for b in sms if load_templates().template("digest", "en").matches(b)]
    assert len(sms) == 6 and len(digests) == 1
    assert "12 complaints" in digests[0] or " complaints" in digests[0]
    assert sum(1 for kind, _, _ in sender.sent if kind == "email") == 12


def test_an_officer_of_another_district_gets_a_digest_for_a_held_complaint():
    # Given a citizen past the limit with complaints for one SP, then one for another district's SP
    sender, guard = Sender(), Guard()
    n = notifier(sender, Leases(), guard, limit=5)
    lucknow_sp = Directory().for_district("162")[1]
    other_sp = lucknow_sp.model_copy(update={"officer_id": "bly-sp", "phone": "+447700900077", "district": "141"})
    burst = twelve_in_a_minute()
    for c in burst[:11]:
        notify(n, c, [lucknow_sp])
    # When the twelfth goes to the other district's SP only
    notify(n, burst[11], [other_sp])
    # Then that SP, who never heard of this citizen, gets the digest with the real count (one, not the SMS)
    digest = load_templates().template("digest", "en")
    to_other = [body for kind, to, body in sender.sent if kind == "sms" and to == "+447700900077"]
    assert len(to_other) == 1 and digest.matches(to_other[0]) and "12" in to_other[0]
    # And the first SP still had the limit and one digest
    to_first = [body for kind, to, body in sender.sent if kind == "sms" and to == lucknow_sp.phone]
    assert len(to_first) == 6 and sum(1 for b in to_first if digest.matches(b)) == 1


def test_the_digest_says_how_many_and_which_priorities():
    book: dict = {}
    for i in range(7):
        decision, _ = admit(book, str(i), 1000.0 + i, "P2" if i % 2 else "P3", limit=5)
    assert decision.kind == "hold"
    digest = next(admit(book, str(i), 1000.0 + i, "P2", 5)[0] for i in [5])
    assert digest.kind == "digest" and digest.count == 7 and digest.priorities == {"P2": 3, "P3": 4}


def test_a_p1_past_the_limit_still_gets_its_sms():
    sender = Sender()
    n = notifier(sender, Leases(), Guard(), limit=5)
    for c in twelve_in_a_minute(p1_at=11):
        notify(n, c)
    p1_sms = [to for kind, to, body in sender.sent if kind == "sms" and "UP-LKO-2026-002011" in body]
    assert sorted(p1_sms) == ["+447700900001", "+447700900002"]  # the control room and the SP


@settings(max_examples=60, deadline=None)
@given(
    order=st.permutations(list(range(12))),
    gaps=st.lists(st.integers(0, 1500), min_size=12, max_size=12),
    sent_to=st.lists(st.sampled_from([("sp",), ("sp", "cr"), ("other",)]), min_size=12, max_size=12),
)
def test_the_guard_holds_whatever_the_processing_order(order, gaps, sent_to):
    # Given one citizen's complaints at arbitrary times to various officers, processed in any order
    times = [sum(gaps[: i + 1]) for i in range(12)]
    book: dict = {}
    decisions = {}
    for i in order:
        decisions[i], _ = admit(book, str(i), float(times[i]), "P2", limit=3, officers=sent_to[i])
    # Then no hour of tweet time holds more than the limit of SMS, nor more than one digest to any officer
    for start in times:
        window = [i for i in range(12) if start <= times[i] <= start + 3600]
        assert sum(1 for i in window if decisions[i].kind == "sms") <= 3
        for officer in ("sp", "cr", "other"):
            assert sum(1 for i in window if officer in decisions[i].digest_to) <= 1
    # And a complaint is held only when the hour around it already had the limit of SMS
    for i, d in decisions.items():
        if d.kind != "sms":
            assert sum(1 for j in range(12) if decisions[j].kind == "sms" and abs(times[j] - times[i]) <= 3600) >= 3
    # And an officer is left without a digest only when they had one within the hour
    for i, d in decisions.items():
        for officer in set(sent_to[i]) - d.digest_to if d.kind != "sms" else ():
            assert any(officer in decisions[j].digest_to and abs(times[j] - times[i]) <= 3600 for j in range(12))
    # And a redelivery gets the same answer (the count may have grown since) and changes nothing
    for i in range(12):
        again, changed = admit(book, str(i), float(times[i]), "P2", limit=3, officers=sent_to[i])
        assert (again.kind, again.digest_to, changed) == (decisions[i].kind, decisions[i].digest_to, False)


def test_a_book_with_a_per_citizen_digest_from_before_counts_it_for_every_officer():
    book = {"admitted": {str(i): [1000 + i, "P2"] for i in range(5)}, "digested": {"5": [1005, "P3"]}, "held": {}}
    decision, _ = admit(book, "6", 1006.0, "P2", 5, ["sp"])
    assert decision.kind == "hold" and decision.count == 7 and decision.priorities == {"P2": 6, "P3": 1}


class TogetherSender(Sender):
    """SNS answering several publishes at once: each waits until ``together`` of them are in flight."""

    def __init__(self, together: int, fail_to: str | None = None):
        super().__init__()
        self.barrier, self.lock = threading.Barrier(together, timeout=5), threading.Lock()
        self.in_flight, self.first_alone, self.fail_to = 0, None, fail_to

    def _send(self, kind: str, to: str, body: str) -> str:
        with self.lock:
            self.calls += 1
            first, self.in_flight = self.calls == 1, self.in_flight + 1
            if first:
                self.first_alone = self.in_flight == 1
        try:
            if not first:
                self.barrier.wait()  # a BrokenBarrierError here: fewer sends were in flight at once
            if to == self.fail_to:
                raise throttled()
            with self.lock:
                self.sent.append((kind, to, body))
                return f"msg-{len(self.sent)}"
        finally:
            with self.lock:
                self.in_flight -= 1


def test_an_sos_reaches_its_officers_and_the_sos_topic_together_the_first_send_alone():
    # Given a P1 complaint (control room and SP by SMS and email, and the SOS topic: five deliveries)
    sender, ledger = TogetherSender(together=4), Leases()
    n = replace(notifier(sender, ledger), concurrency=4)
    # When it is notified with four sends at a time
    results = notify(n, complaint(priority=Priority.P1))
    # Then the first went alone (it opens the connections the others share), the other four at once
    assert sender.first_alone is True
    assert sorted(k for k, _, _ in sender.sent) == ["email", "email", "sms", "sms", "sos"]
    assert [r.outcome for r in results] == [Outcome.SENT] * 5 and len(ledger.audit) == 5
    # And a redelivery sends none of them again
    again = notify(replace(n, sender=TogetherSender(together=1)), complaint(priority=Priority.P1))
    assert [r.outcome for r in again] == [Outcome.ALREADY] * 5


def test_one_failed_send_among_concurrent_ones_is_retried_alone():
    # Given a P1 complaint whose SP's SMS is throttled while the other sends go through at once
    sender, ledger = TogetherSender(together=4, fail_to="+447700900002"), Leases()
    n = replace(notifier(sender, ledger), concurrency=4)
    # When it is notified, the event is retried for that one delivery only
    with pytest.raises(NotificationsPending) as pending:
        notify(n, complaint(priority=Priority.P1))
    retry = [(r.officer_id, r.channel) for r in pending.value.results if r.outcome == Outcome.RETRY]
    assert retry == [("lko-sp", "sms")] and len(sender.sent) == 4
    # And the retry sends just that one
    later = Sender()
    notify(replace(n, sender=later), complaint(priority=Priority.P1))
    assert [(k, to) for k, to, _ in later.sent] == [("sms", "+447700900002")]


def told_then_raised_to_p1(sender):
    """A P2 complaint its SP was told of, and the follow-up event that raised it to P1: (notifier, the complaint
    now, the event, how many messages had gone before)."""
    n = notifier(sender, Leases())
    c = complaint(priority=Priority.P2)
    notify(n, c)
    raised = replace(c, priority=Priority.P1)
    event = routed(
        raised, "e2", Action.FOLLOW_UP, follow_up="1002", changed=["priority"], **{"from": {"priority": "P2"}}
    )
    return n, raised, event, len(sender.sent)


def test_a_follow_up_that_raises_to_p1_tells_the_sp_and_now_the_control_room_and_sos():
    # Given a P2 complaint the SP has had
    sender = Sender()
    n, raised, event, before = told_then_raised_to_p1(sender)
    # When a follow-up raises it to P1
    follow = complaint(tweet_id="1002", status=complaint().status.RECEIVED, text="He is back with a knife, bachao")
    notify(n, raised, event=event, follow_up=follow)
    new = sender.sent[before:]
    # Then the SP gets a follow-up SMS and email, the control room the whole complaint, and SOS goes out
    followup = load_templates().template("followup", "en")
    assert any(to == "+447700900002" and followup.matches(body) and "now P1" in body for _, to, body in new)
    assert any(to == "+447700900001" and load_templates().template("complaint", "hi").matches(b) for _, to, b in new)
    assert ("sos", "topic") in {(k, to) for k, to, _ in new}
    # And a redelivery of the follow-up sends none of it again
    notify(n, raised, event=event, follow_up=follow)
    assert len(sender.sent) == before + len(new)


@pytest.mark.parametrize("status_now", [Status.RESOLVED, Status.CLOSED])
def test_a_follow_up_raising_to_p1_is_told_even_if_the_complaint_was_resolved_before_its_event_was_handled(
    status_now,
):
    # Given a P2 complaint the SP has had, raised to P1 by the citizen's SOS in its thread
    sender = Sender()
    n, raised, event, before = told_then_raised_to_p1(sender)
    # When an officer resolved it (or it closed) before the follow-up's event reached the notifier
    now = replace(raised, status=status_now)
    notify(n, now, event=event, follow_up=complaint(tweet_id="1002", text="He pulled her into a car, bachao"))
    # Then the change the citizen made is told all the same: the control room and the SOS topic have the SOS
    new = {(k, to) for k, to, _ in sender.sent[before:]}
    assert ("sos", "topic") in new and ("sms", "+447700900001") in new


@pytest.mark.parametrize("raised_to_p1", [True, False])
def test_a_follow_up_posted_on_a_resolved_complaint_tells_its_officers_only_of_a_new_sos(raised_to_p1):
    # Given a resolved P2 complaint its SP had, and the citizen's follow-up written in its thread afterwards
    sender = Sender()
    n = notifier(sender, Leases())
    c = complaint(priority=Priority.P2)
    notify(n, c)
    before = len(sender.sent)
    now = replace(c, status=Status.RESOLVED, priority=Priority.P1 if raised_to_p1 else Priority.P2)
    changed = ["priority"] if raised_to_p1 else ["place"]
    event = replace(
        routed(now, "e3", Action.FOLLOW_UP, follow_up="1003", changed=changed, **{"from": {"priority": "P2"}}),
        from_status=Status.RESOLVED,
        to_status=Status.RESOLVED,
    )
    # When its event is handled
    notify(n, now, event=event, follow_up=complaint(tweet_id="1003", text="he is back, bachao"))
    # Then an SOS goes out to the control room and the SOS topic; a new place alone tells nobody
    new = {(k, to) for k, to, _ in sender.sent[before:]}
    assert (("sos", "topic") in new) is raised_to_p1 and (new == set()) is (not raised_to_p1)


def test_a_follow_up_that_changes_nothing_tells_nobody():
    sender = Sender()
    c = complaint()
    event = routed(c, "e2", Action.FOLLOW_UP, follow_up="1002", changed=[])
    assert notify(notifier(sender), c, event=event) == [] and sender.sent == []


def test_officer_records_are_validated():
    assert normalise_phone("098765 43210") == "+919876543210"
    assert normalise_phone("+44 7700 900123") == "+447700900123"  # reserved drama range
    with pytest.raises(ValueError):
        normalise_phone("12345")
    with pytest.raises(ValueError):
        Officer(district="162", officer_id="x", name="X", role="sp", phone="+919876543210", email="not-an-email")
    with pytest.raises(ValueError):
        Officer(district="Lucknow", officer_id="x", name="X", role="sp", phone="+919876543210")
    assert masked("+919876543210") == "+91********10"


@pytest.mark.parametrize(
    "phone",
    [
        "+1 202 555 0143",  # a valid US number
        "+44 20 7946 0958",  # a valid UK landline outside the reserved drama range
        "+971 50 123 4567",  # a valid UAE mobile
        "+91 11 2338 6100",  # an Indian landline: no SMS
    ],
)
def test_sms_recipients_must_be_indian_mobiles(phone):
    # Given an officer record whose phone is valid but not an Indian mobile, when it is entered, then it is refused
    with pytest.raises(ValueError, match="Indian mobile"):
        normalise_phone(phone)
    with pytest.raises(ValueError, match="Indian mobile"):
        Officer(district="162", officer_id="x", name="X", role="sp", phone=phone)


def test_an_escalation_reaches_exactly_the_officers_the_clock_chose_once_in_their_language():
    # Given a P1 escalated to the state cell (HQ), whose directory is passed along with the district's
    c = complaint(priority=Priority.P1, escalation_level=3)
    event = routed(c, "esc1", Action.ESCALATE, stage="acknowledge", level=3, to=["hq", "lko-sp"])
    people = [*Directory().for_district("162"), *Directory().for_district("HQ")]
    sender, ledger = Sender(), Leases()
    # When it is delivered, and redelivered
    first = notify(notifier(sender, ledger), c, people, event)
    again = notify(notifier(sender, ledger), c, people, event)
    # Then the SP and the state cell got the escalation SMS (registered template), the SP also by email; the
    # control room, not chosen, got nothing; the redelivery sent nothing
    sms = {to: body for kind, to, body in sender.sent if kind == "sms"}
    assert set(sms) == {"+447700900002", "+447700900003"}
    assert all(load_templates().template("escalation", "en").matches(b) for b in sms.values())
    assert "overdue UP-LKO-2026-001001 P1" in sms["+447700900002"] and "not acknowledged by" in sms["+447700900002"]
    assert {r.purpose for r in first} == {"escalation-esc1"} and {r.outcome for r in again} == {Outcome.ALREADY}
    assert sorted(k for k, _, _ in sender.sent) == ["email", "sms", "sms"]


def test_a_reopened_complaint_tells_its_officers_with_the_new_deadline():
    c = complaint(priority=Priority.P1)
    sender = Sender()
    notify(notifier(sender), c, event=routed(c, "r1", Action.REOPEN, by="citizen"))
    bodies = [body for kind, _, body in sender.sent if kind == "sms"]
    registry = load_templates()
    assert len(bodies) == 2
    assert all(
        registry.template("reopened", "en").matches(b) or registry.template("reopened", "hi").matches(b) for b in bodies
    )
    assert not [k for k, _, _ in sender.sent if k == "sos"]  # the SOS topic heard it once, at routing


def test_a_complaint_an_officer_resolved_before_its_announcement_still_reaches_its_officers():
    # Given a complaint resolved (through an escalation's link) before the ROUTE event reached notify
    from seva.lifecycle import Status

    c = complaint(priority=Priority.P2, status=Status.RESOLVED)
    sender = Sender()
    # When the ROUTE event is delivered
    notify(notifier(sender), c)
    # Then its officers are still told (the district's record), but an escalation for it would tell no one
    assert sorted(k for k, _, _ in sender.sent) == ["email", "sms"]
    late = Sender()
    notify(notifier(late), c, event=routed(c, "x", Action.ESCALATE, stage="acknowledge", level=2, to=["lko-sp"]))
    assert late.sent == []


def test_an_escalation_of_a_district_with_no_officers_tells_the_state_cell_once():
    # Given a P1 in a district with no one in the directory (the state cell stands in), escalated to the state cell
    c = complaint(priority=Priority.P1, district_code=118, escalation_level=3)
    event = routed(c, "esc9", Action.ESCALATE, stage="acknowledge", level=3, to=["hq"])
    sender, store = Sender(), Complaints()
    store.put(c)
    service = NotifyService(store, Directory(), notifier(sender), FailureQueue())
    # When it is delivered
    results = service.handle(event)
    # Then the state cell's SMS is one delivery, not one per list it is on (two claims of one key in one
    # invocation lean on the ledger's read of its own write)
    assert [to for kind, to, _ in sender.sent if kind == "sms"] == ["+447700900003"]
    assert [(r.officer_id, r.channel) for r in results] == [("hq", "sms")]


@pytest.mark.parametrize("since", ["reassigned", "acknowledged", "reopened"])
def test_an_escalation_delivered_after_its_clock_restarted_tells_nobody(since):
    # Given a P1 escalated to the state cell at level 3, and then — before its message was delivered (a retry) —
    # reassigned to the state cell with a new deadline, or acknowledged, or resolved and reopened
    c = complaint(priority=Priority.P1, escalation_level=3)
    event = routed(c, "esc1", Action.ESCALATE, stage="acknowledge", level=3, to=["hq"])
    now = {
        "reassigned": replace(
            c, district_code=None, district=None, escalation_level=0, ack_due_at=NOW + timedelta(minutes=40)
        ),
        "acknowledged": replace(c, status=Status.ACKNOWLEDGED, escalation_level=0),
        "reopened": replace(c, status=Status.REOPENED, escalation_level=0),
    }[since]
    sender, store = Sender(), Complaints()
    store.put(now)
    # When the old escalation is delivered
    results = NotifyService(store, Directory(), notifier(sender), FailureQueue()).handle(event)
    # Then nobody is told of a deadline that no longer holds (the restarted clock escalates on its own, once)
    assert sender.sent == [] and results == []


def test_a_later_escalation_still_tells_the_levels_below_it_that_were_not_yet_told():
    # Given a level-2 escalation delivered after the level-3 one was written (the clock moved on meanwhile)
    c = complaint(priority=Priority.P1, escalation_level=3)
    event = routed(c, "esc1", Action.ESCALATE, stage="acknowledge", level=2, to=["lko-sp"])
    sender = Sender()
    # When it is delivered, the SP is told all the same
    notify(notifier(sender), c, Directory().for_district("162"), event)
    assert [to for kind, to, _ in sender.sent if kind == "sms"] == ["+447700900002"]


def test_a_send_whose_record_fails_once_is_recorded_on_a_second_try_and_never_sent_again():
    # Given the ledger failing to record the first completed send (a DynamoDB 5xx outlasting the SDK's retries)
    class FlakyLedger(Leases):
        failures = 1

        def complete(self, complaint_id, key, message_id, now, event):  # type: ignore[no-untyped-def]
            if self.failures:
                self.failures -= 1
                raise RuntimeError("ProvisionedThroughputExceededException")
            return super().complete(complaint_id, key, message_id, now, event)

    sender, ledger = Sender(), FlakyLedger()
    n = notifier(sender, ledger)
    c = complaint(priority=Priority.P2)
    # When the complaint is notified, and its event delivered again later (SQS redelivery)
    notify(n, c)
    notify(n, c)
    # Then the SP got the SMS and the email once each: the send was recorded, not given back for another try
    assert sorted((k, to) for k, to, _ in sender.sent) == [("email", "lko-sp"), ("sms", "+447700900002")]
