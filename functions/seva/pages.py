"""The pages an action link opens: the complaint and the actions, each behind a confirm button (opening a link
changes nothing; only the confirmation acts). Hindi or English by the officer's language; readable on a phone,
labelled and keyboard-usable. Pure: strings in, HTML out (every value escaped)."""

from __future__ import annotations

from datetime import datetime
from html import escape

from seva.districts import Districts
from seva.lifecycle import Complaint, Status
from seva.messages import ist

_WORDS = {
    "en": {
        "title": "Complaint",
        "status": "Status",
        "priority": "Priority",
        "district": "District",
        "locality": "Locality",
        "ack_by": "Acknowledge by",
        "resolve_by": "Resolve by",
        "tweet": "The citizen's post",
        "acknowledge": "Acknowledge: I have seen it and I own it",
        "on_the_way": "Police are on the way",
        "resolve": "Resolved",
        "reassign": "Not ours: send to",
        "state_cell": "the state cell (district not known)",
        "note": "What was done (the citizen is told)",
        "done": "Done",
        "refused": "Not done",
        "back": "Back to the complaint",
        "noscript": "Nothing changes until you press a button.",
    },
    "hi": {
        "title": "शिकायत",
        "status": "स्थिति",
        "priority": "प्राथमिकता",
        "district": "जनपद",
        "locality": "स्थान",
        "ack_by": "स्वीकार करें",
        "resolve_by": "निस्तारण करें",
        "tweet": "नागरिक की पोस्ट",
        "acknowledge": "स्वीकार करें: मैंने देख लिया है",
        "on_the_way": "पुलिस रवाना हो गई है",
        "resolve": "निस्तारित",
        "reassign": "हमारा नहीं: भेजें",
        "state_cell": "राज्य प्रकोष्ठ (जनपद अज्ञात)",
        "note": "क्या किया गया (नागरिक को बताया जाएगा)",
        "done": "हो गया",
        "refused": "नहीं हुआ",
        "back": "शिकायत पर वापस",
        "noscript": "बटन दबाने तक कुछ नहीं बदलता।",
    },
}

_STYLE = """
body{font-family:system-ui,sans-serif;margin:0;padding:1rem;max-width:40rem;color:#111;background:#fff;line-height:1.45}
h1{font-size:1.3rem;margin:.2rem 0}dl{display:grid;grid-template-columns:auto 1fr;gap:.2rem .8rem}dt{font-weight:600}
blockquote{margin:.8rem 0;padding:.6rem;border-left:4px solid #555;background:#f3f3f3;white-space:pre-wrap}
form{margin:.6rem 0}button{font-size:1.05rem;padding:.7rem 1rem;min-height:44px;width:100%;border:2px solid #0b3d91;
background:#0b3d91;color:#fff;border-radius:6px;cursor:pointer}button:focus{outline:3px solid #f5a623}
select,textarea{font-size:1rem;width:100%;padding:.5rem;margin:.3rem 0;box-sizing:border-box}
.p1{color:#a00000;font-weight:700}.note{color:#333}.result{font-size:1.2rem;padding:.8rem;border:2px solid #0b3d91}
"""


def _page(language: str, title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="robots" content="noindex,nofollow"><meta name="referrer" content="no-referrer">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def complaint_page(
    complaint: Complaint, language: str, districts: Districts, token: str, actions: list[str], now: datetime
) -> str:
    w = _WORDS["hi" if language == "hi" else "en"]
    district = districts.name(complaint.district_code, language) or w["state_cell"]
    rows = [
        (w["status"], complaint.status.value.replace("_", " ").title()),
        (w["priority"], str(complaint.priority or "-")),
        (w["district"], district),
        (w["locality"], complaint.locality or "-"),
        (w["ack_by"], ist(complaint.ack_due_at)),
        (w["resolve_by"], ist(complaint.resolve_due_at)),
    ]
    info = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    forms = []
    for action in actions:
        if action == "reassign":
            options = [f'<option value="HQ">{escape(w["state_cell"])}</option>'] + [
                f'<option value="{d.code}">{escape(d.hindi if language == "hi" else d.name)}</option>'
                for d in sorted(districts.by_code.values(), key=lambda d: d.name)
                if d.code != complaint.district_code
            ]
            forms.append(
                f'<form method="post" action="/a/{escape(token)}"><input type="hidden" name="action" value="reassign">'
                f'<label for="to">{escape(w["reassign"])}</label><select id="to" name="district">{"".join(options)}'
                f'</select><button type="submit">{escape(w["reassign"])}</button></form>'
            )
        elif action == "resolve":
            forms.append(
                f'<form method="post" action="/a/{escape(token)}"><input type="hidden" name="action" value="resolve">'
                f'<label for="note">{escape(w["note"])}</label><textarea id="note" name="note" rows="2" '
                f'maxlength="500"></textarea><button type="submit">{escape(w["resolve"])}</button></form>'
            )
        else:
            forms.append(
                f'<form method="post" action="/a/{escape(token)}"><input type="hidden" name="action" '
                f'value="{escape(action)}"><button type="submit">{escape(w[action])}</button></form>'
            )
    priority_class = ' class="p1"' if str(complaint.priority) == "P1" else ""
    body = (
        f"<main><h1{priority_class}>{escape(w['title'])} {escape(complaint.reference or '')}</h1><dl>{info}</dl>"
        f'<h2>{escape(w["tweet"])}</h2><blockquote lang="und">{escape(complaint.text)}</blockquote>'
        f'<p class="note">{escape(w["noscript"])}</p>{"".join(forms)}</main>'
    )
    return _page(language, f"{w['title']} {complaint.reference or ''}", body)


def result_page(language: str, ok: bool, message: str, token: str | None = None) -> str:
    w = _WORDS["hi" if language == "hi" else "en"]
    back = f'<p><a href="/a/{escape(token)}">{escape(w["back"])}</a></p>' if token else ""
    heading = escape(w["done"] if ok else w["refused"])
    body = f'<main><h1>{heading}</h1><p class="result" role="status">{escape(message)}</p>{back}</main>'
    return _page(language, w["done"] if ok else w["refused"], body)


def open_actions(status: Status) -> list[str]:
    """What a link offers for a complaint in this state."""
    if status == Status.ROUTED or status == Status.REOPENED:
        return ["acknowledge", "on_the_way", "resolve", "reassign"]
    if status == Status.ACKNOWLEDGED:
        return ["on_the_way", "resolve", "reassign"]
    if status == Status.ON_THE_WAY:
        return ["resolve", "reassign"]
    return []
