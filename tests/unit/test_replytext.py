"""Reply texts: twitter-text v3 length (conformance: test_tweetlength.py), Devanagari, and what each says."""

from __future__ import annotations

import pytest
from seva.districts import load_districts
from seva.lifecycle import Priority
from seva.replytext import reply_text, weighted_length

from tests.unit.fakes import complaint


def test_devanagari_counts_one_per_code_point():
    text = "आपकी शिकायत दर्ज हो गई है"
    assert weighted_length(text) == len(text)


@pytest.mark.parametrize("language", ["en", "hi", "hi-Latn"])
@pytest.mark.parametrize("priority", [Priority.P1, Priority.P3])
@pytest.mark.parametrize("kind", ["ack", "acknowledged", "on_the_way", "resolved"])
@pytest.mark.parametrize("district_code", [144, None])  # Gautam Buddha Nagar, or the state HQ queue
def test_replies_fit_carry_the_reference_and_mention_no_one(language, priority, kind, district_code):
    c = complaint(priority=priority, district_code=district_code, language=language)
    text = reply_text(c, kind, load_districts())
    assert c.reference in text and "@" not in text and "http" not in text
    assert weighted_length(text) <= 280
    assert ("पुलिस" in text) == (language != "en")


def test_each_answer_says_only_what_happened():
    c = complaint(priority=Priority.P1, district_code=144)
    districts = load_districts()
    registered = reply_text(c, "ack", districts)
    assert "forwarded to Gautam Buddha Nagar Police" in registered and "control room" in registered
    assert "acting" not in registered and "on the way" not in registered  # nobody has seen it yet
    assert "acknowledged" in reply_text(c, "acknowledged", districts)
    assert "on the way" in reply_text(c, "on_the_way", districts)
    assert "not resolved" in reply_text(c, "resolved", districts)


@pytest.mark.parametrize("language", ["en", "hi"])
def test_the_resolution_reply_says_what_was_done_without_links_numbers_or_mentions(language):
    # Given an officer's resolution note with a link, a phone number, a mention and far too many words
    note = "Bike recovered from @thief, call 9876543210 or see http://evil.example/x " + "and more detail " * 20
    c = complaint(priority=Priority.P2, language=language, resolution_note=note)
    # When the citizen is told it is resolved
    text = reply_text(c, "resolved", load_districts())
    # Then the text carries what was done, cleaned and cut, and still fits in a post
    assert "Bike recovered from thief" in text and "9876543210" not in text and "http" not in text
    assert "@" not in text and weighted_length(text) <= 280
    assert ("Action taken:" in text) if language == "en" else ("की गई कार्रवाई:" in text)
