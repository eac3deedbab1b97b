"""What the citizen is told on X, in their language (Hindi for Hindi and romanised Hindi, else English). Each
answer says only what has happened: registered and forwarded to whom; acknowledged, or police on the way, once an
officer said so; resolved. Every text carries the reference (which also makes it unique: X refuses a handle's
duplicate text), no @-mentions and no links (a post with a link costs 20 times more). Pure."""

from __future__ import annotations

from seva import tweetlength
from seva.districts import Districts
from seva.lifecycle import Complaint, Priority

MAX_WEIGHTED_LENGTH = 280


def weighted_length(text: str) -> int:
    """twitter-text v3 weighted length (URLs 23, emoji 2, U+0000–U+10FF incl. Devanagari 1 per code point)."""
    return tweetlength.weighted_length(text)


NOTE_MAX = 80


def _note(text: str | None) -> str:
    """What the officer says was done, fit for a public post: no links, phone numbers or @-mentions, short."""
    if not text:
        return ""
    from seva.sms import clip, sanitise

    plain = sanitise(text).replace("@", "").strip().rstrip(".।")
    return clip(plain, NOTE_MAX) if plain else ""


def reply_text(complaint: Complaint, kind: str, districts: Districts) -> str:
    """Deterministic for a complaint and kind, so a retry posts exactly the same text."""
    hindi = complaint.language in ("hi", "hi-Latn")
    reference = str(complaint.reference)
    district_hi = districts.name(complaint.district_code, "hi")
    district_en = districts.name(complaint.district_code, "en")
    note = _note(complaint.resolution_note)
    if hindi:
        who = f"{district_hi} पुलिस" if district_hi else "यूपी पुलिस मुख्यालय"
        texts = {
            "ack": (
                f"आपकी शिकायत दर्ज हो गई है। संदर्भ संख्या: {reference}। इसे {who} को भेज दिया गया है"
                + ("; आपात सूचना नियंत्रण कक्ष को भी दी गई है।" if complaint.priority == Priority.P1 else "।")
                + " आपात स्थिति में 112 डायल करें।"
            ),
            "acknowledged": f"{reference}: {who} के एक अधिकारी ने आपकी शिकायत स्वीकार कर ली है और इस पर कार्य कर रहे हैं।",
            "on_the_way": f"{reference}: पुलिस आपके पास पहुँच रही है। आपात स्थिति में 112 डायल करें।",
            "resolved": (
                f"{reference}: {who} के अनुसार आपकी शिकायत का समाधान हो गया है।"
                + (f" की गई कार्रवाई: {note}।" if note else "")
                + " यदि समाधान नहीं हुआ है, तो इस पोस्ट के "
                "उत्तर में 'समाधान नहीं हुआ' लिखें; संतुष्ट हैं तो 1 से 5 तक अंक दें।"
            ),
        }
    else:
        who = f"{district_en} Police" if district_en else "UP Police HQ"
        texts = {
            "ack": (
                f"Your complaint is registered. Reference: {reference}. It has been forwarded to {who}"
                + (" and its control room has been alerted." if complaint.priority == Priority.P1 else ".")
                + " In an emergency dial 112."
            ),
            "acknowledged": f"{reference}: an officer of {who} has acknowledged your complaint and is working on it.",
            "on_the_way": f"{reference}: police are on the way to you. In an emergency dial 112.",
            "resolved": (
                f"{reference}: {who} report your complaint as resolved."
                + (f" Action taken: {note}." if note else "")
                + " If it is not, reply 'not resolved' to this "
                "post; if you are satisfied, reply with a rating from 1 to 5."
            ),
        }
    text = texts[kind]
    if "@" in text or "http" in text or weighted_length(text) > MAX_WEIGHTED_LENGTH:
        raise ValueError(f"reply text invalid for {reference} ({kind})")
    return text
