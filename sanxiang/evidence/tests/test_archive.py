"""The e-case file (电子案卷) and its four-property check (四性检测), seed
记录-3 ("对行政执法全过程文字记录……形成案卷，依法归档保存") and 记录-12
("执法全过程记录信息收集、保存、管理、使用等工作制度").

A case is run through the real services: opened, evidence uploaded over tus
(a photo, a PNG, a video, a WAV recording from the body camera), documents
issued (when the documents app is installed), steps completed until the
closure step closes it; closing builds the package. The package passes
`sanxiang archive check` (in process and as a subprocess on a copy with no
database); each tampering below fails it, naming what is wrong.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import wave
import zipfile
import zlib
from datetime import date, datetime, time, timedelta, timezone as dt_timezone
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from sanxiang.conftest import client_for
from sanxiang.api.services import create_token
from sanxiang.cases import services as case_services
from sanxiang.core.chainformat import checkpoint_message_of, entry_hash_of
from sanxiang.core import services as core_services
from sanxiang.core.audit import verify_chain
from sanxiang.core.models import AuditEntry, Role
from sanxiang.evidence.archive import layout
from sanxiang.evidence.archive.build import build_case_archive
from sanxiang.evidence.archive.check import check_archive
from sanxiang.evidence.archive.keys import check_with_platform_keys
from sanxiang.evidence import services as evidence_services
from sanxiang.evidence.models import ArchivePackage, EvidenceItem

from .conftest import metadata_header, mp4_bytes, sha256_hex

pytestmark = pytest.mark.django_db

os.environ.setdefault("SANXIANG_FONT_CACHE_DIR", str(Path(tempfile.gettempdir()) / "sanxiang-font-cache"))

HAS_DOCUMENTS = apps.is_installed("sanxiang.documents")
REPO = Path(__file__).resolve().parents[3]


# --- real-looking media -------------------------------------------------------------


def jpeg_photo() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buf, "JPEG")
    return buf.getvalue()


def png_image() -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x80\x80\x80" * 4 for _ in range(4))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def wav_recording() -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x01" * 8000)
    return buf.getvalue()


# --- the case ----------------------------------------------------------------------------


def at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def tus_upload(token: str, data: bytes, **meta) -> EvidenceItem:
    c = Client()
    headers = {"HTTP_TUS_RESUMABLE": "1.0.0", "HTTP_AUTHORIZATION": f"Bearer {token}"}
    r = c.post("/api/v1/uploads/", HTTP_UPLOAD_LENGTH=str(len(data)), **headers,
               HTTP_UPLOAD_METADATA=metadata_header(sha256=sha256_hex(data), **meta))
    assert r.status_code == 201, r.content
    r = c.generic("PATCH", r["Location"], data, content_type="application/offset+octet-stream",
                  HTTP_UPLOAD_OFFSET="0", **headers)
    assert r.status_code == 204, r.content
    return EvidenceItem.objects.get(pk=r["Sanxiang-Evidence-Id"])


@pytest.fixture
def closed_case(world, settings, tmp_path, django_capture_on_commit_callbacks):
    """A general-procedure penalty case of 长安区, run to closure through the
    services, with evidence and (when the app is there) documents; the
    closing builds its package."""
    settings.ARCHIVE_DIR = tmp_path / "archives"
    w = world
    head = core_services.create_user(actor="t", username="changan_head", password=w.password, role=Role.AGENCY_HEAD,
                                     agency=w.amr_changan)
    w.changan_officer.user = w.u_changan
    w.changan_officer.save(update_fields=["user"])
    _, token = create_token(actor="t", agency=w.amr_changan, name="记录仪工作站", scopes=["evidence:upload", "read"])
    device = evidence_services.register_device(actor=w.u_admin, agency=w.amr_changan, serial="DSJ-2026-0001",
                                               model="执法记录仪 DSJ-V9")
    evidence_services.assign_device(actor=w.u_admin, device=device, officer=w.changan_officer, valid_from=date(2026, 1, 1))

    case = case_services.open_case(actor=w.u_changan, agency=w.amr_changan, title="某超市销售过期食品案", act_kind="penalty",
                                   procedure="general", party_name="石家庄某某超市有限公司", party_type="legal_person",
                                   opened_on=date(2026, 9, 1), officers=[w.changan_officer, w.changan_officer2])

    def step(code, day, hour, *, upload=()):
        s = case_services.start_step(actor=w.u_changan, case=case, code=code, at=at(day, hour), place="长安区建设北大街 1 号")
        for data, name in upload:
            tus_upload(token, data, case=case.pk, step=s.pk, device=device.serial, filename=name,
                       captured_at=at(day, hour).isoformat(), place="长安区建设北大街 1 号 超市仓库")
        if s.needs_av and not s.evidence_items.exists():
            ex = case_services.request_av_exemption(actor=w.u_changan, step=s, reason="执法记录仪故障，已报修")
            case_services.approve_av_exemption(actor=head, exemption=ex)
        return case_services.complete_step(actor=w.u_changan, step=s, at=at(day, hour + 1))

    day = date(2026, 9, 2)
    step("opening", day, 8)
    step("investigation", day, 10, upload=[(jpeg_photo(), "现场照片1.jpg"), (png_image(), "货架标签.png"),
                                            (mp4_bytes(300_000, seed=7), "现场执法录像.mp4"),
                                            (wav_recording(), "询问录音.wav")])
    if HAS_DOCUMENTS:
        from sanxiang.documents import services as doc_services

        w.amr_changan = core_services.update_agency(actor="t", agency=w.amr_changan, short_name="冀石长市监")
        case.refresh_from_db()
        doc_services.issue_document(actor=w.u_changan, case=case, kind="statement_record", data={
            "held_at": "2026年9月2日", "place": "本局询问室", "speaker": "张三", "officers": "王建国、李秀英",
            "recorder": "李秀英", "statement": "对违法事实无异议，请求从轻处罚。"})
        doc_services.issue_document(actor=w.u_changan, case=case, kind="hearing_notice", data={
            "requested_on": "2026-09-03", "hearing_time": "2026年9月20日9时00分", "hearing_place": "本局第一听证室",
            "presiding_officer": "刘明（法规科）", "clerk": "陈静", "public": "公开", "contact": "王建国 0311-85000000"})
    step("notification", day, 14)
    last = date(2026, 9, 30)
    step("decision", last, 8)
    step("service", last, 10)
    step("execution", last, 12)
    with django_capture_on_commit_callbacks(execute=True):
        step("closure", last, 14)
    case.refresh_from_db()
    assert case.status == "closed"
    package = ArchivePackage.objects.get(case=case)
    w.case, w.device, w.head = case, device, head
    w.package = Path(settings.ARCHIVE_DIR) / package.path
    w.record = package
    return w


def check(path) -> tuple[bool, str]:
    out = io.StringIO()
    try:
        call_command("archive", "check", str(path), stdout=out)
    except CommandError as exc:
        return False, out.getvalue() + "\n" + str(exc)
    return True, out.getvalue()


def rewrite(src: Path, dst: Path, *, change=None, drop=(), add=None) -> None:
    """Rebuild a package as an attacker would: a consistent ZIP (valid CRCs)
    with some members changed, dropped or added."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            if info.filename in drop:
                continue
            data = zin.read(info)
            if change and info.filename in change:
                data = change[info.filename](data)
            zout.writestr(info, data)
        for name, data in (add or {}).items():
            zout.writestr(name, data)


def members(path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return zf.namelist()


def manifest_of(path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("manifest.json"))


def evidence_item(manifest: dict, fmt: str) -> dict:
    return next(it for it in manifest["items"] if it["type"] == "evidence" and it["files"][0]["format"] == fmt)


# --- the package as built ---------------------------------------------------------------


def test_closing_a_case_builds_a_package_that_passes_the_four_property_check(closed_case):
    w = closed_case
    ok, text = check(w.package)
    assert ok, text
    for line in ("authenticity (真实性): PASS", "integrity (完整性): PASS", "usability (可用性): PASS",
                 "security (安全性): PASS", "检查点签名: verified", "result / 结论: PASS"):
        assert line in text
    manifest = manifest_of(w.package)
    n_docs = 2 if HAS_DOCUMENTS else 0
    assert manifest["counts"] == {"items": 4 + n_docs, "documents": n_docs, "evidence": 4}
    assert [it["seq"] for it in manifest["items"]] == list(range(1, 5 + n_docs))
    formats = sorted(it["files"][0]["format"] for it in manifest["items"] if it["type"] == "evidence")
    assert formats == ["jpeg", "mp4", "png", "wav"]
    photo = evidence_item(manifest, "jpeg")
    assert photo["original_name"] == "现场照片1.jpg" and photo["device"]["serial"] == "DSJ-2026-0001"
    assert photo["officer"]["name"] == "王建国" and photo["step"]["code"] == "investigation"
    assert photo["place"].startswith("长安区") and photo["captured_at"].startswith("2026-09-02T02:00")
    if HAS_DOCUMENTS:
        docs = [it for it in manifest["items"] if it["type"] == "document"]
        assert {d["kind"] for d in docs} == {"statement_record", "hearing_notice"}
        assert all({f["role"] for f in d["files"]} == {"docx", "pdf"} for d in docs)
        assert any(d["number"] and "冀石长市监" in d["number"] for d in docs)
    names = members(w.package)
    for it in manifest["items"]:
        for f in it["files"]:
            assert f["path"] in names and layout.named_member_problem(f["path"], f["format"]) is None
    assert manifest["package_version"] == layout.PACKAGE_VERSION == 2
    assert set(names) - {f["path"] for it in manifest["items"] for f in it["files"]} == {*layout.FIXED_MEMBERS, layout.TOC}
    # The closing, the uploads and the anchor are in the excerpt, each proven.
    with zipfile.ZipFile(w.package) as zf:
        excerpt = [json.loads(line) for line in zf.read(layout.EXCERPT).decode().splitlines()]
        cp = json.loads(zf.read(layout.CHECKPOINT))
        proofs = json.loads(zf.read(layout.PROOFS))["proofs"]
        assert zf.read("manifest.sha256").decode() == f"{hashlib.sha256(zf.read('manifest.json')).hexdigest()}  manifest.json\n"
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist() if i.filename not in layout.FIXED_MEMBERS)
    actions = [e["action"] for e in excerpt]
    assert "case.open" in actions and actions.count("evidence.upload") == 4 and layout.ANCHOR_ACTION in actions
    assert any(e["action"] == "case.step_complete" and json.loads(e["payload"])["closed"] for e in excerpt)
    assert len(proofs) == len(excerpt)
    # The package is recorded and audited; the chain is intact.
    assert w.record.sha256 == hashlib.sha256(w.package.read_bytes()).hexdigest()
    built = AuditEntry.objects.filter(action=layout.BUILT_ACTION, object_id=str(w.case.pk)).get()
    assert json.loads(built.payload)["sha256"] == w.record.sha256
    assert cp["tree_size"] >= max(e["seq"] for e in excerpt)
    assert verify_chain().ok


def test_the_check_runs_offline_as_a_subprocess_on_a_copy(closed_case, tmp_path):
    """A copy checked by a fresh process: through `python -m sanxiang archive
    check` (signature verified with the key from the environment's settings)
    and with plain Python and no Django (signature "not checked", still a pass)."""
    copy = tmp_path / "copy" / "案卷.zip"
    copy.parent.mkdir()
    shutil.copyfile(closed_case.package, copy)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    from django.conf import settings

    env["SANXIANG_AUDIT_KEY"] = settings.AUDIT_SIGNING_KEY
    env["SANXIANG_DATA_DIR"] = str(tmp_path / "empty-data")  # no database there: the check needs none
    r = subprocess.run([sys.executable, "-m", "sanxiang", "archive", "check", str(copy)], env=env,
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "result / 结论: PASS" in r.stdout and "verified" in r.stdout
    env.pop("DJANGO_SETTINGS_MODULE", None)
    r = subprocess.run([sys.executable, "-m", "sanxiang.evidence.archive", str(copy)], env=env,
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "not checked" in r.stdout and "result / 结论: PASS" in r.stdout
    # Offline with the wrong key: the signature fails, naming the checkpoint.
    r = subprocess.run([sys.executable, "-m", "sanxiang.evidence.archive", str(copy), "--key", "wrong"], env=env,
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 1 and "checkpoint signature invalid" in r.stdout


def test_the_checker_imports_and_runs_with_django_absent(closed_case, tmp_path):
    """The offline checker is plain Python: a process with no Django settings
    imports it, checks a copy of a package (pass, HMAC not checked, Ed25519
    signature valid with the key the package carries) and has still not
    loaded a single Django module."""
    copy = tmp_path / "copy.zip"
    shutil.copyfile(closed_case.package, copy)
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = str(REPO)
    script = (
        "import sys\n"
        "from sanxiang.evidence.archive.check import check_archive\n"
        f"report = check_archive({str(copy)!r})\n"
        "loaded = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "print(report.ok, report.signature, report.public_signature, loaded)\n"
    )
    r = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.split() == ["True", "not", "checked", "unpinned", "[]"], r.stdout


def test_archive_build_command_rebuilds_a_closed_case_and_refuses_an_open_one(closed_case, world):
    out = io.StringIO()
    call_command("archive", "build", str(closed_case.case.pk), stdout=out)
    path = Path(out.getvalue().strip())
    assert path.is_file() and path != closed_case.package
    assert ArchivePackage.objects.filter(case=closed_case.case).count() == 2
    assert check(path)[0]
    other = case_services.open_case(actor=world.u_changan, agency=world.amr_changan, title="另一案", act_kind="penalty",
                                    procedure="general", party_name="某公司", party_type="legal_person",
                                    opened_on=date(2026, 9, 1), officers=[world.changan_officer, world.changan_officer2])
    with pytest.raises(CommandError, match="not closed"):
        call_command("archive", "build", str(other.pk), stdout=io.StringIO())


# --- tampering: each is caught and named ----------------------------------------------------


def test_one_byte_changed_in_a_file_is_caught(closed_case, tmp_path):
    manifest = manifest_of(closed_case.package)
    video = evidence_item(manifest, "mp4")
    path = video["files"][0]["path"]
    bad = tmp_path / "bad.zip"

    def flip(data):
        return data[:1000] + bytes([data[1000] ^ 0x01]) + data[1001:]

    rewrite(closed_case.package, bad, change={path: flip})
    ok, text = check(bad)
    assert not ok
    assert "authenticity (真实性): FAIL" in text and f"{path}; item #{video['seq']}" in text
    assert "differs from the manifest" in text and "文件 SHA-256 与清单不符" in text
    # The same flip made in place in the package (the ZIP's CRC no longer agrees).
    raw = bytearray(closed_case.package.read_bytes())
    with zipfile.ZipFile(closed_case.package) as zf:
        info = zf.getinfo(path)
    offset = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + 1000
    raw[offset] ^= 0x01
    inplace = tmp_path / "inplace.zip"
    inplace.write_bytes(bytes(raw))
    ok, text = check(inplace)
    assert not ok and f"{path}; item #{video['seq']}" in text and "altered" in text


def test_one_file_removed_is_caught(closed_case, tmp_path):
    manifest = manifest_of(closed_case.package)
    photo = evidence_item(manifest, "jpeg")
    path = photo["files"][0]["path"]
    bad = tmp_path / "bad.zip"
    rewrite(closed_case.package, bad, drop={path})
    ok, text = check(bad)
    assert not ok
    assert "integrity (完整性): FAIL" in text
    assert f"{path}; item #{photo['seq']}" in text and "listed file missing" in text


def test_a_manifest_entry_altered_with_the_manifest_hash_recomputed_is_caught(closed_case, tmp_path):
    """The attacker changes the place and the original name of the photo and
    writes a matching manifest.sha256: the audit chain still names the
    manifest it recorded, and the upload entry names the original file."""
    manifest = manifest_of(closed_case.package)
    photo = evidence_item(manifest, "jpeg")
    photo["original_name"] = "另一张照片.jpg"
    photo["place"] = "别处"
    new = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
    digest = hashlib.sha256(new).hexdigest()
    bad = tmp_path / "bad.zip"
    rewrite(closed_case.package, bad, change={"manifest.json": lambda _: new,
                                              "manifest.sha256": lambda _: f"{digest}  manifest.json\n".encode()})
    ok, text = check(bad)
    assert not ok
    assert "manifest.sha256 says" not in text  # the attacker's hash file agrees with the altered manifest
    assert "manifest altered after the build" in text and "清单被篡改" in text
    assert f"item #{photo['seq']}; audit seq" in text and "original name" in text
    # A second change: the sequence numbers (a gap and a duplicate).
    manifest = manifest_of(closed_case.package)
    manifest["items"][1]["seq"] = 1
    manifest["items"][-1]["seq"] = len(manifest["items"]) + 1
    new = json.dumps(manifest, ensure_ascii=False).encode()
    digest = hashlib.sha256(new).hexdigest()
    rewrite(closed_case.package, bad, change={"manifest.json": lambda _: new,
                                              "manifest.sha256": lambda _: f"{digest}  manifest.json\n".encode()})
    ok, text = check(bad)
    assert not ok
    assert "[item #1] sequence number used twice" in text
    assert "[item #2] sequence number missing" in text
    assert f"[item #{len(manifest['items'])}] sequence number missing" in text


def test_an_extra_file_added_is_caught(closed_case, tmp_path):
    bad = tmp_path / "bad.zip"
    rewrite(closed_case.package, bad, add={"files/readme.sh": b"#!/bin/sh\nrm -rf /\n", "../evil.txt": b"x"})
    ok, text = check(bad)
    assert not ok
    assert "security (安全性): FAIL" in text
    assert "[files/readme.sh] unexpected file: not in the manifest" in text
    assert "[files/readme.sh] executable or script file name" in text
    assert "[../evil.txt] unsafe member name: '..' in path" in text


def test_an_audit_excerpt_entry_altered_is_caught(closed_case, tmp_path):
    with zipfile.ZipFile(closed_case.package) as zf:
        lines = zf.read(layout.EXCERPT).decode().splitlines()
    entries = [json.loads(line) for line in lines]
    target = next(e for e in entries if e["action"] == "evidence.upload")
    seq = target["seq"]

    def altered(rehash: bool):
        def alter(data):
            out = []
            for line in data.decode().splitlines():
                e = json.loads(line)
                if e["seq"] == seq:
                    e["actor"] = "someone_else"
                    if rehash:
                        e["entry_hash"] = entry_hash_of(e)
                out.append(json.dumps(e, ensure_ascii=False))
            return ("\n".join(out) + "\n").encode()

        return alter

    bad = tmp_path / "bad.zip"
    rewrite(closed_case.package, bad, change={layout.EXCERPT: altered(rehash=False)})
    ok, text = check(bad)
    assert not ok
    assert f"[audit seq {seq}] entry hash does not recompute" in text
    # Recomputing the entry's hash too does not help: its Merkle proof fails.
    rewrite(closed_case.package, bad, change={layout.EXCERPT: altered(rehash=True)})
    ok, text = check(bad)
    assert not ok
    assert f"[audit seq {seq}] inclusion proof does not verify against the checkpoint root" in text


def test_a_forged_checkpoint_fails_its_signature(closed_case, tmp_path):
    def forge(data):
        cp = json.loads(data)
        cp["root_hash"] = "ab" * 32
        return json.dumps(cp).encode()

    bad = tmp_path / "bad.zip"
    rewrite(closed_case.package, bad, change={layout.CHECKPOINT: forge})
    ok, text = check(bad)
    assert not ok and "checkpoint signature invalid" in text and "检查点签名: INVALID" in text
    report = check_archive(bad, signing_key=None)
    assert report.signature == "not checked"
    assert any("inclusion proof does not verify" in f.message or "another tree" in f.message for f in report.findings)


def test_the_checkpoint_signature_is_verified_offline_with_the_published_public_key(closed_case, tmp_path):
    """Whoever holds only the package and the platform's published public key
    (`sanxiang audit public-key`) can tell the platform signed the
    checkpoint; an attacker who rewrites the checkpoint and signs it with a
    key of their own is caught when the key is pinned, and shows another key
    id when it is not."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from sanxiang.core import signing

    public = signing.public_key_hex()
    platform_id = signing.key_id(public)
    assert check_with_platform_keys(closed_case.package).public_signature == "verified"  # on the platform: its own key
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("DJANGO_SETTINGS_MODULE", None)

    def offline(package, *extra):
        return subprocess.run([sys.executable, "-m", "sanxiang.evidence.archive", str(package), *extra], env=env,
                              capture_output=True, text=True, timeout=120, cwd=tmp_path)

    r = offline(closed_case.package, "--public-key", public)
    assert r.returncode == 0 and f"verified with the expected public key {platform_id}" in r.stdout, r.stdout + r.stderr
    r = offline(closed_case.package)
    assert r.returncode == 0 and f"valid with the public key the package carries, {platform_id}" in r.stdout

    attacker = Ed25519PrivateKey.generate()
    attacker_public = attacker.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()

    def forge(data):
        cp = json.loads(data)
        cp["root_hash"] = "ab" * 32
        cp["public_key"] = attacker_public
        cp["public_signature"] = attacker.sign(checkpoint_message_of(cp)).hex()
        return json.dumps(cp).encode()

    bad = tmp_path / "forged.zip"
    rewrite(closed_case.package, bad, change={layout.CHECKPOINT: forge})
    r = offline(bad, "--public-key", public)
    assert r.returncode == 1 and "not the expected" in r.stdout and "公钥签名: INVALID" in r.stdout
    report = check_archive(bad)
    assert report.public_signature == "unpinned" and report.key_id == signing.key_id(attacker_public) != platform_id


def test_unusable_and_disguised_files_are_named(closed_case, tmp_path):
    """A PDF cut short, and an executable under a photo's name whose
    manifest entry was rewritten to match its hash."""
    manifest = manifest_of(closed_case.package)
    photo = evidence_item(manifest, "jpeg")
    old_path = photo["files"][0]["path"]
    exe = b"MZ\x90\x00" + b"\x00" * 200
    sha = hashlib.sha256(exe).hexdigest()
    photo["files"][0].update(path=f"files/{sha}.jpg", sha256=sha, size=len(exe))
    changes = {}
    drop = {old_path}
    add = {f"files/{sha}.jpg": exe}
    if HAS_DOCUMENTS:
        doc = next(it for it in manifest["items"] if it["type"] == "document")
        pdf = next(f for f in doc["files"] if f["role"] == "pdf")
        changes[pdf["path"]] = lambda data: data.replace(b"%%EOF", b"%%XXX")
    new = json.dumps(manifest, ensure_ascii=False).encode()
    changes["manifest.json"] = lambda _: new
    changes["manifest.sha256"] = lambda _: f"{hashlib.sha256(new).hexdigest()}  manifest.json\n".encode()
    bad = tmp_path / "bad.zip"
    rewrite(closed_case.package, bad, change=changes, drop=drop, add=add)
    report = check_with_platform_keys(bad)
    text = report.text()
    where = f"files/{sha}.jpg; item #{photo['seq']} (evidence)"
    assert f"[{where}] content is an executable: Windows executable (MZ)" in text
    assert f"[{where}] the bytes are of no known format, manifest says jpeg" in text
    assert f"item #{photo['seq']}; audit seq" in text  # the upload entry recorded another SHA-256
    if HAS_DOCUMENTS:
        assert not report.passed("usability") and "PDF without %%EOF" in text


def test_building_streams_files_without_loading_them(closed_case, settings, tmp_path):
    """A 64 MiB video goes into a package with Python allocating far less
    than its size (1 MiB pieces)."""
    import tracemalloc

    from sanxiang.evidence.storage import get_storage

    w = closed_case
    big = tmp_path / "big.mp4"
    digest = hashlib.sha256()
    with open(big, "wb") as fh:
        head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
        fh.write(head)
        digest.update(head)
        block = os.urandom(1024 * 1024)
        for _ in range(64):
            fh.write(block)
            digest.update(block)
    sha = digest.hexdigest()
    get_storage().put_file(big, sha)
    item = EvidenceItem.objects.filter(case=w.case).first()
    EvidenceItem.objects.create(case=w.case, step=item.step, officer=item.officer, device=item.device,
                                captured_at=timezone.now(), mime_type="video/mp4", kind="video",
                                original_name="长录像.mp4", size=64 * 1024 * 1024 + len(head), sha256=sha,
                                uploaded_by=w.u_changan)
    tracemalloc.start()
    try:
        path = build_case_archive(case=w.case, actor=w.u_changan)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024, peak
    report = check_with_platform_keys(path)
    # The item was written without its evidence.upload entry: the check says so.
    [listed] = [it for it in manifest_of(path)["items"] if it["type"] == "evidence" and it["files"][0]["sha256"] == sha]
    assert [f.where for f in report.findings] == [f"item #{listed['seq']}"]
    assert "no evidence.upload audit entry" in report.findings[0].message


# --- the case file on the pages and the API -------------------------------------------------


def _page_client(user, settings) -> Client:
    settings.REQUIRE_TOTP = False  # TOTP is proven in core's tests
    return client_for(user)


def test_the_case_file_is_downloaded_from_the_page_and_the_api_with_an_audit_entry(closed_case, settings):
    w, record = closed_case, closed_case.record
    c = _page_client(w.u_changan, settings)
    assert f"/workbench/cases/{w.case.pk}/archives/" in c.get(f"/workbench/cases/{w.case.pk}/").content.decode()
    page = c.get(f"/workbench/cases/{w.case.pk}/archives/").content.decode()
    assert record.sha256 in page and f"/workbench/archives/{record.pk}/download" in page
    r = c.get(f"/workbench/archives/{record.pk}/download")
    body = b"".join(r.streaming_content)
    assert r.status_code == 200 and r["Content-Type"] == "application/zip" and "attachment" in r["Content-Disposition"]
    assert hashlib.sha256(body).hexdigest() == record.sha256 == hashlib.sha256(w.package.read_bytes()).hexdigest()
    _, token = create_token(actor="t", agency=w.amr_changan, name="档案系统", scopes=["read"])
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    listed = api.get(f"/api/v1/evidence/cases/{w.case.pk}/archives").json()
    assert [(p["id"], p["sha256"], p["items"]) for p in listed] == [(record.pk, record.sha256, record.items)]
    r = api.get(listed[0]["download_url"])
    assert r.status_code == 200 and hashlib.sha256(b"".join(r.streaming_content)).hexdigest() == record.sha256
    vias = list(AuditEntry.objects.filter(action="case.archive_download").values_list("payload", flat=True))
    assert len(vias) == 2 and all(record.path in str(p) for p in vias)


def test_another_agencys_case_file_cannot_be_listed_downloaded_or_checked(closed_case, settings):
    w, record = closed_case, closed_case.record
    c = _page_client(w.u_zhengding, settings)
    assert c.get(f"/workbench/cases/{w.case.pk}/archives/").status_code == 404
    assert c.get(f"/workbench/archives/{record.pk}/download").status_code == 404
    assert c.post(f"/workbench/cases/{w.case.pk}/archives/", {"package": record.pk}).status_code == 404
    _, token = create_token(actor="t", agency=w.amr_zhengding, name="正定档案系统", scopes=["read"])
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get(f"/api/v1/evidence/cases/{w.case.pk}/archives").status_code == 404
    assert api.get(f"/api/v1/evidence/archives/{record.pk}/download").status_code == 404
    assert api.post(f"/api/v1/evidence/archives/{record.pk}/check").status_code == 404
    assert not AuditEntry.objects.filter(action__in=["case.archive_download", "case.archive_check"]).exists()
    # the supervising legal office of the city reads it
    assert _page_client(w.u_legal_sjz, settings).get(f"/workbench/archives/{record.pk}/download").status_code == 200


def test_the_check_on_the_page_passes_an_intact_package_and_names_what_changed_in_a_stored_one(closed_case, settings):
    w, record = closed_case, closed_case.record
    c = _page_client(w.u_changan, settings)
    page = c.post(f"/workbench/cases/{w.case.pk}/archives/", {"package": record.pk}).content.decode()
    assert 'id="report"' in page and "不通过" not in page and page.count("通过") >= 5
    from sanxiang.core import signing

    assert f"公钥签名</strong>：有效（公钥标识 {signing.key_id(signing.public_key_hex())}）" in page
    # one byte of the stored package changed in place (as a disk or a hand could)
    video = evidence_item(manifest_of(w.package), "mp4")
    with zipfile.ZipFile(w.package) as zf:
        info = zf.getinfo(video["files"][0]["path"])
    offset = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + 1000
    os.chmod(w.package, 0o644)
    raw = bytearray(w.package.read_bytes())
    raw[offset] ^= 0x01
    w.package.write_bytes(bytes(raw))
    page = c.post(f"/workbench/cases/{w.case.pk}/archives/", {"package": record.pk}).content.decode()
    assert "不通过" in page and video["files"][0]["path"] in page and "与生成时登记的不一致" in page
    _, token = create_token(actor="t", agency=w.amr_changan, name="档案系统", scopes=["read"])
    report = Client(HTTP_AUTHORIZATION=f"Bearer {token}").post(f"/api/v1/evidence/archives/{record.pk}/check").json()
    assert report["ok"] is False and report["properties"]["authenticity"]["ok"] is False
    assert any(video["files"][0]["path"] in f["where"] for f in report["properties"]["authenticity"]["findings"])
    results = [(p["ok"], p["via"]) for p in map(json.loads, AuditEntry.objects.filter(action="case.archive_check")
                                                  .order_by("seq").values_list("payload", flat=True))]
    assert results == [(True, "page"), (False, "page"), (False, "api")]


def test_a_closed_cases_file_is_rebuilt_by_its_officer_and_not_by_a_legal_office(closed_case, settings):
    w = closed_case
    legal = _page_client(w.u_legal_sjz, settings)
    assert "生成新的归档包" not in legal.get(f"/workbench/cases/{w.case.pk}/archives/").content.decode()
    assert legal.post(f"/workbench/cases/{w.case.pk}/archives/", {"action": "build"}).status_code == 403
    c = _page_client(w.u_changan, settings)
    r = c.post(f"/workbench/cases/{w.case.pk}/archives/", {"action": "build"}, follow=True)
    assert "已生成新的归档包" in r.content.decode()
    packages = ArchivePackage.objects.filter(case=w.case)
    assert packages.count() == 2 and all(check(Path(settings.ARCHIVE_DIR) / p.path)[0] for p in packages)


def test_a_terminated_case_is_filed_too_with_its_reason_and_documents_under_their_steps(
        closed_case, settings, django_capture_on_commit_callbacks):
    """撤销立案: the records made before the termination are kept as a case
    file (记录-3); each document says the step it was issued in."""
    w = closed_case
    case = case_services.open_case(actor=w.u_changan, agency=w.amr_changan, title="某店涉嫌无照经营案", act_kind="penalty",
                                   procedure="general", party_name="某店", party_type="individual_business",
                                   opened_on=date(2026, 10, 8), officers=[w.changan_officer, w.changan_officer2])
    opening = case_services.start_step(actor=w.u_changan, case=case, code="opening", at=at(date(2026, 10, 8), 9))
    doc = None
    if HAS_DOCUMENTS:
        from sanxiang.documents import services as doc_services

        doc = doc_services.issue_document(actor=w.u_changan, case=case, kind="statement_record", data={
            "held_at": "2026年10月8日", "place": "本局询问室", "speaker": "李四", "officers": "王建国、李秀英",
            "recorder": "李秀英", "statement": "已于上月办理营业执照。"})
    case_services.complete_step(actor=w.u_changan, step=opening, at=at(date(2026, 10, 8), 10))
    with django_capture_on_commit_callbacks(execute=True):
        case_services.terminate_case(actor=w.head, case=case, reason="经核查，当事人已依法取得营业执照，违法事实不能成立。",
                                     on=date(2026, 10, 9))
    package = ArchivePackage.objects.get(case=case)
    path = Path(settings.ARCHIVE_DIR) / package.path
    assert check(path)[0]
    manifest = manifest_of(path)
    assert manifest["case"]["status"] == "terminated" and "营业执照" in manifest["case"]["termination_reason"]
    if doc is not None:
        [item] = [i for i in manifest["items"] if i["type"] == "document"]
        assert item["number"] == doc.number and item["step"] == {"id": opening.pk, "code": "opening", "name": opening.name}
    # the case page links it; its agency may rebuild it
    c = _page_client(w.u_changan, settings)
    assert f"/workbench/cases/{case.pk}/archives/" in c.get(f"/workbench/cases/{case.pk}/").content.decode()
    c.post(f"/workbench/cases/{case.pk}/archives/", {"action": "build"})
    assert ArchivePackage.objects.filter(case=case).count() == 2


def test_a_package_signed_before_the_key_was_replaced_checks_once_the_old_key_is_listed(closed_case, settings, tmp_path):
    from sanxiang.core import signing

    old_key = signing.public_key_hex()
    settings.AUDIT_ED25519_KEY_FILE = str(tmp_path / "new-key.pem")
    signing.sign(b"make the new key")  # the replacement key exists
    ok, text = check(closed_case.package)
    assert not ok and f"signed by public key {signing.key_id(old_key)}, not the expected" in text
    settings.AUDIT_ED25519_PREVIOUS_KEYS = [old_key]
    ok, text = check(closed_case.package)
    assert ok and f"verified with the expected public key {signing.key_id(old_key)}" in text
    assert check_with_platform_keys(closed_case.package).public_signature == "verified"


# --- the case file reads like a case file: 卷内目录, named files, China dates (issue 11 item 10) ---------------


@pytest.fixture
def night_case(closed_case, settings, django_capture_on_commit_callbacks):
    """A case whose opening step starts at 23:00 UTC and whose photo is
    taken at 23:30 UTC on 2026-10-08 — 2026-10-09 in China — with a document
    issued in the opening step; terminated, so filed."""
    w = closed_case
    _, token = create_token(actor="t", agency=w.amr_changan, name="夜间工作站", scopes=["evidence:upload", "read"])
    case = case_services.open_case(actor=w.u_changan, agency=w.amr_changan, title="某店夜间违规经营案", act_kind="penalty",
                                   procedure="general", party_name="某店", party_type="individual_business",
                                   opened_on=date(2026, 10, 9), officers=[w.changan_officer, w.changan_officer2])
    night = datetime(2026, 10, 8, 23, 0, tzinfo=dt_timezone.utc)
    opening = case_services.start_step(actor=w.u_changan, case=case, code="opening", at=night, place="长安区")
    tus_upload(token, jpeg_photo(), case=case.pk, step=opening.pk, device=w.device.serial, filename="门口/现场:照片?.jpg",
               captured_at=(night + timedelta(minutes=30)).isoformat(), place="长安区某店门口")
    doc = None
    if HAS_DOCUMENTS:
        from sanxiang.documents import services as doc_services

        doc = doc_services.issue_document(actor=w.u_changan, case=case, kind="statement_record", data={
            "held_at": "2026年10月9日", "place": "本局询问室", "speaker": "李四", "officers": "王建国、李秀英",
            "recorder": "李秀英", "statement": "承认夜间违规经营。"})
    case_services.complete_step(actor=w.u_changan, step=opening, at=night + timedelta(hours=1))
    investigation = case_services.start_step(actor=w.u_changan, case=case, code="investigation",
                                             at=night + timedelta(hours=2), place="长安区")
    tus_upload(token, wav_recording(), case=case.pk, step=investigation.pk, device=w.device.serial, filename="询问录音.wav",
               captured_at=(night + timedelta(hours=2, minutes=10)).isoformat(), place="长安区")
    tus_upload(token, png_image(), case=case.pk, step=investigation.pk, device=w.device.serial, filename="货架标签.png",
               captured_at=(night + timedelta(hours=2, minutes=20)).isoformat(), place="长安区")
    with django_capture_on_commit_callbacks(execute=True):
        case_services.terminate_case(actor=w.head, case=case, reason="当事人已停业，终止调查。", on=date(2026, 10, 9))
    package = ArchivePackage.objects.get(case=case)
    w.night_case, w.night_doc = case, doc
    w.night_package = Path(settings.ARCHIVE_DIR) / package.path
    return w


def toc_text(path) -> str:
    import pypdfium2

    with zipfile.ZipFile(path) as zf:
        pdf = pypdfium2.PdfDocument(zf.read(layout.TOC))
    try:
        return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    finally:
        pdf.close()


def test_the_package_holds_a_table_of_contents_pdf_listing_every_item_in_step_order(night_case):
    w = night_case
    ok, text = check(w.night_package)
    assert ok, text
    manifest = manifest_of(w.night_package)
    toc = manifest["toc"]
    with zipfile.ZipFile(w.night_package) as zf:
        data = zf.read(layout.TOC)
    assert data.startswith(b"%PDF-") and toc["path"] == layout.TOC
    assert toc["sha256"] == hashlib.sha256(data).hexdigest() and toc["size"] == len(data)
    text = toc_text(w.night_package)
    for header in ("卷内目录", "序号", "文件名称", "文号/编号", "日期", "页数/大小", "备注", "某店夜间违规经营案"):
        assert header in text, header
    # Every item, in 卷内序号 order, which is step order: 立案 (its document,
    # then its photo), then 调查取证 (recording, then label photo).
    items = manifest["items"]
    kinds = [(it["type"], (it["step"] or {}).get("code")) for it in items]
    expected = ([("document", "opening")] if HAS_DOCUMENTS else []) + [
        ("evidence", "opening"), ("evidence", "investigation"), ("evidence", "investigation")]
    assert kinds == expected
    titles = ([w.night_doc.title] if HAS_DOCUMENTS else []) + ["现场:照片?.jpg", "录音：询问录音.wav", "照片：货架标签.png"]
    positions = [text.index(t) for t in titles]
    assert positions == sorted(positions), (titles, text)
    if HAS_DOCUMENTS:
        assert (w.night_doc.number or "—") in text
        assert "页" in text  # the document's PDF counted in pages


def test_files_in_the_package_are_named_and_ordered_by_step_and_document_with_safe_names(night_case):
    w = night_case
    manifest = manifest_of(w.night_package)
    firsts = [it["files"][-1]["path"] for it in manifest["items"]]  # a document's PDF, an item's file
    # Sorting the names gives the 卷内序号 order: step folders, then NN- within each.
    assert firsts == sorted(firsts)
    assert all(p.startswith("01-") for p, it in zip(firsts, manifest["items"]) if it["step"]["code"] == "opening")
    assert all(p.startswith("02-") for p, it in zip(firsts, manifest["items"]) if it["step"]["code"] == "investigation")
    photo = next(it for it in manifest["items"] if it["type"] == "evidence" and it["files"][0]["format"] == "jpeg")
    # The upload's name held reserved characters (":" "?", maybe "/"): none reaches the member name.
    folder, name = photo["files"][0]["path"].split("/")
    assert folder.startswith("01-") and name.endswith(".jpg") and "现场_照片_" in name
    assert layout.safe_component(name) == name and not set(":?\\") & set(name)
    names = members(w.night_package)
    assert len(names) == len(set(names)) and all(len(part) <= layout.MAX_NAME for n in names for part in n.split("/"))
    if HAS_DOCUMENTS:
        doc = next(it for it in manifest["items"] if it["type"] == "document")
        assert {f["path"].rsplit(".", 1)[1] for f in doc["files"]} == {"docx", "pdf"}
        assert doc["files"][0]["path"].startswith(f"01-{layout.safe_component(manifest['case']['steps'][0]['name'], 40)}/01-")


def test_dates_in_the_table_of_contents_are_china_dates_for_an_event_at_2330_utc(night_case):
    w = night_case
    manifest = manifest_of(w.night_package)
    photo = next(it for it in manifest["items"] if it["type"] == "evidence" and it["files"][0]["format"] == "jpeg")
    assert photo["captured_at"].startswith("2026-10-08T23:30")  # the manifest keeps UTC
    text = toc_text(w.night_package)
    assert "2026-10-09" in text
    assert "2026-10-08" not in text  # the UTC date of the photo and of the opening never shows


def test_a_changed_table_of_contents_fails_the_check_like_any_member(night_case, tmp_path):
    w = night_case
    bad = tmp_path / "toc.zip"
    rewrite(w.night_package, bad, change={layout.TOC: lambda d: d.replace(b"%%EOF", b"%%EOX")})
    report = check_archive(bad)
    assert not report.passed("authenticity") and not report.passed("usability")
    assert any(layout.TOC in f.where and "卷内目录" in f.where for f in report.findings), report.text()
    gone = tmp_path / "no-toc.zip"
    rewrite(w.night_package, gone, drop={layout.TOC})
    report = check_archive(gone)
    assert any(f.where.startswith(layout.TOC) and "missing" in f.message for f in report.of("integrity")), report.text()


def test_a_package_in_the_old_layout_still_passes_the_four_property_check(night_case):
    w = night_case
    path = build_case_archive(case=w.night_case, actor=w.u_changan, version=1)
    manifest = manifest_of(path)
    assert manifest["package_version"] == 1 and "toc" not in manifest
    assert layout.TOC not in members(path)
    assert all(f["path"] == f"files/{f['sha256']}.{layout.FORMATS[f['format']][0]}"
               for it in manifest["items"] for f in it["files"])
    ok, text = check(path)
    assert ok, text
    # and the new one beside it
    ok, text = check(build_case_archive(case=w.night_case, actor=w.u_changan))
    assert ok, text


def test_an_over_long_or_unknown_version_package_is_named_by_the_check(night_case, tmp_path):
    w = night_case
    manifest = manifest_of(w.night_package)
    photo = next(it for it in manifest["items"] if it["type"] == "evidence" and it["files"][0]["format"] == "jpeg")
    old = photo["files"][0]["path"]
    long_name = "01-立案/" + "长" * 100 + ".jpg"
    photo["files"][0]["path"] = long_name
    with zipfile.ZipFile(w.night_package) as zf:
        data = zf.read(old)
    bad = tmp_path / "long.zip"
    rewrite(w.night_package, bad, drop={old}, add={long_name: data},
            change={"manifest.json": lambda _: json.dumps(manifest, ensure_ascii=False).encode()})
    report = check_archive(bad)
    assert any(long_name in f.where and "not a step/document name" in f.message for f in report.of("security")), report.text()
    manifest["package_version"] = 99
    unknown = tmp_path / "v99.zip"
    rewrite(w.night_package, unknown, change={"manifest.json": lambda _: json.dumps(manifest, ensure_ascii=False).encode()})
    report = check_archive(unknown)
    assert any("package version 99" in f.message for f in report.of("integrity")), report.text()
