"""S3: the web bucket's public snapshot (the transparency page reads it through CloudFront)."""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any


@cache
def _s3(region: str, endpoint: str | None) -> Any:
    import boto3

    return boto3.client("s3", region_name=region)


class JsonObject:
    """A JSON document at one key of a bucket, replaced whole on each write (readers see the old or the new)."""

    def __init__(self, bucket: str, key: str, region: str, max_age_s: int = 60):
        self.bucket, self.key, self.region, self.max_age_s = bucket, key, region, max_age_s

    def __call__(self, document: dict[str, Any]) -> None:
        _s3(self.region, os.environ.get("AWS_ENDPOINT_URL")).put_object(
            Bucket=self.bucket,
            Key=self.key,
            Body=json.dumps(document, ensure_ascii=False).encode("utf-8"),
            ContentType="application/json; charset=utf-8",
            CacheControl=f"public, max-age={self.max_age_s}",
        )
