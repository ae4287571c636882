"""Building a case's e-case file (电子案卷) package (needs Django and the
database).

Seed 记录-3: "行政执法机关要……对行政执法全过程文字记录……形成案卷，依法归档保存"
(documents and text records of every step kept together in the case file);
seed 记录-12: "建立健全执法全过程记录信息收集、保存、管理、使用等工作制度"
(the records are kept so that they can be proven intact and used later).

Closing a case builds one ZIP package (``build_case_archive``; the layout is
``archive.layout``, described in docs/archive.md): the manifest, a table
of contents (卷内目录, PDF, China dates), every document (DOCX and PDF) and
evidence file named and ordered by step and document, the audit
entries about the case with an RFC 6962 inclusion proof each, and the signed
checkpoint they verify against. The manifest's SHA-256 is itself written into
the audit chain (``case.archive_manifest``) before the checkpoint is signed,
so a manifest altered after the build no longer matches an entry whose hash
and Merkle proof are anchored in the signed checkpoint.

Nothing of a file is held in memory whole: members are written in 1 MiB
pieces; media are stored (ZIP_STORED), JSON is deflated.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import os
import stat
import tempfile
import zipfile
from datetime import datetime, timezone as dt_timezone
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime

from sanxiang.core.clock import local_date, local_time

from sanxiang.core import audit, signing
from sanxiang.core.chainformat import entry_hash_of
from sanxiang.core.merkle import Frontier, inclusion_proofs, leaf_hash
from sanxiang.core.models import AuditCheckpointSignature, AuditEntry

from ..hashing import CHUNK, hash_stream
from ..models import ArchivePackage, EvidenceItem, Upload
from ..storage import get_storage
from .layout import (
    ALLOWED_FORMATS, ANCHOR_ACTION, BUILT_ACTION, CHECKPOINT, EXCERPT, FORMATS, MANIFEST, MANIFEST_SHA,
    OTHER_FOLDER, PACKAGE_VERSION, PROOFS, SUPPORTED_VERSIONS, TOC, format_for_mime, member_path, named_member,
    step_folder,
)
from . import toc

ARCHIVED_STATUSES = ("closed", "terminated")  # 结案, 终止 (撤销立案): both leave a case file


class ArchiveError(Exception):
    """The package cannot be built (case not closed, a stored object missing
    or no longer matching its hash, the audit chain broken)."""



def archive_dir() -> Path:
    return Path(settings.ARCHIVE_DIR or (Path(settings.DATA_DIR) / "archives"))


def _iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(dt_timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value.isoformat()


def _officer(o) -> dict | None:
    return None if o is None else {"name": o.name, "certificate_number": o.certificate_number}


def _zip_info(name: str, *, stored: bool, when: datetime) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    info.external_attr = (stat.S_IFREG | 0o444) << 16  # a read-only regular file, never executable
    return info


def _copy_in(zf: zipfile.ZipFile, name: str, source, *, expected_sha: str, expected_size: int, when: datetime, what: str) -> None:
    """Stream ``source`` into the ZIP as ``name`` in 1 MiB pieces, hashing as
    it goes: a stored object that no longer matches its hash stops the build."""
    digest, total = hashlib.sha256(), 0
    with zf.open(_zip_info(name, stored=True, when=when), "w", force_zip64=True) as out:
        while True:
            block = source.read(CHUNK)
            if not block:
                break
            digest.update(block)
            total += len(block)
            out.write(block)
    if digest.hexdigest() != expected_sha or total != expected_size:
        raise ArchiveError(f"{what}: stored bytes hash to {digest.hexdigest()} ({total} bytes), recorded "
                           f"{expected_sha} ({expected_size} bytes) — run the fixity check / 存储文件与登记的哈希值不符")


def _write_text(zf: zipfile.ZipFile, name: str, text: str, when: datetime) -> None:
    zf.writestr(_zip_info(name, stored=False, when=when), text.encode("utf-8"))


def _excerpt_query(case):
    pk = case.pk
    cases_app = apps.get_app_config("cases")
    q = Q(object_type="cases.case", object_id=str(pk))
    for model_name, label in (("CaseStep", "cases.casestep"), ("CaseDeadline", "cases.casedeadline"),
                              ("CaseOfficer", "cases.caseofficer")):
        model = cases_app.get_model(model_name)
        ids = [str(i) for i in model.objects.filter(case=case).values_list("pk", flat=True)]
        if ids:
            q |= Q(object_type=label, object_id__in=ids)
    exemption = cases_app.get_model("AvExemption")
    ids = [str(i) for i in exemption.objects.filter(step__case=case).values_list("pk", flat=True)]
    if ids:
        q |= Q(object_type="cases.avexemption", object_id__in=ids)
    ids = [str(i) for i in EvidenceItem.objects.filter(case=case).values_list("pk", flat=True)]
    if ids:
        q |= Q(object_type="evidence.evidenceitem", object_id__in=ids)
    ids = [str(i) for i in Upload.objects.filter(case=case).values_list("pk", flat=True)]
    if ids:
        q |= Q(object_type="evidence.upload", object_id__in=ids)
    if apps.is_installed("sanxiang.documents"):
        Document = apps.get_model("documents", "Document")
        ids = [str(i) for i in Document.objects.filter(case=case).values_list("pk", flat=True)]
        if ids:
            q |= Q(object_type="documents.document", object_id__in=ids)
    # Entries about other objects that name the case in their payload
    # (canonical JSON: sorted keys, no spaces).
    q |= Q(payload__contains=f'"case":{pk},') | Q(payload__contains=f'"case":{pk}}}')
    return AuditEntry.objects.filter(q)




def _plan_items(case, version: int):
    """The items in 卷内序号 order, each as (type, object, path_of(format) ->
    member name), and each step's folder (version 2).

    Version 1: documents (in the order issued), then evidence (in the order
    captured), files named by SHA-256. Version 2: step by step (in the order
    the steps started; items of no step last), in each step its documents
    then its evidence, files named ``<NN>-<step>/<NN>-<title>[-<文号>].<ext>``."""
    documents = []
    if apps.is_installed("sanxiang.documents"):
        Document = apps.get_model("documents", "Document")
        documents = list(Document.objects.filter(case=case).select_related("issued_by", "step").order_by("issued_at", "pk"))
    evidence = list(EvidenceItem.objects.filter(case=case, deleted_at__isnull=True, purged_at__isnull=True)
                    .select_related("step", "officer", "device", "uploaded_by").order_by("captured_at", "pk"))
    if version < 2:
        plan = [("document", d, lambda fmt, d=d: member_path(d.docx_sha256 if fmt == "docx" else d.pdf_sha256, fmt))
                for d in documents]
        plan += [("evidence", e, lambda fmt, e=e: member_path(e.sha256, fmt)) for e in evidence]
        return plan, {}
    steps = list(case.steps.all().order_by("started_at", "pk"))
    folders = {st.pk: step_folder(i, st.name) for i, st in enumerate(steps, 1)}
    other = step_folder(len(steps) + 1, OTHER_FOLDER)
    grouped: dict[int | None, list] = {st.pk: [] for st in steps}
    grouped[None] = []
    for d in documents:
        grouped.setdefault(d.step_id if d.step_id in folders else None, []).append(("document", d))
    for e in evidence:
        grouped.setdefault(e.step_id if e.step_id in folders else None, []).append(("evidence", e))
    plan, used = [], set()
    with translation.override("zh-hans"):
        for step_id in [st.pk for st in steps] + [None]:
            folder = folders.get(step_id, other)
            for index, (kind, obj) in enumerate(grouped[step_id], 1):
                title, number = (obj.title, obj.number) if kind == "document" else (_evidence_title(obj), None)
                stems = {}
                for fmt in (("docx", "pdf") if kind == "document" else (format_for_mime(obj.mime_type),)):
                    name = named_member(folder, index, title, number, fmt)
                    base, n = name, 2
                    while name in used:  # unique whatever the titles
                        stem, ext = base.rsplit(".", 1)
                        name, n = f"{stem}-{n}.{ext}", n + 1
                    used.add(name)
                    stems[fmt] = name
                plan.append((kind, obj, lambda fmt, stems=stems: stems[fmt]))
    return plan, folders


def _evidence_title(item) -> str:
    """An evidence item's description: its kind and original name (现场照片 IMG_0012.jpg)."""
    label = str(item.get_kind_display())
    name = (item.original_name or "").rsplit(".", 1)[0]
    return f"{label}-{name}" if name else label


_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")


def _pdf_pages(data: bytes) -> int | None:
    """The pages of a PDF the platform rendered (its page objects are not
    compressed), or None when none is found."""
    return len(_PAGE.findall(data)) or None


def _china_date(value) -> str:
    if value is None:
        return ""
    return (local_date(value) if isinstance(value, datetime) else value).isoformat()


def _size_text(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _toc_heading(case, manifest: dict, now) -> list[str]:
    c, counts = manifest["case"], manifest["counts"]
    return [
        f"案件：{case.title}（案件编号 {case.pk}）",
        f"执法机关：{case.agency.name}　统一社会信用代码：{case.agency.credit_code or '—'}",
        f"当事人：{case.party_name or '—'}",
        f"立案日期：{_china_date(case.opened_on) or '—'}　结案日期：{_china_date(case.closed_on) or '—'}"
        + ("　（终止）" if c.get("status") == "terminated" else ""),
        f"卷内文件 {counts['items']} 件（文书 {counts['documents']} 件，证据 {counts['evidence']} 件）；"
        f"归档时间：{local_time(now):%Y-%m-%d %H:%M}（北京时间）；日期均为北京时间",
    ]


def _toc_rows(items: list[dict]) -> list[tuple[str, ...]]:
    with translation.override("zh-hans"):
        labels = {k: str(v) for k, v in EvidenceItem._meta.get_field("kind").choices}
    rows = []
    for it in items:
        step = (it.get("step") or {}).get("name") or OTHER_FOLDER
        if it["type"] == "document":
            pdf = next((f for f in it["files"] if f["role"] == "pdf"), it["files"][0])
            title, number = it["title"], it["number"] or "—"
            when = parse_datetime(it["issued_at"]) if it["issued_at"] else None
            extent = f"{it['pages']} 页" if it.get("pages") else _size_text(pdf["size"])
            where = pdf["path"].rsplit("/", 1)[-1]
        else:
            f = it["files"][0]
            title = f"{labels.get(it['kind'], it['kind'])}：{it['original_name']}" if it["original_name"] else labels.get(
                it["kind"], it["kind"])
            number = f"证据 {it['id']}"
            when = parse_datetime(it["captured_at"]) if it["captured_at"] else None
            extent = _size_text(f["size"])
            if it.get("duration_s"):
                extent += f"，{int(it['duration_s']) // 60}分{int(it['duration_s']) % 60:02d}秒"
            where = f["path"].rsplit("/", 1)[-1]
        rows.append((str(it["seq"]), title, number, _china_date(when), extent, f"{step}（{where}）"))
    return rows


def build_case_archive(*, case, actor, version: int = PACKAGE_VERSION) -> Path:
    """Build the e-case file of a closed or terminated case; return the
    package's path. ``version`` (``layout.SUPPORTED_VERSIONS``) picks the
    layout: 2 (files named by step and document, a 卷内目录 PDF) or the
    former 1 (files named by SHA-256), kept to prove old packages still check.

    Each call makes a new package (a rebuild never changes an earlier one);
    each is recorded (ArchivePackage) and audited (``case.archive``)."""
    Case = apps.get_model("cases", "Case")
    case = Case.objects.select_related("agency").get(pk=case.pk)
    if case.status not in ARCHIVED_STATUSES or case.closed_on is None:
        raise ArchiveError(f"case {case.pk} is not closed: only a closed or terminated case is archived / "
                           "案件尚未结案或终止，不能归档")
    if version not in SUPPORTED_VERSIONS:
        raise ArchiveError(f"package version {version} is not one of {SUPPORTED_VERSIONS} / 不支持的归档包版本")
    now = timezone.now()
    root = archive_dir()
    target_dir = root / str(case.agency.credit_code or case.agency_id)
    target_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target_dir, prefix=".build-", suffix=".zip")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with open(tmp, "wb") as raw, zipfile.ZipFile(raw, "w", allowZip64=True) as zf:
            items: list[dict] = []
            written: dict[str, str] = {}  # sha256 + format -> the member that holds it (a shared file is stored once)
            storage = get_storage()
            plan, folders = _plan_items(case, version)
            for seq, (kind, obj, path_of) in enumerate(plan, 1):
                if kind == "document":
                    doc = obj
                    files = []
                    for role, fieldfile, sha in (("docx", doc.docx, doc.docx_sha256), ("pdf", doc.pdf, doc.pdf_sha256)):
                        size = fieldfile.size
                        path = written.get(f"{sha}.{role}") or path_of(role)
                        if f"{sha}.{role}" not in written:
                            with fieldfile.open("rb") as src:
                                _copy_in(zf, path, src, expected_sha=sha, expected_size=size, when=now,
                                         what=f"document {doc.pk} {role}")
                            written[f"{sha}.{role}"] = path
                        files.append({"role": role, "path": path, "sha256": sha, "size": size, "format": role,
                                      "mime": next(iter(FORMATS[role][1]))})
                    step = doc.step
                    items.append({"seq": seq, "type": "document", "id": doc.pk, "kind": doc.kind, "title": doc.title,
                                  "number": doc.number, "issued_at": _iso(doc.issued_at),
                                  "issued_by": getattr(doc.issued_by, "username", ""),
                                  "step": {"id": step.pk, "code": step.code, "name": step.name} if step else None,
                                  "files": files})
                    if version >= 2:
                        with doc.pdf.open("rb") as src:
                            items[-1]["pages"] = _pdf_pages(src.read())
                    continue
                item = obj
                fmt = format_for_mime(item.mime_type) or ""
                key = f"{item.sha256}.{fmt}"
                path = written.get(key) or path_of(fmt or None)
                if key not in written:
                    with storage.open(item.sha256) as src:
                        _copy_in(zf, path, src, expected_sha=item.sha256, expected_size=item.size, when=now,
                                 what=f"evidence {item.pk}")
                    written[key] = path
                items.append({
                    "seq": seq, "type": "evidence", "id": item.pk, "kind": item.kind, "original_name": item.original_name,
                    "step": {"id": item.step_id, "code": item.step.code, "name": item.step.name} if item.step else None,
                    "officer": _officer(item.officer),
                    "device": {"serial": item.device.serial, "model": item.device.model} if item.device else None,
                    "captured_at": _iso(item.captured_at), "place": item.place, "duration_s": item.duration_s,
                    "uploaded_at": _iso(item.uploaded_at), "uploaded_by": item.uploaded_by.username,
                    "files": [{"path": path, "sha256": item.sha256, "size": item.size, "format": fmt or None,
                               "mime": item.mime_type}],
                })

            steps = [{"id": s.pk, "code": s.code, "name": s.name, "status": s.status, "started_at": _iso(s.started_at),
                      "completed_at": _iso(s.completed_at), "place": s.place, "note": s.note, "documents": s.documents,
                      "officers": [_officer(o) for o in s.officers.all().order_by("pk")],
                      "av_requirement": s.av_requirement,
                      **({"folder": folders[s.pk]} if version >= 2 else {})}
                     for s in case.steps.all().order_by("started_at", "pk")]
            officers = [{**_officer(a.officer), "role": a.role} for a in case.assignments.select_related("officer")]
            # The audit entries about the case so far: the manifest lists
            # them, the excerpt carries them (plus the anchor written below).
            prior = list(_excerpt_query(case).order_by("seq").values_list("seq", flat=True))
            manifest = {
                "package_version": version,
                "built_at": _iso(now), "built_by": audit.actor_label(actor),
                "case": {"id": case.pk, "title": case.title, "act_kind": case.act_kind, "procedure": case.procedure,
                         "status": case.status, "agency": {"name": case.agency.name, "credit_code": case.agency.credit_code},
                         "party": {"name": case.party_name, "type": case.party_type, "credit_code": case.party_credit_code},
                         "opened_on": _iso(case.opened_on), "notified_on": _iso(case.notified_on),
                         "hearing_on": _iso(case.hearing_on), "decided_on": _iso(case.decided_on),
                         "served_on": _iso(case.served_on), "closed_on": _iso(case.closed_on),
                         "termination_reason": getattr(case, "termination_reason", "") or None,
                         "officers": officers, "steps": steps},
                "counts": {"items": len(items), "documents": sum(1 for i in items if i["type"] == "document"),
                           "evidence": sum(1 for i in items if i["type"] == "evidence")},
                "items": items,
                "audit": {"entries": prior, "anchor_action": ANCHOR_ACTION,
                          "note": "the entry that records this manifest's SHA-256 follows these entries"},
                "allowed_formats": sorted(ALLOWED_FORMATS),
            }
            if version >= 2:
                # The table of contents (卷内目录), listed and hashed like any file.
                toc_bytes = toc.render_toc(heading=_toc_heading(case, manifest, now), rows=_toc_rows(items),
                                           built_at=now)
                toc_sha = hashlib.sha256(toc_bytes).hexdigest()
                _copy_in(zf, TOC, io.BytesIO(toc_bytes), expected_sha=toc_sha, expected_size=len(toc_bytes), when=now,
                         what="table of contents")
                manifest["toc"] = {"title": "卷内目录", "path": TOC, "sha256": toc_sha, "size": len(toc_bytes),
                                   "format": "pdf", "mime": "application/pdf"}
            manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
            manifest_sha = hashlib.sha256(manifest_bytes).hexdigest()

            # Anchor the manifest in the chain, then sign a checkpoint that covers it.
            with transaction.atomic():
                anchor = audit.append_audit(actor=actor, action=ANCHOR_ACTION, obj=case, payload={
                    "case": case.pk, "manifest_sha256": manifest_sha, "items": len(items), "files": len(written)})
            checkpoint = audit.create_checkpoint()
            if checkpoint is None or checkpoint.tree_size < anchor.seq:
                raise ArchiveError("no checkpoint covers the case's audit entries / 无检查点覆盖本案审计记录")
            if not audit.checkpoint_signature_ok(checkpoint):
                raise ArchiveError("the covering checkpoint's signature does not verify / 检查点签名无效")
            excerpt_rows = list(_excerpt_query(case).filter(seq__lte=checkpoint.tree_size).order_by("seq").values_list(
                "seq", "time", "actor", "action", "object_type", "object_id", "payload", "prev_hash", "entry_hash"))
            wanted = {row[0] - 1 for row in excerpt_rows}

            # Leaves 1..tree_size, streamed; the root must be the signed one.
            leaves: list[bytes] = []
            expected = 1
            for s, h in (AuditEntry.objects.filter(seq__lte=checkpoint.tree_size).order_by("seq")
                         .values_list("seq", "entry_hash").iterator(chunk_size=5000)):
                if s != expected:
                    raise ArchiveError(f"audit entry #{expected} is missing: run `sanxiang audit verify` / 审计链缺失记录")
                leaves.append(leaf_hash(bytes.fromhex(h)))
                expected += 1
            frontier = Frontier()
            for h in leaves:
                frontier.append_hash(h)
            if frontier.root().hex() != checkpoint.root_hash:
                raise ArchiveError("the audit entries do not give the checkpoint's root: run `sanxiang audit verify` / "
                                   "审计记录与检查点不符")
            paths = inclusion_proofs(leaves, wanted)
            del leaves

            excerpt_lines = []
            proof_list = []
            for s, time, actor_name, action, object_type, object_id, payload, prev_hash, entry_hash in excerpt_rows:
                entry = {"seq": s, "time": audit.format_time(time), "actor": actor_name, "action": action,
                         "object_type": object_type, "object_id": object_id, "payload": payload,
                         "prev_hash": prev_hash, "entry_hash": entry_hash}
                if entry_hash_of(entry) != entry_hash:
                    raise ArchiveError(f"audit entry #{s} does not recompute: run `sanxiang audit verify` / 第{s}条审计记录哈希值不符")
                excerpt_lines.append(json.dumps(entry, ensure_ascii=False, sort_keys=True))
                proof_list.append({"seq": s, "leaf_index": s - 1, "entry_hash": entry_hash,
                                   "path": [p.hex() for p in paths[s - 1]]})

            zf.writestr(_zip_info(MANIFEST, stored=False, when=now), manifest_bytes)
            _write_text(zf, MANIFEST_SHA, f"{manifest_sha}  {MANIFEST}\n", now)
            _write_text(zf, EXCERPT, "\n".join(excerpt_lines) + "\n", now)
            _write_text(zf, PROOFS, json.dumps({
                "hash": "SHA-256, RFC 6962 (leaf = H(0x00 || entry_hash bytes), node = H(0x01 || left || right))",
                "tree_size": checkpoint.tree_size, "root_hash": checkpoint.root_hash, "proofs": proof_list,
            }, ensure_ascii=False, indent=1), now)
            _write_text(zf, CHECKPOINT, json.dumps({
                "tree_size": checkpoint.tree_size, "root_hash": checkpoint.root_hash,
                "last_entry_hash": checkpoint.last_entry_hash, "created_at": audit.format_time(checkpoint.created_at),
                "signature": checkpoint.signature, "signature_algorithm": "HMAC-SHA256",
                **_public_signature_fields(checkpoint),
                "signed_message": "UTF-8 canonical JSON of [tree_size, root_hash, last_entry_hash, created_at]",
            }, ensure_ascii=False, indent=1), now)
            raw.flush()
            os.fsync(raw.fileno())
        stamp = now.astimezone(dt_timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        final = target_dir / f"case-{case.pk}-{stamp}-{manifest_sha[:12]}.zip"
        os.chmod(tmp, 0o444)
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    with open(final, "rb") as fh:
        package_sha, _ = hash_stream(fh)
    size = final.stat().st_size
    relative = str(final.relative_to(root))
    with transaction.atomic():
        ArchivePackage.objects.create(case=case, path=relative, sha256=package_sha, size=size, manifest_sha256=manifest_sha,
                                      items=len(items), checkpoint_size=checkpoint.tree_size,
                                      built_by=audit.actor_label(actor))
        audit.append_audit(actor=actor, action=BUILT_ACTION, obj=case, payload={
            "case": case.pk, "package": relative, "sha256": package_sha, "size": size, "manifest_sha256": manifest_sha,
            "items": len(items), "checkpoint_size": checkpoint.tree_size})
    return final


def _public_signature_fields(checkpoint) -> dict:
    row = AuditCheckpointSignature.objects.filter(checkpoint=checkpoint).first()
    if row is None:
        return {}
    return {"public_key": row.public_key, "key_id": signing.key_id(row.public_key), "public_signature": row.signature,
            "public_signature_algorithm": "Ed25519 (RFC 8032) over the same signed message; raw public key, hex"}


