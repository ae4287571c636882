"""The Chinese font embedded in every PDF.

Shared by the documents app (文书) and the e-case file's table of contents
(evidence/archive/toc.py), so it lives in core.

Source: the PyPI package ``noto-cjk-sans-otc`` (Noto Sans CJK, Regular, as an
OpenType collection; SIL Open Font License 1.1, which allows embedding and
redistribution). We use the collection's Simplified Chinese face (Noto Sans
CJK SC): mainland glyph forms. The PDF embeds a subset (CFF outlines,
FontFile3), so it prints the same on a machine with no Chinese font at all.
Nothing is read from the system's fonts. See
docs/decisions/0008-documents-app-and-pdf-font.md.

Speed: fpdf2 parses and subsets the whole 65,000-glyph face for every PDF
(~0.8 s). Nearly every document is written in the GB 2312 repertoire, so
once per installation we cut a "common" font holding GB 2312 plus ASCII and
a few symbols (~7,500 glyphs, ~20 s, cached on disk) and render from it in
~0.2 s; a text with any character outside it (a rare character in a name)
is rendered from the full face. Both are the same outlines of the same font.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

FONT_PACKAGE = "noto-cjk-sans-otc"
FAMILY = "NotoSansCJKsc"
FACE_POSTSCRIPT_NAME = "NotoSansCJKsc-Regular"
COMMON_VERSION = "1"  # bump when the common repertoire changes

# Besides GB 2312: symbols used in documents that GB 2312 lacks.
_EXTRA = "¥·—–…‘’“”《》〔〕【】〇№×÷±°℃‰、。，；：？！（）"


@dataclass(frozen=True)
class FontFile:
    path: Path
    collection_index: int = 0
    covered: frozenset[int] | None = None  # None: everything the face has


_lock = threading.Lock()
_full: FontFile | None = None
_common: FontFile | None = None


def _source_path() -> Path:
    try:
        import noto_cjk_sans_otc
    except ImportError as exc:  # pragma: no cover - a broken install
        raise RuntimeError(f"the font package {FONT_PACKAGE} is not installed (pip install {FONT_PACKAGE})") from exc
    return Path(str(noto_cjk_sans_otc.FONT_PATH))


def full_font() -> FontFile:
    """The Simplified Chinese face of the installed collection."""
    global _full
    if _full is None:
        from fontTools.ttLib import TTCollection

        path = _source_path()
        collection = TTCollection(str(path), lazy=True)
        try:
            for index, face in enumerate(collection.fonts):
                if face["name"].getDebugName(6) == FACE_POSTSCRIPT_NAME:
                    _full = FontFile(path=path, collection_index=index)
                    break
            else:  # pragma: no cover - a different package build
                raise RuntimeError(f"{path} has no face {FACE_POSTSCRIPT_NAME}")
        finally:
            collection.close()
    return _full


def common_repertoire() -> set[int]:
    chars = set(range(0x20, 0x7F)) | {ord(c) for c in _EXTRA} | {0x3000}
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(ord(bytes([hi, lo]).decode("gb2312")))
            except UnicodeDecodeError:
                pass
    return chars


def cache_dir() -> Path:
    configured = settings.DOCUMENT_FONT_CACHE_DIR
    return Path(configured) if configured else Path(settings.DATA_DIR) / "cache" / "fonts"


def _cache_key(source: FontFile) -> str:
    import fontTools

    stat = source.path.stat()
    material = f"{COMMON_VERSION}|{source.path.name}|{stat.st_size}|{source.collection_index}|{fontTools.version}"
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def _build_common(source: FontFile, target: Path) -> None:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(str(source.path), fontNumber=source.collection_index, lazy=True)
    options = subset.Options(notdef_outline=True, recommended_glyphs=True, name_IDs=["*"], name_languages=["*"])
    # Horizontal text only, no shaping needed for Chinese running text.
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "VORG", "vhea", "vmtx"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=common_repertoire())
    subsetter.subset(font)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".otf.part")
    os.close(fd)
    try:
        font.save(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def common_font() -> FontFile:
    """The cached common subset, built on first use (once per installation)."""
    global _common
    if _common is not None:
        return _common
    with _lock:
        if _common is None:
            from fontTools.ttLib import TTFont

            source = full_font()
            target = cache_dir() / f"{FACE_POSTSCRIPT_NAME}-common-{_cache_key(source)}.otf"
            if not target.exists():
                logger.info("building the common Chinese font subset at %s (once)", target)
                _build_common(source, target)
            font = TTFont(str(target), lazy=True)
            try:
                covered = frozenset(font.getBestCmap())
            finally:
                font.close()
            _common = FontFile(path=target, covered=covered)
    return _common


def ensure_ready() -> None:
    """Build the cache before taking locks in a transaction."""
    common_font()


def font_for(text: str) -> FontFile:
    """The common subset when it holds every character of ``text``, else the
    full face."""
    common = common_font()
    needed = {ord(c) for c in text if not c.isspace() or c == "\u3000"}
    if common.covered is not None and needed <= common.covered:
        return common
    return full_font()
