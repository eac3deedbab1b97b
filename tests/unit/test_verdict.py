"""The demo's judges, on hand-made ground truth: what the officers asked for and the citizens posted against what
the store and the audit trail hold."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sevalocal.citizens_sim import Answer
from sevalocal.officers_sim import Taken
from sevalocal.verdict import judge_closing, settle_unknown_outcomes

T0 = 1_800_000_000.0


def at(seconds: float) -> str:
    return datetime.fromtimestamp(T0 + seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")


def event(action: str, seconds: float, actor: str = "sla", via: str = "system", **details) -> dict:
    return {
        "complaint_id": {"S": "1"},
        "action": {"S": action},
        "actor_id": {"S": actor},
        "via": {"S": via},
        "at": {"S": at(seconds)},
        "details": {"S": json.dumps(details)},
    }


def test_a_request_whose_answer_was_lost_counts_only_if_its_event_was_written_while_it_was_out():
    # Given two acknowledgements whose answers were lost (a 502 and no answer): the first took effect
    trail = [event("ACKNOWLEDGE", 5.5, actor="lko-sp", via="link")]
    lost = Taken("1", "UP-1", "lko-sp", "acknowledge", 502, T0 + 9, sent_at=T0 + 5)
    other = Taken("1", "UP-1", "lko-cr", "acknowledge", 0, T0 + 9, sent_at=T0 + 5)
    refused = Taken("1", "UP-1", "lko-sp", "resolve", 409, T0 + 9, sent_at=T0 + 5)
    # When the outcomes are settled
    settled = settle_unknown_outcomes([lost, other, refused], trail)
    # Then the one the trail holds (that officer, that action, while it was out) is accepted at its event's time
    assert [(t.officer_id, t.status) for t in settled] == [("lko-sp", 200), ("lko-cr", 0), ("lko-sp", 409)]
    assert settled[0].at == T0 + 5.5


def resolved(seconds: float) -> dict:
    return {"tweet_id": {"S": "1"}, "resolved_at": {"S": at(seconds)}}


def test_a_complaint_resolved_again_after_the_citizens_not_resolved_is_judged_on_its_new_resolution():
    # Given: resolved, closed by the clock, reopened by the citizen, resolved again, closed by the clock again
    taken = [Taken("1", "UP-1", "sp", "resolve", 200, T0 + 10), Taken("1", "UP-1", "hq", "resolve", 200, T0 + 200)]
    answers = [Answer("1", "reopen", None, "9", T0 + 120)]
    trail = [
        event("CLOSE", 80, by="auto"),
        event("REOPEN", 125, actor="citizen", via="x", by="citizen", post="9"),
        event("CLOSE", 270, by="auto"),
    ]
    trail[1]["actor_kind"] = {"S": "citizen"}
    # When the closings are judged (objection period 60 s)
    verdict = judge_closing([resolved(200)], trail, [], taken, answers, auto_close_s=60, end=T0 + 400, tolerance_s=5)
    # Then nothing is wrong and the complaint may be CLOSED
    assert verdict["closing_wrong"] == 0, verdict["closing_wrong_sample"]
    assert verdict["_allowed_states"]["1"] == {"CLOSED"}


def test_thanks_read_only_after_the_clock_closed_the_complaint_is_no_fault_of_the_closing():
    # Given thanks posted at 50 s and read from X at 90 s, and the clock's closing at 70 s
    taken = [Taken("1", "UP-1", "sp", "resolve", 200, T0 + 10)]
    answers = [Answer("1", "close", 5, "9", T0 + 50)]
    stored = [resolved(10), {"tweet_id": {"S": "9"}, "ingested_at": {"S": at(90)}}]
    trail = [event("CLOSE", 70, by="auto")]
    verdict = judge_closing(stored, trail, [], taken, answers, auto_close_s=60, end=T0 + 400, tolerance_s=5)
    assert verdict["closing_wrong"] == 0 and verdict["_allowed_states"]["1"] == {"CLOSED"}
    # But thanks read before the clock's closing must have closed it by the citizen
    stored[1]["ingested_at"] = {"S": at(55)}
    assert (
        judge_closing(stored, trail, [], taken, answers, auto_close_s=60, end=T0 + 400, tolerance_s=5)["closing_wrong"]
        == 1
    )


def test_a_crash_right_after_a_long_hindi_email_was_accepted_is_the_documented_window():
    from urllib.parse import urlencode

    from sevalocal.runtime import _request_note
    from sevalocal.verdict import crash_window_keys

    # Given a Hindi email (percent-encoded, far longer than 4,000 characters) whose publish was the last request
    # of an invocation that then crashed
    message = "शिकायत UP-LKO-2026-000001: मेरी बाइक चोरी हो गई " * 40
    body = urlencode({"Action": "Publish", "TopicArn": "arn:email", "Message": message}).encode()
    assert len(body) > 4000
    note = {"crashing_after": _request_note("POST", "/", body)}
    # When the demo looks for the crash window
    keys = crash_window_keys([note], {("arn:email", message): "lko-sp|email|UP-LKO-2026-000001|complaint"})
    # Then the message is recognised (its second copy is the documented window, not a fault)
    assert keys == {"lko-sp|email|UP-LKO-2026-000001|complaint"}


def test_a_crash_after_a_failed_record_of_an_accepted_publish_is_the_documented_window_too():
    from urllib.parse import urlencode

    from sevalocal.runtime import _request_note
    from sevalocal.verdict import crash_window_keys

    # Given an invocation that published an SMS, had its ledger record refused, and crashed
    message = "UP-BLY-2026-000002 P1 theft Bareilly"
    publish = urlencode({"Action": "Publish", "PhoneNumber": "+447700900001", "Message": message}).encode()
    note = {
        "crashing_after": _request_note("POST", "/", b'{"TransactItems": []}'),
        "unrecorded_publish": _request_note("POST", "/", publish),
    }
    # When the demo looks for the crash window, Then the SMS is in it
    keys = crash_window_keys([note], {("+447700900001", message): "bly-cr|sms|UP-BLY-2026-000002|complaint|-"})
    assert keys == {"bly-cr|sms|UP-BLY-2026-000002|complaint|-"}
    # And a crash whose last request was a successful record names nothing
    assert crash_window_keys([{"crashing_after": note["crashing_after"]}], {}) == set()


def test_an_officer_with_two_digests_for_one_citizens_hour_is_a_guard_violation():
    from sevalocal.verdict import Sent, _digest_violations

    # Given one citizen's 8 routine complaints within ten minutes (past a limit of 5)
    authored = {"spammer": [(1000.0 + 60 * i, f"UP-LKO-2026-00000{i}") for i in range(8)]}

    def digests(n: int) -> dict[str, list[Sent]]:
        return {
            "lko-sp": [Sent("sms", "lko-sp", None, "digest", "8 complaints", 2000.0 + i, f"d{i}") for i in range(n)]
        }

    # Then one digest to the SP is what the guard allows, two are a violation
    assert _digest_violations(digests(1), authored, limit=5) == 0
    assert _digest_violations(digests(2), authored, limit=5) == 1
    # And a citizen within the limit allows none
    assert _digest_violations(digests(1), {"calm": authored["spammer"][:5]}, limit=5) == 1
