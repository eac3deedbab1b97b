"""Reply state (on the reply's lease item; the first answer's also on the complaint), the index of pending
replies the sweep works off, and the posting budgets."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.transactions import TransactWrite

from seva.dal.complaints import DynamoComplaints
from seva.dal.models import LeaseModel, Model, bind, complaint_model, shared_connection, state_model
from seva.lifecycle import Complaint, Event
from seva.notify import Claim
from seva.replying import PENDING, REPLIED, SETTLED, Begun
from seva.retention import LEDGER_DAYS

PENDING_PK = "reply#pending"
LEASE_PREFIX = "reply"


class ReplyStateModel(LeaseModel):
    outcome = UnicodeAttribute(null=True)  # seva.replying: REPLIED, REPLY_PENDING, or settled (SETTLED)
    tries = NumberAttribute(null=True)
    handle = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)


class DynamoReplyRepo:
    def __init__(self, complaints_table: str, state_table: str, audit_table: str, region: str):
        self.complaints = complaint_model(complaints_table, region)
        self.state_items = bind(ReplyStateModel, state_table, region)
        self.index = state_model(state_table, region)
        self.audit = DynamoComplaints(complaints_table, audit_table, region)
        self.region = region

    def _item(self, tweet_id: str, kind: str) -> ReplyStateModel:
        return self.state_items(f"{LEASE_PREFIX}#{tweet_id}", kind)

    def posted(self, tweet_id: str) -> set[str]:
        """The ids of the replies Seva posted to this complaint."""
        items = self.state_items.query(f"{LEASE_PREFIX}#{tweet_id}", consistent_read=True)
        return {str(i.message_id) for i in items if i.message_id}

    def state(self, complaint: Complaint, kind: str) -> tuple[str | None, int]:
        try:
            item = self.state_items.get(f"{LEASE_PREFIX}#{complaint.tweet_id}", kind, consistent_read=True)
        except self.state_items.DoesNotExist:
            return None, 0
        return item.outcome, int(item.tries or 0)

    def begin(self, complaint: Complaint, kind: str, lease_until: float, now: datetime) -> Begun:
        """Claim the reply (one conditional write); read it only when the claim is refused."""
        s = self.state_items
        free = (
            s.pk.does_not_exist() | (s.state == "RETRY") | ((s.state == "SENDING") & (s.lease_until < now.timestamp()))
        )
        item = self._item(complaint.tweet_id, kind)
        try:
            item.update(
                actions=[
                    s.state.set("SENDING"),
                    s.lease_until.set(lease_until),
                    s.updated_at.set(now),
                    s.expires_at.set(int(now.timestamp()) + LEDGER_DAYS * 86400),
                ],
                condition=free & (s.outcome.does_not_exist() | s.outcome.is_in(PENDING)),
            )
            return Begun(Claim.GRANTED, item.outcome, int(item.tries or 0))
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
        item.refresh(consistent_read=True)
        tries = int(item.tries or 0)
        if item.outcome in SETTLED:
            return Begun(Claim.FAILED, item.outcome, tries, item.message_id)
        if item.state == "SENT":
            return Begun(Claim.SENT, item.outcome, tries, item.message_id)
        return Begun(Claim.HELD, item.outcome, tries, lease_until=float(item.lease_until or 0))

    def replied(self, complaint: Complaint, kind: str, handle: str, reply_id: str, now: datetime, event: Event) -> None:
        s, m = self.state_items, self.complaints
        with TransactWrite(connection=shared_connection(self.region)) as tx:
            tx.update(
                self._item(complaint.tweet_id, kind),
                actions=[
                    s.state.set("SENT"),
                    s.message_id.set(reply_id),
                    s.sent_at.set(now),
                    s.lease_until.remove(),
                    s.outcome.set(REPLIED),
                    s.handle.set(handle),
                    s.reason.remove(),
                    s.updated_at.set(now),
                ],
            )
            if kind == "ack":
                tx.update(
                    m(complaint.tweet_id),
                    actions=[
                        m.reply_status.set(REPLIED),
                        m.reply_handle.set(handle),
                        m.reply_tweet_id.set(reply_id),
                        m.replied_at.set(now),
                        m.reply_error.remove(),
                    ],
                )
            tx.delete(self.index(PENDING_PK, f"{complaint.tweet_id}#{kind}"))
            tx.save(self.audit._audit_item(event), condition=self.audit.audit.complaint_id.does_not_exist())

    def _outcome(self, complaint: Complaint, kind: str, state: str, outcome: str, tries: int, reason: str) -> bool:
        s = self.state_items
        try:
            # The first settled outcome stands (a late duplicate never overwrites it)
            self._item(complaint.tweet_id, kind).update(
                actions=[
                    s.state.set(state),
                    s.outcome.set(outcome),
                    s.tries.set(tries),
                    s.reason.set(reason[:300]),
                    s.lease_until.remove(),
                    s.updated_at.set(datetime.now(UTC)),
                ],
                condition=s.outcome.does_not_exist() | s.outcome.is_in(PENDING),
            )
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            return False
        if kind == "ack":
            m = self.complaints
            m(complaint.tweet_id).update(
                actions=[m.reply_status.set(outcome), m.reply_attempts.set(tries), m.reply_error.set(reason[:300])]
            )
        return True

    def pending(self, complaint: Complaint, kind: str, next_at: datetime, tries: int, reason: str) -> None:
        if self._outcome(complaint, kind, "RETRY", PENDING, tries, reason):
            self.index(
                PENDING_PK,
                f"{complaint.tweet_id}#{kind}",
                next_at=int(next_at.timestamp()),
                priority=str(complaint.priority or "P3"),
                updated_at=datetime.now(UTC),
            ).save()

    def final(self, complaint: Complaint, kind: str, status: str, tries: int, reason: str) -> None:
        assert status in SETTLED
        self._outcome(complaint, kind, "FAILED", status, tries, reason)
        self.clear_pending(complaint.tweet_id, kind)

    def clear_pending(self, tweet_id: str, kind: str) -> None:
        self.index(PENDING_PK, f"{tweet_id}#{kind}").delete()

    def due(self, now: datetime, limit: int = 500) -> list[tuple[str, str]]:
        """Pending replies whose time has come: P1 first, then the longest waiting."""
        s = self.index
        items = list(s.query(PENDING_PK, filter_condition=s.next_at <= int(now.timestamp()), consistent_read=True))
        items.sort(key=lambda i: (i.priority != "P1", i.next_at or 0))
        return [tuple(i.sk.rsplit("#", 1)) for i in items[:limit]]  # type: ignore[misc]

    def pending_count(self) -> int:
        return self.index.count(PENDING_PK, consistent_read=True)


class _BudgetModel(Model):
    class Meta:
        table_name = "unbound"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    posts = JSONAttribute(null=True)  # bucket start (epoch seconds) -> posts in it
    version = NumberAttribute(default=0)
    expires_at = NumberAttribute(null=True)


class DynamoPostingBudget:
    """Sliding windows of posts, per handle (X: 100 per 15 minutes per user) and for the app (10,000 per 24
    hours): a post may go when the posts of the last window, counted in small buckets, are below the limit —
    whatever X's own window alignment, X never sees more than its limit. Routine replies leave a reserve that
    only P1 replies may use."""

    def __init__(
        self,
        state_table: str,
        region: str,
        *,
        user_limit: int,
        user_window_s: float,
        app_limit: int,
        app_window_s: float,
        p1_reserve: float = 0.1,
    ):
        self.model = bind(_BudgetModel, state_table, region)
        self.user = (user_limit, user_window_s)
        self.app = (app_limit, app_window_s)
        self.p1_reserve = p1_reserve

    def _take(self, key: str, limit: int, window_s: float, now: datetime, urgent: bool) -> datetime | None:
        m = self.model
        bucket_s = max(window_s / 900, 0.001)  # 900 buckets a window: 1 s for X's 15 minutes
        t = now.timestamp()
        allowed = limit if urgent else max(1, int(limit * (1 - self.p1_reserve)))
        for _ in range(20):
            try:
                item = m.get("xbudget", key, consistent_read=True)
            except m.DoesNotExist:
                item = m("xbudget", key, posts={}, version=0)
            posts = {b: int(n) for b, n in dict(item.posts or {}).items() if float(b) > t - window_s - bucket_s}
            used = sum(posts.values())
            if used >= allowed:
                # room again once enough of the oldest posts have left the window
                leaving = 0
                for start, n in sorted((float(b), n) for b, n in posts.items()):
                    leaving += n
                    if used - leaving < allowed:
                        return datetime.fromtimestamp(start + window_s + bucket_s, UTC)
            bucket = f"{(t // bucket_s) * bucket_s:.3f}"
            posts[bucket] = posts.get(bucket, 0) + 1
            version = int(item.version or 0)
            try:
                m("xbudget", key, posts=posts, version=version + 1, expires_at=int(time.time() + 2 * window_s)).save(
                    condition=m.version.does_not_exist() if version == 0 else (m.version == version)
                )
            except PutError as exc:
                if exc.cause_response_code == "ConditionalCheckFailedException":
                    continue  # another reply took budget at the same moment: count again
                raise
            return None
        raise RuntimeError(f"posting budget {key}: too much contention")

    def take(self, handle: str, now: datetime, urgent: bool = False) -> datetime | None:
        # The handle's window first: it is the one a burst fills (the app's rarely)
        return self._take(handle.lower(), *self.user, now, urgent) or self._take("app", *self.app, now, urgent)
