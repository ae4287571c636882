"""A closed (结案) or terminated (终止) case is filed as it stands: every
write the cases app offers on an existing case is refused by the service
(``services.case_write`` → ``predicates.can_write_case``), and records
that belong before the decision (hearing request, waiver, notice) are not
accepted once it is made.

The services are enumerated from the module, so a new case-write service
that does not go through the gate fails here."""

from __future__ import annotations

import inspect
from datetime import date

import pytest
from django.core.exceptions import ValidationError

from sanxiang.conftest import services_taking_an_actor
from sanxiang.cases import services
from sanxiang.cases.models import AvExemption, Case, CaseStatus
from sanxiang.core.models import AuditEntry

from .conftest import at

# Public services that write but act on no existing case (what they create
# or change is not a case's record).
NOT_ON_A_CASE = {
    "open_case": "creates a new case",
    "set_av_requirement": "the agency's AV list (音像记录事项清单), not a case",
    # Called only by the calendar load: it corrects computed due dates of
    # every case (closed ones included, so that nothing stays 暂定 once its
    # year is loaded), each change audited; no officer acts on a case.
    "recompute_provisional_deadlines": "the calendar load's recompute of stored provisional deadlines (docs/calendar.md)",
}
CASE_ARGUMENTS = ("case", "step", "deadline", "exemption")


def _error(exc: ValidationError):
    field, errors = next(iter(exc.error_dict.items()))
    return field, errors[0].code


@pytest.fixture
def ended_cases(world, open_case, walk, head):
    """A closed penalty case (its AV exemptions, steps and deadlines kept)
    and a terminated one."""
    closed = open_case()
    walk(closed, ["opening", "investigation", "notification"], date(2026, 9, 2))
    walk(closed, ["decision", "service", "execution", "closure"], date(2026, 9, 30))
    closed.refresh_from_db()
    assert closed.status == CaseStatus.CLOSED
    terminated = open_case(title="某商店未明码标价案")
    services.start_step(actor=world.u_changan, case=terminated, code="opening", at=at(date(2026, 9, 1)))
    services.terminate_case(actor=head, case=terminated, reason="违法事实不能成立", on=date(2026, 9, 2))
    terminated.refresh_from_db()
    assert terminated.status == CaseStatus.TERMINATED
    return {"closed": closed, "terminated": terminated}


def _arguments(func, case: Case, actor) -> dict:
    """Keyword arguments for `func` on `case`: the case (or one of its
    steps, deadlines, exemptions) and placeholders for the rest — the gate
    answers before any of them is looked at."""
    step = case.steps.order_by("id").first()
    exemption = AvExemption.objects.filter(step__case=case).first()
    if exemption is None:
        exemption = AvExemption.objects.create(step=step, reason="设备故障", requested_by=actor, requested_at=step.started_at)
    values = {"actor": actor, "case": case, "step": step, "deadline": case.deadlines.order_by("id").first(),
              "exemption": exemption}
    kwargs = {}
    for name, param in inspect.signature(func).parameters.items():
        if name in values:
            kwargs[name] = values[name]
        elif param.default is inspect.Parameter.empty:
            kwargs[name] = None
    return kwargs


def test_every_case_write_service_is_either_gated_or_named_as_not_acting_on_a_case():
    writes = services_taking_an_actor(services)
    assert {"record_hearing_waiver", "start_step", "complete_step", "assign_officer"} <= set(writes)
    for name, func in writes.items():
        takes_a_case = any(p in inspect.signature(func).parameters for p in CASE_ARGUMENTS)
        if name in NOT_ON_A_CASE:
            assert not takes_a_case, f"{name} acts on a case: it must go through services.case_write"
        else:
            assert takes_a_case and getattr(func, "case_write", False), \
                f"{name} writes on a case without the closed-case gate (services.case_write)"


@pytest.mark.parametrize("ended", ["closed", "terminated"])
def test_every_case_write_service_refuses_a_closed_or_terminated_case(world, ended_cases, head, ended):
    case = ended_cases[ended]
    gated = {n: f for n, f in services_taking_an_actor(services).items() if n not in NOT_ON_A_CASE}
    assert len(gated) >= 14
    for name, func in gated.items():
        for actor in (world.u_changan, head):
            before_case = Case.objects.filter(pk=case.pk).values().get()
            before_audit = AuditEntry.objects.count()
            with pytest.raises(ValidationError) as exc:
                func(**_arguments(func, case, actor))
                pytest.fail(f"{name} wrote on a {ended} case")
            assert _error(exc.value) == ("case", "case_not_open"), name
            assert "不能再修改" in " ".join(exc.value.messages), name
            assert Case.objects.filter(pk=case.pk).values().get() == before_case, name
            assert AuditEntry.objects.count() == before_audit, name


def test_a_hearing_waiver_on_a_closed_case_dated_after_the_decision_is_refused(world, ended_cases):
    case = ended_cases["closed"]
    with pytest.raises(ValidationError) as exc:
        services.record_hearing_waiver(actor=world.u_changan, case=case, waived_on=date(2026, 10, 8))
    assert _error(exc.value) == ("case", "case_not_open")
    case.refresh_from_db()
    assert case.hearing_waived_on is None


def test_hearing_records_are_refused_once_the_decision_is_made_even_before_closing(world, open_case, walk):
    case = open_case()
    walk(case, ["opening", "investigation", "notification"], date(2026, 9, 2))
    walk(case, ["decision"], date(2026, 9, 30))
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN and case.decided_on == date(2026, 9, 30)
    for call, field in ((lambda: services.record_hearing_waiver(actor=world.u_changan, case=case, waived_on=date(2026, 10, 8)),
                         "waived_on"),
                        (lambda: services.record_hearing_request(actor=world.u_changan, case=case, requested_on=date(2026, 10, 8)),
                         "requested_on")):
        with pytest.raises(ValidationError) as exc:
            call()
        assert _error(exc.value) == (field, "already_decided")
    case.refresh_from_db()
    assert case.hearing_waived_on is None and not case.hearing_requested


def test_a_stale_instance_of_a_closed_case_is_refused_too(world, ended_cases):
    """The gate reads the status from the database, not from the caller's
    copy loaded while the case was still open."""
    case = ended_cases["closed"]
    stale = Case.objects.get(pk=case.pk)
    stale.status, stale.closed_on = CaseStatus.OPEN, None
    with pytest.raises(ValidationError) as exc:
        services.propose_decision(actor=world.u_changan, case=stale, categories=["警告"])
    assert _error(exc.value) == ("case", "case_not_open")


def test_preservation_cannot_be_dated_before_opening_or_after_the_decision(world, open_case, walk):
    case = open_case()
    with pytest.raises(ValidationError) as exc:
        services.record_preservation(actor=world.u_changan, case=case, preserved_on=date(2026, 8, 31), items="过期食品10箱")
    assert _error(exc.value) == ("preserved_on", "before_opening")
    walk(case, ["opening", "investigation", "notification"], date(2026, 9, 2))
    walk(case, ["decision"], date(2026, 9, 30))
    case.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        services.record_preservation(actor=world.u_changan, case=case, preserved_on=date(2026, 10, 2), items="过期食品10箱")
    assert _error(exc.value) == ("preserved_on", "after_decision")


def test_documents_and_evidence_are_refused_on_an_ended_case_but_its_file_can_still_be_built(world, ended_cases, head,
                                                                                            tmp_path, settings):
    """What the law allows after closing: nothing is added to the record
    (no document issued, no evidence uploaded), but the e-case file (电子案卷)
    of a closed or terminated case is built from it, again if needed."""
    from sanxiang.cases.selectors import cases_for
    from sanxiang.documents.services import issue_document
    from sanxiang.evidence.archive.build import build_case_archive
    from sanxiang.evidence.services import create_upload

    settings.ARCHIVE_DIR = tmp_path / "archives"
    for case in ended_cases.values():
        with pytest.raises(ValidationError) as exc:
            issue_document(actor=head, case=case, kind="inquiry_record", data={})
        assert "已结案或终止" in " ".join(exc.value.messages)
        with pytest.raises(ValidationError) as exc:
            create_upload(actor=head, cases=cases_for(user=head), length=10,
                          metadata={"sha256": "0" * 64, "case": str(case.pk), "filename": "a.jpg"})
        assert "不能再上传证据" in " ".join(exc.value.messages)
        assert build_case_archive(case=case, actor=head)

