import pytest
from sevalocal.fakex import QueryError, compile_query


def tweet(text, **extra):
    return {"text": text, **extra}


def test_mention_operator_matches_mentions_in_any_case():
    match = compile_query("(@Uppolice OR @agrapolice) -is:retweet")
    assert match(tweet("@UPPOLICE help"), "someone")
    assert match(tweet("hello @agrapolice"), "someone")
    assert not match(tweet("uppolice without at"), "someone")
    assert not match(tweet("@uppolice x", referenced_tweets=[{"type": "retweeted", "id": "1"}]), "someone")


def test_from_and_negation():
    match = compile_query("from:agrapolice -is:reply")
    assert match(tweet("news"), "AgraPolice")
    assert not match(tweet("news"), "other")


@pytest.mark.parametrize("bad", ["", "(@a OR", "@a)", "lang:xx"])
def test_malformed_queries_are_rejected(bad):
    with pytest.raises(QueryError):
        compile_query(bad)
