"""The four-property check (四性检测) of an e-case file package, offline.

``check_archive(path)`` reads only the ZIP (layout: ``archive.layout``,
docs/archive.md) and needs no database and no Django: a court, an archives
office or a reviewer runs it on a copy with ``python -m
sanxiang.evidence.archive PACKAGE [--key KEY] [--public-key HEX]``. It checks
authenticity (真实性), integrity (完整性), usability (可用性) and security
(安全性); each finding names the member, the manifest sequence number and/or
the audit seq.

The audit entries are recomputed with the chain's own format
(``core.chainformat``), their inclusion proofs verified with the chain's own
Merkle code (``core.merkle``), file types told by the uploads' own sniffer
(``evidence.filetypes``). The checkpoint's HMAC is verified with the key
given; its Ed25519 signature against the public keys given (pinned) or, with
none, against the key the package carries ("unpinned", with its id). On the
platform, ``archive.keys`` supplies the platform's keys.

Members are read in 1 MiB pieces; no file is held in memory whole.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import posixpath
import stat
import zipfile
from dataclasses import dataclass, field

from sanxiang.core import signing
from sanxiang.core.chainformat import GENESIS_HASH, checkpoint_hmac_ok, checkpoint_message_of, entry_hash_of
from sanxiang.core.merkle import verify_inclusion

from .. import filetypes
from ..hashing import CHUNK
from .layout import (
    ALLOWED_FORMATS, ANCHOR_ACTION, CHECKPOINT, EXCERPT, FIXED_MEMBERS, FORMATS, MANIFEST, MANIFEST_SHA, PROOFS,
    PROPERTIES, PROPERTY_NAMES, SUPPORTED_VERSIONS, format_for_mime, member_path, named_member_problem,
)

# Security limits (zip bomb guard).
MAX_MEMBERS = 100_000
MAX_JSON_BYTES = 256 * 1024 * 1024  # manifest / proofs / checkpoint read into memory: bounded
MAX_RATIO = 200  # uncompressed/compressed above this, for members over 1 MiB, is refused

EXECUTABLE_SUFFIXES = frozenset({
    ".exe", ".dll", ".com", ".scr", ".msi", ".bat", ".cmd", ".ps1", ".vbs", ".js", ".jar", ".sh", ".py", ".pl",
    ".so", ".dylib", ".apk", ".html", ".htm", ".hta", ".lnk",
})


def sniffed_format(head: bytes, opener=None) -> str | None:
    """The archive format code the bytes are (``filetypes.sniff``), or None."""
    return format_for_mime(filetypes.sniff(head, opener))


def _usable(fmt: str, head: bytes, tail: bytes, opener) -> str | None:
    """Why a file of ``fmt`` does not open, or None. ``opener()`` returns a
    fresh seekable stream of the file (for DOCX)."""
    if fmt == "pdf":
        if not head.startswith(b"%PDF-"):
            return "PDF without the %PDF- header"
        if b"%%EOF" not in tail:
            return "PDF without %%EOF at its end (truncated)"
        return None
    if fmt == "docx":
        try:
            with opener() as raw, zipfile.ZipFile(raw) as inner:
                names = set(inner.namelist())
                if "word/document.xml" not in names or "[Content_Types].xml" not in names:
                    return "DOCX without word/document.xml or [Content_Types].xml"
                bad = inner.testzip()
                if bad:
                    return f"DOCX part {bad} is corrupt"
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            return f"DOCX is not a readable ZIP ({exc})"
        return None
    if fmt == "jpeg":
        if not (head.startswith(b"\xff\xd8\xff") and len(head) > 3 and head[3] >= 0xC0):
            return "JPEG without a valid SOI marker"
        return None
    if fmt == "png":
        if not (head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR"):
            return "PNG without its signature and IHDR"
        width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
        if not width or not height:
            return "PNG with zero width or height"
        return None
    if fmt in {"mp4", "m4a", "mov"}:
        if len(head) < 12:
            return f"{fmt.upper()} too short"
        box = int.from_bytes(head[0:4], "big")
        if fmt != "mov" and (head[4:8] != b"ftyp" or box < 8):
            return f"{fmt.upper()} without an ftyp box"
        if fmt == "mov" and head[4:8] not in {b"ftyp", b"moov", b"mdat", b"wide", b"free"}:
            return "MOV without a QuickTime atom"
        return None
    if fmt == "amr":
        return None if head.startswith(b"#!AMR") else "AMR without its #!AMR header"
    if fmt == "wav":
        if not (head.startswith(b"RIFF") and head[8:12] == b"WAVE" and b"fmt " in head[:64]):
            return "WAV without RIFF/WAVE/fmt headers"
        return None
    if fmt == "mp3":
        return None if sniffed_format(head) == "mp3" else "MP3 without an ID3 tag or frame sync"
    return f"format {fmt!r} not on the allowed list"


# ==========================================================================
# The report
# ==========================================================================


@dataclass
class Finding:
    prop: str  # authenticity | integrity | usability | security
    where: str  # member, manifest item, audit seq ...
    message: str  # English / Chinese

    def __str__(self):
        return f"[{self.where}] {self.message}"


@dataclass
class Report:
    path: str
    findings: list[Finding] = field(default_factory=list)
    signature: str = "not checked"  # verified | INVALID | not checked (no signing key)
    # The Ed25519 signature: verified (with the expected public key) |
    # unpinned (verifies with the key the package carries; compare its id) |
    # INVALID | absent (a package from before these signatures)
    public_signature: str = "absent"
    key_id: str = ""
    pinned_keys: frozenset = frozenset()  # public keys (hex) the signature must be made with; empty: unpinned
    summary: dict = field(default_factory=dict)

    def add(self, prop: str, where: str, en: str, zh: str) -> None:
        self.findings.append(Finding(prop, where, f"{en} / {zh}"))

    def of(self, prop: str) -> list[Finding]:
        return [f for f in self.findings if f.prop == prop]

    def passed(self, prop: str) -> bool:
        return not self.of(prop)

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict:
        return {"package": self.path, "ok": self.ok, "signature": self.signature,
                "public_signature": self.public_signature, "key_id": self.key_id, "summary": self.summary,
                "properties": {p: {"ok": self.passed(p), "findings": [{"where": f.where, "message": f.message}
                                                                      for f in self.of(p)]} for p in PROPERTIES}}

    def text(self) -> str:
        lines = [f"four-property check / 四性检测: {self.path}"]
        s = self.summary
        if s:
            lines.append(f"case / 案件: {s.get('case', '?')}; items / 卷内文件 {s.get('items', '?')} "
                         f"(documents / 文书 {s.get('documents', '?')}, evidence / 证据 {s.get('evidence', '?')}); "
                         f"files / 文件 {s.get('files', '?')}; audit entries / 审计记录 {s.get('audit_entries', '?')}; "
                         f"checkpoint / 检查点 {s.get('checkpoint_size', '?')}")
        for prop in PROPERTIES:
            found = self.of(prop)
            verdict = "PASS / 通过" if not found else f"FAIL / 不通过 ({len(found)})"
            lines.append(f"{prop} ({PROPERTY_NAMES[prop]}): {verdict}")
            lines.extend(f"  - {f}" for f in found)
        sig = {"verified": "verified / 签名有效", "INVALID": "INVALID / 签名无效"}.get(
            self.signature, "not checked (no signing key) / 未校验（无签名密钥）")
        lines.append(f"checkpoint signature / 检查点签名: {sig}")
        public = {
            "verified": f"verified with the expected public key {self.key_id} / 与预期公钥 {self.key_id} 相符，签名有效",
            "unpinned": f"valid with the public key the package carries, {self.key_id}: compare this id with the one the "
                        f"platform publishes (`sanxiang audit public-key`) / 签名与包内公钥 {self.key_id} 相符；"
                        "请与平台公布的公钥标识核对",
            "INVALID": "INVALID / 签名无效",
        }.get(self.public_signature, "absent (package made before public-key signatures) / 无（早期归档包）")
        lines.append(f"public-key signature (Ed25519) / 公钥签名: {public}")
        lines.append("result / 结论: " + ("PASS / 通过" if self.ok else "FAIL / 不通过"))
        return "\n".join(lines)



# ==========================================================================
# The check (plain Python over the ZIP)
# ==========================================================================


def _key_label(key: str) -> str:
    try:
        return signing.key_id(key)
    except ValueError:
        return key[:16]


def _check_public_signature(checkpoint: dict, report: Report) -> None:
    carried = str(checkpoint.get("public_key") or "").lower()
    signature = str(checkpoint.get("public_signature") or "")
    if not carried and not signature:
        report.public_signature = "absent"
        return
    pinned = report.pinned_keys
    try:
        report.key_id = signing.key_id(carried)
    except ValueError:  # not hex
        report.key_id = "?"
    if pinned and carried not in pinned:
        expected = "、".join(sorted(_key_label(k) for k in pinned))
        report.public_signature = "INVALID"
        report.add("authenticity", CHECKPOINT, f"checkpoint signed by public key {report.key_id}, not the expected "
                   f"{expected}", "检查点的签名公钥不是预期的平台公钥")
        return
    if not signing.verify(carried, checkpoint_message_of(checkpoint), signature):
        report.public_signature = "INVALID"
        report.add("authenticity", CHECKPOINT, f"checkpoint Ed25519 signature invalid (tree size {checkpoint['tree_size']}): "
                   "forged or altered", "检查点公钥签名无效（被伪造或篡改）")
        return
    report.public_signature = "verified" if pinned else "unpinned"


def _read_small(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    with zf.open(info) as fh:
        data = fh.read(MAX_JSON_BYTES + 1)
    if len(data) > MAX_JSON_BYTES:
        raise ValueError(f"larger than {MAX_JSON_BYTES} bytes")
    return data


def _scan_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> tuple[str, int, bytes, bytes, str | None]:
    """Stream one member: (sha256, bytes read, first 8 KiB, last 1 KiB,
    error). Reads at most ``limit`` + 1 bytes, whatever the member claims."""
    digest, total, head, tail = hashlib.sha256(), 0, b"", b""
    error = None
    try:
        with zf.open(info) as fh:
            while total <= limit:
                block = fh.read(min(CHUNK, limit + 1 - total))
                if not block:
                    break
                if len(head) < 8192:
                    head += block[: 8192 - len(head)]
                tail = (tail + block)[-1024:]
                digest.update(block)
                total += len(block)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        error = str(exc)
    return digest.hexdigest(), total, head, tail, error


def _safe_name_problem(name: str) -> str | None:
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "absolute path"
    if "\\" in name:
        return "backslash in path"
    parts = name.split("/")
    if ".." in parts:
        return "'..' in path"
    if posixpath.normpath(name) != name.rstrip("/") and not name.endswith("/"):
        return "path not in normal form"
    if any(ord(c) < 32 for c in name):
        return "control character in path"
    return None


def check_archive(path, *, signing_key: bytes | str | None = None, public_key=None) -> Report:
    """The four-property check (四性检测) of a package. Works offline on a
    copy: only the ZIP is read. The checkpoint's HMAC is verified with
    ``signing_key``; without one it is reported "not checked", not failed.
    Its Ed25519 signature must be made with ``public_key`` (hex, or several),
    and without one is checked against the key the package carries, reported
    "unpinned" with its id. (On the platform: ``keys.check_with_platform_keys``.)"""
    report = Report(path=str(path))
    if isinstance(signing_key, str):
        signing_key = signing_key.encode("utf-8")
    if public_key:
        keys = [public_key] if isinstance(public_key, str) else list(public_key)
        report.pinned_keys = frozenset(k.strip().lower() for k in keys if k.strip())
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        for prop in PROPERTIES:
            report.add(prop, str(path), f"not a readable ZIP package ({exc})", "不是可读取的 ZIP 归档包")
        return report
    with zf:
        _check_open_package(zf, report, signing_key)
    return report


def _check_open_package(zf: zipfile.ZipFile, report: Report, signing_key: bytes | None) -> None:
    A, I, U, S = PROPERTIES  # noqa: N806 - short names for the four properties
    infos = zf.infolist()

    # --- security: what is inside at all -------------------------------------
    if len(infos) > MAX_MEMBERS:
        report.add(S, "package", f"{len(infos)} members, more than the limit {MAX_MEMBERS} (zip bomb guard)",
                   f"归档包内文件数 {len(infos)} 超过上限 {MAX_MEMBERS}")
        return
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename
        problem = _safe_name_problem(name)
        if problem:
            report.add(S, name, f"unsafe member name: {problem}", "归档包内路径不安全（绝对路径、“..”等）")
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            report.add(S, name, "symbolic link inside the package", "归档包内含符号链接")
        elif mode & 0o111 and not name.endswith("/"):
            report.add(S, name, "member marked executable", "归档包内文件带可执行权限")
        if info.flag_bits & 0x1:
            report.add(S, name, "encrypted member", "归档包内文件被加密")
        if info.is_dir():
            report.add(S, name, "unexpected directory entry", "归档包内含多余的目录项")
            continue
        if os.path.splitext(name)[1].lower() in EXECUTABLE_SUFFIXES:
            report.add(S, name, "executable or script file name", "归档包内含可执行文件或脚本")
        if info.compress_size and info.file_size > CHUNK and info.file_size / info.compress_size > MAX_RATIO:
            report.add(S, name, f"compression ratio {info.file_size // info.compress_size}:1 (zip bomb guard)",
                       "压缩比异常（疑似压缩炸弹）")
        if name in members:
            report.add(S, name, "member name appears twice in the ZIP", "归档包内同名文件出现两次")
            report.add(I, name, "member name appears twice in the ZIP", "同一文件重复列入")
        members[name] = info

    # --- the manifest ---------------------------------------------------------
    manifest, manifest_sha = None, None
    for required in FIXED_MEMBERS:
        if required not in members:
            report.add(I, required, "required member missing", "缺少必备文件")
    if MANIFEST in members:
        try:
            raw = _read_small(zf, members[MANIFEST])
            manifest_sha = hashlib.sha256(raw).hexdigest()
            manifest = json.loads(raw.decode("utf-8"))
            if not isinstance(manifest, dict):
                raise ValueError("not a JSON object")
        except (ValueError, zipfile.BadZipFile, OSError, UnicodeDecodeError) as exc:
            report.add(A, MANIFEST, f"manifest unreadable ({exc})", "清单无法读取（可能被篡改）")
            report.add(I, MANIFEST, "manifest unreadable", "清单无法读取")
            manifest = None
    if MANIFEST_SHA in members and manifest_sha:
        try:
            declared = _read_small(zf, members[MANIFEST_SHA]).decode("ascii").split()[0].lower()
        except (ValueError, IndexError, UnicodeDecodeError, zipfile.BadZipFile, OSError):
            declared = ""
        if declared != manifest_sha:
            report.add(A, MANIFEST_SHA, f"manifest.json hashes to {manifest_sha}, manifest.sha256 says {declared or '(nothing)'}",
                       "清单的 SHA-256 与 manifest.sha256 不符")

    # The layout version: 1 (files/<sha256>.<ext>) or 2 (named by step and
    # document, with a 卷内目录); a manifest without one is version 1.
    version = manifest.get("package_version", 1) if manifest else 1
    if version not in SUPPORTED_VERSIONS:
        report.add(I, MANIFEST, f"package version {version!r} is not one this checker knows {SUPPORTED_VERSIONS}",
                   "归档包版本不受支持")
        version = max(SUPPORTED_VERSIONS)
    items = manifest.get("items", []) if manifest else []
    if manifest is not None and not isinstance(items, list):
        report.add(I, MANIFEST, "manifest 'items' is not a list", "清单格式错误")
        items = []
    items = [it for it in items if isinstance(it, dict)]

    # --- integrity: numbering and listing ---------------------------------------
    seqs = [it.get("seq") for it in items]
    seen_seq: set = set()
    for it in items:
        s = it.get("seq")
        if not isinstance(s, int) or s < 1:
            report.add(I, f"item {s!r}", "sequence number is not a positive integer", "卷内序号不是正整数")
        elif s in seen_seq:
            report.add(I, f"item #{s}", "sequence number used twice", "卷内序号重复")
        seen_seq.add(s)
    int_seqs = sorted(s for s in seen_seq if isinstance(s, int) and s >= 1)
    if int_seqs:
        missing = sorted(set(range(1, max(int_seqs) + 1)) - set(int_seqs))
        for s in missing:
            report.add(I, f"item #{s}", "sequence number missing (gap in the numbering)", f"卷内序号第{s}号缺失（编号不连续）")
    listed_keys: dict[tuple, int] = {}
    for it in items:
        key = (it.get("type"), it.get("id"))
        if key in listed_keys:
            report.add(I, f"item #{it.get('seq')}", f"{key[0]} {key[1]} listed twice (also item #{listed_keys[key]})",
                       f"同一{'文书' if key[0] == 'document' else '证据'}重复列入清单")
        else:
            listed_keys[key] = it.get("seq")
    counts = manifest.get("counts", {}) if manifest else {}
    if manifest is not None:
        n_docs = sum(1 for it in items if it.get("type") == "document")
        n_ev = sum(1 for it in items if it.get("type") == "evidence")
        expected = {"items": len(seqs), "documents": n_docs, "evidence": n_ev}
        for key, value in expected.items():
            if counts.get(key) != value:
                report.add(I, MANIFEST, f"counts.{key} says {counts.get(key)!r}, the manifest lists {value}",
                           "清单中的件数与所列条目不符")

    # Files the manifest lists: path -> (sha256, size, format, mime, [item refs])
    listed_files: dict[str, dict] = {}
    for it in items:
        ref = f"item #{it.get('seq')}"
        for f in it.get("files", []) if isinstance(it.get("files"), list) else []:
            if not isinstance(f, dict):
                continue
            p = f.get("path")
            label = f"{ref} ({it.get('type')}{' ' + f['role'] if f.get('role') else ''})"
            if not isinstance(p, str) or (version < 2 and not p.startswith("files/")):
                report.add(S, label, f"file path {p!r} outside files/", "清单中的文件路径不在 files/ 下")
                continue
            if version >= 2 and (p in FIXED_MEMBERS or _safe_name_problem(p)):
                report.add(S, label, f"file path {p!r} unsafe or reserved", "清单中的文件路径不安全或与固定文件重名")
                continue
            known = listed_files.get(p)
            if known is None:
                listed_files[p] = {**f, "refs": [label]}
            else:
                known["refs"].append(label)
                if known.get("sha256") != f.get("sha256") or known.get("size") != f.get("size"):
                    report.add(A, label, f"{p} listed with two different hashes or sizes", "同一文件在清单中的哈希值或大小不一致")

    if version >= 2 and manifest is not None:
        toc = manifest.get("toc")
        if not isinstance(toc, dict) or not isinstance(toc.get("path"), str):
            report.add(I, MANIFEST, "no table of contents (卷内目录) listed", "清单未列明卷内目录")
        elif toc["path"] in listed_files or toc["path"] in FIXED_MEMBERS or _safe_name_problem(toc["path"]):
            report.add(S, "卷内目录", f"table of contents path {toc['path']!r} unsafe or used twice", "卷内目录路径不安全或重复")
        else:
            listed_files[toc["path"]] = {**toc, "refs": ["卷内目录 (table of contents)"]}

    # --- security: nothing unexpected inside ------------------------------------
    for name in members:
        if name not in FIXED_MEMBERS and name not in listed_files:
            report.add(S, name, "unexpected file: not in the manifest", "归档包内有清单未列明的文件")
            report.add(I, name, "file not listed in the manifest", "文件未列入清单")

    # --- each listed file: present, hash, size, format, opens ---------------------------
    for p, f in sorted(listed_files.items()):
        refs = ", ".join(f["refs"])
        where = f"{p}; {refs}"
        info = members.get(p)
        if info is None:
            report.add(I, where, "listed file missing from the package", "清单所列文件缺失")
            continue
        want_sha, want_size, fmt = f.get("sha256"), f.get("size"), f.get("format")
        if not isinstance(want_size, int) or want_size < 0:
            report.add(I, where, "manifest size missing or invalid", "清单中的文件大小缺失或无效")
            want_size = info.file_size
        if version < 2:
            expected_path = member_path(want_sha, fmt)
            if p != expected_path:
                report.add(A, where, f"file name does not match its manifest SHA-256 and format (expected {expected_path})",
                           "文件名与清单中的哈希值、格式不符")
        else:
            problem = named_member_problem(p, fmt)
            if problem:
                report.add(S, where, f"file name not a step/document name: {problem}", "文件名不符合按步骤、文书命名的规则")
        if info.file_size != want_size:
            report.add(A, where, f"size {info.file_size} bytes in the ZIP, manifest says {want_size}", "文件大小与清单不符")
        sha, size, head, tail, error = _scan_member(zf, info, max(want_size, 0))
        if error:
            report.add(A, where, f"bytes altered or unreadable ({error})", "文件内容被改动或无法读取（校验失败）")
            continue
        if size > want_size:
            report.add(S, where, f"more bytes than the manifest's {want_size} (read stopped)", "文件实际长度超过清单所列（已停止读取）")
            report.add(A, where, "size differs from the manifest", "文件大小与清单不符")
            continue
        if size != want_size:
            report.add(A, where, f"{size} bytes, manifest says {want_size}", "文件大小与清单不符")
        if sha != want_sha:
            report.add(A, where, f"SHA-256 {sha} differs from the manifest's {want_sha}", "文件 SHA-256 与清单不符（内容被改动）")
        sniffed = sniffed_format(head, lambda info=info: zf.open(info))
        mime = f.get("mime", "")
        if fmt not in ALLOWED_FORMATS:
            report.add(U, where, f"format {fmt!r} (MIME {mime or '?'}) not on the allowed list "
                                 f"({', '.join(sorted(ALLOWED_FORMATS))})", "文件格式不在归档允许的格式范围内")
        else:
            if sniffed != fmt:
                report.add(A, where, f"the bytes are {sniffed or 'of no known format'}, manifest says {fmt}",
                           "文件实际格式与清单所列格式不符")
            if mime and mime not in FORMATS[fmt][1]:
                report.add(A, where, f"manifest MIME {mime} does not agree with its format {fmt}", "清单中的 MIME 类型与格式不符")
            problem = _usable(fmt, head, tail, lambda info=info: zf.open(info))
            if problem:
                report.add(U, where, f"does not open: {problem}", "文件无法正常打开")
        danger = filetypes.executable_kind(head)
        if danger:
            report.add(S, where, f"content is an executable: {danger}", "文件内容为可执行程序或脚本")

    # --- the audit excerpt, proofs and checkpoint ----------------------------------
    _check_audit(zf, members, report, manifest, items, manifest_sha, signing_key)

    report.summary.update({
        "case": (f"{manifest.get('case', {}).get('title', '?')} (#{manifest.get('case', {}).get('id', '?')})"
                 if manifest else "?"),
        "items": len(items), "documents": sum(1 for it in items if it.get("type") == "document"),
        "evidence": sum(1 for it in items if it.get("type") == "evidence"), "files": len(listed_files),
        "manifest_sha256": manifest_sha,
    })


def _check_audit(zf, members, report: Report, manifest, items, manifest_sha, signing_key) -> None:
    A, I = "authenticity", "integrity"  # noqa: N806
    checkpoint = None
    if CHECKPOINT in members:
        try:
            checkpoint = json.loads(_read_small(zf, members[CHECKPOINT]).decode("utf-8"))
            for key in ("tree_size", "root_hash", "last_entry_hash", "created_at", "signature"):
                if key not in checkpoint:
                    raise ValueError(f"no {key}")
            int(checkpoint["tree_size"])
            bytes.fromhex(checkpoint["root_hash"])
        except (ValueError, TypeError, UnicodeDecodeError, zipfile.BadZipFile, OSError) as exc:
            report.add(A, CHECKPOINT, f"checkpoint unreadable ({exc})", "检查点无法读取")
            checkpoint = None
    if checkpoint is not None:
        if signing_key is None:
            report.signature = "not checked"
        else:
            if checkpoint_hmac_ok(signing_key, checkpoint_message_of(checkpoint), checkpoint["signature"]):
                report.signature = "verified"
            else:
                report.signature = "INVALID"
                report.add(A, CHECKPOINT, f"checkpoint signature invalid (tree size {checkpoint['tree_size']}): forged or "
                                          "altered, or signed with another key", "检查点签名无效（被伪造、篡改或密钥不同）")
        _check_public_signature(checkpoint, report)

    proofs: dict[int, dict] = {}
    if PROOFS in members:
        try:
            data = json.loads(_read_small(zf, members[PROOFS]).decode("utf-8"))
            for p in data.get("proofs", []):
                s = int(p["seq"])
                if s in proofs:
                    report.add(I, f"{PROOFS} seq {s}", "two proofs for one audit entry", "同一审计记录有两份证明")
                proofs[s] = p
            if checkpoint is not None and (data.get("tree_size") != checkpoint["tree_size"]
                                           or data.get("root_hash") != checkpoint["root_hash"]):
                report.add(A, PROOFS, "proofs are for another tree than the checkpoint", "包含证明与检查点不对应")
        except (ValueError, TypeError, KeyError, AttributeError, UnicodeDecodeError, zipfile.BadZipFile, OSError) as exc:
            report.add(A, PROOFS, f"proofs unreadable ({exc})", "包含证明无法读取")

    entries: dict[int, dict] = {}
    if EXCERPT in members:
        try:
            with zf.open(members[EXCERPT]) as raw:
                for lineno, line in enumerate(io.TextIOWrapper(raw, encoding="utf-8"), 1):
                    if not line.strip():
                        continue
                    try:
                        entry = json.loads(line)
                        s = entry["seq"]
                        if not isinstance(s, int):
                            raise ValueError("seq is not an integer")
                    except (ValueError, KeyError, TypeError) as exc:
                        report.add(A, f"{EXCERPT} line {lineno}", f"entry unreadable ({exc})", "审计记录无法读取")
                        continue
                    if s in entries:
                        report.add(I, f"audit seq {s}", "audit entry listed twice", "审计记录重复")
                    entries[s] = entry
        except (zipfile.BadZipFile, OSError, UnicodeDecodeError) as exc:
            report.add(A, EXCERPT, f"excerpt altered or unreadable ({exc})", "审计摘录被改动或无法读取")

    tree_size = int(checkpoint["tree_size"]) if checkpoint else 0
    root = bytes.fromhex(checkpoint["root_hash"]) if checkpoint else b""
    for s in sorted(entries):
        e = entries[s]
        where = f"audit seq {s}"
        try:
            recomputed = entry_hash_of(e)
        except (KeyError, TypeError) as exc:
            report.add(A, where, f"entry lacks a hashed field ({exc})", "审计记录缺少字段")
            continue
        if recomputed != e.get("entry_hash"):
            report.add(A, where, f"entry hash does not recompute ({e.get('action')}): content altered",
                       f"第{s}条审计记录哈希值不符（内容被篡改）")
        if s - 1 in entries and e.get("prev_hash") != entries[s - 1].get("entry_hash"):
            report.add(A, where, f"prev_hash does not link to entry {s - 1}", f"第{s}条审计记录与第{s - 1}条断链")
        if s == 1 and e.get("prev_hash") != GENESIS_HASH:
            report.add(A, where, "first entry of the chain without the genesis prev_hash", "首条审计记录的前序哈希错误")
        if checkpoint is None:
            continue
        if s > tree_size:
            report.add(A, where, f"entry after the checkpoint (tree size {tree_size}): not covered", "审计记录不在检查点覆盖范围内")
            continue
        if s == tree_size and e.get("entry_hash") != checkpoint["last_entry_hash"]:
            report.add(A, where, "last covered entry differs from the checkpoint's last_entry_hash", "与检查点签署的末条记录不符")
        proof = proofs.get(s)
        if proof is None:
            report.add(I, where, "no inclusion proof for this entry", f"第{s}条审计记录缺少包含证明")
            continue
        try:
            path = [bytes.fromhex(h) for h in proof["path"]]
            ok = proof.get("entry_hash") == e.get("entry_hash") and verify_inclusion(
                bytes.fromhex(e["entry_hash"]), s - 1, tree_size, path, root)
        except (ValueError, TypeError, KeyError):
            ok = False
        if not ok:
            report.add(A, where, f"inclusion proof does not verify against the checkpoint root (tree size {tree_size})",
                       f"第{s}条审计记录的默克尔包含证明不能通过检查点验证")
    for s in sorted(set(proofs) - set(entries)):
        report.add(I, f"audit seq {s}", "proof for an entry missing from the excerpt", f"第{s}条审计记录缺失（仅有证明）")

    if manifest is None:
        return
    report.summary.update({"audit_entries": len(entries), "checkpoint_size": tree_size or None})
    declared = manifest.get("audit", {}).get("entries") if isinstance(manifest.get("audit"), dict) else None
    if isinstance(declared, list):
        # The manifest lists the entries written before it; the excerpt adds
        # the anchor (and anything appended while the package was built).
        for s in sorted(set(declared) - set(entries)):
            report.add(I, f"audit seq {s}", "entry listed in the manifest is missing from the excerpt", f"清单所列第{s}条审计记录缺失")
        last_declared = max((d for d in declared if isinstance(d, int)), default=0)
        for s in sorted(set(entries) - set(declared)):
            if s < last_declared:
                report.add(I, f"audit seq {s}", "entry in the excerpt not listed in the manifest", f"第{s}条审计记录未列入清单")
    else:
        report.add(I, MANIFEST, "manifest does not list the case's audit entries", "清单未列明本案审计记录")

    # The manifest anchor: its SHA-256 is in the (proven) chain.
    case_id = str(manifest.get("case", {}).get("id", ""))
    anchors = [e for e in entries.values() if e.get("action") == ANCHOR_ACTION and str(e.get("object_id")) == case_id]
    if not anchors:
        report.add(I, EXCERPT, f"no {ANCHOR_ACTION} entry for case {case_id}", "审计摘录中没有清单登记记录")
    else:
        anchored = {_payload(e).get("manifest_sha256") for e in anchors}
        if manifest_sha not in anchored:
            seq_list = ", ".join(str(e["seq"]) for e in anchors)
            report.add(A, f"{MANIFEST}; audit seq {seq_list}", f"manifest.json hashes to {manifest_sha}, the audit chain "
                       f"recorded {', '.join(sorted(str(a) for a in anchored))}: manifest altered after the build",
                       "清单内容与审计链登记的清单哈希值不符（清单被篡改）")

    # Metadata agree: each item against the audit entry that created it.
    by_object: dict[tuple[str, str, str], dict] = {}
    for e in entries.values():
        by_object.setdefault((e.get("action"), e.get("object_type"), str(e.get("object_id"))), e)
    for it in items:
        ref = f"item #{it.get('seq')}"
        audited_as = ITEM_AUDIT.get(it.get("type")) if isinstance(it.get("type"), str) else None
        if audited_as is None:
            report.add(I, ref, f"unknown item type {it.get('type')!r}", "清单条目类型未知")
            continue
        action, object_type, what, missing_zh, checks_of = audited_as
        e = by_object.get((action, object_type, str(it.get("id"))))
        if e is None:
            report.add(I, ref, f"no {action} audit entry for {what} {it.get('id')}", missing_zh)
            continue
        checks = checks_of(it, _payload(e))
        for label, audited, listed in checks:
            if audited != listed:
                report.add(A, f"{ref}; audit seq {e['seq']}", f"{label}: manifest says {listed!r}, the audit chain "
                           f"recorded {audited!r}", "清单所列元数据与审计链记录不符")


def _evidence_checks(it: dict, pl: dict) -> list[tuple]:
    f = (it.get("files") or [{}])[0]
    return [("sha256", pl.get("sha256"), f.get("sha256")), ("size", pl.get("size"), f.get("size")),
            ("mime", pl.get("mime"), f.get("mime")), ("original name", pl.get("name", ""), it.get("original_name", "")),
            ("step", pl.get("step"), (it.get("step") or {}).get("id")),
            ("device", pl.get("device"), (it.get("device") or {}).get("serial"))]


def _document_checks(it: dict, pl: dict) -> list[tuple]:
    files = {f.get("role"): f for f in it.get("files", []) if isinstance(f, dict)}
    return [("kind", pl.get("kind"), it.get("kind")), ("number", pl.get("number"), it.get("number")),
            ("DOCX sha256", pl.get("docx_sha256"), files.get("docx", {}).get("sha256")),
            ("PDF sha256", pl.get("pdf_sha256"), files.get("pdf", {}).get("sha256"))]


# Item type -> the audit entry that created it (action, object type), what
# it is called, the finding when it is missing, and the fields that must agree.
ITEM_AUDIT = {
    "evidence": ("evidence.upload", "evidence.evidenceitem", "evidence", "证据缺少上传审计记录", _evidence_checks),
    "document": ("document.issue", "documents.document", "document", "文书缺少制作审计记录", _document_checks),
}


def _payload(entry: dict) -> dict:
    try:
        value = json.loads(entry.get("payload") or "{}")
    except (ValueError, TypeError):
        return {}
    return value if isinstance(value, dict) else {}


def main(argv: list[str] | None = None) -> int:
    """``python -m sanxiang.evidence.archive PACKAGE [--key KEY]``: the
    check with no Django at all (HMAC "not checked" without --key)."""
    parser = argparse.ArgumentParser(description="Four-property check (四性检测) of an e-case file package, offline.")
    parser.add_argument("package")
    parser.add_argument("--key", help="the audit HMAC key, to verify the checkpoint's HMAC")
    parser.add_argument("--public-key", help="the platform's Ed25519 public key (64 hex digits, from "
                                             "`sanxiang audit public-key`), to pin the checkpoint's signature to it")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = check_archive(args.package, signing_key=args.key, public_key=args.public_key)
    print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2) if args.json else report.text())
    return 0 if report.ok else 1

