"""Delivery ledger and per-author SMS guard, in the state table."""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.attributes import UnicodeAttribute, UnicodeSetAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError
from pynamodb.models import Model


class _LedgerModel(Model):
    class Meta:
        table_name = "unbound"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    state = UnicodeAttribute(null=True)
    message_id = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    tweets = UnicodeSetAttribute(null=True)


_models: dict[tuple[str, str], type[_LedgerModel]] = {}


def _model(table_name: str, region: str) -> type[_LedgerModel]:
    key = (table_name, region)
    if key not in _models:
        meta = type("Meta", (), {"table_name": table_name, "region": region})
        _models[key] = type("Ledger", (_LedgerModel,), {"Meta": meta, "__module__": __name__})
    return _models[key]


class DynamoLedger:
    def __init__(self, table_name: str, region: str):
        self.model = _model(table_name, region)

    def claim(self, tweet_id: str, key: str) -> bool:
        m = self.model
        try:
            m(f"notify#{tweet_id}", key, state="SENDING", updated_at=datetime.now(UTC)).save(
                condition=m.pk.does_not_exist()
            )
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def complete(self, tweet_id: str, key: str, message_id: str) -> None:
        m = self.model
        m(f"notify#{tweet_id}", key).update(
            actions=[m.state.set("SENT"), m.message_id.set(message_id), m.updated_at.set(datetime.now(UTC))]
        )

    def entries(self, tweet_id: str) -> list[_LedgerModel]:
        return list(self.model.query(f"notify#{tweet_id}", consistent_read=True))


class DynamoAuthorGuard:
    """Complaints per author per hour, counted as a set of tweet ids: a redelivery does not count twice."""

    def __init__(self, table_name: str, region: str):
        self.model = _model(table_name, region)

    def complaints_this_hour(self, author_id: str, tweet_id: str, now: datetime) -> int:
        m = self.model
        item = m("sms#author", f"{author_id}#{now:%Y%m%d%H}")
        item.update(actions=[m.tweets.add({tweet_id}), m.updated_at.set(now)])
        tweets = sorted(item.tweets or [])
        # this complaint's place in the hour, stable under redelivery
        return tweets.index(tweet_id) + 1 if tweet_id in tweets else len(tweets)
