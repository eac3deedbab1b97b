"""The officer directory's lifecycle (seva_tools.officers) against moto over HTTP: rows, email subscriptions and
their filter policies (judged with moto's SNS filter-policy matcher on the attributes the notifier really
publishes), confirmation, invalid rows, and the CLI's errors."""

from __future__ import annotations

import json
import subprocess
import sys

import boto3
import pytest
from moto.sns.utils import FilterPolicyMatcher
from seva.officers import Officer, mailbox_key
from seva_tools.officers import Directory, main

from tests.integration.conftest import ROOT


def officer(officer_id: str, district: str = "162", email: str | None = None, phone: str = "+447700900001"):
    return Officer(district=district, officer_id=officer_id, name=officer_id, role="sho", phone=phone, email=email)


@pytest.fixture
def env(stack, aws_url, monkeypatch):
    values = {
        "AWS_ENDPOINT_URL": aws_url,
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_REGION": "ap-south-1",
        "OFFICERS_TABLE": stack.tables["OfficersTable"],
        "OFFICER_EMAIL_TOPIC_ARN": stack.topics["OfficerEmailTopic"],
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


@pytest.fixture
def directory(env):
    return Directory(env["OFFICERS_TABLE"], env["OFFICER_EMAIL_TOPIC_ARN"], "ap-south-1")


def sns():
    return boto3.client("sns", region_name="ap-south-1")


def email_subscriptions(topic: str) -> dict[str, dict]:
    """Each email endpoint's subscription: its ARN as listed and its attributes."""
    client, out = sns(), {}
    for s in client.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]:
        if s["Protocol"] == "email":
            out[s["Endpoint"]] = {"listed": s["SubscriptionArn"]}
    return out


def policy_of(directory: Directory, email: str) -> dict:
    row = next(r for r in directory.rows() if r.email == email)
    return json.loads(
        sns().get_subscription_attributes(SubscriptionArn=row.subscription_arn)["Attributes"]["FilterPolicy"]
    )


def delivered(policy: dict, to: Officer) -> bool:
    """Would an email the notifier publishes for ``to`` reach a subscription with ``policy``? (The attributes are
    the ones seva.notify sets on every officer email.)"""
    attributes = {
        "officer_id": to.officer_id,
        "district": to.district,
        "mailbox": mailbox_key(to.email or ""),
        "purpose": "complaint",
    }
    wire = {k: {"Type": "String", "Value": v} for k, v in attributes.items()}
    return FilterPolicyMatcher(policy, None).matches(wire, "{}")


def test_shared_mailbox_serves_both_officers_and_only_them(directory, env):
    # Given two officers, in two districts, who share one mailbox, and a third officer with their own
    a = officer("lko-sho", "162", "thana@example.org")
    b = officer("agr-sho", "118", "Thana@Example.org")
    c = officer("lko-co", "162", "co@example.org")
    # When they are imported
    directory.put([a, b, c])
    # Then SNS holds one subscription for the shared mailbox, whose filter lets both officers' mail through ...
    subs = email_subscriptions(env["OFFICER_EMAIL_TOPIC_ARN"])
    assert sorted(s.lower().strip() for s in subs) == ["co@example.org", "thana@example.org"]
    shared = policy_of(directory, a.email)
    assert delivered(shared, a) and delivered(shared, b)
    # ... and no one else's: not the third officer, and not a district/officer pairing that does not exist
    assert not delivered(shared, c)
    assert not delivered(shared, officer("agr-sho", "162", "thana@example.org"))
    assert not delivered(shared, officer("lko-sho", "118", "thana@example.org"))
    assert delivered(policy_of(directory, c.email), c) and not delivered(policy_of(directory, c.email), a)


def test_changing_an_email_or_removing_an_officer_unsubscribes_the_old_address(directory, env):
    topic = env["OFFICER_EMAIL_TOPIC_ARN"]
    # Given officers with their own mailboxes and one shared
    directory.put(
        [
            officer("lko-sho", email="old@example.org"),
            officer("lko-co", email="shared@example.org"),
            officer("lko-sp", email="shared@example.org"),
        ]
    )
    assert set(email_subscriptions(topic)) == {"old@example.org", "shared@example.org"}
    # When one officer's email changes
    directory.put([officer("lko-sho", email="new@example.org")])
    # Then the old address is unsubscribed and the new one subscribed
    assert set(email_subscriptions(topic)) == {"new@example.org", "shared@example.org"}
    # When one of the two officers sharing a mailbox is removed, the mailbox stays for the other only
    assert directory.remove("162", "lko-co") is not None
    policy = policy_of(directory, "shared@example.org")
    assert delivered(policy, officer("lko-sp", email="shared@example.org"))
    assert not delivered(policy, officer("lko-co", email="shared@example.org"))
    # And when the last officer using it is removed, it is unsubscribed
    directory.remove("162", "lko-sp")
    assert set(email_subscriptions(topic)) == {"new@example.org"}
    # And an old address's mail never matches the new subscription (the mailbox is part of the filter)
    assert not delivered(policy_of(directory, "new@example.org"), officer("lko-sho", email="old@example.org"))


def test_list_shows_pending_until_the_officer_confirms(directory, env, capsys):
    # Given a new officer with an email: SNS has asked the mailbox to confirm
    changes = directory.put([officer("lko-sho", email="sho@example.org", phone="+447700900123")])
    assert any("confirmation" in note for note in changes.notes)
    assert main(["list"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "lko-sho" in x)
    assert "pending" in line and "+447700900123" not in line
    # When the officer clicks the link (ConfirmSubscription with the token SNS mailed)
    arn = next(r.subscription_arn for r in directory.rows() if r.officer_id == "lko-sho")
    sns().confirm_subscription(TopicArn=env["OFFICER_EMAIL_TOPIC_ARN"], Token=arn.rsplit(":", 1)[-1])
    # Then the list says confirmed
    assert main(["list"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "lko-sho" in x)
    assert "confirmed" in line and "pending" not in line


def test_one_invalid_row_never_stops_the_districts_other_officers(directory, env):
    from seva.dal.officers import DynamoOfficerDirectory

    # Given a district with a good officer and two broken rows (a bad phone; a list where a string belongs)
    directory.put([officer("lko-good")])
    ddb = boto3.client("dynamodb", region_name="ap-south-1")
    base = {"district": {"S": "162"}, "name": {"S": "x"}, "role": {"S": "sho"}, "language": {"S": "en"}}
    ddb.put_item(
        TableName=env["OFFICERS_TABLE"],
        Item={**base, "officer_id": {"S": "bad-phone"}, "phone": {"S": "+91 98765 4321"}},
    )
    ddb.put_item(
        TableName=env["OFFICERS_TABLE"],
        Item={**base, "officer_id": {"S": "bad-type"}, "phone": {"L": [{"S": "+447700900009"}]}},
    )
    # When the notifier reads the district
    skipped = []
    officers = DynamoOfficerDirectory(env["OFFICERS_TABLE"], "ap-south-1", skipped.append).for_district("162")
    # Then the good officer is there, each bad row is reported, and no phone number is in the report
    assert [o.officer_id for o in officers] == ["lko-good"]
    assert len(skipped) == 2
    text = " ".join(s.line() for s in skipped)
    assert "phone" in text and "98765" not in text and "900009" not in text


def run_cli(args, env, **kw):
    return subprocess.run(
        [sys.executable, "-m", "sevalocal.cli", *args],
        env={**env, "PATH": "/usr/bin:/bin", "PYTHONPATH": f"{ROOT}/functions:{ROOT}/infra"},
        capture_output=True,
        text=True,
        timeout=120,
        **kw,
    )


def one_line(result) -> str:
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_cli_mistakes_end_in_one_line_and_their_exit_code(env, tmp_path):
    add = ["officers", "add", "--district", "162", "--id", "x", "--name", "X", "--role", "sp"]
    # a bad phone: exit 2, the number masked
    bad = run_cli([*add, "--phone", "+91 98765 43"], env)
    assert bad.returncode == 2 and "phone" in one_line(bad) and "98765" not in bad.stderr
    # a missing file, a file that is not JSON, a file with an invalid officer: exit 3, the file named
    missing = run_cli(["officers", "import", str(tmp_path / "nope.json")], env)
    assert missing.returncode == 3 and "nope.json: no such file" in one_line(missing)
    (tmp_path / "broken.json").write_text('{"officers": [')
    broken = run_cli(["officers", "import", str(tmp_path / "broken.json")], env)
    assert broken.returncode == 3 and "broken.json: not JSON" in one_line(broken)
    (tmp_path / "bad.json").write_text(json.dumps({"officers": [{"district": "162", "officer_id": "y"}]}))
    invalid = run_cli(["officers", "import", str(tmp_path / "bad.json")], env)
    assert invalid.returncode == 3 and "officer #1 (y)" in one_line(invalid)
    # a wrong table or region: exit 4, what to check
    wrong = run_cli(["officers", "--table", "no-such-table", "list"], env)
    assert wrong.returncode == 4 and "'no-such-table' not found" in one_line(wrong)
    region = run_cli(["officers", "--region", "not a region", "list"], env)
    assert region.returncode == 4 and "region" in one_line(region)
    # no table set at all: exit 2
    unset = run_cli(["officers", "list"], {k: v for k, v in env.items() if k != "OFFICERS_TABLE"})
    assert unset.returncode == 2 and "OFFICERS_TABLE" in one_line(unset)
    # an unknown option: exit 2, one line
    usage = run_cli(["officers", "lsit"], env)
    assert usage.returncode == 2 and "invalid choice: 'lsit'" in one_line(usage)
    # removing no one: exit 1
    nobody = run_cli(["officers", "remove", "--district", "162", "--id", "nobody"], env)
    assert nobody.returncode == 1 and "no officer nobody" in one_line(nobody)
