"""Streaming uploads: the request body goes to disk chunk by chunk, bounded, typed, safely named.

Why not ``await request.form()``: Starlette would spool the whole body to the system temp
folder before the handler could say no. Here the multipart stream is parsed as it arrives
(``python_multipart.MultipartParser``):

* the size limit is enforced on ``Content-Length`` before reading and on the bytes actually
  read (a lying or chunked client), so an oversize upload is refused with **413** and nothing
  stays on disk;
* the CSRF token must arrive (header ``X-CSRF-Token`` or a ``csrf_token`` form field placed
  before the file inputs, as browsers send fields in document order) before any file byte is
  written, else **403**;
* each file's type is decided by its first bytes (magic numbers), never by its name or the
  client's Content-Type; a mismatch is **415** as soon as the first bytes are in;
* files land in ``<data_dir>/files/.incoming/<random>.part``; the client's file name is only
  kept (sanitised) as a label. The store moves the file into its final folder in the same step
  that commits the row (``plantwatch.store.service``), so a kill leaves at most a ``.part`` file
  in the incoming folder, which :func:`clean_incoming` removes at start-up.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

__all__ = [
    "FILE_KINDS",
    "INCOMING_DIR",
    "ParsedUpload",
    "UploadError",
    "UploadedFile",
    "clean_incoming",
    "detect_kind",
    "receive_upload",
    "safe_display_name",
    "streamed_upload",
]

INCOMING_DIR = Path("files") / ".incoming"  # relative to the store's data_dir
_SNIFF_BYTES = 16  # enough for every magic number below
_MAX_FIELD_BYTES = 256 * 1024  # a text field (comment, ops.yaml) larger than this is refused
_MAX_FILES = 200
_NAME_MAX_CHARS = 120

# kind -> human description (for the 415 message)
FILE_KINDS: dict[str, str] = {
    "jpeg": "JPEG image (FF D8 FF)",
    "mp4": "MP4/MOV video ('ftyp' box)",
    "avi": "AVI video (RIFF....AVI )",
    "tiff": "16-bit TIFF stack (II*\\0 or MM\\0*)",
    "npy": "NumPy .npy array (\\x93NUMPY)",
    "json": "GeoJSON/JSON text ({ ... })",
    "text": "UTF-8 text (YAML)",
}


def detect_kind(head: bytes) -> str | None:
    """The file kind from its first bytes, or ``None`` when no known signature matches.

    Signatures: JPEG SOI + marker ``FF D8 FF`` (ITU T.81 B.1.1.2); ISO BMFF ``ftyp`` box at
    offset 4 (ISO/IEC 14496-12 §4.3); RIFF ``AVI `` (Microsoft AVI RIFF); TIFF byte-order
    header (TIFF 6.0 §2); NumPy format magic ``\\x93NUMPY`` (NEP 1).
    """
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if len(head) >= 8 and head[4:8] == b"ftyp":
        return "mp4"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "avi"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"{"):
        return "json"
    return None


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:  # a multi-byte character cut at the window's end is fine
        return exc.start >= len(head) - 3
    return True


def safe_display_name(raw: str | None) -> str:
    """The client's file name reduced to a harmless label: no folders, no control characters.

    ``../../etc/passwd`` -> ``passwd``; ``C:\\x\\a.jpg`` -> ``a.jpg``; empty -> ``upload``.
    The label is stored and shown (escaped); it never names a file on disk.
    """
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    name = name.lstrip(".") or "upload"
    return name[:_NAME_MAX_CHARS]


class UploadError(Exception):
    """An upload refused: HTTP status and a message a user can act on."""

    def __init__(self, status_code: int, message: str) -> None:
        self.status_code = status_code
        self.message = message
        super().__init__(message)


@dataclass
class UploadedFile:
    """One received file, still in the incoming folder."""

    field: str
    original_name: str  # sanitised label, never a path
    path: Path  # <data_dir>/files/.incoming/<random>.part
    kind: str
    size_bytes: int
    sha256: str


@dataclass
class ParsedUpload:
    """Text fields and files of one multipart request."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    files: list[UploadedFile] = field(default_factory=list)

    def get(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[-1] if values else default

    def cleanup(self) -> None:
        """Delete whatever is still in the incoming folder (the store moved what it kept)."""
        for f in self.files:
            with contextlib.suppress(FileNotFoundError):
                f.path.unlink()


def streamed_upload(func: Any) -> Any:
    """Mark a route whose multipart body is streamed and CSRF-checked by
    :func:`receive_upload` (the app's global CSRF guard must not read the body first)."""
    func.streamed_upload = True
    return func


def clean_incoming(data_dir: Path) -> int:
    """Remove ``.part`` files left by a killed server; return how many."""
    folder = data_dir / INCOMING_DIR
    count = 0
    if folder.is_dir():
        for item in folder.glob("*.part"):
            with contextlib.suppress(FileNotFoundError):
                item.unlink()
                count += 1
    return count


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


class _Receiver:
    """Multipart callbacks: collect fields, stream files to disk, check as early as possible."""

    def __init__(
        self,
        incoming: Path,
        allowed: Mapping[str, Sequence[str]],
        csrf_expected: str | None,
        csrf_ok: bool,
    ) -> None:
        self.incoming = incoming
        self.allowed = allowed
        self.csrf_expected = csrf_expected
        self.csrf_ok = csrf_ok
        self.result = ParsedUpload()
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._name = ""
        self._filename: str | None = None
        self._text = bytearray()
        self._out: IO[bytes] | None = None
        self._out_path: Path | None = None
        self._head = bytearray()
        self._hash: Any = None
        self._size = 0
        self._kind: str | None = None

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
        }

    def on_part_begin(self) -> None:
        self._headers = {}
        self._name, self._filename = "", None
        self._text = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[bytes(self._header_field).lower()] = bytes(self._header_value)
        self._header_field = bytearray()
        self._header_value = bytearray()

    def on_headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = params.get(b"name", b"").decode("utf-8", "replace")
        raw_filename = params.get(b"filename")
        self._filename = None if raw_filename is None else raw_filename.decode("utf-8", "replace")
        if self._filename is None:
            return
        if not self.csrf_ok:
            raise UploadError(
                403, "CSRF token missing or wrong: reload the page and send the form again"
            )
        if self._name not in self.allowed:
            raise UploadError(400, f"unexpected file field {self._name!r}")
        if not self._filename:  # an empty <input type=file>: browsers send no name, no data
            self._out = None
            return
        if len(self.result.files) >= _MAX_FILES:
            raise UploadError(413, f"too many files: at most {_MAX_FILES} per upload")
        self.incoming.mkdir(parents=True, exist_ok=True)
        self._out_path = self.incoming / f"{secrets.token_hex(16)}.part"
        fd = os.open(self._out_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._out = os.fdopen(fd, "wb")
        self._head = bytearray()
        self._hash = hashlib.sha256()
        self._size = 0
        self._kind = None

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._filename is None:
            self._text += chunk
            if len(self._text) > _MAX_FIELD_BYTES:
                raise UploadError(413, f"form field {self._name!r} is too long")
            return
        if self._out is None:
            return
        if self._kind is None:
            self._head += chunk[: _SNIFF_BYTES - len(self._head)]
            if len(self._head) >= _SNIFF_BYTES:
                self._check_kind()
        self._out.write(chunk)
        self._hash.update(chunk)
        self._size += len(chunk)

    def _check_kind(self) -> None:
        kind = detect_kind(bytes(self._head))
        allowed = self.allowed[self._name]
        if kind not in allowed and "text" in allowed and _looks_like_text(bytes(self._head)):
            kind = "text"
        if kind not in allowed:
            wanted = " or ".join(FILE_KINDS.get(k, k) for k in allowed)
            label = safe_display_name(self._filename)
            raise UploadError(
                415,
                f"{label!r} is not a {wanted} (the file's content decides, not its name)",
            )
        self._kind = kind

    def on_part_end(self) -> None:
        if self._filename is None:
            text = bytes(self._text).decode("utf-8", "replace")
            self.result.fields.setdefault(self._name, []).append(text)
            if self._name == "csrf_token" and self.csrf_expected is not None:
                self.csrf_ok = self.csrf_ok or hmac.compare_digest(text, self.csrf_expected)
            return
        if self._out is None or self._out_path is None:
            return
        if self._kind is None:  # shorter than the sniff window
            self._check_kind()
        self._out.flush()
        os.fsync(self._out.fileno())
        self._out.close()
        self._out = None
        assert self._kind is not None
        self.result.files.append(
            UploadedFile(
                field=self._name,
                original_name=safe_display_name(self._filename),
                path=self._out_path,
                kind=self._kind,
                size_bytes=self._size,
                sha256=self._hash.hexdigest(),
            )
        )
        self._out_path = None

    def abort(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None
        if self._out_path is not None:
            with contextlib.suppress(FileNotFoundError):
                self._out_path.unlink()
        self.result.cleanup()


async def receive_upload(
    request: Request,
    *,
    data_dir: Path,
    max_bytes: int,
    allowed: Mapping[str, Sequence[str]],
    csrf_expected: str | None,
    csrf_header_ok: bool,
) -> ParsedUpload:
    """Parse a ``multipart/form-data`` request, streaming its files into the incoming folder.

    Parameters
    ----------
    request
        The request (its body not yet read).
    data_dir
        The store's data folder; files go to ``data_dir/files/.incoming/``.
    max_bytes
        Largest request body accepted [bytes].
    allowed
        File field name -> kinds accepted there (keys of :data:`FILE_KINDS`).
    csrf_expected
        The session's CSRF token.
    csrf_header_ok
        Whether the ``X-CSRF-Token`` header already matched.

    Raises
    ------
    UploadError
        400 not multipart, 403 no CSRF token before the first file, 413 too large, 415 wrong
        type. Nothing is left on disk then.
    """
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise UploadError(400, "send the upload as multipart/form-data")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise UploadError(
            413,
            f"upload too large: {_mib(int(declared))} sent, at most {_mib(max_bytes)} allowed; "
            "nothing was stored",
        )
    receiver = _Receiver(data_dir / INCOMING_DIR, allowed, csrf_expected, csrf_header_ok)
    parser = MultipartParser(boundary, receiver.callbacks())
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_bytes:
                raise UploadError(
                    413,
                    f"upload too large: more than {_mib(max_bytes)} sent, at most "
                    f"{_mib(max_bytes)} allowed; nothing was stored",
                )
            parser.write(chunk)
        parser.finalize()
    except UploadError:
        receiver.abort()
        raise
    except ClientDisconnect:
        receiver.abort()
        raise UploadError(400, "the upload was interrupted; nothing was stored") from None
    except Exception as exc:  # malformed multipart from python_multipart
        receiver.abort()
        raise UploadError(400, f"malformed multipart upload: {exc}") from None
    if not receiver.csrf_ok:
        receiver.abort()
        raise UploadError(403, "CSRF token missing or wrong: reload the page and send again")
    return receiver.result
