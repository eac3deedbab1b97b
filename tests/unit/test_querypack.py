from seva.querypack import pack_queries, render
from seva.registry import load_registry


def test_bundled_registry_packs_into_the_minimum_number_of_512_char_queries():
    # Given the bundled registry of 122 handles
    usernames = load_registry().usernames
    assert len(usernames) == 122
    # When packed
    queries = pack_queries(usernames, 512)
    # Then every query fits, every handle is in exactly one query, and the count is the lower bound
    assert all(len(q.text) <= 512 for q in queries)
    packed = [h for q in queries for h in q.handles]
    assert sorted(packed) == sorted(u.lower() for u in usernames)
    total = sum(len(u) + 1 for u in usernames) + len(" OR ") * (len(usernames) - len(queries))
    lower_bound = -(-total // (512 - len("() -is:retweet")))
    assert len(queries) <= lower_bound + 1
    assert 4 <= len(queries) <= 5


def test_packing_is_deterministic_and_keys_are_stable():
    usernames = load_registry().usernames
    first, second = pack_queries(usernames), pack_queries(list(reversed(usernames)))
    assert [q.key for q in first] == [q.key for q in second]


def test_query_syntax():
    assert render(("a", "b")) == "(@a OR @b) -is:retweet"
    assert render(("a",)) == "@a -is:retweet"


def test_small_limits_make_more_queries():
    queries = pack_queries([f"handle{i:03d}" for i in range(40)], max_length=100)
    assert all(len(q.text) <= 100 for q in queries)
    assert len({h for q in queries for h in q.handles}) == 40
