"""The documents app's check after a restore (sanxiang/core/backup.py),
registered in DocumentsConfig.ready: every issued DOCX and PDF file is
present with the SHA-256 recorded when it was issued."""

from __future__ import annotations

import hashlib
from typing import Iterator

from sanxiang.core.backup import Check

from .models import Document


def document_check(*, quick: bool = False) -> Iterator[Check]:
    for doc in Document.objects.order_by("pk").only("docx", "pdf", "docx_sha256", "pdf_sha256").iterator():
        for field, expected in ((doc.docx, doc.docx_sha256), (doc.pdf, doc.pdf_sha256)):
            if not field.name:
                continue
            try:
                with field.open("rb") as fh:
                    digest = hashlib.sha256()
                    while chunk := fh.read(1024 * 1024):
                        digest.update(chunk)
            except FileNotFoundError:
                yield Check("document", field.name, False, "the file is missing")
                continue
            ok = digest.hexdigest() == expected
            yield Check("document", field.name, ok, "" if ok else f"SHA-256 {digest.hexdigest()}, issued as {expected}")
