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


def _version(complaint: str, sk: str, sequence: int) -> dict:
    """A change to one item (its partition and sort key), with its place in the shard."""
    record = _insert(complaint, sk)
    record["dynamodb"]["SequenceNumber"] = f"{sequence:06d}"
    return record


def test_an_items_records_share_a_slot_in_order_and_one_partition_keys_items_spread_over_slots():
    # Given 5 complaints with 4 audit items each, every item changed 5 times, read with ParallelizationFactor 4
    records = [_version(f"c{n % 5}", f"sk{n % 20}", n) for n in range(100)]
    reader = _StreamReader("test", "arn:stream", "TRIM_HORIZON", [], 100, 4, _Stream(records), Counter())
    # When the reader hands out its batches
    batches = reader.batches()
    # Then each item's changes are all in one slot, in order (AWS keeps the order of an item: partition and sort key)
    slot_of: dict[tuple[str, str], set[int]] = {}
    for lane, batch in batches:
        for r in batch:
            keys = r["dynamodb"]["Keys"]
            slot_of.setdefault((keys["complaint_id"]["S"], keys["sk"]["S"]), set()).add(id(lane))
    assert len(slot_of) == 20 and all(len(slots) == 1 for slots in slot_of.values())
    for _, batch in batches:
        for item in {r["dynamodb"]["Keys"]["sk"]["S"] for r in batch}:
            mine = [r["dynamodb"]["SequenceNumber"] for r in batch if r["dynamodb"]["Keys"]["sk"]["S"] == item]
            assert mine == sorted(mine) and len(mine) == 5
    # And a complaint's items are not kept together: nothing may rely on an order AWS does not promise
    spread = {c: {next(iter(s)) for (cc, _), s in slot_of.items() if cc == c} for c in {c for c, _ in slot_of}}
    assert any(len(slots) > 1 for slots in spread.values())


def test_a_local_pool_smaller_than_the_reserved_concurrency_keeps_each_lanes_share_within_the_pool():
    # Given the template's lanes (MaximumConcurrency, reserved concurrency) and the local pool of 4 workers
    # Then the notify lanes (4 + 4 of 8) run 2 each, the reply lanes (2 + 2 of 5) 1 each, and a lane never 0
    assert lane_concurrency(4, 4, 8) == 2
    assert lane_concurrency(2, 4, 5) == 1
    assert lane_concurrency(2, 2, 2) == 2
    assert lane_concurrency(1, 1, 10) == 1
    assert lane_concurrency(1000, 4, None) == 1000  # no ScalingConfig: the pool's size is the limit
