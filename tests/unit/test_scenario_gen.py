"""The flood bench's and the burst demo's scenarios: what they claim to hold, they hold."""

from seva.triage import default_triager
from sevalocal.scenario_gen import burst, flood_then_sos


def test_the_flood_holds_no_p1_and_every_sos_is_p1_after_the_gap():
    # Given a flood of 60 routine complaints over 60 s, then 5 SOS 30 s after it
    flood, sos = flood_then_sos(60, 5, flood_seconds=60, gap_seconds=30, start=5)
    triager = default_triager()

    def priority(record):
        result = triager.classify(record["tweet"], record["author"], None)
        return result.priority if result.is_complaint else "noise"

    # Then triage reads every flood tweet as a routine complaint and every SOS as a P1
    assert {priority(r) for r in flood} <= {"P2", "P3"}
    assert {priority(r) for r in sos} == {"P1"}
    # And the SOS come 30 s after the flood's last tweet, each tweet from its own citizen, ids unique
    assert min(r["at"] for r in sos) >= max(r["at"] for r in flood) + 29
    records = flood + sos
    assert len({r["author"]["id"] for r in records}) == len(records)
    assert len({r["tweet"]["id"] for r in records}) == len(records)


def test_a_burst_is_n_tweets_within_one_minute():
    records = burst(500, seconds=60)
    assert len(records) == 500
    assert max(r["at"] for r in records) <= 60


def test_seva_demo_burst_refuses_a_bad_count_or_a_scenario_with_one_line(capsys):
    from sevalocal.cli import main as seva

    assert seva(["demo", "--burst", "0"]) == 2
    assert seva(["demo", "--burst", "10", "--scenario", "x.jsonl"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all("--burst" in line for line in err)
