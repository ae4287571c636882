"""A small data set with hand-counted figures (test_figures.py states them).

Period P = 2026-03-01 … 2026-03-31, today 2026-04-15. Rows are written with
the ORM: what is tested is how the figures count records, whichever
service wrote them. Instants are given in Asia/Shanghai; several sit on the
other side of midnight in UTC, so a count that took the UTC date would be
wrong."""

from __future__ import annotations

import types
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from sanxiang.cases.models import AvExemption, Case, CaseStatus, CaseStep, Procedure, StepStatus
from sanxiang.core.models import Officer, OfficerStatus
from sanxiang.core.validators import make_certificate_number
from sanxiang.evidence.models import EvidenceItem
from sanxiang.inspections.models import (
    Draw, DrawStatus, Inspection, InspectionBatch, InspectionObject, InspectionPlan, InspectionResult,
)
from sanxiang.publicity.models import Decision, DecisionStatus, DecisionVersion
from sanxiang.review.models import Outcome, Submission
from sanxiang.supervision.models import Complaint

SH = ZoneInfo("Asia/Shanghai")
P_FROM, P_TO, TODAY = date(2026, 3, 1), date(2026, 3, 31), date(2026, 4, 15)


def at(y, m, d, hh=10, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


class Builder:
    def __init__(self, world):
        self.w = world
        self.n = 0

    def case(self, agency, act_kind="penalty", opened=date(2026, 3, 2), **kw) -> Case:
        self.n += 1
        # a raw insert, like a fixture: the decision guards (审核-8) are not what is tested here
        return Case.objects.bulk_create([Case(
            agency=agency, title=f"案件{self.n}", act_kind=act_kind, opened_on=opened, party_name=f"当事人{self.n}",
            party_type="legal_person", created_by=self.w.u_admin, **kw)])[0]

    def decision(self, agency, *, kind="penalty", day=date(2026, 3, 10), categories=(), fine=None, confiscation=None,
                 status=DecisionStatus.PUBLISHED, due=None, published=None, source="api", case=None) -> Decision:
        """A decision record with its first version, arrived through ``source`` (publicity's codes)."""
        self.n += 1
        data = {"penalty_categories": list(categories), "fine_fen": fine, "confiscation_fen": confiscation} \
            if kind == "penalty" else {"licence_category": "普通"}
        decision = Decision.objects.create(agency=agency, external_id=f"x{self.n}", kind=kind, status=status, data=data,
                                           doc_number=f"冀测〔2026〕{self.n}号", party_name="某公司",
                                           party_type="legal_person", decision_date=day, publication_due=due,
                                           published_at=published, case=case)
        DecisionVersion.objects.create(decision=decision, number=1, data=data, source=source, actor="t")
        return decision

    def step(self, case, *, completed, av="现场执法全程录像", status=StepStatus.COMPLETED) -> CaseStep:
        self.n += 1
        return CaseStep.objects.create(case=case, code=f"s{self.n}", name="现场检查", started_at=at(2026, 3, 1),
                                       completed_at=completed, status=status, av_requirement=av)

    def av_item(self, step, *, deleted=False) -> EvidenceItem:
        self.n += 1
        return EvidenceItem.objects.create(case=step.case, step=step, captured_at=at(2026, 3, 1), mime_type="video/mp4",
                                           kind="video", size=10, sha256=f"{self.n:064d}", uploaded_by=self.w.u_admin,
                                           deleted_at=at(2026, 3, 20) if deleted else None)

    def officer(self, agency, serial, **kw) -> Officer:
        return Officer.objects.create(name=f"人员{serial}", agency=agency, enforcement_region=agency.region,
                                      certificate_number=make_certificate_number(agency.region.code, serial),
                                      categories=["penalty"], **kw)

    def draw(self, agency, *, number, status, drawn_at, results) -> Draw:
        plan, _ = InspectionPlan.objects.get_or_create(agency=agency, year=2026, defaults={"title": "2026年抽查计划"})
        batch, _ = InspectionBatch.objects.get_or_create(
            plan=plan, title="第一批", defaults={"item_code": "J-1", "item_name": "食品经营检查",
                                              "scope_region": agency.region, "starts_on": date(2026, 3, 1),
                                              "ends_on": date(2026, 6, 30)})
        draw = Draw.objects.create(batch=batch, number=number, status=status, algorithm="sanxiang-draw-v1", snapshot={},
                                   snapshot_sha256="0" * 64, k=2, created_by="test", drawn_at=drawn_at)
        for result in results:
            self.n += 1
            obj = InspectionObject.objects.create(region=agency.region, name=f"对象{self.n}")
            Inspection.objects.create(draw=draw, object=obj, agency=agency, result=result)
        return draw

    def complaint(self, agency, *, received_on) -> Complaint:
        self.n += 1
        return Complaint.objects.create(tracking_number=f"TS{self.n:08d}", agency=agency, office=agency.legal_office,
                                        subject="投诉", content="内容", sender_key="k", received_at=at(2026, 3, 1),
                                        received_on=received_on, reply_due=date(2026, 4, 30), reply_rule="r",
                                        reply_reference="ref")


@pytest.fixture
def dataset(world):
    b = Builder(world)
    A, B, C = world.amr_changan, world.amr_zhengding, world.amr_lunan
    # cases of A
    c1 = b.case(A, opened=date(2026, 3, 2), decided_on=date(2026, 3, 20), closed_on=date(2026, 3, 25),
                status=CaseStatus.CLOSED, hearing_requested=True, hearing_requested_on=date(2026, 3, 10),
                hearing_on=date(2026, 3, 15))
    c2 = b.case(A, opened=date(2026, 3, 5), decided_on=date(2026, 3, 5), procedure=Procedure.SUMMARY)
    b.case(A, act_kind="license", opened=date(2026, 2, 20), closed_on=date(2026, 3, 3), status=CaseStatus.CLOSED)
    b.case(A, act_kind="inspection", opened=date(2026, 3, 31), closed_on=date(2026, 4, 1), status=CaseStatus.TERMINATED)
    b.case(A, opened=date(2026, 4, 1))
    # a case of B, terminated in the period; one of C (another city)
    b.case(B, opened=date(2026, 3, 10), closed_on=date(2026, 3, 12), status=CaseStatus.TERMINATED)
    b.case(C, opened=date(2026, 3, 10))
    # penalty decisions of A; publication due dates
    b.decision(A, categories=["警告", "罚款"], fine=50000, due=date(2026, 3, 10), published=at(2026, 3, 10, 23, 30))
    b.decision(A, categories=["罚款", "没收违法所得、没收非法财物"], fine=100000, confiscation=25050,
               due=date(2026, 3, 12), published=at(2026, 3, 13, 1, 0))
    b.decision(A, categories=["警告"], status=DecisionStatus.PENDING, due=date(2026, 3, 20))
    b.decision(A, categories=["罚款"], fine=999999, status=DecisionStatus.WITHDRAWN)
    b.decision(A, day=date(2026, 2, 28), categories=["罚款"], fine=1000, due=date(2026, 2, 27), published=at(2026, 2, 27))
    b.decision(A, kind="license", status=DecisionStatus.PENDING, due=date(2026, 3, 31))
    b.decision(A, day=date(2026, 4, 2), categories=["罚款"], fine=7000, status=DecisionStatus.PENDING,
               due=date(2026, 4, 20))  # decided and due after the period
    b.decision(B, categories=["吊销许可证件", "罚款"], fine=20000)
    b.decision(C, categories=["罚款"], fine=3000000)
    # legal reviews of A
    common = {"stage": "review", "submitted_by": world.u_admin, "submitted_at": at(2026, 3, 1)}
    Submission.objects.create(case=c1, round=1, received_on=date(2026, 3, 1), due_on=date(2026, 3, 8),
                              opinion_at=at(2026, 3, 6), outcome=Outcome.ISSUES, **common)
    Submission.objects.create(case=c1, round=2, received_on=date(2026, 3, 10), due_on=date(2026, 3, 17),
                              opinion_at=at(2026, 3, 18, 0, 30), outcome=Outcome.AGREE, **common)
    Submission.objects.create(case=c2, round=1, received_on=date(2026, 3, 28), due_on=date(2026, 4, 8),
                              opinion_at=at(2026, 4, 2), outcome=Outcome.AGREE, **common)
    Submission.objects.create(case=c2, round=2, received_on=date(2026, 3, 28), due_on=date(2026, 4, 8), **common)
    # AV of A's steps
    b.av_item(b.step(c1, completed=at(2026, 3, 3)))
    exempt = b.step(c1, completed=at(2026, 3, 4))
    AvExemption.objects.create(step=exempt, reason="设备故障", requested_by=world.u_admin, requested_at=at(2026, 3, 4),
                               approved_by=world.u_admin, approved_at=at(2026, 3, 4))
    b.av_item(b.step(c1, completed=at(2026, 3, 5)), deleted=True)
    b.step(c1, completed=at(2026, 3, 6), av="")
    b.av_item(b.step(c1, completed=at(2026, 4, 2)))
    b.step(c1, completed=None, status=StepStatus.IN_PROGRESS)
    b.step(c1, completed=at(2026, 3, 31, 23, 30))  # 15:30 UTC: still 31 March in Shanghai
    # officers of A beyond the world's two valid ones
    b.officer(A, 11, valid_from=date(2024, 1, 1), valid_to=date(2026, 3, 1))  # expired before the period's end
    b.officer(A, 12, valid_from=date(2024, 1, 1), valid_to=date(2029, 1, 1), status=OfficerStatus.REVOKED)
    b.officer(A, 13, valid_from=date(2024, 1, 1), valid_to=date(2029, 1, 1), status=OfficerStatus.SUSPENDED)
    b.officer(A, 14, valid_from=date(2026, 4, 1), valid_to=date(2029, 1, 1))  # not yet valid on 31 March
    # random inspections of A
    done, none = InspectionResult.NO_PROBLEM, ""
    b.draw(A, number=1, status=DrawStatus.DRAWN, drawn_at=at(2026, 3, 15), results=[done, InspectionResult.CORRECTED, none])
    b.draw(A, number=2, status=DrawStatus.REPLACED, drawn_at=at(2026, 3, 10), results=[done])
    b.draw(A, number=3, status=DrawStatus.DRAWN, drawn_at=at(2026, 4, 5), results=[done])
    # complaints
    b.complaint(A, received_on=date(2026, 3, 3))
    b.complaint(A, received_on=date(2026, 3, 31))
    b.complaint(A, received_on=date(2026, 4, 1))
    b.complaint(B, received_on=date(2026, 3, 20))
    return types.SimpleNamespace(world=world, A=A, B=B, C=C, builder=b)
