"""The officers' side through the emulated HTTP API: real signed links from the SMS that SNS accepted, real JWTs
from moto's cognito-idp checked against its JWKS, the API function invoked as template.yaml wires it."""

from __future__ import annotations

import base64
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from sevalocal.aws import infra_client
from sevalocal.demo import DemoOptions, LocalCloud
from sevalocal.scenario import load_scenario

PASSWORD = "Seva-local-Passw0rd"
AGRA, ALIGARH = "118", "119"


def http(method: str, url: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def poll(check, deadline_s: float = 90.0, every_s: float = 0.2):  # type: ignore[no-untyped-def]
    end = time.time() + deadline_s
    while time.time() < end:
        found = check()
        if found:
            return found
        time.sleep(every_s)
    raise AssertionError(f"not seen within {deadline_s} s: {check.__doc__ or ''}")


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("api")
    scenario = tmp / "one.jsonl"
    scenario.write_text(
        json.dumps(
            {
                "at": 1.0,
                "tweet": {
                    "id": "2116832631868882944",
                    "lang": "en",
                    "conversation_id": "2116832631868882944",
                    "text": "@agrapolice meri bike chori ho gayi Sadar Bazar Agra se, kal shaam. FIR nahi likh rahe",
                    "entities": {"mentions": [{"start": 0, "end": 11, "username": "agrapolice"}]},
                    "author_id": "1500000002",
                },
                "author": {"id": "1500000002", "username": "fatima_8985", "name": "Fatima Tiwari"},
            }
        )
        + "\n",
        encoding="utf-8",
    )
    local = LocalCloud(DemoOptions(scenario=scenario, speed=60.0, quiet=True, log_dir=tmp / "logs"))
    halt = local.emulator.serve()
    local.publish(load_scenario(scenario))
    try:
        yield local
    finally:
        halt()
        local.close()


def sms_links(cloud: LocalCloud, phone: str) -> list[str]:
    return [
        m.group(0)
        for p in cloud.aws.published
        if p.get("phone") == phone
        for m in [re.search(r"https?://\S+/a/[A-Za-z0-9_-]{32}", p.get("message") or "")]
        if m
    ]


def stored(cloud: LocalCloud, tweet_id: str) -> dict:
    table = cloud.deployment.tables["ComplaintsTable"]
    return cloud.ddb.get_item(TableName=table, Key={"tweet_id": {"S": tweet_id}}, ConsistentRead=True).get("Item", {})


def audit(cloud: LocalCloud, tweet_id: str) -> list[dict]:
    table = cloud.deployment.tables["AuditTable"]
    out = cloud.ddb.query(
        TableName=table,
        KeyConditionExpression="complaint_id = :c",
        ExpressionAttributeValues={":c": {"S": tweet_id}},
        ConsistentRead=True,
    )
    return out["Items"]


def sign_in(cloud: LocalCloud, username: str, district: str, officer_id: str | None, group: str) -> str:
    """A user of the pool as the state cell would create one, signed in: their ID token (a real RS256 JWT)."""
    idp = infra_client("cognito-idp", cloud.aws.url)
    pool = next(iter(cloud.deployment.user_pools.values()))
    client = next(iter(cloud.deployment.user_pool_clients.values()))
    attributes = [{"Name": "custom:district", "Value": district}]
    if officer_id:
        attributes.append({"Name": "custom:officer_id", "Value": officer_id})
    idp.admin_create_user(UserPoolId=pool, Username=username, UserAttributes=attributes, MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username=username, Password=PASSWORD, Permanent=True)
    idp.admin_add_user_to_group(UserPoolId=pool, Username=username, GroupName=group)
    result = idp.initiate_auth(
        ClientId=client, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD}
    )
    return result["AuthenticationResult"]["IdToken"]


@pytest.fixture(scope="module")
def complaint(cloud):
    """The citizen's complaint once routed, and the SP's link from the SMS that SNS accepted."""
    tweet_id = cloud.ids["2116832631868882944"]
    sp = next(o for o in cloud.officers if o.officer_id == "agr-sp")
    link = poll(lambda: sms_links(cloud, sp.phone))[0]
    return tweet_id, link


def test_a_link_preview_shows_the_complaint_and_changes_nothing(cloud, complaint):
    tweet_id, link = complaint
    before = stored(cloud, tweet_id)
    for _ in range(2):  # an SMS app's preview, then the officer
        status, page = http("GET", link)
        assert status == 200 and before["reference"]["S"] in page and "<form" in page
    after = stored(cloud, tweet_id)
    assert after["status"] == before["status"] == {"S": "ROUTED"} and after["version"] == before["version"]
    assert [e["action"]["S"] for e in audit(cloud, tweet_id) if "action" in e] == ["ROUTE"]


@pytest.mark.parametrize("how", ["tampered", "another officer's", "cut short"])
def test_a_bad_link_is_refused_with_a_clear_error_and_changes_nothing(cloud, complaint, how):
    tweet_id, link = complaint
    base, token = link.rsplit("/", 1)
    if how == "tampered":
        bad = f"{base}/{token[:10]}{'B' if token[10] == 'A' else 'A'}{token[11:]}"
    elif how == "cut short":
        bad = f"{base}/{token[:24]}"
    else:  # a link signed for the Aligarh SP, who has no say on an Agra complaint
        from seva.links import LinkKeys, make_token

        secret = cloud.sm.get_secret_value(SecretId=cloud.deployment.secrets["LinkKeySecret"])["SecretString"]
        keys = LinkKeys.from_secret(json.loads(secret))
        from datetime import UTC, datetime, timedelta

        bad = f"{base}/{make_token(keys, tweet_id, 'alg-sp', datetime.now(UTC) + timedelta(days=3))}"
    before = stored(cloud, tweet_id)
    status, page = http("POST", bad, urllib.parse.urlencode({"action": "resolve"}).encode())
    assert status == 403 and re.search(r"not valid|broken|no longer acts", page)
    assert stored(cloud, tweet_id)["version"] == before["version"]


def test_an_expired_link_is_refused(cloud, complaint):
    from datetime import UTC, datetime, timedelta

    from seva.links import LinkKeys, make_token

    tweet_id, link = complaint
    secret = cloud.sm.get_secret_value(SecretId=cloud.deployment.secrets["LinkKeySecret"])["SecretString"]
    expired = make_token(
        LinkKeys.from_secret(json.loads(secret)), tweet_id, "agr-sp", datetime.now(UTC) - timedelta(hours=2)
    )
    status, page = http("GET", f"{link.rsplit('/', 1)[0]}/{expired}")
    assert status == 403 and "expired" in page


def test_confirming_the_link_acknowledges_once_and_the_citizen_hears_it(cloud, complaint):
    tweet_id, link = complaint
    form = urllib.parse.urlencode({"action": "acknowledge"}).encode()
    status, page = http("POST", link, form, {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200 and "acknowledged" in page
    again, _ = http("POST", link, form, {"Content-Type": "application/x-www-form-urlencoded"})
    assert again == 409
    item = stored(cloud, tweet_id)
    assert item["status"]["S"] == "ACKNOWLEDGED" and item["acknowledged_by"]["S"] == "agr-sp"
    events = [e for e in audit(cloud, tweet_id) if e.get("action", {}).get("S") == "ACKNOWLEDGE"]
    assert len(events) == 1 and events[0]["via"]["S"] == "link" and events[0]["actor_id"]["S"] == "agr-sp"
    # And the citizen is told an officer has it, once, in the thread
    poll(
        lambda: [
            r
            for r in cloud.fakex.replies
            if r.get("in_reply_to_tweet_id") == tweet_id and re.search("has acknowledged|स्वीकार कर ली", r["text"])
        ]
    )


def test_the_api_needs_a_valid_token(cloud, complaint):
    api = cloud.api.url
    assert http("GET", f"{api}/api/queue")[0] == 401
    assert http("GET", f"{api}/api/queue", headers={"Authorization": "Bearer not.a.jwt"})[0] == 401
    token = sign_in(cloud, "forger", AGRA, "agr-sp", "officer")
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["custom:district"] = ALIGARH
    forged = ".".join([header, base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("="), signature])
    assert http("GET", f"{api}/api/queue", headers={"Authorization": f"Bearer {forged}"})[0] == 401


def test_an_officer_sees_their_queue_and_the_timeline_and_acts_only_in_their_district(cloud, complaint):
    tweet_id, _ = complaint
    api = cloud.api.url
    agra = {"Authorization": f"Bearer {sign_in(cloud, 'sp.agra', AGRA, 'agr-sp', 'district')}"}
    aligarh = {"Authorization": f"Bearer {sign_in(cloud, 'sp.aligarh', ALIGARH, 'alg-sp', 'district')}"}
    status, body = http("GET", f"{api}/api/complaints/{tweet_id}", headers=agra)
    view = json.loads(body)
    assert status == 200 and [e["action"] for e in view["timeline"]][:1] == ["ROUTE"]
    assert http("GET", f"{api}/api/complaints/{tweet_id}", headers=aligarh)[0] == 403
    assert http("GET", f"{api}/api/queue?district={AGRA}", headers=aligarh)[0] == 403
    act = json.dumps({"action": "resolve", "note": "bike recovered"}).encode()
    refused, body = http(
        "POST", f"{api}/api/complaints/{tweet_id}/actions", act, {**aligarh, "Content-Type": "application/json"}
    )
    assert refused == 409 and "not your district" in body
    done, body = http(
        "POST", f"{api}/api/complaints/{tweet_id}/actions", act, {**agra, "Content-Type": "application/json"}
    )
    assert done == 200 and json.loads(body)["status"] == "RESOLVED"
    timeline = json.loads(http("GET", f"{api}/api/complaints/{tweet_id}", headers=agra)[1])["timeline"]
    resolved = [e for e in timeline if e["action"] == "RESOLVE"]
    assert resolved and resolved[0]["actor"] == {"kind": "officer", "id": "agr-sp"} and resolved[0]["via"] == "api"


def test_the_state_cell_sees_any_district_and_the_public_sees_state_and_times_only(cloud, complaint):
    tweet_id, _ = complaint
    api = cloud.api.url
    cell = {
        "Authorization": f"Bearer {sign_in(cloud, 'cell.duty', 'HQ', None, 'state_cell')}",
        "Content-Type": "application/json",
    }
    reference = stored(cloud, tweet_id)["reference"]["S"]
    status, body = http("GET", f"{api}/public/complaints/{reference}")
    public = json.loads(body)
    assert status == 200 and public["reference"] == reference and public["received_at"]
    assert "fatima" not in body.lower() and "bike" not in body.lower()
    assert http("GET", f"{api}/public/complaints/UP-AGR-2026-999999")[0] == 404
    status, body = http("GET", f"{api}/api/complaints/{tweet_id}", headers=cell)
    assert status == 200 and json.loads(body)["reference"] == reference
    assert http("GET", f"{api}/api/queue?district={AGRA}", headers=cell)[0] == 200


def test_the_template_declares_the_routes_these_tests_use():
    from sevalocal.template import load_template

    resources = load_template(Path(__file__).parents[2] / "template.yaml")["Resources"]
    routes = {
        (e["Properties"]["Method"], e["Properties"]["Path"])
        for e in resources["ApiFunction"]["Properties"]["Events"].values()
    }
    assert {("GET", "/a/{token}"), ("POST", "/a/{token}"), ("GET", "/api/queue")} <= routes
