"""SMS bodies: registered DLT templates, sanitised citizen text, correct segment counts."""

import pytest
from seva.sms import complaint_sms, load_templates, sanitise, segments

# an officer's action link as the notifier makes it (base URL + a 32-character signed token)
LINK = "https://seva.uppolice.gov.in/a/AR1ggBLZAAAALtRiB50zB_lTkhRXQ-Lq"


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
        locality="हज़रतगंज" if language == "hi" else "Hazratganj",
        deadline="14:05",
        excerpt=excerpt,
        link=LINK,
    )
    assert template.matches(body)
    assert segments(body) <= 2 and len(body) <= (134 if language == "hi" else 306)
    assert "मे..." not in body  # no stub of the citizen's words
    assert "9876543210" not in body and "t.co" not in body
    assert LINK in body and "14:05" in body


def test_an_english_complaint_in_latin_script_stays_within_two_segments():
    template = load_templates().template("complaint", "en")
    body = complaint_sms(
        template,
        reference="UP-LKO-2026-000123",
        priority="P2",
        category="theft",
        district="Lucknow",
        locality="Hazratganj",
        deadline="14:05",
        excerpt="my bike was stolen outside the market near the temple, please help, nobody at the thana listens " * 3,
        link=LINK,
    )
    assert template.matches(body) and segments(body) <= 2 and "bike was stolen" in body


def test_a_hindi_sms_with_a_short_link_domain_keeps_the_citizens_words():
    template = load_templates().template("complaint", "hi")
    body = complaint_sms(
        template,
        reference="UP-LKO-2026-000123",
        priority="P1",
        category="चोरी",
        district="लखनऊ",
        locality="हज़रतगंज",
        deadline="14:05",
        excerpt="मेरी बाइक चोरी हो गई, कॉल करें 9876543210",
        link="https://upp.in/a/AR1ggBLZAAAALtRiB50zB_lTkhRXQ-Lq",
    )
    assert template.matches(body) and segments(body) <= 2 and "बाइक चोरी" in body


def test_a_body_that_is_not_the_registered_text_does_not_match():
    template = load_templates().template("complaint", "en")
    assert not template.matches("UP Police: free recharge, click here")


def test_the_format_character_pattern_is_exactly_unicodes_cf_category():
    import sys
    import unicodedata

    from seva.textnorm import FORMAT_CHARACTERS

    # Every format character this Python knows is matched; what else is matched is unassigned in an older
    # Unicode database (the pattern is Unicode 15.1's Cf)
    matched = {c for c in range(sys.maxunicode + 1) if FORMAT_CHARACTERS.match(chr(c))}
    categories = {unicodedata.category(chr(c)) for c in matched}
    assert {c for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"} <= matched
    assert categories <= {"Cf", "Cn"}


@pytest.mark.parametrize(
    "dirty",
    [
        "call 98\u200b76\u200b54\u200b32\u200b10 now",  # a number split by zero-width spaces
        "call ９８７６５４３２１０ now",  # fullwidth digits
        "call 98\u00ad765\u00ad432\u00ad10 now",  # soft hyphens
    ],
)
def test_phone_numbers_are_redacted_after_folding(dirty):
    clean = sanitise(dirty)
    assert "[number]" in clean
    assert not any(ch.isdigit() for ch in clean.replace("[number]", ""))


@pytest.mark.parametrize(
    "dirty",
    [
        "pay the fine at evil.xyz/pay today",
        "pay at pay-now.police-up.online/x",
        "pay at ｅｖｉｌ．ｘｙｚ/pay",  # fullwidth letters and dot
        "pay at evil\u200b.xyz",
        "pay at EVIL.SHOP",
    ],
)
def test_links_on_any_top_level_domain_are_redacted(dirty):
    clean = sanitise(dirty)
    assert "[link]" in clean
    assert "xyz" not in clean.lower() and "online" not in clean and "shop" not in clean.lower()


@pytest.mark.parametrize("language", ["en", "hi"])
def test_a_template_variable_inside_the_tweet_cannot_create_a_slot(language):
    # Given a tweet that tries to inject DLT variables into the officers' SMS
    registry = load_templates()
    template = registry.template("complaint", language)
    body = complaint_sms(
        template,
        reference="UP-LKO-2026-000123",
        priority="P2",
        category="theft",
        district="Lucknow",
        locality="{#var#}",
        deadline="14:05",
        excerpt="{#var#} {#var#}{#var#} FREE recharge {#url#} {{#var#}}",
        link=LINK,
    )
    # Then the body is the registered template with the citizen's text in one slot, and no variable marker
    assert template.matches(body)
    assert "{#" not in body and "#}" not in body
    assert body.endswith(LINK if language == "hi" else f"{LINK} -UPPOLC")


def test_fill_never_rescans_a_filled_value():
    template = load_templates().template("digest", "en")
    body = template.fill(["{#var#}", "P2 x3"])
    assert "{#var#}" not in body and template.matches(body)


def test_names_written_with_honorifics_and_abbreviations_survive_redaction():
    for text in ("Mr.Sharma ne maara", "U.P. police", "3.5 lakh ka fraud", "at 10 a.m. today", "Dr.Singh clinic"):
        assert sanitise(text) == text
    assert sanitise("mail abc@gmail.com") == "mail [email]"
