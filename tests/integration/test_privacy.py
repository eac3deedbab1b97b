"""Personal data and edits over moto (real HTTP) and the fake X: TTL on the tables, retention stamped by state,
edits and long posts through the poll and route handlers, and `seva erase` (by post, by author, deleted on X)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import boto3
import pytest
from seva.dal.complaints import DynamoComplaints
from seva.dal.ledger import DynamoLeases
from seva.lifecycle import Action, Actor, ActorKind, Channel
from sevalocal.cli import main as seva
from sevalocal.fakex import SEARCH

from tests.integration.conftest import invoke_poll, stored_ids
from tests.integration.test_route_handler import Stream, audit, item, store
from tests.integration.test_route_handler import invoke as route

DAY = 86_400


@pytest.fixture
def route_env(stack, monkeypatch):
    spec = next(f for f in stack.functions if f.logical_id == "RouteFunction")
    for key, value in spec.env.items():
        monkeypatch.setenv(key, value)
    return spec


def complaints(stack, retention_days=365):
    from seva.retention import Retention

    return DynamoComplaints(
        stack.tables["ComplaintsTable"],
        stack.tables["AuditTable"],
        "ap-south-1",
        stack.tables["StateTable"],
        retention=Retention(complaint_days=retention_days),
    )


# -- TTL --------------------------------------------------------------------------------------------------------
def test_the_template_turns_ttl_on_for_complaints_and_state_and_passes_the_retention(stack, route_env):
    # Given the stack as template.yaml declares it / Then both tables expire items on `expires_at`
    ddb = boto3.client("dynamodb")
    for table in ("ComplaintsTable", "StateTable"):
        ttl = ddb.describe_time_to_live(TableName=stack.tables[table])["TimeToLiveDescription"]
        assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")
    # and every function reads the retention parameter (default 365 days)
    assert {f.env.get("COMPLAINT_RETENTION_DAYS") for f in stack.functions} == {"365"}


def test_noise_expires_a_routed_complaint_does_not_and_a_resolved_one_does_until_reopened(stack, route_env):
    # Given a noise and a complaint routed by the handler
    stream = Stream(stack)
    store(stack, "5001", "@Uppolice great work, proud of UP police")
    store(stack, "5002", "@lucknowpolice my bike was stolen in Aliganj")
    before = time.time()
    route(stream.inserts())
    # Then the noise expires in 30 days and the open complaint never
    assert abs(int(item(stack, "5001")["expires_at"]["N"]) - (before + 30 * DAY)) < 60
    assert "expires_at" not in item(stack, "5002")
    # When it is resolved (retention 10 days) / Then it expires 10 days on
    repo = complaints(stack, retention_days=10)
    officer = Actor(ActorKind.OFFICER, "lko-sho")
    now = datetime.now(UTC)
    repo.apply(repo.get("5002"), Action.RESOLVE, actor=officer, via=Channel.API, now=now)
    assert int(item(stack, "5002")["expires_at"]["N"]) == int(now.timestamp()) + 10 * DAY
    # When the citizen reopens it / Then it is kept again
    repo.apply(repo.get("5002"), Action.REOPEN, actor=Actor(ActorKind.CITIZEN, "111"), via=Channel.X, now=now)
    assert "expires_at" not in item(stack, "5002")


def test_attached_items_live_as_long_as_their_complaint(stack, route_env):
    # Given a routed complaint and the citizen's follow-up, attached to it
    stream = Stream(stack)
    store(stack, "5101", "@lucknowpolice my bike was stolen in Aliganj", author="51")
    route(stream.inserts())
    thread = {"conversation": "5101", "referenced_tweets": [{"type": "replied_to", "id": "5101"}]}
    store(stack, "5102", "@lucknowpolice it is a red Pulsar", author="51", **thread)
    route(stream.inserts())
    assert item(stack, "5102")["status"]["S"] == "ATTACHED" and "expires_at" not in item(stack, "5102")
    # When the complaint is resolved / Then its follow-up expires with it
    repo, now = complaints(stack, retention_days=10), datetime.now(UTC)
    repo.apply(repo.get("5101"), Action.RESOLVE, actor=Actor(ActorKind.OFFICER, "o"), via=Channel.API, now=now)
    expiry = item(stack, "5101")["expires_at"]["N"]
    assert item(stack, "5102")["expires_at"]["N"] == expiry
    # and a follow-up to the resolved complaint (the citizen's thanks close it) is attached with the thread's
    # expiry, which the closing has moved for all of them
    store(stack, "5103", "@lucknowpolice thank you", author="51", **thread)
    route(stream.inserts())
    assert item(stack, "5103")["status"]["S"] == "ATTACHED"
    expiry = item(stack, "5101")["expires_at"]["N"]
    assert item(stack, "5102")["expires_at"]["N"] == item(stack, "5103")["expires_at"]["N"] == expiry
    # When the citizen reopens it / Then the whole thread is kept again
    repo.apply(repo.get("5101"), Action.REOPEN, actor=Actor(ActorKind.CITIZEN, "51"), via=Channel.X, now=now)
    assert all("expires_at" not in item(stack, i) for i in ("5101", "5102", "5103"))


def test_a_delivery_ledger_entry_expires(stack):
    # Given the notify ledger / When a delivery is claimed / Then its entry carries a TTL 30 days on
    leases = DynamoLeases(stack.tables["StateTable"], "ap-south-1", "notify", complaints(stack))
    now = datetime.now(UTC)
    leases.claim("6001", "sms#lko-cr", now.timestamp() + 60, now)
    (entry,) = leases.entries("6001")
    assert entry.expires_at == int(now.timestamp()) + 30 * DAY


# -- edits and long posts ---------------------------------------------------------------------------------------
def test_an_edited_post_updates_its_complaint_through_the_route_handler(stack, route_env):
    # Given a routed complaint
    stream = Stream(stack)
    store(stack, "7001", "@lucknowpolice neighbours play loud music every night in Aliganj", author="77")
    route(stream.inserts())
    reference = item(stack, "7001")["reference"]["S"]
    # When its edited version arrives (a new id whose edit history starts with 7001)
    store(
        stack,
        "7002",
        "@lucknowpolice neighbour came back with a knife, bachao, Aliganj",
        author="77",
        conversation="7001",
        edit_history_tweet_ids=["7001", "7002"],
    )
    assert route(stream.inserts()) == {"batchItemFailures": []}
    # Then the one complaint has the new text and P1, and the version is attached to it with no reference
    original, version = item(stack, "7001"), item(stack, "7002")
    assert original["reference"]["S"] == reference and original["priority"]["S"] == "P1"
    assert "knife" in original["text"]["S"] and json.loads(original["raw"]["S"])["tweet"]["id"] == "7002"
    assert version["status"]["S"] == "ATTACHED" and version["parent_tweet_id"]["S"] == "7001"
    assert "reference" not in version
    actions = [e["action"]["S"] for e in sorted(audit(stack, "7001"), key=lambda e: e["sk"]["S"])]
    assert actions == ["ROUTE", "FOLLOW_UP"]


def test_the_poller_asks_for_edits_and_long_posts_and_stores_the_whole_text_and_a_minimal_author(
    poll_env, stack, publish, fake_x
):
    # Given a long post (X cuts its text at 280 characters) and an edited post on X
    fake_x.keep_request_log = True
    long_text = "@lucknowpolice " + "the street lights of our lane have been off for weeks, " * 5 + "firing now!"
    long_id = publish.tweet(long_text)
    first = publish.tweet("@agrapolice good morning")
    edited = fake_x.edit(first, "@agrapolice my purse was snatched near Taj Ganj", at=publish.clock())
    # When polled
    invoke_poll(publish)
    # Then the request asked for note_tweet and edit_history_tweet_ids
    query = next(r["query"] for r in fake_x.request_log if r["endpoint"] == SEARCH)
    assert "note_tweet" in query and "edit_history_tweet_ids" in query
    # and the long post's whole text is stored, with only the author's id, username and location
    stored = boto3.client("dynamodb").get_item(
        TableName=stack.tables["ComplaintsTable"], Key={"tweet_id": {"S": long_id}}, ConsistentRead=True
    )["Item"]
    assert stored["text"]["S"] == long_text and len(json.loads(stored["raw"]["S"])["tweet"]["text"]) <= 280
    assert set(json.loads(stored["raw"]["S"])["author"]) <= {"id", "username", "location"}
    # and the edit is stored under its own id (the route function attaches it to the first version)
    assert {first, edited} <= set(stored_ids(stack))
    version = json.loads(item(stack, edited)["raw"]["S"])["tweet"]
    assert version["edit_history_tweet_ids"] == [first, edited]


def last_report(capsys) -> dict:
    """The command's JSON report: its last line of output (the handlers' logs come before it)."""
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


# -- erasure ----------------------------------------------------------------------------------------------------
@pytest.fixture
def erase_env(stack, monkeypatch, aws_url):
    monkeypatch.setenv("COMPLAINTS_TABLE", stack.tables["ComplaintsTable"])
    monkeypatch.setenv("AUDIT_TABLE", stack.tables["AuditTable"])
    monkeypatch.setenv("STATE_TABLE", stack.tables["StateTable"])
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws_url)


def test_seva_erase_a_post_removes_personal_data_and_records_an_erase_event(stack, route_env, erase_env, capsys):
    # Given a routed complaint with a phone number, and its follow-up in the thread
    stream = Stream(stack)
    store(stack, "8001", "@lucknowpolice my bike was stolen in Aliganj, call 9876543210", author="88")
    route(stream.inserts())
    store(
        stack,
        "8002",
        "@lucknowpolice it is a red Pulsar",
        author="88",
        conversation="8001",
        referenced_tweets=[{"type": "replied_to", "id": "8001"}],
    )
    route(stream.inserts())
    reference = item(stack, "8001")["reference"]["S"]
    # When the state cell erases the post
    assert seva(["erase", "--tweet", "8001", "--reason", "citizen's request", "--by", "cell-7"]) == 0
    # Then its words, name, user id and profile are gone, in the complaint and its follow-up
    report = last_report(capsys)
    assert sorted(report["erased"]) == ["8001", "8002"]
    for tweet_id in ("8001", "8002"):
        erased = item(stack, tweet_id)
        assert erased["text"]["S"] == "" and "author_username" not in erased and "author_id" not in erased
        assert "9876543210" not in json.dumps(erased) and "Citizen" not in json.dumps(erased)
        assert json.loads(erased["raw"]["S"])["author"] is None and "erased_at" in erased
    # but the reference, timestamps and state stay, and the audit trail records who erased it and why
    kept = item(stack, "8001")
    assert kept["reference"]["S"] == reference and kept["status"]["S"] == "ROUTED" and "routed_at" in kept
    erase_event = next(e for e in audit(stack, "8001") if e["action"]["S"] == "ERASE")
    assert (erase_event["actor_kind"]["S"], erase_event["actor_id"]["S"]) == ("state_cell", "cell-7")
    assert json.loads(erase_event["details"]["S"]) == {"reason": "citizen's request"}
    # When run again / Then nothing changes and it says so
    assert seva(["erase", "--tweet", "8001"]) == 0
    assert last_report(capsys)["already_erased"] == ["8001", "8002"]


def test_seva_erase_an_author_and_its_errors(stack, route_env, erase_env, capsys, monkeypatch):
    store(stack, "9001", "@Uppolice theft in Agra", author="99")
    store(stack, "9002", "@Uppolice another theft in Agra", author="99")
    store(stack, "9003", "@Uppolice theft in Agra too", author="98")
    assert seva(["erase", "--author", "99"]) == 0
    assert sorted(last_report(capsys)["erased"]) == ["9001", "9002"]
    assert item(stack, "9003")["text"]["S"] != ""
    # An unknown post: exit 1; a malformed id or a missing table name: exit 2, one line, no traceback
    assert seva(["erase", "--tweet", "404"]) == 1
    assert seva(["erase", "--tweet", "abc"]) == 2
    monkeypatch.delenv("AUDIT_TABLE")
    assert seva(["erase", "--tweet", "9003"]) == 2
    err = capsys.readouterr().err
    assert "AUDIT_TABLE" in err and "Traceback" not in err


def test_a_post_deleted_on_x_loses_its_words_here(poll_env, stack, publish, fake_x, erase_env, capsys):
    # Given two stored posts
    kept = publish.tweet("@lucknowpolice my phone was stolen in Aliganj")
    gone = publish.tweet("@lucknowpolice chain snatching in Hazratganj, call 9876543210")
    invoke_poll(publish)
    assert {kept, gone} <= set(stored_ids(stack))
    # When the author deletes one on X and the operator runs the deleted-posts check (GET /2/tweets?ids=)
    assert fake_x.delete(gone)
    assert seva(["erase", "--deleted-on-x"]) == 0
    # Then the deleted one is erased (by the system, through X), the other untouched
    assert last_report(capsys)["erased"] == [gone]
    assert item(stack, gone)["text"]["S"] == "" and item(stack, kept)["text"]["S"].startswith("@lucknowpolice")
    event = next(e for e in audit(stack, gone) if e["action"]["S"] == "ERASE")
    assert (event["actor_id"]["S"], event["via"]["S"]) == ("compliance", "x")
    # And when X fails, nothing is taken for deleted: one line, exit 3
    fake_x.scripted = [503]
    assert seva(["erase", "--deleted-on-x"]) == 3
    assert item(stack, kept)["text"]["S"] != ""
