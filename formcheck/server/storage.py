"""Uploads received and checked: the files' fixed names, the streamed multipart receiver,
the checks that a file is a whole video the service will score.

The client's filename is kept for display only and never touches a path: each upload is a
fresh uuid in the store (`stores`) and the files have the fixed names below. Uploads are
streamed from the request body straight to disk in chunks (never held in memory, never
spooled whole before the size check), then checked by opening them as a video: an
extension proves nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import av
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from formcheck.errors import EmptyVideoError, VideoOpenError
from formcheck.server.settings import ServerSettings
from formcheck.server.stores import Store
from formcheck.video import FileSource, VideoInfo

INPUT_NAME = "input.video"  # the upload as received
REPORT_NAME = "report.json"  # the analyze JSON contract
VIDEO_NAME = "annotated.mp4"  # the annotated H.264 MP4
TRACE_NAME = "trace.json"  # hip angle over time, for the plot
HTML_NAME = "report.html"  # the self-contained HTML report (formcheck.report.html)

# Small form fields (the CSRF token) are kept; anything longer is a misuse.
MAX_FIELD_BYTES = 4096
#: Parts in one upload: the file and a few small fields (the page's form sends two).
MAX_PARTS = 8
#: What the multipart envelope may add to the file's bytes (boundaries, part headers, the
#: small fields): the whole body is cut off beyond the size limit plus this.
ENVELOPE_BYTES = MAX_PARTS * (MAX_FIELD_BYTES + 4096)
#: Uploaded files are readable by the service's user only.
FILE_MODE = 0o600


class UploadRefusedError(Exception):
    """An upload the service refuses; `status` is the HTTP status code to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def display_name(filename: str) -> str:
    """The client's filename as shown back, or UploadRefusedError(400) for a name that tries to be
    a path (separators, `..`, control characters): browsers never send one."""
    name = filename.strip()
    if not name:
        return "clip"
    if (
        "/" in name
        or "\\" in name
        or name in (".", "..")
        or ".." in name.split(".")
        or any(ord(c) < 32 or ord(c) == 127 for c in name)
    ):
        raise UploadRefusedError(400, "the filename must be a plain file name, not a path")
    return name[:200]


@dataclass
class ReceivedUpload:
    """What `receive_multipart` wrote: the file, its size (bytes) and the small form fields."""

    path: Path
    filename: str
    size_bytes: int
    fields: dict[str, str] = field(default_factory=dict)


class _PartSink:
    """Callbacks for python-multipart's streaming parser: the `file` part goes to disk."""

    def __init__(self, dest: Path, max_bytes: int) -> None:
        self.dest = dest
        self.max_bytes = max_bytes
        self.size = 0
        self.filename: str | None = None
        self.fields: dict[str, str] = {}
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[str, bytes] = {}
        self._file: BinaryIO | None = None
        self._field_name: str | None = None
        self._field_value = bytearray()
        self.parts = 0

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise UploadRefusedError(400, f"too many form fields (at most {MAX_PARTS} parts)")
        self._headers = {}
        self._field_name = None
        self._field_value = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_field.decode("latin-1").lower()] = bytes(self._header_value)
        self._header_field = bytearray()
        self._header_value = bytearray()

    def on_headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get("content-disposition", b""))
        name = params.get(b"name", b"").decode("utf-8", "replace")
        filename = params.get(b"filename")
        if filename is not None and name == "file":
            if self.filename is not None:
                raise UploadRefusedError(400, "one file per upload")
            self.filename = display_name(filename.decode("utf-8", "replace"))
            self._file = os.fdopen(
                os.open(self.dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE), "wb"
            )
        elif filename is None:
            self._field_name = name

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._file is not None:
            self.size += end - start
            if self.size > self.max_bytes:
                raise UploadRefusedError(413, f"the file is larger than {self.max_bytes} bytes")
            self._file.write(data[start:end])
        elif self._field_name is not None:
            self._field_value += data[start:end]
            if len(self._field_value) > MAX_FIELD_BYTES:
                raise UploadRefusedError(400, "form field too long")

    def on_part_end(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        elif self._field_name is not None:
            self.fields[self._field_name] = self._field_value.decode("utf-8", "replace")
            self._field_name = None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


async def receive_multipart(request: Request, dest: Path, max_bytes: int) -> ReceivedUpload:
    """Stream a multipart/form-data body's `file` part to `dest`, stopping at `max_bytes`.

    Memory stays bounded whatever the client sends: the file goes to disk, at most
    `MAX_PARTS` parts of at most `MAX_FIELD_BYTES` each are kept, part headers are capped by
    the parser, and the whole body by `max_bytes` plus `ENVELOPE_BYTES`.

    Raises:
        UploadRefusedError: 413 too large (from Content-Length before reading, or while
            reading: the file or the whole body), 400 not multipart / malformed / too many
            fields / no file part / a path as filename.
    """
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise UploadRefusedError(400, "send the clip as multipart/form-data with a 'file' part")
    declared = request.headers.get("content-length")
    limit = max_bytes + ENVELOPE_BYTES
    if declared and declared.isdigit() and int(declared) > limit:  # refused before reading
        raise UploadRefusedError(413, f"the file is larger than {max_bytes} bytes")
    sink = _PartSink(dest, max_bytes)
    parser = MultipartParser(
        boundary,
        {  # type: ignore[arg-type]
            "on_part_begin": sink.on_part_begin,
            "on_part_data": sink.on_part_data,
            "on_part_end": sink.on_part_end,
            "on_header_field": sink.on_header_field,
            "on_header_value": sink.on_header_value,
            "on_header_end": sink.on_header_end,
            "on_headers_finished": sink.on_headers_finished,
        },
    )
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                raise UploadRefusedError(
                    413, f"the upload is larger than {max_bytes} bytes and its form fields"
                )
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as exc:
        reason = str(exc).splitlines()[0][:120] if str(exc) else "cannot be parsed"
        raise UploadRefusedError(400, f"the multipart body is malformed: {reason}") from None
    finally:
        sink.close()
    if sink.filename is None:
        raise UploadRefusedError(400, "no 'file' part in the upload")
    if sink.size == 0:
        raise UploadRefusedError(422, "the file is empty")
    return ReceivedUpload(dest, sink.filename, sink.size, sink.fields)


def _packets_complete(path: Path) -> bool:
    """Does the container hold every frame it announces? Reads packets, decodes nothing, so it
    is cheap; a file cut short ends its packets before the announced count (MP4, MOV)."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            expected = int(stream.frames or 0)
            got = 0
            for packet in container.demux(stream):
                if packet.size:
                    got += 1
    except (av.error.FFmpegError, OSError):
        return False
    return not expected or got >= expected


def _looks_like_mp4(path: Path) -> bool:
    """Does the file start like an ISO media file (MP4, MOV: an `ftyp` box first)?"""
    with path.open("rb") as f:
        return f.read(12)[4:8] == b"ftyp"


def _sound_only(path: Path) -> bool:
    """Does the file open as a media file with streams but no video stream (a voice memo,
    a song)?"""
    try:
        with av.open(str(path)) as container:
            return bool(container.streams) and not container.streams.video
    except (av.error.FFmpegError, OSError):
        return False


def check_video(path: Path) -> VideoInfo:
    """Open an upload as a video (by content, whatever its name) and check it is whole.

    Raises:
        UploadRefusedError: 415 not a video at all, 422 a video with no frame or cut short.
    """
    try:
        info = FileSource(path).info
    except EmptyVideoError:
        raise UploadRefusedError(422, "the video holds no frame") from None
    except VideoOpenError:
        if _sound_only(path):
            raise UploadRefusedError(415, "the file holds sound only, no video") from None
        if _looks_like_mp4(path):  # an MP4/MOV cut before its index (moov) will not open
            raise UploadRefusedError(422, "the video is truncated or damaged") from None
        raise UploadRefusedError(415, "the file is not a video this service can read") from None
    if not _packets_complete(path):
        raise UploadRefusedError(422, "the video is truncated (cut short before its last frame)")
    if info.fps <= 0 or info.duration_s <= 0:
        raise UploadRefusedError(422, "the video has no duration")
    return info


def check_cost(info: VideoInfo, limits: ServerSettings) -> None:
    """Refuse a clip that would hold a worker too long or take too much memory
    (`limits.max_clip_s`, `max_pixels`, `max_fps`): at upload, and again in the worker (a
    limit may have been lowered since).

    Raises:
        UploadRefusedError: 413 too long or too many pixels, 422 too high a frame rate.
    """
    max_clip_s, max_pixels, max_fps = limits.max_clip_s, limits.max_pixels, limits.max_fps
    if info.duration_s > max_clip_s:
        raise UploadRefusedError(
            413,
            f"the clip lasts {info.duration_s / 60:.1f} min; this"
            f" service scores clips of up to {max_clip_s / 60:g} min",
        )
    if info.width * info.height > max_pixels:
        raise UploadRefusedError(
            413,
            f"the clip is {info.width}x{info.height}; this service"
            f" scores clips of up to {max_pixels / 1e6:.1f} megapixels"
            " (4K)",
        )
    if info.fps > max_fps:
        raise UploadRefusedError(
            422,
            f"the clip runs at {info.fps:.0f} fps; this service"
            f" scores clips of up to {max_fps:g} fps",
        )


def remove_orphans(store: Store, known: set[str]) -> list[str]:
    """Delete the uploads stored with no upload recorded (a server killed mid-upload leaves
    one); returns their ids. Only for a server that holds the data folder's lock, on the
    embedded database: another front's upload in progress would look the same."""
    orphans = sorted(store.ids() - known)
    for upload_id in orphans:
        store.delete(upload_id)
    return orphans
