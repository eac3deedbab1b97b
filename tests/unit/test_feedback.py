"""The citizen's answer to "resolved", in the languages citizens write."""

from __future__ import annotations

import pytest
from seva.feedback import citizen_verdict


@pytest.mark.parametrize(
    "text",
    [
        "not resolved",
        "@Uppolice Not yet resolved sir",
        "still waiting, no action taken",
        "thanks for nothing",
        "abhi tak kuch nahi hua",
        "samadhan nahi hua sir",
        "koi karwai nahi hui",
        "समाधान नहीं हुआ",
        "अभी तक कुछ नहीं हुआ",
        "कोई कार्रवाई नहीं हुई",
        "کچھ نہیں ہوا",
        "𝐍𝐎𝐓 𝐑𝐄𝐒𝐎𝐋𝐕𝐄𝐃",
    ],
)
def test_an_objection_reopens(text):
    assert citizen_verdict(text).reopen


@pytest.mark.parametrize(
    ("text", "rating"),
    [
        ("5", 5),
        ("thank you 4", 4),
        ("⭐⭐⭐", 3),
        ("rating 2/5, slow", 2),
        ("Thanks a lot sir", None),
        ("शुक्रिया", None),
    ],
)
def test_thanks_or_a_rating_closes(text, rating):
    verdict = citizen_verdict(text)
    assert verdict.close and not verdict.reopen and verdict.rating == rating


@pytest.mark.parametrize(
    "text", ["he came back again with a knife", "मेरे गांव में 5 लोग फिर आए और मारपीट की", "please call me on my number"]
)
def test_anything_else_is_an_ordinary_follow_up(text):
    verdict = citizen_verdict(text)
    assert not verdict.reopen and not verdict.close
