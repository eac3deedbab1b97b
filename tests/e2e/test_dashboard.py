"""The web app in a real headless Chromium (Debian's ``chromium``, driven by Playwright; no browser download), on
the local cloud: the page is served by the local CloudFront from the web bucket, signs in against moto's cognito-idp,
and calls the HTTP API the template wires. Screenshots go to ``.localcloud/screenshots`` (SEVA_SCREENSHOT_DIR)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import time
from pathlib import Path

import pytest
from sevalocal.aws import infra_client
from sevalocal.demo import DemoOptions, LocalCloud, figures_report
from sevalocal.scenario import ScenarioTweet, load_scenario

CHROMIUM = os.environ.get("SEVA_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip(
        "Debian's chromium is not installed (make browser, run by make test, installs it)", allow_module_level=True
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make setup)")

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("SEVA_SCREENSHOT_DIR", ROOT / ".localcloud" / "screenshots"))
PASSWORD = "Seva-local-Passw0rd"
AGRA, ALIGARH = "118", "119"
FIRST = {
    "id": "2116832631868882944",
    "lang": "en",
    "conversation_id": "2116832631868882944",
    "text": "@agrapolice meri bike chori ho gayi Sadar Bazar Agra se, kal shaam. FIR nahi likh rahe",
    "entities": {"mentions": [{"start": 0, "end": 11, "username": "agrapolice"}]},
    "author_id": "1500000002",
}
AUTHOR = {"id": "1500000002", "username": "fatima_8985", "name": "Fatima Tiwari"}


def poll(check, deadline_s: float = 90.0, every_s: float = 0.2):  # type: ignore[no-untyped-def]
    end = time.time() + deadline_s
    while time.time() < end:
        found = check()
        if found:
            return found
        time.sleep(every_s)
    raise AssertionError(f"not seen within {deadline_s} s: {check.__doc__ or ''}")


def make_user(cloud: LocalCloud, username: str, district: str, officer_id: str | None, group: str) -> None:
    idp = infra_client("cognito-idp", cloud.aws.url)
    pool = next(iter(cloud.deployment.user_pools.values()))
    attributes = [{"Name": "custom:district", "Value": district}]
    if officer_id:
        attributes.append({"Name": "custom:officer_id", "Value": officer_id})
    idp.admin_create_user(UserPoolId=pool, Username=username, UserAttributes=attributes, MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username=username, Password=PASSWORD, Permanent=True)
    idp.admin_add_user_to_group(UserPoolId=pool, Username=username, GroupName=group)


def publish_now(cloud: LocalCloud, tweet: dict, author: dict) -> str:
    """Publish a tweet on the fake X now (scenario time since the emulator started); X's id for it."""
    at = (time.time() - cloud.emulator.started) * cloud.options.speed + 1.0
    item = ScenarioTweet(at=at, tweet=dict(tweet, conversation_id=tweet["id"]), author=author)
    cloud.publish([item])
    return cloud.ids[tweet["id"]]


def stored(cloud: LocalCloud, tweet_id: str) -> dict:
    table = cloud.deployment.tables["ComplaintsTable"]
    return cloud.ddb.get_item(TableName=table, Key={"tweet_id": {"S": tweet_id}}, ConsistentRead=True).get("Item", {})


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dashboard")
    scenario = tmp / "one.jsonl"
    scenario.write_text(json.dumps({"at": 1.0, "tweet": FIRST, "author": AUTHOR}) + "\n", encoding="utf-8")
    local = LocalCloud(DemoOptions(scenario=scenario, speed=60.0, quiet=True, log_dir=tmp / "logs"))
    halt = local.emulator.serve()
    local.publish(load_scenario(scenario))
    make_user(local, "cell.duty", "HQ", None, "state_cell")
    make_user(local, "sp.agra", AGRA, "agr-sp", "district")
    try:
        yield local
    finally:
        halt()
        local.close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(accept_downloads=True, locale="en-IN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(30_000)
    yield page
    context.close()
    assert not errors, f"script errors on the page: {errors}"


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page, cloud: LocalCloud, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{cloud.url}/?refresh=500")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("#queue")


@pytest.fixture(scope="module")
def first(cloud):
    """The first complaint, routed."""
    tweet_id = cloud.ids[FIRST["id"]]
    poll(lambda: stored(cloud, tweet_id).get("status", {}).get("S") == "ROUTED")
    return tweet_id


def test_a_wrong_password_is_refused_with_one_clear_line(cloud, page):
    # Given the sign-in form, when the password is wrong, then one clear error line and no queue
    page.goto(cloud.url)
    page.get_by_label("Username").fill("cell.duty")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("#signin-error:has-text('Sign-in failed')")
    assert page.locator("#queue").count() == 0 and "password" not in page.url


def test_the_live_queue_shows_a_tweet_published_after_the_page_loaded(cloud, page, first):
    # Given the state cell signed in, the first complaint in the queue
    sign_in(page, cloud, "cell.duty")
    page.wait_for_selector(f"#queue tr[data-id='{first}']")
    # When a citizen tweets after the page loaded
    second = publish_now(
        cloud,
        {
            "id": "2116832631868882999",
            "lang": "hi",
            "text": "@agrapolice कमला नगर आगरा में मेरा पर्स छीन लिया गया, मदद करें",
            "entities": {"mentions": [{"start": 0, "end": 11, "username": "agrapolice"}]},
            "author_id": "1500000003",
        },
        {"id": "1500000003", "username": "ravi_up80", "name": "Ravi"},
    )
    # Then it appears in the queue without a reload, marked new, with its deadline state
    row = page.wait_for_selector(f"#queue tr[data-id='{second}']", timeout=90_000)
    assert row.get_attribute("data-deadline") in ("on_time", "due_soon", "breached")
    assert "पर्स" in row.inner_text()
    shot(page, "dashboard-queue")
    # And a filter narrows it (P1 only: neither of these)
    page.get_by_label("Priority").select_option("P1")
    page.wait_for_selector(f"#queue tr[data-id='{second}']", state="detached")


def test_acting_on_a_complaint_changes_its_timeline_and_reassign_moves_it(cloud, page, first):
    # Given the Agra SP on the complaint's page
    sign_in(page, cloud, "sp.agra")
    page.click(f"#queue tr[data-id='{first}'] a")
    page.wait_for_selector("#timeline li[data-action='ROUTE']")
    # When they acknowledge it
    page.click("#actions button[data-action='acknowledge']")
    # Then the timeline shows it, in their name, through the API, and the store agrees
    entry = page.wait_for_selector("#timeline li[data-action='ACKNOWLEDGE']")
    assert "agr-sp" in entry.inner_text() and "api" in entry.inner_text()
    assert stored(cloud, first)["status"]["S"] == "ACKNOWLEDGED"
    shot(page, "dashboard-complaint")
    # When they reassign it to Aligarh
    page.get_by_label("Reassign to").select_option(ALIGARH)
    page.click("#actions button[data-action='reassign']")
    # Then it is Aligarh's (and no longer theirs: the page says so)
    poll(lambda: stored(cloud, first).get("district_code", {}).get("N") == ALIGARH, 30)
    page.wait_for_selector("#action-result")
    assert stored(cloud, first)["status"]["S"] == "ROUTED"


def test_the_state_cell_exports_the_queue_as_csv(cloud, page, first):
    sign_in(page, cloud, "cell.duty")
    page.wait_for_selector(f"#queue tr[data-id='{first}']")
    with page.expect_download() as download:
        page.click("#export-csv")
    path = download.value.path()
    rows = list(csv.DictReader(io.StringIO(Path(path).read_text(encoding="utf-8"))))
    reference = stored(cloud, first)["reference"]["S"]
    assert download.value.suggested_filename.startswith("complaints-all-")
    assert reference in {r["reference"] for r in rows}
    assert {"reference", "status", "priority", "district", "received_at", "deadline"} <= set(rows[0])


def test_performance_charts_and_review_and_hindi(cloud, page, first):
    sign_in(page, cloud, "cell.duty")

    def received() -> bool:
        """the figures count the complaints received"""
        page.goto(f"{cloud.url}/#/performance")
        page.wait_for_selector("#figures")
        return int(page.locator("#figures .card .value").first.inner_text()) >= 1

    poll(received, 60, 0.5)
    assert figures_report(cloud)["received"] >= 1  # what the demo's report shows, read the same way
    # Chart.js drew both charts (canvases with pixels) and the district table lists Agra
    page.wait_for_function("Chart.getChart('chart-ack') && Chart.getChart('chart-sla')")
    assert page.locator("#by-district").inner_text().count("Agra") >= 1
    shot(page, "dashboard-performance")
    page.goto(f"{cloud.url}/#/review")
    page.wait_for_selector("#review")
    # Hindi: the whole page switches
    page.click("#lang")
    page.wait_for_selector("h2:has-text('समीक्षा कतार')")
    assert page.evaluate("document.documentElement.lang") == "hi"


def test_a_correction_is_recorded_and_exported_as_labelled_data(cloud, page, first):
    # Given the state cell on the complaint's page
    sign_in(page, cloud, "cell.duty")
    page.goto(f"{cloud.url}/#/c/{first}")
    page.wait_for_selector("#timeline li[data-action='ROUTE']")
    # When they correct triage's category
    page.get_by_label("Category (review)").select_option("cyber_fraud")
    page.click("#actions button[data-action='review']")
    # Then the timeline records the correction, and the labelled data export carries it
    entry = page.wait_for_selector("#timeline li[data-action='REVIEW']")
    assert "corrected" in entry.inner_text()
    page.goto(f"{cloud.url}/#/review")
    page.wait_for_selector("#review")

    def exported() -> list[dict]:
        """the correction in the labelled data export"""
        with page.expect_download() as download:
            page.click("#export-labels")
        lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if json.loads(line)["tweet"]["id"] == first]

    line = poll(exported, 60, 0.5)[0]
    assert line["label"]["category"] == "cyber_fraud" and line["review"]["verdict"] == "corrected"


def test_every_control_has_a_label_and_the_keyboard_reaches_the_queue(cloud, page, first):
    sign_in(page, cloud, "cell.duty")
    page.wait_for_selector(f"#queue tr[data-id='{first}']")
    unlabelled = page.evaluate(
        """[...document.querySelectorAll('input, select, textarea, button')]
             .filter(e => !e.closest('[hidden]'))
             .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
             .map(e => e.outerHTML)"""
    )
    assert unlabelled == []
    # Tab from the top of a fresh load (still signed in for this tab): the skip link first, and the queue's
    # first complaint link is reachable by keyboard
    page.reload()
    page.wait_for_selector(f"#queue tr[data-id='{first}']")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('#queue') !== null"):
            break
    assert page.evaluate("document.activeElement.getAttribute('href')").startswith("#/c/")
    page.keyboard.press("Enter")  # and Enter opens the complaint
    page.wait_for_selector("#timeline")


def test_the_queue_fits_a_phone(cloud, browser, first):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        sign_in(page, cloud, "cell.duty")
        page.wait_for_selector(f"#queue tr[data-id='{first}']")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        shot(page, "dashboard-phone")
    finally:
        context.close()


def test_the_public_page_shows_figures_and_no_personal_data(cloud, page, first):
    reference = stored(cloud, first)["reference"]["S"]

    def shown() -> bool:
        """the public page counts the complaint"""
        page.goto(f"{cloud.url}/public.html")
        page.wait_for_selector("#state .card")
        return int(page.locator("#state .card .value").first.inner_text()) >= 1

    poll(shown, 60, 0.5)
    # The page's figures are the snapshot the figures function writes to the web bucket on its schedule
    s3 = infra_client("s3", cloud.aws.url)
    bucket = next(iter(cloud.deployment.buckets.values()))
    snapshot = poll(lambda: s3.list_objects_v2(Bucket=bucket, Prefix="data/").get("Contents"), 60, 0.5)
    assert [o["Key"] for o in snapshot] == ["data/public-figures.json"]
    body = s3.get_object(Bucket=bucket, Key="data/public-figures.json")["Body"].read().decode()
    text = page.inner_text("body")
    assert "Agra" in page.inner_text("#districts")
    for personal in ("fatima", "ravi_up80", "bike", "पर्स", reference, first):
        assert personal.lower() not in text.lower() and personal.lower() not in body.lower()
    # The reference lookup: state and timestamps
    page.get_by_label("Reference (e.g. UP-LKO-2026-000123)").fill(reference)
    page.get_by_role("button", name="Find").click()
    details = page.wait_for_selector("#lookup-details")
    assert reference in details.inner_text() and "fatima" not in details.inner_text().lower()
    shot(page, "public")
