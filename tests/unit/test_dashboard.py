"""The control room's views (pure, over fakes): whose complaints a person sees, the live queue's order and filters,
the review queue, CSV exports (no formula injection), figures with breakdowns, labelled data, public figures."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from seva.dashboard import BadQuery, Dashboard
from seva.desk import Forbidden, Identity
from seva.districts import load_districts
from seva.lifecycle import Complaint, Priority, Status

from tests.unit.fakes import complaint

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
CELL = Identity("cell", ("state_cell",), "HQ", None)
LUCKNOW_SP = Identity("sp.lko", ("district",), "162", "lko-sp")
AGRA = 118


class Repo:
    def __init__(self, complaints: list[Complaint]):
        self.complaints = {c.tweet_id: c for c in complaints}
        self.calls: list[tuple] = []

    def get(self, tweet_id: str) -> Complaint | None:
        return self.complaints.get(tweet_id)

    def queue(self, district_key: str, limit: int = 200) -> list[Complaint]:
        self.calls.append(("queue", district_key))
        return [c for c in self.complaints.values() if c.is_open and c.district_key == district_key]

    def in_status(self, status, since=None, until=None, limit=500):  # type: ignore[no-untyped-def]
        self.calls.append(("in_status", str(status)))
        return [
            c
            for c in self.complaints.values()
            if c.status == status
            and (since is None or c.ingested_at >= since)
            and (until is None or c.ingested_at <= until)
        ]


class Figures:
    def __init__(self, rows: list[dict], labels: list[dict] | None = None):
        self._rows, self._labels = rows, labels or []

    def rows(self, district, first_day, last_day):  # type: ignore[no-untyped-def]
        return [r for r in self._rows if district is None or r["district"] == district]

    def district_rows(self, first_day, last_day):  # type: ignore[no-untyped-def]
        return self._rows

    def labels(self, first_day, last_day):  # type: ignore[no-untyped-def]
        return self._labels


def board(complaints: list[Complaint], rows: list[dict] | None = None, labels: list[dict] | None = None) -> Dashboard:
    return Dashboard(Repo(complaints), Figures(rows or [], labels), load_districts(), lambda: NOW)


def open_complaints() -> list[Complaint]:
    t = NOW - timedelta(minutes=30)
    return [
        complaint("1", priority=Priority.P3, tweeted=t),  # P3, due in 15 min from t: breached
        complaint("2", priority=Priority.P1, tweeted=NOW - timedelta(minutes=2)),  # P1 on time
        complaint("3", priority=Priority.P1, tweeted=t),  # P1 breached
        complaint("4", priority=Priority.P2, district_code=AGRA, tweeted=t, category="cyber_fraud"),
        complaint("5", status=Status.RESOLVED, tweeted=t),  # not open
    ]


def test_the_state_cell_sees_every_district_most_urgent_first():
    # Given open complaints in Lucknow and Agra, when the state cell opens the queue with no district
    view = board(open_complaints()).live_queue(CELL, {})
    # Then all open ones, P1 first and within a priority breached before on time; never a resolved one
    assert [v["id"] for v in view["complaints"]] == ["3", "2", "4", "1"]
    assert view["counts"]["breached"] == 3 and view["district"] is None


def test_an_officer_sees_their_district_only_and_is_refused_another():
    b = board(open_complaints())
    assert {v["id"] for v in b.live_queue(LUCKNOW_SP, {})["complaints"]} == {"1", "2", "3"}
    assert b.repo.calls[-1] == ("queue", "162")  # type: ignore[attr-defined]  # the district's index, not a scan
    with pytest.raises(Forbidden):
        b.live_queue(LUCKNOW_SP, {"district": str(AGRA)})
    with pytest.raises(Forbidden):
        b.live_queue(Identity("nobody", ("officer",), None, None), {})


def test_the_queue_filters_by_category_priority_and_deadline():
    b = board(open_complaints())
    assert [v["id"] for v in b.live_queue(CELL, {"category": "cyber_fraud"})["complaints"]] == ["4"]
    assert [v["id"] for v in b.live_queue(CELL, {"priority": "P1", "deadline": "on_time"})["complaints"]] == ["2"]
    assert [v["id"] for v in b.live_queue(CELL, {"district": str(AGRA)})["complaints"]] == ["4"]


def test_the_review_queue_holds_flagged_complaints_and_unsure_noise():
    flagged = complaint("10", needs_review=True, review_reason="P1 word in a non-P1 result", confidence=0.6)
    sure_noise = complaint("11", status=Status.NOISE, confidence=0.99, tweeted=NOW - timedelta(hours=1))
    unsure_noise = complaint("12", status=Status.NOISE, confidence=0.55, tweeted=NOW - timedelta(hours=1))
    old_noise = complaint("13", status=Status.NOISE, confidence=0.5, tweeted=NOW - timedelta(days=30))
    items = board([flagged, sure_noise, unsure_noise, old_noise]).review_queue(CELL, {})["items"]
    assert [i["id"] for i in items] == ["10", "12"]
    assert items[0]["review_reason"] and items[0]["confidence"] == 0.6


def test_the_complaints_csv_is_filtered_and_never_a_formula():
    evil = complaint("20", text='=HYPERLINK("http://x")', author="@mallory", tweeted=NOW - timedelta(hours=2))
    agra = complaint("21", district_code=AGRA, tweeted=NOW - timedelta(hours=2))
    name, body = board([evil, agra]).complaints_csv(CELL, {"district": "162"})
    rows = list(csv.DictReader(io.StringIO(body)))
    assert name.startswith("complaints-162-") and [r["reference"] for r in rows] == [evil.reference]
    assert rows[0]["text"].startswith("'=") and rows[0]["author"] == "'@mallory"
    with pytest.raises(Forbidden):
        board([evil]).complaints_csv(LUCKNOW_SP, {"district": str(AGRA)})
    with pytest.raises(BadQuery):
        board([evil]).complaints_csv(CELL, {"from": "yesterday"})


ROWS = [
    {
        "day": "2026-11-27",
        "district": "162",
        "category": "theft",
        "priority": "P2",
        "received": 3,
        "ack_within": 2,
        "ack_late": 1,
        "acknowledged": 3,
        "a3": 2,
        "a20": 1,
    },
    {"day": "2026-11-28", "district": "118", "category": "theft", "priority": "P2", "received": 1},
]


def test_the_figures_break_down_by_day_category_priority_and_for_the_state_by_district():
    view = board([], ROWS).figures_view(CELL, {"from": "2026-11-27", "to": "2026-11-28"})
    assert view["summary"]["received"] == 4 and view["summary"]["ack_sla_pct"] == pytest.approx(66.7)
    assert [r["day"] for r in view["by_day"]] == ["2026-11-27", "2026-11-28"]
    assert {r["district"]: r["name"] for r in view["by_district"]} == {"118": "Agra", "162": "Lucknow"}
    assert len(view["bounds"]) + 1 == len(view["summary"]["ack_histogram"])
    mine = board([], ROWS).figures_view(LUCKNOW_SP, {})
    assert mine["summary"]["received"] == 3 and "by_district" not in mine
    name, body = board([], ROWS).figures_csv(CELL, {"from": "2026-11-27", "to": "2026-11-28"})
    assert name == "figures-all-2026-11-27-to-2026-11-28.csv" and body.splitlines()[0].startswith("district,name,")


def test_labelled_data_is_the_state_cells_and_has_the_training_shape():
    c = complaint("30")
    label = {
        "complaint_id": "30",
        "at": NOW,
        "is_complaint": True,
        "district_code": 162,
        "category": "theft",
        "priority": "P2",
        "verdict": "corrected",
        "by": {"kind": "officer", "id": "lko-sp"},
    }
    _, body = board([c], labels=[label]).labels_jsonl(CELL, {})
    line = json.loads(body.splitlines()[0])
    assert set(line) == {"tweet", "author", "place", "label", "review"} and line["label"]["category"] == "theft"
    assert line["review"] == {"verdict": "corrected", "at": NOW.isoformat(timespec="seconds"), "by": "lko-sp"}
    with pytest.raises(Forbidden):
        board([c], labels=[label]).labels_jsonl(LUCKNOW_SP, {})
    # An erased complaint (a citizen's request, a post deleted on X) is never exported
    erased = complaint("30", erased_at=NOW)
    assert board([erased], labels=[label]).labels_jsonl(CELL, {})[1] == ""


def test_the_public_figures_name_districts_and_carry_no_personal_data():
    public = board([], ROWS).public({})
    assert {d["name"] for d in public["districts"]} == {"Agra", "Lucknow"} and public["state"]["received"] == 4
    text = json.dumps(public, ensure_ascii=False)
    for personal in ("text", "author", "username", "reference"):
        assert personal not in text
