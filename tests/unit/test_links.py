"""One-tap links: signed, expiring, bound to one officer and one complaint; a changed, expired, cut or unknown-key
link is refused with one sentence an officer understands."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from seva.links import LinkKeys, LinkRefused, link_expiry, make_token, read_token

from tests.unit.fakes import NOW

KEYS = LinkKeys({1: b"k" * 32}, current=1)
TWEET = "2116832643302555648"


def test_a_token_is_short_and_reads_back_as_its_complaint_and_officer():
    token = make_token(KEYS, TWEET, "lko-sp", NOW + timedelta(days=3))
    link = read_token(KEYS, token, NOW)
    assert len(token) == 32 and token.isascii()
    assert link.complaint_id == TWEET and link.is_for("lko-sp") and not link.is_for("lko-cr")
    assert NOW + timedelta(days=3) <= link.expires < NOW + timedelta(days=3, hours=1)


@pytest.mark.parametrize("position", range(32))
def test_any_changed_character_is_refused(position):
    token = make_token(KEYS, TWEET, "lko-sp", NOW + timedelta(days=3))
    swapped = "A" if token[position] != "A" else "B"
    tampered = token[:position] + swapped + token[position + 1 :]
    with pytest.raises(LinkRefused, match=r"not valid|broken"):
        read_token(KEYS, tampered, NOW)


def test_another_complaint_cannot_be_put_in_a_token():
    raw = bytearray(base64.urlsafe_b64decode(make_token(KEYS, TWEET, "lko-sp", NOW + timedelta(days=3)) + "=="))
    raw[8] ^= 1  # a byte of the complaint id
    with pytest.raises(LinkRefused, match="not valid"):
        read_token(KEYS, base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("="), NOW)


def test_an_expired_link_is_refused():
    token = make_token(KEYS, TWEET, "lko-sp", NOW + timedelta(days=3))
    with pytest.raises(LinkRefused, match="expired"):
        read_token(KEYS, token, NOW + timedelta(days=3, hours=2))


@pytest.mark.parametrize("token", ["", "abc", "x" * 31, "!!!!" * 8, "A" * 40])
def test_a_cut_or_garbled_link_is_refused_as_broken(token):
    with pytest.raises(LinkRefused, match=r"broken|not valid"):
        read_token(KEYS, token, NOW)


def test_links_signed_with_the_previous_key_still_work_after_a_rotation_until_it_is_removed():
    old = make_token(KEYS, TWEET, "lko-sp", NOW + timedelta(days=3))
    rotated = LinkKeys.from_secret({"keys": {"1": "k" * 32, "2": "n" * 32}, "current": "2"})
    assert read_token(rotated, old, NOW).complaint_id == TWEET
    assert make_token(rotated, TWEET, "lko-sp", NOW + timedelta(days=3)) != old
    retired = LinkKeys.from_secret({"keys": {"2": "n" * 32}, "current": "2"})
    with pytest.raises(LinkRefused, match="not valid"):
        read_token(retired, old, NOW)


def test_the_secret_generated_at_deploy_is_one_current_key():
    keys = LinkKeys.from_secret({"key": "ab" * 32})
    assert keys.current == 1 and keys.keys[1] == bytes.fromhex("ab" * 32)


def test_a_link_lasts_until_a_day_after_the_resolution_deadline_and_at_least_three_days():
    assert link_expiry(NOW, NOW + timedelta(hours=4)) == NOW + timedelta(days=3)
    assert link_expiry(NOW, NOW + timedelta(days=5)) == NOW + timedelta(days=6)
