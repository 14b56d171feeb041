"""Where the service keeps each upload's files (the clip as received, the report, the trace,
the annotated video, the HTML report), behind one small interface (`Store`), so the web
fronts and the scoring workers can be on different machines.

- `FolderStore` (the default, `--store` a folder): `<folder>/<upload id>/<name>`, on the
  server's disk or on a mount every machine shares.
- `S3Store` (`--store s3://bucket/prefix`): an S3-compatible object store through boto3
  (credentials and `AWS_ENDPOINT_URL` from the environment, as every AWS tool reads them).

Work on files happens in a local folder (`local`), the same folder for `FolderStore`, a
temporary one for `S3Store`; `keep` makes files written there the stored ones. Videos move
in chunks both ways (never whole in memory), and the pages serve them with byte ranges.
"""

from __future__ import annotations

from pathlib import Path

from formcheck.server.stores.base import Store, workspace
from formcheck.server.stores.folder import FolderStore


def open_store(spec: str) -> Store:
    """The store `spec` names: `s3://bucket[/prefix]`, or a folder path.

    Raises:
        StoreError: an S3 URL without a bucket, or boto3 not installed.
    """
    if spec.startswith("s3://"):
        from formcheck.server.stores.s3 import S3Store

        return S3Store.from_url(spec)
    return FolderStore(Path(spec))


__all__ = ["FolderStore", "Store", "open_store", "workspace"]
