"""Reply state on the complaint, the index of pending replies, and per-handle posting budgets."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import UpdateError

from seva.dal.models import complaint_model, state_model
from seva.replying import FAILED, NOT_ALLOWED, PENDING, REPLIED

PENDING_PK = "reply#pending"


class DynamoReplyRepo:
    def __init__(self, complaints_table: str, state_table: str, region: str):
        self.complaints = complaint_model(complaints_table, region)
        self.state = state_model(state_table, region)

    def get(self, tweet_id: str) -> Any:
        try:
            return self.complaints.get(tweet_id, consistent_read=True)
        except self.complaints.DoesNotExist:
            return None

    def reply_status(self, tweet_id: str) -> tuple[str | None, int]:
        item = self.get(tweet_id)
        if item is None:
            return None, 0
        return item.reply_status, int(item.reply_attempts or 0)

    def _settle(self, tweet_id: str, actions: list) -> None:
        m = self.complaints
        try:
            m(tweet_id).update(actions=actions, condition=m.reply_status.does_not_exist() | (m.reply_status == PENDING))
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise  # already settled by another delivery: keep the first outcome
        self.clear_pending(tweet_id)

    def clear_pending(self, tweet_id: str) -> None:
        self.state(PENDING_PK, tweet_id).delete()

    def mark_replied(self, tweet_id: str, handle: str, reply_id: str, now: datetime) -> None:
        m = self.complaints
        self._settle(
            tweet_id,
            [
                m.reply_status.set(REPLIED),
                m.reply_tweet_id.set(reply_id),
                m.reply_handle.set(handle),
                m.replied_at.set(now),
                m.reply_error.remove(),
            ],
        )

    def mark_final(self, tweet_id: str, status: str, attempts: int, reason: str) -> None:
        assert status in (NOT_ALLOWED, FAILED)
        m = self.complaints
        self._settle(tweet_id, [m.reply_status.set(status), m.reply_attempts.set(attempts), m.reply_error.set(reason)])

    def mark_pending(self, tweet_id: str, next_at: datetime, attempts: int, reason: str) -> None:
        m = self.complaints
        try:
            m(tweet_id).update(
                actions=[
                    m.reply_status.set(PENDING),
                    m.reply_next_at.set(next_at),
                    m.reply_attempts.set(attempts),
                    m.reply_error.set(reason),
                ],
                condition=m.reply_status.does_not_exist() | (m.reply_status == PENDING),
            )
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return
            raise
        s = self.state
        s(PENDING_PK, tweet_id).update(
            actions=[s.next_at.set(int(next_at.timestamp())), s.updated_at.set(datetime.now(UTC))]
        )

    def due(self, now: datetime, limit: int = 500) -> list[str]:
        s = self.state
        items = s.query(PENDING_PK, filter_condition=s.next_at <= int(now.timestamp()), consistent_read=True)
        return sorted(i.sk for i in items)[:limit]


class DynamoPostingBudget:
    """Fixed windows per handle (X: 100 posts / 15 min / user) and for the app (10,000 / 24 h)."""

    def __init__(
        self,
        state_table: str,
        region: str,
        *,
        user_limit: int,
        user_window_s: float,
        app_limit: int,
        app_window_s: float,
    ):
        self.state = state_model(state_table, region)
        self.user_limit, self.user_window_s = user_limit, user_window_s
        self.app_limit, self.app_window_s = app_limit, app_window_s

    def _take(self, key: str, limit: int, window_s: float, now: datetime) -> datetime | None:
        # X's window starts at a handle's first post, ours are aligned to the clock: any X window spans at most
        # two of ours, so each of ours takes half the limit and X's is never exceeded.
        s = self.state
        window = int(now.timestamp() // window_s)
        share = max(1, limit // 2)
        try:
            s(f"xbudget#{key}", str(window)).update(
                actions=[s.counter.add(1)], condition=s.counter.does_not_exist() | (s.counter < share)
            )
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return datetime.fromtimestamp((window + 1) * window_s, UTC)
            raise
        return None

    def take(self, handle: str, now: datetime) -> datetime | None:
        return self._take("app", self.app_limit, self.app_window_s, now) or self._take(
            handle.lower(), self.user_limit, self.user_window_s, now
        )
