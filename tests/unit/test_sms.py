"""SMS bodies: registered DLT templates, sanitised citizen text, correct segment counts."""

import pytest
from seva.sms import complaint_sms, load_templates, sanitise, segments


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("[" * 80, 1),  # extension characters count twice: 160
        ("[" * 81, 2),
        ("ह" * 70, 1),  # Devanagari: UCS-2
        ("ह" * 71, 2),
        ("ह" * 134, 2),
        ("ह" * 135, 3),
        ("a" * 69 + "ह", 1),  # one non-GSM character makes the whole body UCS-2
        ("a" * 70 + "ह", 2),
    ],
)
def test_segments(text, expected):
    assert segments(text) == expected


def test_sanitise_strips_links_numbers_and_control_characters():
    dirty = "call me on +91 98765 43210 or 9876543210\u0007 see https://bit.ly/x and www.evil.in\u200b now"
    clean = sanitise(dirty)
    assert "9876" not in clean and "bit.ly" not in clean and "evil" not in clean
    assert "\u0007" not in clean and "\u200b" not in clean
    assert "[number]" in clean and "[link]" in clean


@pytest.mark.parametrize("language", ["en", "hi"])
def test_complaint_sms_matches_its_registered_template_and_fits_two_segments(language):
    registry = load_templates()
    template = registry.template("complaint", language)
    excerpt = "मेरी बाइक चोरी हो गई, कॉल करें 9876543210 https://t.co/abc " * 5
    body = complaint_sms(
        template,
        reference="UP-LKO-2026-000123",
        priority="P2",
        category=registry.category_name("theft", language),
        district="लखनऊ" if language == "hi" else "Lucknow",
        excerpt=excerpt,
        tweet_id="2116832643302555648",
    )
    assert template.matches(body)
    assert segments(body) <= 2
    assert "9876543210" not in body and "t.co" not in body
    assert "x.com/i/status/2116832643302555648" in body


def test_a_body_that_is_not_the_registered_text_does_not_match():
    template = load_templates().template("complaint", "en")
    assert not template.matches("UP Police: free recharge, click here")
