"""The Chinese font embedded in every PDF.

Shared by the documents app (文书) and the e-case file's table of contents
(evidence/archive/toc.py), so it lives in core.

Which face (issue 11 item 6): an official document is set in a serif (宋体 /
仿宋-like) face. The setting ``DOCUMENT_PDF_FONT`` (environment
``SANXIANG_DOCUMENT_PDF_FONT``) names a font file (.ttc/.otf/.ttf) to use;
empty means "detect": the first of ``SYSTEM_SERIF_CANDIDATES`` installed on
the server (Debian/Ubuntu ``fonts-noto-cjk`` puts Noto Serif CJK at
/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc); ``packaged``
forces the packaged face. A configured file that is missing or unreadable
falls back to the packaged face (logged), so a PDF is always produced. In a
collection the Simplified Chinese face is taken (PostScript name with "SC").

The packaged fallback: the PyPI package ``noto-cjk-sans-otc`` (Noto Sans CJK, Regular, as an
OpenType collection; SIL Open Font License 1.1, which allows embedding and
redistribution). We use the collection's Simplified Chinese face (Noto Sans
CJK SC): mainland glyph forms. Whichever face, the PDF embeds a subset (CFF
outlines, FontFile3), so it prints the same on a machine with no Chinese font
at all. See docs/decisions/0008-documents-app-and-pdf-font.md.

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


# Serif CJK faces as installed by common distributions (first found wins).
SYSTEM_SERIF_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",  # Debian, Ubuntu: fonts-noto-cjk
    "/usr/share/fonts/noto-cjk/NotoSerifCJK-Regular.ttc",  # Arch: noto-fonts-cjk
    "/usr/share/fonts/google-noto-serif-cjk-fonts/NotoSerifCJK-Regular.ttc",  # Fedora
    "/usr/share/fonts/opentype/noto/NotoSerifCJKsc-Regular.otf",
)
PACKAGED = "packaged"


@dataclass(frozen=True)
class FontFile:
    path: Path
    collection_index: int = 0
    covered: frozenset[int] | None = None  # None: everything the face has
    postscript_name: str = FACE_POSTSCRIPT_NAME


_lock = threading.Lock()
_full: dict[str, FontFile] = {}
_common: dict[str, FontFile] = {}


def _source_path() -> Path:
    try:
        import noto_cjk_sans_otc
    except ImportError as exc:  # pragma: no cover - a broken install
        raise RuntimeError(f"the font package {FONT_PACKAGE} is not installed (pip install {FONT_PACKAGE})") from exc
    return Path(str(noto_cjk_sans_otc.FONT_PATH))


def _packaged_face() -> FontFile:
    """The Simplified Chinese face of the packaged collection."""
    from fontTools.ttLib import TTCollection

    path = _source_path()
    collection = TTCollection(str(path), lazy=True)
    try:
        for index, face in enumerate(collection.fonts):
            if face["name"].getDebugName(6) == FACE_POSTSCRIPT_NAME:
                return FontFile(path=path, collection_index=index)
        raise RuntimeError(f"{path} has no face {FACE_POSTSCRIPT_NAME}")  # pragma: no cover - another build
    finally:
        collection.close()


def _system_face(path: Path) -> FontFile:
    """The face to use in a configured or detected font file: in a
    collection the Simplified Chinese face (PostScript name with "SC"), else
    the first; raises on a file fontTools cannot read or without CJK."""
    from fontTools.ttLib import TTCollection, TTFont

    if path.suffix.lower() in (".ttc", ".otc"):
        collection = TTCollection(str(path), lazy=True)
        try:
            names = [face["name"].getDebugName(6) or "" for face in collection.fonts]
            index = next((i for i, n in enumerate(names) if "sc" in n.lower().split("-")[0][-2:]), 0)
            cmaps = collection.fonts[index].getBestCmap() or {}
        finally:
            collection.close()
        name = names[index]
    else:
        font = TTFont(str(path), lazy=True)
        try:
            name, cmaps, index = font["name"].getDebugName(6) or path.stem, font.getBestCmap() or {}, 0
        finally:
            font.close()
    if ord("国") not in cmaps:
        raise ValueError(f"{path} has no Chinese characters")
    return FontFile(path=path, collection_index=index, postscript_name=name)


def configured_path() -> Path | None:
    """The serif font file the PDF uses: the setting, else the first
    installed candidate; None for the packaged face."""
    configured = (settings.DOCUMENT_PDF_FONT or "").strip()
    if configured == PACKAGED:
        return None
    if configured:
        return Path(configured)
    return next((Path(c) for c in SYSTEM_SERIF_CANDIDATES if Path(c).is_file()), None)


def full_font() -> FontFile:
    """The whole face the PDF uses: the configured (or detected) serif CJK
    font when it is there and readable, else the packaged Noto Sans CJK SC."""
    path = configured_path()
    key = str(path or PACKAGED)
    face = _full.get(key)
    if face is None:
        if path is not None:
            try:
                face = _system_face(path)
            except Exception as exc:  # missing, unreadable, not CJK: fall back, never fail the issue
                logger.warning("document font %s not usable (%s); using the packaged font", path, exc)
        _full[key] = face = face or _packaged_face()
    return face


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
    material = (f"{COMMON_VERSION}|{source.path}|{stat.st_size}|{stat.st_mtime_ns}|{source.collection_index}|"
                f"{fontTools.version}")
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
    source = full_font()
    key = f"{source.path}#{source.collection_index}"
    if key in _common:
        return _common[key]
    with _lock:
        if key not in _common:
            from fontTools.ttLib import TTFont

            safe = "".join(c for c in source.postscript_name if c.isalnum() or c in "-_") or "font"
            target = cache_dir() / f"{safe}-common-{_cache_key(source)}.otf"
            if not target.exists():
                logger.info("building the common Chinese font subset at %s (once)", target)
                _build_common(source, target)
            font = TTFont(str(target), lazy=True)
            try:
                covered = frozenset(font.getBestCmap())
            finally:
                font.close()
            _common[key] = FontFile(path=target, covered=covered, postscript_name=source.postscript_name)
    return _common[key]


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
