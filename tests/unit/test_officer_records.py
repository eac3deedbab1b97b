"""Officer records: a phone number never reaches a repr, an error or a log line."""

from __future__ import annotations

import pytest
from seva.officers import InvalidOfficer, Officer, mailbox_key, mask_phones, parse_officer


def test_an_officers_repr_has_no_phone_number():
    officer = Officer(district="162", officer_id="lko-sp", name="SP", role="sp", phone="+91 98765 43210")
    assert officer.phone == "+919876543210"
    assert "98765" not in repr(officer) and "98765" not in str(officer)


@pytest.mark.parametrize("phone", ["+91 98765 4321", "98765", "+91 98765 432109876", "+1 98765 43210"])
def test_an_invalid_record_says_what_is_wrong_without_the_number(phone):
    parsed = parse_officer({"district": "162", "officer_id": "x", "name": "X", "role": "sp", "phone": phone})
    assert isinstance(parsed, InvalidOfficer)
    assert "phone" in parsed.line() and "98765" not in parsed.line() and "900 12" not in parsed.line()


@pytest.mark.parametrize(
    "text",
    [
        "call +91 98765 43210 now",
        "call +91-98765-43210 now",
        "call 9876543210 now",
        "call (+91) 98765.43210 now",
    ],
)
def test_phone_numbers_in_free_text_are_masked(text):
    assert "98765" not in mask_phones(text) and "43210" not in mask_phones(text)


def test_an_aws_account_id_in_an_arn_is_not_taken_for_a_phone_number():
    arn = "arn:aws:sns:ap-south-1:123456789012:seva-officer-email"
    assert mask_phones(arn) == arn


def test_the_mailbox_key_ignores_case_and_spaces():
    assert mailbox_key(" Thana@Example.org") == mailbox_key("thana@example.org") != mailbox_key("other@example.org")
