"""The demo holds a day's work (issue 11 item 9): after ``build_demo`` there
is a case in every state, made through the services of every app (steps,
AV evidence with real files, legal review rounds, decision documents,
publication, withdrawal, the e-case file), and every demo role's first
page — the workbench — shows a to-do list. Building it twice adds nothing.
"""

from __future__ import annotations

import hashlib
import time

import pytest

from sanxiang.cases import demo as case_demo
from sanxiang.cases.models import Case, CaseStatus, StepStatus
from sanxiang.conftest import client_for
from sanxiang.core.models import AuditEntry, User
from sanxiang.core.todo import todo_for
from sanxiang.demo import build_demo
from sanxiang.documents.models import Document
from sanxiang.evaluation import demo as evaluation_demo
from sanxiang.evidence.models import ArchivePackage, EvidenceItem
from sanxiang.evidence.services import archive_path
from sanxiang.evidence.storage import get_storage
from sanxiang.publicity.models import Decision, DecisionStatus, PublicDecision, WithdrawalNotice
from sanxiang.review.models import Outcome, Submission

pytestmark = pytest.mark.django_db

# Every human demo login (the API client has no workbench) and what its
# to-do list must name at least.
ROLE_TODO_KINDS = {
    "officer": {"case_step", "case_next_step", "case_deadline", "av_upload", "document_to_serve", "review_response"},
    "county_officer": {"case_step", "case_deadline"},
    "reviewer": {"review_round"},
    "head": {"av_exemption", "publication_check", "inspection_task"},
    "publicity": {"publication_check"},
    "legal_sjz": {"filing", "case_deadline_overdue", "publication_overdue", "inspection_reveal"},
    "legal_hebei": {"case_deadline_overdue"},
}


@pytest.fixture
def demo(settings, tmp_path, no_totp, django_capture_on_commit_callbacks):
    settings.EVIDENCE_BACKEND = "local"
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    settings.EVIDENCE_UPLOAD_DIR = tmp_path / "uploads"
    settings.ARCHIVE_DIR = str(tmp_path / "archives")
    started = time.monotonic()
    # The e-case file is built once the closing commits (on_commit).
    with django_capture_on_commit_callbacks(execute=True):
        build_demo()
    elapsed = time.monotonic() - started
    print(f"demo build: {elapsed:.1f} s")
    # The demo's own cases (the random inspections open two more: an
    # inspection under way and the case referred from one; inspections/demo.py).
    return {c.title: c for c in Case.objects.filter(title__in=[d.title for d in case_demo.DEMO_CASES])}


def case_in(state: str) -> Case:
    demo = next(d for d in case_demo.DEMO_CASES if d.state == state)
    return Case.objects.get(title=demo.title)


def test_the_demo_has_a_case_in_every_state_made_through_the_services_and_only_once(
        demo, django_capture_on_commit_callbacks):
    assert {d.state for d in case_demo.DEMO_CASES} == set(case_demo.STATES)
    assert len(demo) == len(case_demo.DEMO_CASES)
    # and the random inspection's two; the case-file evaluation's demo files (evaluation/demo.py: one sound
    # file and one per automatic item it fails, plus three of the county) are written directly, on purpose
    evaluation_files = Case.objects.filter(title__contains="（评查演示")
    assert evaluation_files.count() == 1 + len(evaluation_demo.FLAWS) + 3
    assert Case.objects.exclude(pk__in=evaluation_files).count() == len(case_demo.DEMO_CASES) + 2
    today_cases = {c.opened_on for c in demo.values()}
    assert max(today_cases) == case_demo.working_days_ago(0)  # the newest case was opened today (or last working day)

    opened = case_in(case_demo.OPENED)
    assert opened.status == CaseStatus.OPEN and [s.code for s in opened.steps.all()] == ["opening"]
    assert Document.objects.get(case=opened).kind == "case_opening"  # its 立案审批表, numbered

    investigating = case_in(case_demo.INVESTIGATING)
    step = investigating.steps.get(code="investigation")
    assert step.status == StepStatus.IN_PROGRESS
    items = list(EvidenceItem.objects.filter(step=step))
    assert {i.kind for i in items} >= {"photo", "audio"}
    storage = get_storage()
    for item in items:  # real files, stored under their SHA-256
        with storage.open(item.sha256) as fh:
            assert hashlib.sha256(fh.read()).hexdigest() == item.sha256
    assert {i.mime_type for i in EvidenceItem.objects.all()} >= {"image/jpeg", "image/png", "audio/x-wav"}
    assert investigating.deadlines.filter(kind="preservation", met_at__isnull=True).exists()

    awaiting = Submission.objects.filter(case=case_in(case_demo.AWAITING_REVIEW)).get()
    assert awaiting.is_open and awaiting.reviewer.user.username == "reviewer" and awaiting.outcome in ("", None)
    returned = Submission.objects.filter(case=case_in(case_demo.REVIEW_RETURNED)).get()
    assert returned.outcome == Outcome.ISSUES and returned.checklist.filter(result="issue").exists()

    hearing = case_in(case_demo.HEARING_REQUESTED)
    assert hearing.hearing_requested and hearing.decided_on is None

    published = case_in(case_demo.DECIDED_PUBLISHED)
    passed = Submission.objects.filter(case=published).get()
    assert passed.outcome == Outcome.AGREE
    record = Decision.objects.get(case=published)
    assert record.status == DecisionStatus.PUBLISHED and record.data["doc_number"]
    assert PublicDecision.objects.filter(decision=record, visible=True).exists()
    assert published.steps.get(code="service").status == StepStatus.IN_PROGRESS

    withdrawn = Decision.objects.get(case=case_in(case_demo.WITHDRAWN))
    assert withdrawn.status == DecisionStatus.WITHDRAWN and WithdrawalNotice.objects.filter(decision=withdrawn).exists()
    execution = case_in(case_demo.WITHDRAWN).steps.get(code="execution")  # nothing to execute: AV exempted
    assert execution.av_exemption.is_approved and execution.status == StepStatus.COMPLETED

    for state in (case_demo.WITHDRAWN, case_demo.CLOSED, case_demo.TERMINATED):
        case = case_in(state)
        assert case.status == (CaseStatus.TERMINATED if state == case_demo.TERMINATED else CaseStatus.CLOSED)
        package = ArchivePackage.objects.filter(case=case).latest("built_at")
        assert archive_path(package).is_file()
    # The closed case's decision waits for the publication check, overdue:
    # the publicity administrator's list has it in red.
    assert Decision.objects.get(case=case_in(case_demo.CLOSED)).status == DecisionStatus.PENDING

    # Everything went through the services: each case has its audit trail.
    for case in demo.values():
        assert AuditEntry.objects.filter(action="case.open", object_id=str(case.pk)).exists()

    # Building it again adds nothing (``sanxiang demo`` is run on every start).
    counts = (Case.objects.count(), EvidenceItem.objects.count(), Decision.objects.count(), AuditEntry.objects.count())
    with django_capture_on_commit_callbacks(execute=True):
        build_demo()
    assert (Case.objects.count(), EvidenceItem.objects.count(), Decision.objects.count(),
            AuditEntry.objects.count()) == counts


def test_every_demo_role_opens_the_workbench_to_a_to_do_list(demo):
    for username, kinds in ROLE_TODO_KINDS.items():
        user = User.objects.get(username=username)
        items = todo_for(user=user)
        assert items, f"{username} has nothing to do"
        assert kinds <= {i.kind for i in items}, (username, sorted({i.kind for i in items}))
        page = client_for(user).get("/workbench/")
        assert page.status_code == 200
        assert items[0].title in page.content.decode(), username
    urgencies = {i.urgency for u in ("officer", "county_officer", "publicity") for i in
                 todo_for(user=User.objects.get(username=u))}
    assert {"overdue", "soon"} <= urgencies  # red and amber both shown
