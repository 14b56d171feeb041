"""The `Store` interface: an upload's files by (upload id, name)."""

from __future__ import annotations

import re
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


def is_upload_id(value: str) -> bool:
    """Is `value` shaped like an upload id (32 hex digits)? Anything else never becomes a path
    or a key."""
    return bool(_UPLOAD_ID.match(value))


def new_upload_id() -> str:
    return uuid.uuid4().hex


def checked_id(upload_id: str) -> str:
    """`upload_id`, or ValueError for anything that is not one (it never becomes a path or
    a key)."""
    if not is_upload_id(upload_id):
        raise ValueError(f"not an upload id: {upload_id!r}")
    return upload_id


@dataclass(frozen=True)
class Served:
    """How a stored file is served: its name in the store, its type, the name to save it as
    ("{id}" and "{id8}" filled in with the upload's id; None: none given), shown in the page
    (`inline`) or saved, and extra headers."""

    name: str
    media_type: str
    download_as: str | None = None
    inline: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)

    def download_name(self, upload_id: str) -> str | None:
        return (
            self.download_as.format(id=upload_id, id8=upload_id[:8]) if self.download_as else None
        )


class Store(ABC):
    """An upload's files, named by the upload's id (32 hex digits, checked by the callers'
    `checked_id`/`is_upload_id`) and a fixed file name (`storage.INPUT_NAME`, ...)."""

    #: Where the files are, for messages and `/readyz` (no credentials in it).
    location: str

    @abstractmethod
    def local(self, upload_id: str, fetch: Sequence[str] = ()) -> Path:
        """A local folder to work on the upload's files in, with the stored files `fetch`
        copied in (streamed). Give it back with `release`."""

    @abstractmethod
    def keep(self, upload_id: str, folder: Path, names: Sequence[str]) -> None:
        """Make the files `names` written in `folder` (from `local`) the stored ones; names
        with no file there are skipped."""

    @abstractmethod
    def release(self, folder: Path) -> None:
        """Done with a folder from `local` (what was not kept is dropped)."""

    @abstractmethod
    def exists(self, upload_id: str, name: str) -> bool:
        """Is the file stored?"""

    @abstractmethod
    def read_bytes(self, upload_id: str, name: str) -> bytes | None:
        """A small stored file (a report, a trace) whole, or None when it is not there."""

    @abstractmethod
    def response(self, upload_id: str, served: Served, request: Request) -> Response:
        """An HTTP response streaming the stored file `served.name`, answering byte ranges
        (a browser's video player seeks with them), with `served`'s type, download name and
        headers; HTTP 404 when it is not there."""

    @abstractmethod
    def delete(self, upload_id: str) -> None:
        """Remove every file of the upload (none stored is fine)."""

    @abstractmethod
    def ids(self) -> set[str]:
        """The ids of the uploads with files stored (to sweep orphans on one machine)."""

    @abstractmethod
    def check(self) -> None:
        """Raise StoreError when the store cannot be reached or written."""


@contextmanager
def workspace(store: Store, upload_id: str, fetch: Sequence[str] = ()) -> Iterator[Path]:
    """`store.local(...)` as a context: the folder is released however the block ends."""
    folder = store.local(upload_id, fetch)
    try:
        yield folder
    finally:
        store.release(folder)
