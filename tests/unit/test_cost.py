"""Cost per 1,000 complaints: every part priced from the one prices file, scaled to 1,000 complaints."""

import pytest
from sevalocal.cost import PRICES, Usage, cost_per_1000_complaints, load_prices


def prices() -> dict:
    """Round prices, so the expected figures can be worked out by hand."""
    usd = lambda v: {"usd": v}  # noqa: E731
    return {
        "x": {
            "post_read": usd(0.005),
            "user_read": usd(0.01),
            "post_create": usd(0.01),
            "post_create_with_url": usd(0.2),
        },
        "sms": {"india_dlt_segment": usd(0.003)},
        "aws": {
            "dynamodb_write_request_unit": usd(1e-6),
            "dynamodb_read_request_unit": usd(1e-7),
            "dynamodb_units_per_request": {"PutItem": 1, "TransactWriteItems": 4, "Query": 1},
            "lambda_request": usd(2e-7),
            "sqs_request": usd(4e-7),
            "sns_publish": usd(5e-7),
            "sns_email_delivery": usd(2e-5),
            "eventbridge_event": usd(1e-6),
            "pipes_request": usd(4e-7),
            "secretsmanager_api_call": usd(5e-6),
        },
    }


def test_x_reads_count_every_post_returned_and_posts_split_by_url():
    # Given 500 complaints whose searches returned 2,000 posts (Seva's replies and officers' answers read back
    # by the response queries included), 3 user lookups, 400 replies and 1 post with a URL
    usage = Usage(complaints=500, x_posts_read=2000, x_users_read=3, x_posts_created=400, x_posts_created_with_url=1)
    # When it is priced
    cost = cost_per_1000_complaints(usage, prices())
    # Then reads are $0.005 a post and $0.01 a user, posts $0.01 and $0.20 with a URL, scaled to 1,000 complaints
    assert cost["x_reads"] == pytest.approx((2000 * 0.005 + 3 * 0.01) * 2)
    assert cost["x_posts"] == pytest.approx((400 * 0.01 + 0.2) * 2)
    assert cost["run_total_usd"] == pytest.approx(2000 * 0.005 + 3 * 0.01 + 400 * 0.01 + 0.2)
    assert cost["total"] == pytest.approx(cost["run_total_usd"] * 2)


def test_sms_is_priced_per_segment_and_sns_publishes_are_not_counted_twice():
    # Given 1,000 complaints, 1,500 SMS segments and the handlers' 1,200 sns.Publish calls (SMS and topics)
    usage = Usage(
        complaints=1000,
        sms_segments=1500,
        sns_topic_publishes=200,
        sns_email_deliveries=150,
        aws_requests={"sns.Publish": 1200},
    )
    cost = cost_per_1000_complaints(usage, prices())
    # Then SMS cost segments × the DLT price; the publishes are priced as topic publishes and email deliveries only
    assert cost["sms"] == pytest.approx(1500 * 0.003)
    assert cost["aws"] == pytest.approx(200 * 5e-7 + 150 * 2e-5)
    assert cost["unpriced"] == {}


def test_aws_requests_at_list_prices_and_unknown_operations_are_listed_unpriced():
    usage = Usage(
        complaints=100,
        aws_requests={
            "dynamodb.PutItem": 10,
            "dynamodb.TransactWriteItems": 5,
            "dynamodb.Query": 20,
            "dynamodb.DescribeTable": 7,
            "sqs.SendMessage": 3,
            "secretsmanager.GetSecretValue": 4,
            "kinesis.PutRecord": 9,
        },
        lambda_invocations=50,
        pipe_events=30,
        sqs_lane_requests=60,
    )
    cost = cost_per_1000_complaints(usage, prices())
    run = (
        10 * 1e-6
        + 5 * 4 * 1e-6  # a transaction: 4 write units
        + 20 * 1e-7
        + 3 * 4e-7
        + 4 * 5e-6
        + 50 * 2e-7
        + 30 * (4e-7 + 1e-6)  # each pipe event: a Pipes request and a custom event
        + 60 * 4e-7
    )
    assert cost["aws"] == pytest.approx(run * 10)
    assert cost["unpriced"] == {"kinesis.PutRecord": 9}


def test_no_complaints_costs_nothing_per_1000_without_dividing_by_zero():
    cost = cost_per_1000_complaints(Usage(complaints=0, x_posts_read=40), prices())
    assert cost["total"] == 0.0 and cost["run_total_usd"] == pytest.approx(0.2)


def test_the_prices_file_documents_every_price_it_gives():
    # Given the one prices file
    data = load_prices(PRICES)
    # Then every price has a unit, a source and the date it was checked, and the function can use it
    for section in ("x", "sms", "aws"):
        for name, entry in data[section].items():
            if isinstance(entry, dict) and "usd" in entry:
                assert entry["usd"] > 0 and entry["unit"] and entry["source"] and entry["checked"], name
    assert data["x"]["post_read"]["usd"] == 0.005 and data["x"]["post_create_with_url"]["usd"] == 0.2
    cost = cost_per_1000_complaints(Usage(complaints=1, x_posts_read=1, aws_requests={"dynamodb.GetItem": 1}), data)
    assert cost["x_reads"] == pytest.approx(5.0)


def test_usage_is_read_from_the_local_clouds_ground_truth():
    from collections import Counter
    from types import SimpleNamespace

    from sevalocal.demo import usage

    # Given a run in which SNS accepted a 1-segment SMS, a 2-segment Hindi SMS, an email-topic and an SOS-topic
    # publish; X returned 30 posts and 2 users; Seva posted a reply and a post with a link; the lanes ran 2
    # batches of 7 messages and the pipe put 9 events
    cloud = SimpleNamespace(
        aws_app=SimpleNamespace(
            published=[
                {"phone": "+447700900001", "message": "UP-LKO-2026-000001 P1 assault Lucknow"},
                {"phone": "+447700900002", "message": "शिकायत " * 20},
                {"topic": "arn:email", "message": "{}"},
                {"topic": "arn:sos", "message": "{}"},
            ],
            requests=Counter({"dynamodb.PutItem": 3, "sns.Publish": 4}),
        ),
        deployment=SimpleNamespace(topics={"OfficerEmailTopic": "arn:email", "SosTopic": "arn:sos"}),
        emulator=SimpleNamespace(
            stats=Counter(
                {
                    "NotifyFunction.P1Lane.batches": 1,
                    "NotifyFunction.P1Lane.records": 1,
                    "NotifyFunction.NormalLane.batches": 1,
                    "NotifyFunction.NormalLane.records": 6,
                    "RouteFunction.NewComplaints.batches": 5,
                    "NotifyFunction.invocations": 2,
                    "RouteFunction.invocations": 5,
                    "Pipe.seva-x-lifecycle.events": 9,
                }
            )
        ),
        fakex=SimpleNamespace(
            returned=Counter({"posts": 30, "users": 2}),
            replies=[{"text": "Registered as UP-LKO-2026-000001"}, {"text": "Track it at https://example.org/c/1"}],
        ),
    )
    # When the usage is read
    used = usage(cloud, complaints=7)  # type: ignore[arg-type]
    # Then every figure comes from what the fake services saw
    assert (used.x_posts_read, used.x_users_read) == (30, 2)
    assert (used.x_posts_created, used.x_posts_created_with_url) == (1, 1)
    assert used.sms_segments == 1 + 3  # 140 UCS-2 characters: 3 parts of 67
    assert (used.sns_topic_publishes, used.sns_email_deliveries) == (2, 1)
    assert used.lambda_invocations == 7 and used.pipe_events == 9
    assert used.sqs_lane_requests == 7 + 2 * 2  # a send per message, a receive and a delete per batch
    assert used.aws_requests == {"dynamodb.PutItem": 3, "sns.Publish": 4}


def test_the_fake_x_bills_a_post_read_twice_in_a_day_once():
    from datetime import UTC, datetime

    from sevalocal.fakex import FakeX
    from werkzeug.test import Client

    # Given 3 searchable posts mentioning a registered handle
    now = [datetime(2026, 11, 1, 10, 0, tzinfo=UTC).timestamp()]
    x = FakeX(speed=1.0, clock=lambda: now[0])
    for i in range(3):
        author = {"id": "7", "username": "c", "name": "C"}
        x.publish({"id": 10 + i, "text": f"@agrapolice help {i}"}, author, None, now[0] - 3600)
    client = Client(x.wsgi)
    headers = {"Authorization": f"Bearer {x.bearer_token}"}

    def search() -> None:
        out = client.get("/2/tweets/search/recent?query=@agrapolice&max_results=10", headers=headers)
        assert out.status_code == 200 and out.json["meta"]["result_count"] == 3

    # When the same search runs twice the same day, then once the next day
    search()
    search()
    assert (x.returned["posts_returned"], x.returned["posts"]) == (6, 3)
    now[0] += 86400
    search()
    # Then every post returned is counted, and billed once a day (X's daily deduplication)
    assert (x.returned["posts_returned"], x.returned["posts"]) == (9, 6)
