"""Personal data: erasure by post and by author (an ERASE event that keeps what accountability needs), retention
(TTL) by state, and what is kept of a post and its author."""

from __future__ import annotations

from datetime import timedelta

import pytest
from seva.lifecycle import Action, Actor, ActorKind, Change, Channel, Priority, Status
from seva.privacy import Eraser, erasure
from seva.retention import Retention
from seva.tweets import full_text, mentioned_usernames, minimal_author, original_id

from tests.unit.fakes import NOW, Clock, Complaints, complaint

CELL = Actor(ActorKind.STATE_CELL, "cell-1")


class Repo:
    """The fake complaints table seen through the eraser's port."""

    def __init__(self, store: Complaints):
        self.store = store

    def get(self, tweet_id):
        return self.store.get(tweet_id)

    def events(self, tweet_id):
        return self.store.trail(tweet_id)

    def by_author(self, author_id):
        return self.store.by_author(author_id)

    def write(self, changes, **kw):
        return self.store.write(changes, **kw)


@pytest.fixture
def eraser():
    store = Complaints()
    return store, Eraser(Repo(store), Clock())


def test_erasing_a_post_removes_the_citizens_words_and_profile_but_keeps_the_accountability_record(eraser):
    # Given a routed complaint with a phone number in its text, a place and a profile
    store, erase = eraser
    c = complaint("1001", text="my bike stolen, call 9876543210", place={"id": "p1", "full_name": "Aliganj"})
    store.put(c)
    # When the state cell erases it
    report = erase.erase_post("1001", CELL, "citizen's request")
    # Then its words, username, id, profile and place are gone, and no phone-like digits remain anywhere
    after = store.get("1001")
    assert report.erased == ["1001"]
    assert after.text == "" and after.author is None and after.author_username is None and after.author_id is None
    assert after.place is None and after.erased_at == NOW
    assert "9876543210" not in repr(after) and "citizen" not in repr(after.tweet)
    # and its reference, timestamps, state and routing stay (accountability figures)
    assert (after.reference, after.status, after.priority, after.district_code) == (
        c.reference,
        Status.ROUTED,
        Priority.P2,
        162,
    )
    assert after.tweet_created_at == c.tweet_created_at and after.routed_at == c.routed_at
    assert after.tweet == {"id": "1001", "conversation_id": "1001"}
    # and the erasure is an event of the audit trail, by the state cell, with its reason; the state is unchanged
    (event,) = store.trail("1001")
    assert event.action == Action.ERASE and event.from_status == event.to_status == Status.ROUTED
    assert event.actor == CELL and event.details == {"reason": "citizen's request"}


def test_erasing_again_changes_nothing(eraser):
    store, erase = eraser
    store.put(complaint("1001"))
    erase.erase_post("1001", CELL, "request")
    report = erase.erase_post("1001", CELL, "request")
    assert report.erased == [] and report.already == ["1001"] and len(store.trail("1001")) == 1


def test_erasing_a_post_covers_its_edits_and_follow_ups(eraser):
    # Given a complaint with an edited version and a follow-up attached (linked by its audit trail)
    store, erase = eraser
    root = complaint("2001")
    version = complaint(
        "2002",
        status=Status.ATTACHED,
        parent_tweet_id="2001",
        tweet={"edit_history_tweet_ids": ["2001", "2002"]},
    )
    follow = complaint("2003", status=Status.ATTACHED, parent_tweet_id="2001", conversation="2001")
    other = complaint("2999", author="someone-else")
    store.put(root, version, follow, other)
    store.write(
        [Change(root, Action.FOLLOW_UP, {}, {"version": "2002", "follow_up": "2002"})],
        actor=Actor.system("route"),
        via=Channel.X,
        now=NOW,
        outbox=[],
    )
    store.write(
        [Change(store.get("2001"), Action.FOLLOW_UP, {}, {"follow_up": "2003"})],
        actor=Actor.system("route"),
        via=Channel.X,
        now=NOW,
        outbox=[],
    )
    # When the edited version is named for erasure
    report = erase.erase_post("2002", CELL, "deleted on X")
    # Then the whole chain is erased, and nobody else's post
    assert sorted(report.erased) == ["2001", "2002", "2003"]
    assert all(store.get(i).text == "" for i in ("2001", "2002", "2003"))
    assert store.get("2999").text != ""


def test_erasing_an_author_erases_every_post_of_theirs_and_only_theirs(eraser):
    store, erase = eraser
    store.put(complaint("3001", author="a1"), complaint("3002", author="a1", status=Status.NOISE), complaint("3003"))
    report = erase.erase_author("a1", CELL, "request")
    assert sorted(report.erased) == ["3001", "3002"]
    assert store.get("3002").status == Status.NOISE and store.get("3003").author_id == "citizen"


def test_an_unknown_post_is_reported_not_found(eraser):
    _, erase = eraser
    assert erase.erase_post("404", CELL, "request").as_dict()["not_found"] == ["404"]


def test_erasure_keeps_ids_and_times_of_the_post_only():
    c = complaint("1", tweet={"entities": {"mentions": [{"username": "x"}]}, "geo": {"place_id": "p"}, "lang": "hi"})
    kept = erasure(c, NOW)["tweet"]
    assert kept == {"id": "1", "conversation_id": "1", "lang": "hi"}


# -- retention ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "days"),
    [
        (Status.NOISE, 30),
        (Status.RESOLVED, 180),
        (Status.CLOSED, 180),
        (Status.ROUTED, None),
        (Status.REOPENED, None),
        (Status.RECEIVED, None),
    ],
)
def test_an_item_entering_a_state_gets_that_states_retention(status, days):
    # Given a policy of 180 days after resolution and 30 for noise / When an item enters a state / Then its expiry
    expiry = Retention(complaint_days=180, noise_days=30).expires_at(status, NOW)
    assert expiry == (NOW + timedelta(days=days) if days else None)


# -- what is kept of a post ------------------------------------------------------------------------------------
def test_a_long_posts_whole_text_and_mentions_are_read_from_note_tweet():
    tweet = {
        "id": "5",
        "text": "short…",
        "entities": {"mentions": [{"username": "uppolice"}]},
        "note_tweet": {"text": "the whole long text", "entities": {"mentions": [{"username": "lucknowpolice"}]}},
    }
    assert full_text(tweet) == "the whole long text"
    assert mentioned_usernames(tweet) == ["uppolice", "lucknowpolice"]
    assert full_text({"id": "6", "text": "plain"}) == "plain"


def test_an_edit_names_its_first_version_and_an_original_names_none():
    assert original_id({"id": "9", "edit_history_tweet_ids": ["7", "9"]}) == "7"
    assert original_id({"id": "7", "edit_history_tweet_ids": ["7"]}) is None
    assert original_id({"id": "7"}) is None


def test_only_the_authors_id_username_and_location_are_kept():
    author = {"id": "1", "username": "a", "name": "Real Name", "location": "Lucknow", "description": "bio"}
    assert minimal_author(author) == {"id": "1", "username": "a", "location": "Lucknow"}


def test_only_posts_x_cannot_find_count_as_deleted():
    # Given X's answer to GET /2/tweets?ids=1,2,3,4: 1 found, 2 not found, 3 of a suspended account, 4 not asked
    from seva.tweets import NOT_FOUND, NotAPage, deleted_ids

    body = {
        "data": [{"id": "1", "text": "still here"}],
        "errors": [
            {"resource_id": "2", "title": "Not Found Error", "type": NOT_FOUND, "resource_type": "tweet"},
            {"resource_id": "3", "title": "Authorization Error", "resource_type": "tweet", "type": "x"},
            {"resource_id": "9", "title": "Not Found Error", "type": NOT_FOUND, "resource_type": "tweet"},
        ],
    }
    # Then only 2 is deleted; an answer that is not a look-up raises rather than erase anything
    assert deleted_ids(body, ["1", "2", "3"]) == {"2"}
    with pytest.raises(NotAPage):
        deleted_ids(["not", "a", "dict"], ["1"])


def test_the_deleted_posts_check_erases_only_what_x_says_is_gone(eraser):
    store, erase = eraser
    store.put(complaint("4001"), complaint("4002"), complaint("4003", erased_at=NOW))
    asked = []

    def deleted(ids):
        asked.extend(ids)
        return {"4002"}

    report = erase.erase_deleted(store.items.values(), deleted)
    assert asked == ["4001", "4002"]  # an item already erased is not asked about
    assert report.erased == ["4002"] and store.get("4001").text and store.get("4002").text == ""
    assert store.trail("4002")[-1].actor == Actor.system("compliance")
