"""The control room's views over the complaints and the figures: the live queue (every district for the state cell,
one's own for officers), the review queue, CSV exports, the figures with their breakdowns, labelled data for
triage, and the public figures. Pure over ports; ``seva.routes`` maps HTTP to it."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Protocol

from seva.desk import Forbidden, Identity, officer_view, public_view
from seva.districts import Districts
from seva.figures import BOUNDS, IST, SUMMARY_FIELDS, breakdown, day_range, district_names, public_figures, summary
from seva.lifecycle import OPEN, Complaint, Status

EXPORTED = (Status.ROUTED, Status.ACKNOWLEDGED, Status.ON_THE_WAY, Status.RESOLVED, Status.REOPENED, Status.CLOSED)
DEADLINE_ORDER = {"breached": 0, "due_soon": 1, "on_time": 2, "none": 3}
FILTERS = ("category", "status", "language", "priority", "deadline")


class Repo(Protocol):
    def get(self, tweet_id: str) -> Complaint | None: ...
    def queue(self, district_key: str, limit: int = 200) -> list[Complaint]: ...
    def in_status(
        self, status: Status, since: datetime | None = None, until: datetime | None = None, limit: int = 500
    ) -> list[Complaint]: ...


class Figures(Protocol):
    def rows(self, district: str | None, first_day: str, last_day: str) -> list[dict[str, Any]]: ...
    def district_rows(self, first_day: str, last_day: str) -> list[dict[str, Any]]: ...
    def labels(self, first_day: str, last_day: str) -> list[dict[str, Any]]: ...


class BadQuery(ValueError):
    """A query parameter that makes no sense (one sentence for the caller)."""


@dataclass
class Dashboard:
    repo: Repo
    figures: Figures
    districts: Districts
    now: Callable[[], datetime]
    queue_limit: int = 500
    export_limit: int = 5000

    # -- whose complaints ----------------------------------------------------------------------------------------
    def _district(self, who: Identity, district: str | None) -> str | None:
        """The district a caller may look at (None: every district, the state cell only)."""
        district = (district or "").strip() or None
        if who.state_cell:
            return district
        if not who.district:
            raise Forbidden("Your account has no district: ask the state cell.")
        if district and district != who.district:
            raise Forbidden("You can see your own district's complaints only.")
        return who.district

    def _open(self, district: str | None) -> list[Complaint]:
        if district is not None:
            return self.repo.queue(district, limit=self.queue_limit)
        found: list[Complaint] = []
        for status in sorted(OPEN):
            found += self.repo.in_status(status, limit=self.queue_limit)
        return found

    # -- the live queue -----------------------------------------------------------------------------------------
    def live_queue(self, who: Identity, query: dict[str, str]) -> dict[str, Any]:
        """Open complaints, most urgent first: P1 before P2 before P3, breached before due soon before on time."""
        district = self._district(who, query.get("district"))
        now = self.now()
        views = [self._view(c, now) for c in self._open(district)]
        views = [v for v in views if _matches(v, query)]
        views.sort(key=lambda v: (v["priority"] or "P9", DEADLINE_ORDER[v["deadline"]], v["due_at"] or "~"))
        counts = {state: sum(1 for v in views if v["deadline"] == state) for state in DEADLINE_ORDER}
        return {"complaints": views, "counts": counts, "district": district, "at": now.isoformat(timespec="seconds")}

    def _view(self, c: Complaint, now: datetime) -> dict[str, Any]:
        return public_view(c, now) | officer_view(c, now) | {"review_reason": c.review_reason}

    # -- the review queue ---------------------------------------------------------------------------------------
    def review_queue(self, who: Identity, query: dict[str, str]) -> dict[str, Any]:
        """What triage was unsure of: complaints it flagged for review, and recent noise (a person confirms or
        corrects; the verdict is recorded as a REVIEW, TO_COMPLAINT or TO_NOISE event)."""
        district = self._district(who, query.get("district"))
        now = self.now()
        days = _int(query.get("days"), 7, 1, 60)
        noise = self.repo.in_status(Status.NOISE, since=now - timedelta(days=days), limit=self.queue_limit)
        if district is not None:
            noise = [c for c in noise if c.district_key == district]
        if query.get("all") != "1":
            noise = [c for c in noise if c.needs_review or (c.confidence is not None and c.confidence < 0.9)]
        flagged = [c for c in self._open(district) if c.needs_review]
        items = [self._view(c, now) | {"confidence": c.confidence} for c in flagged + noise]
        items.sort(key=lambda v: (not v["needs_review"], v["priority"] or "P9", v["received_at"] or ""), reverse=False)
        return {"items": items, "at": now.isoformat(timespec="seconds")}

    # -- exports ------------------------------------------------------------------------------------------------
    def complaints_csv(self, who: Identity, query: dict[str, str]) -> tuple[str, str]:
        """Complaints that came in between ``from`` and ``to`` (India days), filtered: (file name, CSV)."""
        district = self._district(who, query.get("district"))
        first, last = self._days(query)
        since = datetime.combine(datetime.fromisoformat(first).date(), time.min, IST)
        until = datetime.combine(datetime.fromisoformat(last).date(), time.max, IST)
        wanted = [s for s in EXPORTED if not query.get("status") or s.value == query["status"]]
        now = self.now()
        rows: list[dict[str, Any]] = []
        for status in wanted:
            for c in self.repo.in_status(status, since=since, until=until, limit=self.export_limit):
                if district is None or c.district_key == district:
                    view = self._view(c, now)
                    if _matches(view, {k: v for k, v in query.items() if k != "status"}):
                        rows.append(view)
        rows.sort(key=lambda v: v["received_at"] or "")
        columns = [
            "reference",
            "status",
            "priority",
            "category",
            "district",
            "district_code",
            "language",
            "received_at",
            "routed_at",
            "ack_due_at",
            "acknowledged_at",
            "resolve_due_at",
            "resolved_at",
            "closed_at",
            "deadline",
            "needs_review",
            "author",
            "text",
            "tweet_url",
        ]
        name = f"complaints-{district or 'all'}-{first}-to-{last}.csv"
        return name, _csv(columns, rows)

    def figures_view(self, who: Identity, query: dict[str, str]) -> dict[str, Any]:
        """The figures of a district (or the state) over a period, with breakdowns by day, category, priority and,
        for the state, by district."""
        district = self._district(who, query.get("district"))
        first, last = self._days(query)
        rows = self.figures.rows(district, first, last)
        out: dict[str, Any] = {
            "district": district,
            "from": first,
            "to": last,
            "summary": summary(rows),
            "bounds": list(BOUNDS),  # upper bounds (s) of the latency histograms' buckets
            "by_day": _lean(breakdown(rows, "day")),
            "by_category": _lean(breakdown(rows, "category")),
            "by_priority": _lean(breakdown(rows, "priority")),
        }
        if district is None:
            names = district_names(self.districts)
            out["by_district"] = [
                {**row, "name": names.get(row["district"], (row["district"], ""))[0]}
                for row in _lean(breakdown(self.figures.district_rows(first, last), "district"))
            ]
        return out

    def figures_csv(self, who: Identity, query: dict[str, str]) -> tuple[str, str]:
        view = self.figures_view(who, query)
        by = "district" if view["district"] is None else "day"
        rows = view["by_district"] if by == "district" else view["by_day"]
        for row in rows:
            row.setdefault("district", view["district"])
        columns = [by, *(["name"] if by == "district" else ["district"]), *SUMMARY_FIELDS]
        name = f"figures-{view['district'] or 'all'}-{view['from']}-to-{view['to']}.csv"
        return name, _csv(columns, rows)

    def labels_jsonl(self, who: Identity, query: dict[str, str]) -> tuple[str, str]:
        """People's verdicts on triage as labelled data, in the shape ``tests/data`` keeps (tweet, author, label)."""
        if not who.state_cell:
            raise Forbidden("Only the state cell exports labelled data.")
        first, last = self._days(query)
        lines = []
        for label in self.figures.labels(first, last):
            complaint = self.repo.get(str(label.get("complaint_id")))
            if complaint is None or complaint.erased_at is not None:
                continue  # gone, or its personal data erased: not training data any more
            lines.append(
                json.dumps(
                    {
                        "tweet": complaint.tweet or {"id": complaint.tweet_id, "text": complaint.text},
                        "author": complaint.author,
                        "place": complaint.place,
                        "label": {k: label.get(k) for k in ("is_complaint", "district_code", "category", "priority")},
                        "review": {
                            "verdict": label.get("verdict"),
                            "at": label["at"].isoformat(timespec="seconds") if label.get("at") else None,
                            "by": (label.get("by") or {}).get("id"),
                        },
                    },
                    ensure_ascii=False,
                )
            )
        return f"labels-{first}-to-{last}.jsonl", "".join(line + "\n" for line in lines)

    # -- public -------------------------------------------------------------------------------------------------
    def public(self, query: dict[str, str]) -> dict[str, Any]:
        first, last = self._days(query)
        rows = self.figures.district_rows(first, last)
        return public_figures(rows, district_names(self.districts), self.now()) | {"from": first, "to": last}

    def district_list(self) -> list[dict[str, Any]]:
        return sorted(
            ({"code": d.code, "name": d.name, "hindi": d.hindi} for d in self.districts.by_code.values()),
            key=lambda d: str(d["name"]),
        )

    def _days(self, query: dict[str, str]) -> tuple[str, str]:
        try:
            return day_range(query.get("from") or None, query.get("to") or None, self.now().astimezone(IST).date())
        except ValueError as exc:
            raise BadQuery(f"from/to must be days like 2026-11-28 ({exc})") from None


def _matches(view: dict[str, Any], query: dict[str, str]) -> bool:
    return all(not query.get(name) or str(view.get(name) or "") == query[name] for name in FILTERS)


def _lean(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Breakdown rows without their histograms (the summary keeps the whole state's)."""
    return [{k: v for k, v in row.items() if not k.endswith("_histogram")} for row in rows]


def _int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        return max(low, min(high, int(value or default)))
    except ValueError:
        return default


def _csv(columns: list[str], rows: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in columns})
    return out.getvalue()


def _cell(value: Any) -> Any:
    """A value as a spreadsheet shows it, never as a formula (a tweet may begin with @, = or +)."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
