"""SMS segment counts against a reference GSM 03.38 / UCS-2 implementation.

The reference: the ``gsm0338`` codec (3GPP TS 23.038 tables, PyPI, tests only) says which characters GSM-7
carries and how many septets each takes (an extension-table character is ESC + code: two septets); Python's own
UTF-16 codec says how many UCS-2 code units a character takes (a character outside the BMP is a surrogate
pair: two). A concatenated message's parts hold 153 septets / 67 code units, and a part never ends between the
two septets of an escape sequence or the two units of a surrogate pair — so a count can exceed the naive
``ceil(length / 153)``.
"""

from __future__ import annotations

import math

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from seva.sms import is_gsm7, parts, segments

GSM_SINGLE, GSM_PART, UCS2_SINGLE, UCS2_PART = 160, 153, 70, 67


def reference_units(ch: str) -> tuple[str, int]:
    """One character's cost by the reference: ("gsm", septets) or ("ucs2", UTF-16 code units)."""
    try:
        return "gsm", len(ch.encode("gsm03.38"))
    except UnicodeEncodeError:
        return "ucs2", len(ch.encode("utf-16-be")) // 2


def reference_segments(text: str) -> int:
    costs = [reference_units(ch) for ch in text]
    gsm = all(kind == "gsm" for kind, _ in costs)
    if gsm:
        single, part, units = GSM_SINGLE, GSM_PART, [n for _, n in costs]
    else:
        single, part = UCS2_SINGLE, UCS2_PART
        units = [len(ch.encode("utf-16-be")) // 2 for ch in text]
    if sum(units) <= single:
        return 1
    count, used = 1, 0
    for n in units:  # a character's septets / code units never straddle two parts
        if used + n > part:
            count, used = count + 1, 0
        used += n
    return count


def reference_part_units(part: str) -> int:
    try:
        return len(part.encode("gsm03.38"))
    except UnicodeEncodeError:
        return len(part.encode("utf-16-be")) // 2


# ESC (U+001B) is left out: the codec maps it to the bare 0x1B septet, which is the escape to the extension
# table, not a character a message can carry (seva.sms treats it as UCS-2, and sanitise() removes it anyway).
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = "^{}\\[~]|€\f"
DEVANAGARI = "अआइकखगघचछजझटठडढणतथदधनपफबभमयरलवशसहािीुूेैोौंः्ज़"
ASTRAL = "😀🚑🆘🩸𝐁𝐀👮🙏"  # emoji and mathematical letters: surrogate pairs in UTF-16
OTHER = "çÀ’“”—…•™ñ"  # not in GSM 03.38's default table (ç, À, typographic quotes) or in it (ñ)

gsm_text = st.text(alphabet=st.sampled_from(GSM_BASIC + GSM_EXTENSION), min_size=0, max_size=480)
mixed_text = st.text(
    alphabet=st.sampled_from(GSM_BASIC + GSM_EXTENSION + DEVANAGARI + ASTRAL + OTHER), min_size=0, max_size=300
)
ucs2_text = st.text(alphabet=st.sampled_from(DEVANAGARI + ASTRAL + "abc "), min_size=0, max_size=300)


def test_the_reference_agrees_with_gsm_03_38_on_the_character_tables():
    # Given every GSM basic and extension character, and some that are not GSM
    # Then seva's GSM-7 test and the reference codec agree on each, and extension characters take two septets
    for ch in GSM_BASIC:
        assert is_gsm7(ch) and reference_units(ch) == ("gsm", 1), ch
    for ch in GSM_EXTENSION:
        assert is_gsm7(ch) and reference_units(ch) == ("gsm", 2), ch
    for ch in DEVANAGARI + ASTRAL + "çÀ’“”—…•™":
        assert not is_gsm7(ch) and reference_units(ch)[0] == "ucs2", ch
    assert not is_gsm7("\x1b")  # a bare escape is not a character


@pytest.mark.parametrize(
    ("text", "expected", "naive"),
    [
        # 152 septets, then "{" (ESC + "("): it cannot end part 1, so part 2 starts with it
        ("a" * 152 + "{" + "a" * 152, 3, 2),
        ("a" * 152 + "€" + "a" * 151, 2, 2),
        ("a" * 151 + "€" + "a" * 153, 2, 2),
        # 66 units, then an emoji (a surrogate pair): it cannot end part 1
        ("अ" * 66 + "😀" + "अ" * 66, 3, 2),
        ("अ" * 65 + "😀" + "अ" * 67, 2, 2),
        ("😀" * 35, 1, 1),  # 70 code units: one segment
        ("😀" * 36, 2, 2),  # 72 units: 33 emoji (66 units) in part 1
        ("😀" * 67, 3, 2),  # 134 units, but a part holds 33 emoji
        ("[" * 77 + "a" * 6, 1, 1),  # 160 septets
        ("[" * 77 + "a" * 7, 2, 2),
    ],
)
def test_an_escape_sequence_or_a_surrogate_pair_is_never_split_across_parts(text, expected, naive):
    # Given a body whose naive count (units / per-part size) would cut an escape or a surrogate pair in two
    gsm = is_gsm7(text)
    units = sum(2 if ch in GSM_EXTENSION else 1 for ch in text) if gsm else len(text.encode("utf-16-be")) // 2
    single, part = (GSM_SINGLE, GSM_PART) if gsm else (UCS2_SINGLE, UCS2_PART)
    assert (1 if units <= single else math.ceil(units / part)) == naive
    # When it is counted, Then the count is the reference's, and the parts keep each character whole
    assert segments(text) == reference_segments(text) == expected
    assert "".join(parts(text)) == text


@given(gsm_text)
@settings(max_examples=400, deadline=None)
@example("a" * 152 + "{" + "a" * 152)
@example("€" * 80)
@example("€" * 81)
def test_gsm_bodies_count_like_the_reference(text):
    assert segments(text) == reference_segments(text)


@given(mixed_text)
@settings(max_examples=400, deadline=None)
@example("अ" * 66 + "😀" + "अ" * 66)
@example("a" * 69 + "😀")
def test_any_body_counts_like_the_reference(text):
    assert segments(text) == reference_segments(text)


@given(st.one_of(gsm_text, ucs2_text, mixed_text))
@settings(max_examples=400, deadline=None)
def test_parts_rebuild_the_body_and_each_fits_its_segment(text):
    # When a body is split into the parts an SMS centre would send
    split = parts(text)
    # Then they rebuild the body, there are as many as the count, and each fits a part by the reference's units
    assert "".join(split) == text and len(split) == segments(text)
    if len(split) > 1:
        limit = GSM_PART if is_gsm7(text) else UCS2_PART
        assert all(0 < reference_part_units(p) <= limit for p in split)
    else:
        assert reference_part_units(text) <= (GSM_SINGLE if is_gsm7(text) else UCS2_SINGLE)


@given(excerpt=mixed_text, language=st.sampled_from(["en", "hi"]))
@settings(max_examples=200, deadline=None)
@example(excerpt="[" * 200, language="en")
@example(excerpt="😀" * 120, language="hi")
def test_a_complaint_sms_with_any_excerpt_fits_two_segments_by_the_reference(excerpt, language):
    from seva.sms import complaint_sms, load_templates

    # Given any citizen's words (extension characters, emoji, Devanagari, typographic marks)
    registry = load_templates()
    template = registry.template("complaint", language)
    # When they are put into an officer's SMS
    body = complaint_sms(
        template,
        reference="UP-LKO-2026-000123",
        priority="P1",
        category=registry.category_name("theft", language),
        district="Lucknow",
        locality="Hazratganj",
        deadline="14:05",
        excerpt=excerpt,
        link="https://s.up.in/c/UP-LKO-2026-000123?t=AbCdEf",
    )
    # Then the body is still the registered template, in at most two segments as the reference counts them
    assert template.matches(body)
    assert reference_segments(body) <= 2


names = st.text(alphabet=st.sampled_from(DEVANAGARI + GSM_BASIC[40:] + ASTRAL + " "), min_size=0, max_size=40)


@given(
    excerpt=mixed_text,
    language=st.sampled_from(["en", "hi"]),
    category=st.sampled_from(["theft", "women_safety", "public_nuisance", "land_property", "other"]),
    district=names,
    locality=names,
    domain_length=st.integers(min_value=12, max_value=48),
)
@settings(max_examples=300, deadline=None)
@example(
    excerpt="मेरी बाइक चोरी हो गई " * 8,
    language="hi",
    category="women_safety",
    district="गौतम बुद्ध नगर",
    locality="सेक्टर 18 अट्टा मार्केट",
    domain_length=14,
)
@example(excerpt="", language="hi", category="theft", district="", locality="https://", domain_length=43)
def test_long_place_names_never_push_a_complaint_sms_past_two_segments(
    excerpt, language, category, district, locality, domain_length
):
    from seva.sms import complaint_sms, load_templates

    # Given any district and locality names (Hindi names are UCS-2: 134 characters for two segments in all) and an
    # action-link domain up to the documented 48 characters (docs/deploy.md)
    registry = load_templates()
    template = registry.template("complaint", language)
    link = "https://" + "u" * (domain_length - 8) + "/a/" + "A" * 32
    body = complaint_sms(
        template,
        reference="UP-LKO-2026-000123",
        priority="P1",
        category=registry.category_name(category, language),
        district=district,
        locality=locality,
        deadline="14:05",
        excerpt=excerpt,
        link=link,
    )
    # Then the body is the registered template in at most two segments by the reference, and what the officer needs
    # to act (reference, priority, deadline, link) is always whole: names are cut before those
    assert template.matches(body)
    assert reference_segments(body) <= 2
    assert "UP-LKO-2026-000123 P1" in body and "14:05" in body and link in body
