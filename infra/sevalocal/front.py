"""What CloudFront does for the web app, for the local cloud: the distribution's cache behaviours of template.yaml
send ``/api/*``, ``/a/*`` and ``/public/*`` to the HTTP API and everything else to the web bucket (moto's S3,
where ``publish_assets`` put ``web/`` as the README's deploy step does, and where the figures function writes the
public page's snapshot). Nothing is cached: the local cloud always shows the newest object."""

from __future__ import annotations

import fnmatch
import mimetypes
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

WEB_DIR = Path(__file__).resolve().parents[2] / "web"


def publish_assets(s3: Any, bucket: str, root: Path = WEB_DIR) -> int:
    """``aws s3 sync web/ s3://<bucket>/``: every file with its content type. Returns how many."""
    count = 0
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        key = path.relative_to(root).as_posix()
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/javascript", "application/json"):
            kind += "; charset=utf-8"
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=kind)
        count += 1
    return count


class Front:
    """One distribution: ordered path patterns to origins; the default behaviour reads the bucket."""

    def __init__(self, config: dict[str, Any], s3: Any, bucket: str, api: Callable[..., Iterable[bytes]]):
        self.s3, self.bucket, self.api = s3, bucket, api
        self.root = str(config.get("DefaultRootObject") or "index.html")
        origins = {o.get("Id"): o for o in config.get("Origins") or []}
        self.behaviours: list[tuple[str, bool]] = []  # (path pattern, goes to the API)
        for b in config.get("CacheBehaviors") or []:
            origin = origins.get(b.get("TargetOriginId")) or {}
            self.behaviours.append((str(b.get("PathPattern")), "CustomOriginConfig" in origin))

    def wsgi(self, environ, start_response):  # type: ignore[no-untyped-def]
        path = environ.get("PATH_INFO") or "/"
        for pattern, to_api in self.behaviours:
            if fnmatch.fnmatchcase(path, pattern):
                if to_api:
                    return self.api(environ, start_response)
                break
        return self._object(Request(environ))(environ, start_response)

    def _object(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return Response("Method not allowed", status=405)
        key = request.path.lstrip("/") or self.root
        if key.endswith("/"):
            key += "index.html"
        try:
            obj = self.s3.get_object(Bucket=self.bucket, Key=key)
        except self.s3.exceptions.NoSuchKey:
            return Response("Not found", status=404, content_type="text/plain")
        except Exception as exc:
            return Response(f"origin error: {type(exc).__name__}", status=502, content_type="text/plain")
        response = Response(obj["Body"].read(), status=200, content_type=obj.get("ContentType"))
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
