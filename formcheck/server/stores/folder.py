"""`FolderStore`: each upload in its own `<root>/<upload id>/` folder, worked on in place."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from fastapi import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from formcheck.errors import StoreError
from formcheck.server.stores.base import Served, Store, checked_id, is_upload_id


class FolderStore(Store):
    """Files under `root` (the server's `DATA/uploads`, or a mount every machine shares).
    Folders are the service user's only (0700), like the files written in them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.location = str(root)

    def _dir(self, upload_id: str) -> Path:
        """The folder of one upload; refuses anything that is not an upload id."""
        return self.root / checked_id(upload_id)

    def local(self, upload_id: str, fetch: Sequence[str] = ()) -> Path:
        folder = self._dir(upload_id)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return folder

    def keep(self, upload_id: str, folder: Path, names: Sequence[str]) -> None:
        """Nothing to do: the files were written where they are kept."""

    def release(self, folder: Path) -> None:
        """Nothing to do: the folder is the upload's own."""

    def exists(self, upload_id: str, name: str) -> bool:
        return (self._dir(upload_id) / name).is_file()

    def read_bytes(self, upload_id: str, name: str) -> bytes | None:
        try:
            return (self._dir(upload_id) / name).read_bytes()
        except OSError:
            return None

    def response(self, upload_id: str, served: Served, request: Request) -> Response:
        path = self._dir(upload_id) / served.name
        if not path.is_file():
            raise HTTPException(404, "result file missing")
        # Starlette's FileResponse streams in chunks and answers Range requests.
        return FileResponse(
            path,
            media_type=served.media_type,
            filename=served.download_name(upload_id),
            headers=dict(served.headers) or None,
            content_disposition_type="inline" if served.inline else "attachment",
        )

    def delete(self, upload_id: str) -> None:
        shutil.rmtree(self._dir(upload_id), ignore_errors=True)

    def ids(self) -> set[str]:
        if not self.root.is_dir():
            return set()
        return {p.name for p in self.root.iterdir() if p.is_dir() and is_upload_id(p.name)}

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".check-"):
                pass
        except OSError as exc:
            raise StoreError(
                f"--store {self.root}: cannot write there ({os.strerror(exc.errno or 0)})"
            ) from None
