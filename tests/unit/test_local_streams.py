"""The local cloud's stream reader: ParallelizationFactor slots as Lambda and Pipes assign them."""

from __future__ import annotations

from collections import Counter

from sevalocal.emulator import _StreamReader, lane_concurrency


class _Stream:
    """A DynamoDB stream of one shard (the three calls the reader makes), for a table with a sort key."""

    def __init__(self, records: list[dict]):
        self.records = records

    def describe_stream(self, StreamArn):
        schema = [{"AttributeName": "complaint_id", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
        return {"StreamDescription": {"Shards": [{"ShardId": "s-1"}], "KeySchema": schema}}

    def get_shard_iterator(self, **kwargs):
        return {"ShardIterator": "it-0"}

    def get_records(self, ShardIterator, Limit):
        records, self.records = self.records, []
        return {"Records": records, "NextShardIterator": "it-1"}


def _insert(complaint: str, sk: str) -> dict:
    keys = {"complaint_id": {"S": complaint}, "sk": {"S": sk}}
    return {"eventID": sk, "eventName": "INSERT", "dynamodb": {"Keys": keys, "NewImage": keys, "SequenceNumber": sk}}


def test_one_partition_keys_records_share_a_slot_whatever_their_sort_keys():
    # Given a complaint's 20 audit events among other complaints' events, read with ParallelizationFactor 4
    records = [_insert(f"c{i % 5}", f"2026-12-01T10:00:{i:02d}#{i}") for i in range(100)]
    reader = _StreamReader("test", "arn:stream", "TRIM_HORIZON", [], 100, 4, _Stream(records), Counter())
    # When the reader hands out its batches
    batches = reader.batches()
    # Then each complaint's events are all in one slot, in order
    slots = {r["dynamodb"]["Keys"]["complaint_id"]["S"]: [] for r in records}
    for lane, batch in batches:
        for r in batch:
            slots[r["dynamodb"]["Keys"]["complaint_id"]["S"]].append(id(lane))
    assert all(len(set(lanes)) == 1 for lanes in slots.values())
    for _, batch in batches:
        for complaint in {r["dynamodb"]["Keys"]["complaint_id"]["S"] for r in batch}:
            mine = [
                r["dynamodb"]["SequenceNumber"]
                for r in batch
                if r["dynamodb"]["Keys"]["complaint_id"]["S"] == complaint
            ]
            assert mine == sorted(mine)


def test_a_local_pool_smaller_than_the_reserved_concurrency_keeps_each_lanes_share_within_the_pool():
    # Given the template's lanes (MaximumConcurrency, reserved concurrency) and the local pool of 4 workers
    # Then the notify lanes (4 + 4 of 8) run 2 each, the reply lanes (2 + 2 of 5) 1 each, and a lane never 0
    assert lane_concurrency(4, 4, 8) == 2
    assert lane_concurrency(2, 4, 5) == 1
    assert lane_concurrency(2, 2, 2) == 2
    assert lane_concurrency(1, 1, 10) == 1
    assert lane_concurrency(1000, 4, None) == 1000  # no ScalingConfig: the pool's size is the limit
