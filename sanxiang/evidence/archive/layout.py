"""What an e-case file package holds and how its parts are named: the
contract between the builder (``build``) and the checker (``check``).
Plain Python (no Django)."""

from __future__ import annotations

from ..filetypes import DOCX

# 1: files named ``files/<sha256>.<ext>``, documents then evidence.
# 2: files named by step and document (``01-立案/01-立案审批表-….pdf``), items
#    in step order, and a table of contents (卷内目录, ``TOC``) listed in the
#    manifest's ``toc`` like any other file. The checker accepts both.
PACKAGE_VERSION = 2
SUPPORTED_VERSIONS = (1, 2)

MANIFEST = "manifest.json"
MANIFEST_SHA = "manifest.sha256"
EXCERPT = "audit/excerpt.jsonl"
PROOFS = "audit/proofs.json"
CHECKPOINT = "audit/checkpoint.json"
FIXED_MEMBERS = (MANIFEST, MANIFEST_SHA, EXCERPT, PROOFS, CHECKPOINT)
TOC = "00-卷内目录.pdf"  # version 2: the table of contents
MAX_NAME = 80  # characters in one path component of a named member (version 2)
OTHER_FOLDER = "其他材料"  # items that belong to no step

ANCHOR_ACTION = "case.archive_manifest"  # the audit entry that carries the manifest's SHA-256
BUILT_ACTION = "case.archive"  # appended after the package is stored (its own SHA-256)

# The formats an archived case file may hold (usability, 可用性): format code
# -> (extension, MIME types the sniffer (``evidence.filetypes``) may give it).
FORMATS: dict[str, tuple[str, frozenset[str]]] = {
    "pdf": ("pdf", frozenset({"application/pdf"})),
    "docx": ("docx", frozenset({DOCX})),
    "jpeg": ("jpg", frozenset({"image/jpeg"})),
    "png": ("png", frozenset({"image/png"})),
    "mp4": ("mp4", frozenset({"video/mp4"})),
    "mov": ("mov", frozenset({"video/quicktime"})),
    "m4a": ("m4a", frozenset({"audio/mp4", "audio/x-m4a", "audio/m4a"})),
    "mp3": ("mp3", frozenset({"audio/mpeg", "audio/mp3"})),
    "amr": ("amr", frozenset({"audio/amr"})),
    "wav": ("wav", frozenset({"audio/x-wav", "audio/wav", "audio/wave"})),
}
ALLOWED_FORMATS = frozenset(FORMATS)

# The four properties of the check (四性检测).
PROPERTIES = ("authenticity", "integrity", "usability", "security")
PROPERTY_NAMES = {"authenticity": "真实性", "integrity": "完整性", "usability": "可用性", "security": "安全性"}


def format_for_mime(mime: str) -> str | None:
    """The format code of a MIME type, or None when it is not archivable."""
    for code, (_, mimes) in FORMATS.items():
        if mime in mimes:
            return code
    return None


def member_path(sha256: str, fmt: str | None) -> str:
    """Where a file lives in the package: named by its SHA-256 and format."""
    return f"files/{sha256}.{FORMATS[fmt][0] if fmt in FORMATS else 'bin'}"


_UNSAFE = frozenset('/\\:*?"<>|')


def safe_component(text: str, limit: int = MAX_NAME) -> str:
    """A file or folder name from free text: no path separator, control or
    reserved character (each becomes "_"), no leading or trailing dot or
    space, at most ``limit`` characters; never empty."""
    out = "".join("_" if (c in _UNSAFE or ord(c) < 32 or 0x7F <= ord(c) < 0xA0) else c for c in str(text or ""))
    out = " ".join(out.split()).strip(" .")
    return out[:limit].rstrip(" .") or "_"


def step_folder(index: int, name: str) -> str:
    """The folder of a step's files: ``01-立案``."""
    return f"{index:02d}-{safe_component(name, 40)}"


def named_member(folder: str, index: int, title: str, number: str | None, fmt: str | None) -> str:
    """A version-2 file name: ``<folder>/<NN>-<title>[-<number>].<ext>``."""
    stem = safe_component(f"{index:02d}-{title}" + (f"-{number}" if number else ""), MAX_NAME - 6)
    return f"{folder}/{stem}.{FORMATS[fmt][0] if fmt in FORMATS else 'bin'}"


def named_member_problem(path: str, fmt: str | None) -> str | None:
    """Why ``path`` is not a valid version-2 file name, or None: a step
    folder and a file (or the TOC), each component already safe and within
    the length limit, ending in its format's extension."""
    if path == TOC:
        return None if fmt == "pdf" else "the table of contents is not a PDF"
    parts = path.split("/")
    if len(parts) != 2:
        return "not <step folder>/<file>"
    if path in FIXED_MEMBERS or parts[0] == "audit":
        return "a reserved member name"
    for part in parts:
        if len(part) > MAX_NAME or safe_component(part) != part:
            return f"unsafe or over-long name component {part!r}"
    ext = FORMATS[fmt][0] if fmt in FORMATS else "bin"
    if not parts[1].endswith("." + ext):
        return f"extension does not match its format {fmt} (.{ext})"
    return None
