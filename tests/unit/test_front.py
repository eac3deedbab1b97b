"""The local CloudFront (sevalocal.front): the template's behaviours send the API's paths to the HTTP API and the
rest to the web bucket, the root to index.html; a missing object is a 404, not a traceback."""

from __future__ import annotations

import io

from sevalocal.front import Front, publish_assets
from sevalocal.template import load_template
from werkzeug.test import Client
from werkzeug.wrappers import Response

from tests.conftest import ROOT


class NoSuchKey(Exception):
    pass


class FakeS3:
    class exceptions:
        NoSuchKey = NoSuchKey

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}

    def put_object(self, Bucket: str, Key: str, Body: bytes, ContentType: str) -> None:
        self.objects[Key] = (Body, ContentType)

    def get_object(self, Bucket: str, Key: str) -> dict:
        if Key not in self.objects:
            raise NoSuchKey(Key)
        body, kind = self.objects[Key]
        return {"Body": io.BytesIO(body), "ContentType": kind}


def api(environ, start_response):  # type: ignore[no-untyped-def]
    return Response(f"api:{environ['PATH_INFO']}")(environ, start_response)


def front() -> tuple[Front, FakeS3]:
    config = load_template(ROOT / "template.yaml")["Resources"]["WebDistribution"]["Properties"]["DistributionConfig"]
    s3 = FakeS3()
    assert publish_assets(s3, "web") >= 6
    return Front(config, s3, "web", api), s3


def test_the_api_paths_go_to_the_http_api_and_the_rest_to_the_bucket():
    f, _ = front()
    client = Client(f.wsgi)
    for path in ("/api/queue", "/a/abc", "/public/config", "/public/complaints/UP-LKO-2026-000001"):
        assert client.get(path).get_data(as_text=True) == f"api:{path}"
    root = client.get("/")
    assert root.status_code == 200 and 'id="signin"' in root.get_data(as_text=True)
    assert root.headers["Content-Type"].startswith("text/html")
    assert client.get("/public.html").status_code == 200  # the public page is a file, not an API path
    js = client.get("/vendor/chartjs/chart.umd.min.js")
    assert js.status_code == 200 and "javascript" in js.headers["Content-Type"]


def test_a_missing_object_is_a_404_and_a_post_to_the_bucket_is_refused():
    client = Client(front()[0].wsgi)
    assert client.get("/data/public-figures.json").status_code == 404
    assert client.post("/index.html").status_code == 405


def test_the_snapshot_the_figures_function_writes_is_served():
    f, s3 = front()
    s3.put_object(Bucket="web", Key="data/public-figures.json", Body=b'{"state": {}}', ContentType="application/json")
    answer = Client(f.wsgi).get("/data/public-figures.json")
    assert answer.status_code == 200 and answer.get_json() == {"state": {}}
