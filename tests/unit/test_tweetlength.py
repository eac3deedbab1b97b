"""twitter-text v3 weighting without twitter-text-parser: the official conformance suite (``../shared``, skipped
when absent), the configuration matching twitter-text's v3.json, and the cases Seva's replies depend on."""

from __future__ import annotations

import json

import pytest
from seva.tweetlength import load_config, parse, weighted_length

from tests.conftest import shared_file

V3_GROUPS = ("WeightedTweetsWithDiscountedEmojiCounterTest", "UnicodeDirectionalMarkerCounterTest")


def suite() -> dict:
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load(shared_file("twitter-text", "validate.yml").read_text(encoding="utf-8"))["tests"]


@pytest.mark.parametrize("group", V3_GROUPS)
def test_given_the_v3_conformance_cases_when_parsed_then_length_validity_and_permillage_match(group):
    cases = suite()[group]
    assert len(cases) >= 2
    failures = []
    for case in cases:
        result = parse(case["text"])
        got = {"weightedLength": result.weighted_length, "valid": result.valid, "permillage": result.permillage}
        expected = {key: case["expected"][key] for key in got if key in case["expected"]}
        if any(got[key] != value for key, value in expected.items()):
            failures.append((case["description"], got, expected))
    assert failures == []


def test_given_twitter_texts_v3_config_then_our_weighting_data_says_the_same():
    official = json.loads(shared_file("twitter-text", "v3.json").read_text(encoding="utf-8"))
    ours = load_config()
    assert ours.max_weighted_length == official["maxWeightedTweetLength"]
    assert ours.scale == official["scale"]
    assert ours.default_weight == official["defaultWeight"]
    assert ours.transformed_url_length == official["transformedURLLength"]
    assert ours.emoji_parsing == official["emojiParsingEnabled"]
    assert [
        {"start": s, "end": e, "weight": w}
        for s, e, w in zip(ours.range_starts, ours.range_ends, ours.range_weights, strict=True)
    ] == sorted(official["ranges"], key=lambda r: r["start"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("आपकी शिकायत दर्ज हो गई है", len("आपकी शिकायत दर्ज हो गई है")),  # Devanagari: 1 per code point
        ("abc https://example.com/a/very/long/path?with=query", 4 + 23),  # any URL counts 23
        ("see example.com now", 4 + 23 + 4),  # a bare domain too
        ("🙂", 2),  # an emoji: the default weight
        ("👨‍👩‍👧‍👦", 2),  # a ZWJ family sequence counts as one emoji
        ("👍🏽", 2),  # emoji + skin-tone modifier
        ("🇮🇳", 2),  # a flag: two regional indicators
        ("1️⃣", 2),  # keycap
        ("の", 2),  # CJK weighs 2
        ("UP-LKO-2026-000123", 18),  # our reference numbers: no URL, no emoji
    ],
)
def test_given_a_text_when_weighed_then_x_counts_it_so(text, expected):
    assert weighted_length(text) == expected


def test_given_too_long_or_invalid_text_then_not_valid():
    assert parse("a" * 280).valid
    assert not parse("a" * 281).valid
    assert not parse("").valid
    assert not parse("abc\ufffe").valid
    assert parse("क" * 280).valid  # Hindi gets the full 280


def test_given_a_decomposed_text_then_it_is_counted_after_nfc():
    assert weighted_length("e\u0301") == 1  # é as e + combining accent: one code point after NFC
