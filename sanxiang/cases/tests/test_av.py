"""The AV list is enforced (记录-4: 音像记录事项清单): a step that needs AV
cannot be completed without AV attached unless a reason is recorded and the
agency head approves; coverage is reported per agency."""

from __future__ import annotations

import hashlib
import io
from datetime import date

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError

from sanxiang.cases import avlist, selectors, services
from sanxiang.cases.models import StepStatus

from .conftest import at


def _code(exc: ValidationError) -> str:
    return next(iter(exc.error_dict.values()))[0].code


@pytest.fixture
def investigation(world, open_case, walk):
    case = open_case()
    walk(case, ["opening"], date(2026, 9, 1))
    return services.start_step(actor=world.u_changan, case=case, code="investigation", at=at(date(2026, 9, 2)),
                               place="长安区建设北大街1号")


def test_the_default_av_list_needs_av_for_penalty_investigation_and_service_and_whole_process_for_seizure():
    entries = {(e.act_kind, e.step, e.place): e for e in avlist.load_default_list()}
    penalty_steps = {e.step for e in entries.values() if e.act_kind == "penalty" and e.step}
    assert {"investigation", "service"} <= penalty_steps
    seizure = [e for e in entries.values() if e.act_kind == "coercion" and e.step == "execution"]
    assert seizure and seizure[0].whole_process
    premises = [e for e in entries.values() if not e.step]
    assert premises and all(e.whole_process and "办案场所" in e.place for e in premises)
    assert any(e.step == "demolition" and e.whole_process for e in entries.values())


def test_a_step_that_needs_av_cannot_complete_without_av_unless_an_approved_exemption(world, investigation, head):
    step = investigation
    assert step.needs_av and "音像记录" in step.av_requirement
    with pytest.raises(ValidationError) as exc:
        services.complete_step(actor=world.u_changan, step=step, at=at(date(2026, 9, 2), 11))
    assert _code(exc.value) == "av_missing" and "118号" in str(exc.value)
    exemption = services.request_av_exemption(actor=world.u_changan, step=step, reason="执法记录仪电量耗尽，现场无备用设备")
    with pytest.raises(ValidationError) as exc:  # asked, not yet approved
        services.complete_step(actor=world.u_changan, step=step, at=at(date(2026, 9, 2), 11))
    assert _code(exc.value) == "av_missing"
    with pytest.raises(PermissionDenied):  # an officer is not the supervisor
        services.approve_av_exemption(actor=world.u_changan, exemption=exemption)
    services.approve_av_exemption(actor=head, exemption=exemption)
    step = services.complete_step(actor=world.u_changan, step=step, at=at(date(2026, 9, 2), 11))
    assert step.status == StepStatus.COMPLETED


def test_the_head_cannot_approve_an_exemption_they_asked_for(world, investigation, head):
    exemption = services.request_av_exemption(actor=head, step=investigation, reason="当事人情绪激动，为安全停止录像")
    with pytest.raises(PermissionDenied):
        services.approve_av_exemption(actor=head, exemption=exemption)


def test_an_agency_entry_can_add_an_av_step_but_not_switch_off_whole_process_av(world, head, open_case, walk):
    services.set_av_requirement(actor=head, agency=world.amr_changan, act_kind="penalty", step_code="notification",
                                content="送达事先告知书的过程", category="confirmation")
    case = open_case()
    walk(case, ["opening", "investigation"], date(2026, 9, 1))
    step = services.start_step(actor=world.u_changan, case=case, code="notification", at=at(date(2026, 9, 3)))
    assert step.needs_av and "事先告知书" in step.av_requirement
    with pytest.raises(ValidationError) as exc:
        services.set_av_requirement(actor=head, agency=world.amr_changan, act_kind="coercion", step_code="execution",
                                    place="查封、扣押现场", content="只拍照", required=False)
    assert _code(exc.value) == "whole_process_mandatory"
    with pytest.raises(PermissionDenied):
        services.set_av_requirement(actor=world.u_changan, agency=world.amr_changan, act_kind="penalty",
                                    step_code="opening", content="立案审批")


def test_a_step_in_the_case_handling_premises_needs_whole_process_av(world, open_case, walk):
    case = open_case()
    walk(case, ["opening", "investigation"], date(2026, 9, 1))
    step = services.start_step(actor=world.u_changan, case=case, code="notification", at=at(date(2026, 9, 3)),
                               at_premises=True)
    assert step.needs_av and step.av_requirement.startswith("全过程音像记录（执法办案场所")


def test_coverage_counts_steps_needing_av_with_av_exempted_per_agency(world, open_case, walk):
    case = open_case()
    walk(case, ["opening", "investigation", "notification"], date(2026, 9, 2))
    [row] = selectors.av_coverage(user=world.u_changan)
    assert row.agency == world.amr_changan and (row.required, row.with_av, row.exempted) == (1, 0, 1)
    assert selectors.av_coverage(user=world.u_zhengding) == []


# -- with the evidence app (uploads through its services) ---------------------------


def _attach_photo(world, step, settings, tmp_path):
    """Upload a photo to the step through the evidence app's services."""
    if not apps.is_installed("sanxiang.evidence"):
        pytest.skip("the evidence app is not installed yet")
    evidence = pytest.importorskip("sanxiang.evidence.services", reason="the evidence app is not installed yet")
    settings.EVIDENCE_BACKEND = "local"
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    settings.EVIDENCE_UPLOAD_DIR = tmp_path / "uploads"
    data = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    # Only the case's officers (and the head) add evidence: the account is 王建国's, who is on the case.
    world.changan_officer.user = world.u_changan
    world.changan_officer.save(update_fields=["user"])
    upload = evidence.create_upload(actor=world.u_changan, cases=selectors.cases_for(user=world.u_changan),
                                    length=len(data), metadata={
                                        "sha256": hashlib.sha256(data).hexdigest(), "case": str(step.case_id),
                                        "step": str(step.pk), "filename": "现场.png",
                                        "captured_at": "2026-09-02T09:30:00+08:00"})
    evidence.receive_upload_chunk(upload=upload, offset=0, stream=io.BytesIO(data), content_length=len(data), checksum=None)


def test_a_step_with_av_attached_completes_and_counts_as_covered(world, investigation, settings, tmp_path):
    _attach_photo(world, investigation, settings, tmp_path)
    assert len(selectors.av_items_for_step(investigation)) == 1
    step = services.complete_step(actor=world.u_changan, step=investigation, at=at(date(2026, 9, 2), 11))
    assert step.status == StepStatus.COMPLETED
    [row] = selectors.av_coverage(user=world.u_legal_sjz)
    assert (row.required, row.with_av, row.exempted, row.share) == (1, 1, 0, 1.0)
