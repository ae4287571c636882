"""What an e-case file package holds and how its parts are named: the
contract between the builder (``build``) and the checker (``check``).
Plain Python (no Django)."""

from __future__ import annotations

from ..filetypes import DOCX

PACKAGE_VERSION = 1

MANIFEST = "manifest.json"
MANIFEST_SHA = "manifest.sha256"
EXCERPT = "audit/excerpt.jsonl"
PROOFS = "audit/proofs.json"
CHECKPOINT = "audit/checkpoint.json"
FIXED_MEMBERS = (MANIFEST, MANIFEST_SHA, EXCERPT, PROOFS, CHECKPOINT)

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
