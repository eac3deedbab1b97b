"""Messages to officers that they can act on: the complaint's reference, priority, category, district and
locality, its deadlines in IST, the citizen's words — in the officer's language. Pure."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from seva.districts import Districts
from seva.lifecycle import Action, Complaint, Event
from seva.officers import Officer
from seva.sms import Registry

IST = timezone(timedelta(hours=5, minutes=30), "IST")


def ist(value: datetime | None) -> str:
    """'01 Dec 2026, 14:05 IST' (officers read Indian time, not UTC with microseconds)."""
    return value.astimezone(IST).strftime("%d %b %Y, %H:%M IST") if value else "-"


def short_ist(value: datetime | None) -> str:
    """'01Dec 14:05' for an SMS (IST)."""
    return value.astimezone(IST).strftime("%d%b %H:%M") if value else "-"


_LABELS = {
    "en": {
        "reference": "Reference",
        "priority": "Priority",
        "category": "Category",
        "district": "District",
        "locality": "Locality",
        "ack_by": "Acknowledge by",
        "resolve_by": "Resolve by",
        "citizen": "Citizen",
        "tweet": "Tweet",
        "unknown": "unknown (state HQ queue)",
        "update": "Update from the citizen",
        "act": "Acknowledge, on the way, resolved, or not ours",
        "escalated": "OVERDUE, not {stage} by {due}",
        "acknowledge": "acknowledged",
        "resolve": "resolved",
        "reopened": "REOPENED: the citizen says it is not resolved",
    },
    "hi": {
        "reference": "संदर्भ",
        "priority": "प्राथमिकता",
        "category": "श्रेणी",
        "district": "जनपद",
        "locality": "स्थान",
        "ack_by": "स्वीकार करें",
        "resolve_by": "निस्तारण करें",
        "citizen": "नागरिक",
        "tweet": "ट्वीट",
        "unknown": "अज्ञात (मुख्यालय)",
        "update": "नागरिक का अपडेट",
        "act": "स्वीकार करें, रवाना, निस्तारित, या हमारा नहीं",
        "escalated": "समय सीमा पार: {due} तक {stage} नहीं",
        "acknowledge": "स्वीकृति",
        "resolve": "निस्तारण",
        "reopened": "फिर खुली: नागरिक के अनुसार समाधान नहीं हुआ",
    },
}


def complaint_email(
    complaint: Complaint,
    officer: Officer,
    districts: Districts,
    templates: Registry,
    event: Event | None = None,
    link: str | None = None,
) -> tuple[str, str]:
    language = "hi" if officer.language == "hi" else "en"
    words = _LABELS[language]
    category = templates.category_name(str(complaint.category or "other"), language)
    district = districts.name(complaint.district_code, language) or words["unknown"]
    update = event is not None and bool(event.details.get("changed"))
    subject = f"[{complaint.priority}] {complaint.reference} {category} - {district}"
    if update:
        subject = f"{words['update']}: {subject}"
    elif event is not None and event.action == Action.ESCALATE:
        stage = str(event.details.get("stage") or "acknowledge")
        due = complaint.ack_due_at if stage == "acknowledge" else complaint.resolve_due_at
        subject = f"{words['escalated'].format(stage=words.get(stage, stage), due=ist(due))}: {subject}"
    elif event is not None and event.action == Action.REOPEN:
        subject = f"{words['reopened']}: {subject}"
    lines = [
        f"{words['reference']}: {complaint.reference}",
        f"{words['priority']}: {complaint.priority}   {words['category']}: {category}",
        f"{words['district']}: {district}",
        f"{words['locality']}: {complaint.locality or '-'}",
        f"{words['ack_by']}: {ist(complaint.ack_due_at)}",
        f"{words['resolve_by']}: {ist(complaint.resolve_due_at)}",
        f"{words['citizen']}: @{complaint.author_username or '?'}",
        f"{words['tweet']}: https://x.com/i/status/{complaint.tweet_id}",
        *([f"{words['act']}: {link}"] if link else []),
        "",
        complaint.text,
    ]
    return subject[:100], "\n".join(lines)
