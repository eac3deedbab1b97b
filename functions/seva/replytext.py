"""The acknowledgement the citizen gets on X: in their language, with the reference number (which also makes
every reply unique — X refuses duplicate text), what happens next, and no @-mentions. Pure logic."""

from __future__ import annotations

MAX_WEIGHTED_LENGTH = 280


def weighted_length(text: str) -> int:
    """twitter-text v3 weighted length (URLs 23, emoji 2, U+0000–U+10FF incl. Devanagari 1 per code point)."""
    from twitter_text import parse_tweet  # ~0.5 s import (pkg_resources): only in the reply path

    return int(parse_tweet(text).weightedLength)


def reply_text(
    *, reference: str, language: str, district: str | None, district_hindi: str | None, priority: str
) -> str:
    """Deterministic for a complaint, so a retry posts exactly the same text (and X refuses a second copy)."""
    if language in ("hi", "hi-Latn"):
        who = f"{district_hindi} पुलिस" if district_hindi else "यूपी पुलिस मुख्यालय"
        urgent = " टीम तुरंत कार्रवाई कर रही है।" if priority == "P1" else ""
        text = (
            f"आपकी शिकायत दर्ज हो गई है। संदर्भ संख्या: {reference}।{urgent} {who} को सूचित कर दिया गया है, "
            "वे आपसे संपर्क करेंगे। आपात स्थिति में 112 डायल करें।"
        )
    else:
        who = f"{district} Police" if district else "UP Police HQ"
        urgent = " A team is acting on it now." if priority == "P1" else ""
        text = (
            f"Your complaint is registered. Reference: {reference}.{urgent} {who} has been informed and will "
            "contact you. In an emergency dial 112."
        )
    if "@" in text or weighted_length(text) > MAX_WEIGHTED_LENGTH:
        raise ValueError(f"reply text invalid for {reference}")
    return text
