"""One file-type sniffer (``evidence.filetypes``): an upload and the archive
check of the case file it ends up in tell a file's type alike, from real
generated files; a ZIP is a DOCX or an XLSX only by what is inside it."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest

from sanxiang.evidence import filetypes, services
from sanxiang.evidence.archive import layout
from sanxiang.evidence.archive.check import check_archive, sniffed_format


def jpeg() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 120, 200)).save(buf, "JPEG")
    return buf.getvalue()


def png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 120, 200)).save(buf, "PNG")
    return buf.getvalue()


def mp4_header() -> bytes:
    # An ftyp box (major brand isom, compatible isom/iso2/avc1/mp41) and an empty mdat.
    ftyp = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
    return ftyp + b"\x00\x00\x00\x08mdat" + bytes(4096)


def pdf() -> bytes:
    from fpdf import FPDF

    doc = FPDF()
    doc.add_page()
    doc.set_font("helvetica", size=12)
    doc.cell(text="case file")
    return bytes(doc.output())


def plain_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("notes.txt", "现场笔录扫描件清单\n" * 50)
        zf.writestr("word/readme.txt", "a folder named word/ does not make a DOCX")
    return buf.getvalue()


def docx() -> bytes:
    import docx as python_docx

    buf = io.BytesIO()
    document = python_docx.Document()
    document.add_paragraph("行政处罚决定书")
    document.save(buf)
    return buf.getvalue()


def xlsx() -> bytes:
    from openpyxl import Workbook

    buf = io.BytesIO()
    book = Workbook()
    book.active["A1"] = "行政处罚决定"
    book.save(buf)
    return buf.getvalue()


FILES = {
    "photo.jpg": (jpeg, "image/jpeg", "jpeg"),
    "image.png": (png, "image/png", "png"),
    "video.mp4": (mp4_header, "video/mp4", "mp4"),
    "scan.pdf": (pdf, "application/pdf", "pdf"),
    "bundle.zip": (plain_zip, filetypes.ZIP, None),
    "decision.docx": (docx, filetypes.DOCX, "docx"),
    "register.xlsx": (xlsx, filetypes.XLSX, None),
}


@pytest.mark.parametrize("name", sorted(FILES))
def test_an_upload_and_the_archive_check_tell_the_type_alike(name, tmp_path):
    make, mime, fmt = FILES[name]
    data = make()
    path = tmp_path / name
    path.write_bytes(data)
    # The upload path: what an evidence item records.
    uploaded_mime, _kind = services.sniff(path)
    assert uploaded_mime == mime
    # The archive path: the same bytes as a member of a package, read back
    # the way the check reads them (first bytes, then the member reopened).
    package = tmp_path / "package.zip"
    with zipfile.ZipFile(package, "w") as zf:
        zf.writestr(f"files/{name}", data)
    with zipfile.ZipFile(package) as zf:
        info = zf.getinfo(f"files/{name}")
        with zf.open(info) as fh:
            head = fh.read(filetypes.HEAD_BYTES)
        assert sniffed_format(head, lambda: zf.open(info)) == fmt == layout.format_for_mime(uploaded_mime)


def test_a_zip_is_a_docx_or_xlsx_only_by_its_content(tmp_path):
    assert filetypes.sniff_file(_write(tmp_path / "a.docx", plain_zip())) == filetypes.ZIP
    assert filetypes.sniff_file(_write(tmp_path / "b.zip", docx())) == filetypes.DOCX
    assert filetypes.sniff_file(_write(tmp_path / "c.zip", xlsx())) == filetypes.XLSX
    assert filetypes.sniff_file(_write(tmp_path / "d.docx", b"PK\x03\x04 broken")) == filetypes.ZIP


def test_the_archive_check_does_not_take_a_plain_zip_for_the_docx_its_manifest_claims(tmp_path):
    data = plain_zip()
    sha = hashlib.sha256(data).hexdigest()
    path = f"files/{sha}.docx"
    manifest = {"items": [{"seq": 1, "type": "document", "id": 1,
                           "files": [{"role": "docx", "path": path, "sha256": sha, "size": len(data),
                                      "format": "docx", "mime": filetypes.DOCX}]}],
                "counts": {"items": 1, "documents": 1, "evidence": 0}}
    package = tmp_path / "forged.zip"
    with zipfile.ZipFile(package, "w") as zf:
        zf.writestr(layout.MANIFEST, json.dumps(manifest))
        zf.writestr(path, data)
    report = check_archive(package)
    disguised = [f.message for f in report.of("authenticity") if f.where.startswith(path)]
    assert any("the bytes are of no known format, manifest says docx" in m for m in disguised), disguised


def _write(path, data: bytes):
    path.write_bytes(data)
    return path
