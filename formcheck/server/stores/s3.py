"""`S3Store`: uploads as objects `<prefix>/<upload id>/<name>` in an S3-compatible bucket.

boto3 reads the credentials and the endpoint from the environment (`AWS_ACCESS_KEY_ID`,
`AWS_SECRET_ACCESS_KEY`, `AWS_ENDPOINT_URL` for a store that is not AWS, `AWS_REGION`), as
every AWS tool does, so no secret goes on a command line. Files move in chunks: uploads
with boto3's managed multipart transfer from disk, downloads to disk, and the pages stream
an object's body (or the byte range the browser asked for) without holding it.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from formcheck.errors import StoreError
from formcheck.server.stores.base import Served, Store, checked_id, is_upload_id

#: Bytes per chunk streamed to a browser.
CHUNK_BYTES = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class S3Store(Store):
    """Files in `bucket` under `prefix` (may be empty)."""

    def __init__(self, bucket: str, prefix: str = "") -> None:
        try:
            import boto3
            from botocore.config import Config
        except ImportError:  # pragma: no cover - boto3 is a dependency
            raise StoreError("--store s3://...: needs boto3 (pip install boto3)") from None
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._under = f"{self.prefix}/" if self.prefix else ""  # every key starts so
        self.location = f"s3://{bucket}/{self.prefix}".rstrip("/")
        # Retries with backoff for a store that blips; short timeouts so /readyz answers.
        self._s3: Any = boto3.client(
            "s3",
            config=Config(
                retries={"max_attempts": 5, "mode": "standard"},
                connect_timeout=5,
                read_timeout=60,
            ),
        )

    @classmethod
    def from_url(cls, url: str) -> S3Store:
        """`s3://bucket[/prefix]`."""
        rest = url[len("s3://") :]
        bucket, _, prefix = rest.partition("/")
        if not bucket:
            raise StoreError(f"--store {url}: name the bucket, as in s3://bucket/prefix")
        return cls(bucket, prefix)

    def _key(self, upload_id: str, name: str = "") -> str:
        return f"{self._under}{checked_id(upload_id)}/{name}"

    def _errors(self, what: str, exc: Exception) -> StoreError:
        return StoreError(f"{self.location}: cannot {what}: {exc}")

    def local(self, upload_id: str, fetch: Sequence[str] = ()) -> Path:
        folder = Path(tempfile.mkdtemp(prefix=f"formcheck-{upload_id[:8]}-"))
        try:
            for name in fetch:
                self._s3.download_file(self.bucket, self._key(upload_id, name), str(folder / name))
        except Exception as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise self._errors(f"fetch {upload_id}", exc) from None
        return folder

    def keep(self, upload_id: str, folder: Path, names: Sequence[str]) -> None:
        for name in names:
            path = folder / name
            if path.is_file():
                try:
                    self._s3.upload_file(str(path), self.bucket, self._key(upload_id, name))
                except Exception as exc:
                    raise self._errors(f"store {upload_id}/{name}", exc) from None

    def release(self, folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)

    def _head(self, upload_id: str, name: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            head: dict[str, Any] = self._s3.head_object(
                Bucket=self.bucket, Key=self._key(upload_id, name)
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise self._errors(f"look up {upload_id}/{name}", exc) from None
        return head

    def exists(self, upload_id: str, name: str) -> bool:
        return self._head(upload_id, name) is not None

    def read_bytes(self, upload_id: str, name: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            obj = self._s3.get_object(Bucket=self.bucket, Key=self._key(upload_id, name))
        except ClientError:
            return None
        data: bytes = obj["Body"].read()
        return data

    def response(self, upload_id: str, served: Served, request: Request) -> Response:
        head = self._head(upload_id, served.name)
        if head is None:
            raise HTTPException(404, "result file missing")
        size = int(head["ContentLength"])
        out = {"accept-ranges": "bytes", **served.headers}
        filename = served.download_name(upload_id)
        if filename is not None:
            kind = "inline" if served.inline else "attachment"
            out["content-disposition"] = f"{kind}; filename*=utf-8''{quote(filename)}"
        span = _byte_range(request.headers.get("range"), size)
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": self._key(upload_id, served.name)}
        status = 200
        if span is not None:
            start, end = span
            args["Range"] = f"bytes={start}-{end}"
            out["content-range"] = f"bytes {start}-{end}/{size}"
            out["content-length"] = str(end - start + 1)
            status = 206
        else:
            out["content-length"] = str(size)
        body = self._s3.get_object(**args)["Body"]

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(CHUNK_BYTES)
            finally:
                body.close()

        return StreamingResponse(
            chunks(), status_code=status, media_type=served.media_type, headers=out
        )

    def delete(self, upload_id: str) -> None:
        prefix = self._key(upload_id)
        pages = self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        for page in pages:
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                self._s3.delete_objects(Bucket=self.bucket, Delete={"Objects": keys})

    def ids(self) -> set[str]:
        found: set[str] = set()
        pages = self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self._under, Delimiter="/"
        )
        for page in pages:
            for p in page.get("CommonPrefixes", []):
                name = p["Prefix"][len(self._under) :].rstrip("/")
                if is_upload_id(name):
                    found.add(name)
        return found

    def check(self) -> None:
        """The bucket is reachable; one that does not exist yet is made (a fresh local
        S3-compatible store starts empty)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._s3.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket"):
                raise self._errors("reach the bucket", exc) from None
            try:
                self._s3.create_bucket(Bucket=self.bucket)
            except (BotoCoreError, ClientError) as exc2:
                raise self._errors("make the bucket", exc2) from None
        except BotoCoreError as exc:
            raise self._errors("reach the bucket", exc) from None


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one byte range `header` asks for, clipped to the file (inclusive ends); None for
    the whole file (no header, several ranges, or one that cannot be read).

    Raises:
        HTTPException: 416 for a range that starts past the end.
    """
    if not header or size == 0:
        return None
    m = _RANGE.match(header.strip())
    if m is None or (not m.group(1) and not m.group(2)):
        return None
    if m.group(1):
        start = int(m.group(1))
        end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
    else:  # a suffix: the last N bytes
        start, end = max(size - int(m.group(2)), 0), size - 1
    if start >= size or start > end:
        raise HTTPException(416, "range not satisfiable", headers={"content-range": f"*/{size}"})
    return start, end
