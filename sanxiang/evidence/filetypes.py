"""The one file-type sniffer: what a file is, from its bytes, never from its
name or the client's word.

Uploads (``services.sniff``: the MIME type an evidence item records) and the
archive check (``archive.check``: are the bytes of a package member what the
manifest says) both ask ``sniff``, so a file the platform accepted as one
type is never found to be another when its case file is checked.

The `filetype` library reads the first bytes. A ZIP container is then told
apart by its content, not by its first entries: a DOCX has
``[Content_Types].xml`` and ``word/document.xml``, an XLSX
``[Content_Types].xml`` and ``xl/workbook.xml``, a PPTX
``ppt/presentation.xml``; any other ZIP is ``application/zip``.

Plain Python (no Django): the offline archive check imports it.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from typing import BinaryIO

import filetype

HEAD_BYTES = 8192  # how much of a file the sniffer reads (a ZIP is opened whole through ``opener``)
UNKNOWN = "application/octet-stream"
ZIP = "application/zip"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

# Office Open XML: the part that makes a package a document of that kind.
_OOXML_MAIN_PARTS = ((DOCX, "word/document.xml"), (XLSX, "xl/workbook.xml"), (PPTX, "ppt/presentation.xml"))
_ZIP_FAMILY = frozenset({ZIP, DOCX, XLSX, PPTX})
_ZIP_MAGIC = b"PK\x03\x04"


def _zip_kind(opener: Callable[[], BinaryIO]) -> str:
    """DOCX, XLSX, PPTX or plain ZIP, from the names inside the container."""
    try:
        with opener() as raw, zipfile.ZipFile(raw) as inner:
            names = set(inner.namelist())
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError):
        return ZIP
    if "[Content_Types].xml" in names:
        for mime, part in _OOXML_MAIN_PARTS:
            if part in names:
                return mime
    return ZIP


def sniff(head: bytes, opener: Callable[[], BinaryIO] | None = None) -> str:
    """The MIME type the bytes show (``application/octet-stream`` when
    none). ``head`` is the file's first bytes (``HEAD_BYTES`` of them is
    enough); ``opener()``, when given, returns a fresh seekable stream of
    the whole file, through which a ZIP is looked into. Without it a ZIP's
    kind is the library's guess from the first entries."""
    guess = filetype.guess(head) if head else None
    mime = guess.mime if guess else UNKNOWN
    if opener is not None and (mime in _ZIP_FAMILY or head.startswith(_ZIP_MAGIC)):
        return _zip_kind(opener)
    return mime


def sniff_file(path) -> str:
    """``sniff`` of the file at ``path``."""
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    return sniff(head, lambda: open(path, "rb"))


def executable_kind(head: bytes) -> str | None:
    """What kind of program the bytes are, or None: Windows (MZ), ELF,
    Mach-O / Java class, or a script (#!, but not the #!AMR audio header)."""
    if head.startswith(b"MZ"):
        return "Windows executable (MZ)"
    if head.startswith(b"\x7fELF"):
        return "ELF executable"
    if head[:4] in {b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe"}:
        return "Mach-O / Java class"
    if head.startswith(b"#!") and not head.startswith(b"#!AMR"):
        return "script (#!)"
    return None
