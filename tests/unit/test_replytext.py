"""Reply length with twitter-text v3 weighting: the official conformance cases, Devanagari, and our texts."""

from __future__ import annotations

import pytest
from seva.replytext import reply_text, weighted_length

from tests.conftest import shared_file


def conformance_cases():
    yaml = pytest.importorskip("yaml")
    path = shared_file("twitter-text", "validate.yml")
    suite = yaml.safe_load(path.read_text(encoding="utf-8"))
    return suite["tests"]["WeightedTweetsWithDiscountedEmojiCounterTest"]


def test_v3_weighted_conformance_cases():
    cases = conformance_cases()
    assert len(cases) > 10
    failures = [
        (c["description"], weighted_length(c["text"]), c["expected"]["weightedLength"])
        for c in cases
        if weighted_length(c["text"]) != c["expected"]["weightedLength"]
    ]
    assert failures == []


def test_devanagari_counts_one_per_code_point():
    text = "आपकी शिकायत दर्ज हो गई है"
    assert weighted_length(text) == len(text)


@pytest.mark.parametrize("language", ["en", "hi", "hi-Latn"])
@pytest.mark.parametrize("priority", ["P1", "P3"])
def test_replies_fit_carry_the_reference_and_mention_no_one(language, priority):
    text = reply_text(
        reference="UP-GBN-2026-012345",
        language=language,
        district="Gautam Buddha Nagar",
        district_hindi="गौतम बुद्ध नगर",
        priority=priority,
    )
    assert "UP-GBN-2026-012345" in text and "@" not in text
    assert weighted_length(text) <= 280
    assert ("दर्ज" in text) == (language != "en")
