"""Officer notifications: who gets what, exactly once, and the per-author cost guard."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from seva.notify import Notifier, RoutedComplaint
from seva.officers import Officer, masked, normalise_phone
from seva.sms import load_templates, segments

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


class Crash(Exception):
    pass


class FakeLedger:
    def __init__(self):
        self.entries: dict[tuple[str, str], str | None] = {}

    def claim(self, tweet_id, key):
        if (tweet_id, key) in self.entries:
            return False
        self.entries[(tweet_id, key)] = None
        return True

    def complete(self, tweet_id, key, message_id):
        self.entries[(tweet_id, key)] = message_id


class FakeGuard:
    def __init__(self):
        self.seen: dict[str, list[str]] = {}

    def complaints_this_hour(self, author_id, tweet_id, now):
        tweets = self.seen.setdefault(author_id, [])
        if tweet_id not in tweets:
            tweets.append(tweet_id)
        return tweets.index(tweet_id) + 1


class FakeSender:
    def __init__(self, crash_after: int | None = None):
        self.sent: list[tuple[str, str, str]] = []
        self.crash_after = crash_after

    def _record(self, kind, to, body):
        self.sent.append((kind, to, body))
        if self.crash_after is not None and len(self.sent) == self.crash_after:
            raise Crash  # the message went out; the process died before recording it
        return f"msg-{len(self.sent)}"

    def sms(self, phone, body, template_id, entity_id, sender_id):
        assert template_id and entity_id and sender_id
        return self._record("sms", phone, body)

    def email(self, officer_id, subject, body, attributes):
        return self._record("email", officer_id, body)

    def sos(self, payload):
        return self._record("sos", "topic", payload["reference"])


def officers():
    return [
        Officer(
            district="162",
            officer_id="lko-cr",
            name="Control Room",
            role="control_room",
            phone="+447700900001",
            email="cr@example.org",
            language="hi",
            priorities=("P1",),
        ),
        Officer(
            district="162",
            officer_id="lko-sp",
            name="SP",
            role="sp",
            phone="+447700900002",
            email="sp@example.org",
            language="en",
        ),
    ]


def complaint(tweet_id="1001", priority="P2", author="citizen"):
    return RoutedComplaint(
        tweet_id=tweet_id,
        reference=f"UP-LKO-2026-{int(tweet_id):06d}",
        priority=priority,
        category="theft",
        district_code=162,
        district="Lucknow",
        district_hindi="लखनऊ",
        text="मेरी बाइक चोरी हो गई, call 9876543210 http://t.co/x",
        author_id=author,
        author_username="c",
        sla_due_at=None,
    )


def notifier(sender, ledger=None, guard=None, limit=5):
    return Notifier(
        ledger=ledger or FakeLedger(),
        guard=guard or FakeGuard(),
        sender=sender,
        templates=load_templates(),
        now=lambda: NOW,
        sms_per_author_per_hour=limit,
    )


def test_p2_reaches_the_sp_and_p1_also_the_control_room_and_the_sos_topic():
    sender = FakeSender()
    notifier(sender).notify(complaint(priority="P2"), officers())
    assert sorted((k, to) for k, to, _ in sender.sent) == [("email", "lko-sp"), ("sms", "+447700900002")]
    sender = FakeSender()
    notifier(sender).notify(complaint(priority="P1"), officers())
    assert sorted(k for k, _, _ in sender.sent) == ["email", "email", "sms", "sms", "sos"]


def test_hindi_officers_get_a_hindi_sms_within_two_segments_without_citizen_numbers_or_links():
    sender = FakeSender()
    notifier(sender).notify(complaint(priority="P1"), officers())
    hindi = next(body for kind, to, body in sender.sent if kind == "sms" and to == "+447700900001")
    assert load_templates().template("complaint", "hi").matches(hindi)
    assert "लखनऊ" in hindi and "चोरी" in hindi
    assert segments(hindi) <= 2 and "9876543210" not in hindi and "t.co" not in hindi


def test_redelivery_sends_nothing_twice():
    sender, ledger = FakeSender(), FakeLedger()
    first = notifier(sender, ledger).notify(complaint(priority="P1"), officers())
    again = notifier(sender, ledger).notify(complaint(priority="P1"), officers())
    assert len(sender.sent) == 5
    assert {d.status for d in first} == {"SENT"} and {d.status for d in again} == {"ALREADY"}


@pytest.mark.parametrize("crash_after", [1, 2, 3, 4, 5])
def test_a_crash_after_sending_never_leads_to_a_second_send(crash_after):
    ledger = FakeLedger()
    crashing = FakeSender(crash_after=crash_after)
    with pytest.raises(Crash):
        notifier(crashing, ledger).notify(complaint(priority="P1"), officers())
    retry = FakeSender()
    notifier(retry, ledger).notify(complaint(priority="P1"), officers())
    sent = [(k, to) for k, to, _ in crashing.sent] + [(k, to) for k, to, _ in retry.sent]
    assert len(sent) == len(set(sent)) == 5  # each officer and channel exactly once over both runs


def test_one_citizen_cannot_trigger_unbounded_sms():
    sender, guard, ledger = FakeSender(), FakeGuard(), FakeLedger()
    n = notifier(sender, ledger, guard, limit=3)
    for i in range(1, 8):
        n.notify(complaint(tweet_id=str(1000 + i), priority="P2", author="spammer"), officers())
    sms = [body for kind, _, body in sender.sent if kind == "sms"]
    emails = [kind for kind, _, _ in sender.sent if kind == "email"]
    assert len(sms) == 4  # 3 complaints, then one digest
    assert load_templates().template("digest", "en").matches(sms[-1])
    assert len(emails) == 7  # every complaint is still routed and emailed


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
