from sevalocal.faults import FaultPlan


def decisions(plan: FaultPlan, stream: str, n: int = 200) -> list[bool]:
    return [plan.draw(stream) is not None for _ in range(n)]


def test_same_seed_same_faults_other_seed_other_faults():
    first, second, other = FaultPlan(0.2, 7), FaultPlan(0.2, 7), FaultPlan(0.2, 8)
    assert decisions(first, "x") == decisions(second, "x")
    assert decisions(FaultPlan(0.2, 7), "x") != decisions(other, "x")


def test_streams_are_independent_and_rate_is_respected():
    plan = FaultPlan(0.2, 7)
    x_only = decisions(FaultPlan(0.2, 7), "x", 2000)
    interleaved = []
    for _ in range(2000):
        plan.draw("aws:dynamodb")  # another stream's traffic does not shift this one's decisions
        interleaved.append(plan.draw("x") is not None)
    assert interleaved == x_only
    assert 0.17 < sum(x_only) / len(x_only) < 0.23


def test_zero_rate_never_fails():
    assert not any(decisions(FaultPlan(0.0, 1), "x"))


def test_a_burst_makes_the_next_events_of_its_stream_fail_too():
    import random

    plan = FaultPlan(0.2, 7)
    plan.burst("aws:sns", random.Random(1))
    run = 0
    while plan.in_burst("aws:sns"):
        run += 1
    assert 1 <= run <= 7  # BURSTS: 2 to 8 failures in a row, the first one drawn before
    assert not plan.in_burst("x:503")
