"""An inspection started from a draw is a case of the cases app with its
whole-process recording (issue 14 item 4): a drawn inspector adds a photo
to the inspection case's step through the evidence app's upload service
(the path the phone page's uploads take), and it is kept as an evidence
item of that case and step."""

from __future__ import annotations

import hashlib
import io

from sanxiang.cases import services as case_services
from sanxiang.cases.models import Case
from sanxiang.evidence import selectors as evidence_selectors
from sanxiang.evidence import services as evidence_services
from sanxiang.evidence.models import EvidenceItem, EvidenceKind
from sanxiang.inspections import services
from sanxiang.inspections.models import Inspection


def test_a_drawn_inspector_adds_a_photo_to_the_inspection_case_started_from_the_draw(drawn, evidence_store):
    inspection = Inspection.objects.filter(draw=drawn.draw, officers__user=drawn.u_changan).first()
    inspection = services.start_inspection(actor=drawn.u_changan, inspection=inspection)
    case = Case.objects.get(pk=inspection.case_id)
    planning = case_services.start_step(actor=drawn.u_changan, case=case, code="planning", place="长安区市场监管局")
    case_services.complete_step(actor=drawn.u_changan, step=planning)
    step = case_services.start_step(actor=drawn.u_changan, case=case, code="investigation", place=inspection.object.address or "检查对象经营场所",
                                    at_premises=True)
    assert step.name == "实施检查"
    photo = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + hashlib.sha256(b"shelf").digest() * 40
    upload = evidence_services.create_upload(
        actor=drawn.u_changan, cases=evidence_selectors.cases_for(user=drawn.u_changan), length=len(photo),
        metadata={"case": str(case.pk), "step": str(step.pk), "sha256": hashlib.sha256(photo).hexdigest(),
                  "filename": "货架.jpg", "place": inspection.object.name})
    evidence_services.receive_upload_chunk(upload=upload, offset=0, stream=io.BytesIO(photo), content_length=len(photo),
                                           checksum=None)
    item = EvidenceItem.objects.get(case=case)
    assert item.step_id == step.pk and item.mime_type == "image/jpeg" and item.uploaded_by == drawn.u_changan
    assert item.sha256 == hashlib.sha256(photo).hexdigest()
    assert item.kind == EvidenceKind.PHOTO
