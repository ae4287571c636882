"""Legal-review pages (审核-1 … 审核-8): a case's review (evaluation, flags,
package, rounds, opinion checklist, extension, counsel, discussion), the
review catalogue and its filing, the reviewer registry with staffing, the
supervisors' figures with Excel export, and the public review flowchart.

Views parse input and call selectors and services; refusals are shown as
the services word them (Chinese, citing the article)."""

from __future__ import annotations

from datetime import date, datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sanxiang.cases.selectors import get_case_for
from sanxiang.catalog import services as catalog_services
from sanxiang.catalog.models import CatalogueKind, VersionStatus
from sanxiang.catalog.predicates import REVIEW_CATALOGUE_EDITOR_ROLES, can_decide_filing
from sanxiang.catalog.processes import render_flowchart_svg
from sanxiang.core.models import Role
from sanxiang.core.selectors import agencies_for
from sanxiang.core.services import record_view
from sanxiang.core.refusals import message_of as _message, run_shown  # the one refusal helper of the pages
from sanxiang.core.views import staff_required

from . import panels, predicates, selectors, services, workflow
from .models import CheckItem, Consultation, ItemResult, PartKind, Resolution
from sanxiang.core.parsing import optional_id, parse_id
from sanxiang.core import clock
from sanxiang.documents.selectors import documents_for
from sanxiang.evidence.selectors import evidence_for
from sanxiang.core.selectors import users_for


def _back_to_case(request, action, success: str, case_id: int):
    """A write from a case's review page: its refusal or `success` shown,
    back to the page."""
    run_shown(request, action, success)
    return redirect("review:case", pk=case_id)


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


# --------------------------------------------------------------------------
# Workbench and a case's review


@staff_required
def index(request):
    user = request.user
    rounds = selectors.submissions_for(user=user).filter(outcome="", withdrawn_at__isnull=True).order_by("due_on")[:200]
    return render(request, "review/index.html", {
        "rounds": rounds, "notices": selectors.notices_for(user=user)[:50], "today": clock.today(),
        "discussions": selectors.discussions_for(user=user).filter(recorded_at__isnull=True)[:100],
        # no one to assign a review to: say so and who registers one (审核-2/3)
        "no_reviewer": bool(user.agency_id) and user.agency.kind != "legal_office"
        and not selectors.reviewers_for(user=user).filter(agency_id=user.agency_id, active=True).exists(),
        "is_head": user.role == Role.AGENCY_HEAD,
    })


def _case_context(request, case, **extra):
    # Not "block": Django's template engine binds `block` inside every
    # {% block %} (the BlockNode), so the page showed template internals.
    decision_block = services.decision_block(case)  # a read: evaluates, records nothing
    data = selectors.case_review_of(case)
    user = request.user
    same_agency = user.agency_id == case.agency_id
    documents = list(documents_for(user=user).filter(case=case).order_by("issued_at"))
    # The package offers the case's documents and its evidence items (the
    # evidence app is a peer of documents; review sits above both).
    evidence = list(evidence_for(user=user).filter(case=case).order_by("captured_at", "id"))
    evaluation = services.evaluate(case)
    return {
        "case": case, "decision_block": decision_block, **data, "evaluation": evaluation, "today": clock.today(),
        "definition": workflow.definition(), "stage_names": {s.code: s.name for s in workflow.definition().steps},
        "part_kinds": [(k, label) for k, label in PartKind.choices if k != PartKind.OTHER],
        "check_items": CheckItem.choices, "item_results": ItemResult.choices, "resolutions": Resolution.choices,
        "counsel_kinds": Consultation.CounselKind.choices, "documents": documents, "evidence": evidence,
        "availability": panels.reviewer_availability(case) if evaluation.required and case.status == "open" else None,
        "reviewers": selectors.reviewers_for(user=user).filter(agency=case.agency, active=True) if same_agency else [],
        "is_unit": same_agency and user.role in predicates.CASE_ROLES,
        "is_office": same_agency and user.role in predicates.REVIEW_OFFICE_ROLES,
        "is_head": same_agency and user.role == Role.AGENCY_HEAD,
        "reviewer_user_id": user.pk, **extra,
    }


@staff_required
def case_review(request, pk: int):
    case = get_case_for(user=request.user, pk=pk)
    record_view(actor=request.user, obj=case, action="review.view", via="page")  # personal data read (issue 9)
    return render(request, "review/case.html", _case_context(request, case))


@staff_required
@require_POST
def flags_view(request, pk: int):
    case = get_case_for(user=request.user, pk=pk)
    p = request.POST
    flags = {name: name in p for name in ("major_public_interest", "complex", "serious", "social_impact", "outside_benchmark")}
    flags.update(domain=p.get("domain", ""), required_by_law=p.get("required_by_law", ""))
    return _back_to_case(request, lambda: services.set_case_flags(actor=request.user, case=case, **flags),
                         _("Recorded."), pk)


@staff_required
@require_POST
def submit_view(request, pk: int):
    case = get_case_for(user=request.user, pk=pk)
    try:
        parts = _posted_parts(request.POST)
        services.submit_for_review(actor=request.user, case=case, parts=parts,
                                   received_on=_date(request.POST.get("received_on", "")))
    except (ValidationError, PermissionDenied) as exc:
        return render(request, "review/case.html", _case_context(request, case, submit_error=_message(exc),
                                                                 posted=request.POST), status=400)
    messages.success(request, _("Submitted for legal review."))
    return redirect("review:case", pk=pk)


def _posted_parts(post) -> list[dict]:
    """The package from the form: per part a chosen document or evidence
    item (``<kind>_source`` = ``document:<id>`` | ``evidence:<id>``; the
    older ``<kind>_document`` still read) and its text; the evidence list
    may also tick any number of the case's evidence items."""
    parts = []
    for kind, _label in PartKind.choices:
        source = post.get(f"{kind}_source", "") or (f"document:{post[f'{kind}_document']}" if post.get(f"{kind}_document") else "")
        if source:
            what, _sep, raw = source.partition(":")
            if what not in ("document", "evidence"):
                raise ValidationError({f"{kind}_source": ValidationError(_("Choose a document or an evidence item."),
                                                                         code="invalid")})
            parts.append({"kind": kind, f"{what}_id": parse_id(raw, field=f"{kind}_source")})
        text = post.get(kind, "").strip()
        if text:
            parts.append({"kind": kind, "text": text})
    for raw in post.getlist("evidence_items"):
        parts.append({"kind": PartKind.EVIDENCE_LIST, "evidence_id": parse_id(raw, field="evidence_items")})
    return parts


def _submission(request, sid):
    return selectors.get_submission_for(user=request.user, pk=sid)


@staff_required
@require_POST
def assign_view(request, sid: int):
    submission = _submission(request, sid)
    reviewer = selectors.get_reviewer_for(user=request.user, pk=parse_id(request.POST.get("reviewer"), field="reviewer"))
    return _back_to_case(request, lambda: services.assign_reviewer(
        actor=request.user, submission=submission, reviewer=reviewer), _("Reviewer assigned."), submission.case_id)


@staff_required
@require_POST
def opinion_view(request, sid: int):
    submission = _submission(request, sid)
    checklist = {item: {"result": request.POST.get(f"{item}_result", ""), "comment": request.POST.get(f"{item}_comment", "")}
                 for item, _label in CheckItem.choices}
    return _back_to_case(request, lambda: services.record_opinion(
        actor=request.user, submission=submission, checklist=checklist, opinion_text=request.POST.get("opinion_text", "")),
        _("Opinion recorded."), submission.case_id)


@staff_required
@require_POST
def response_view(request, sid: int):
    submission = _submission(request, sid)
    disagree = request.POST.get("disagree") == "1"
    return _back_to_case(request, lambda: services.respond_to_opinion(
        actor=request.user, submission=submission, disagree=disagree, reason=request.POST.get("reason", "")),
        _("Recorded."), submission.case_id)


@staff_required
@require_POST
def extension_view(request, sid: int):
    submission = _submission(request, sid)
    return _back_to_case(request, lambda: services.request_extension(
        actor=request.user, submission=submission, reason=request.POST.get("reason", "")),
        _("Extension requested; the agency head must approve it."), submission.case_id)


@staff_required
@require_POST
def approve_extension_view(request, eid: int):
    extension = selectors.get_extension_for(user=request.user, pk=eid)
    return _back_to_case(request, lambda: services.approve_extension(actor=request.user, extension=extension),
                         _("Extension approved."), extension.submission.case_id)


@staff_required
@require_POST
def consult_view(request, sid: int):
    submission = _submission(request, sid)
    p = request.POST
    return _back_to_case(request, lambda: services.request_consultation(
        actor=request.user, submission=submission, counsel_name=p.get("counsel_name", ""),
        counsel_kind=p.get("counsel_kind", ""), question=p.get("question", "")), _("Recorded."), submission.case_id)


@staff_required
@require_POST
def counsel_opinion_view(request, cid: int):
    consultation = selectors.get_consultation_for(user=request.user, pk=cid)
    return _back_to_case(request, lambda: services.record_counsel_opinion(
        actor=request.user, consultation=consultation, opinion=request.POST.get("opinion", "")),
        _("Recorded."), consultation.submission.case_id)


@staff_required
@require_POST
def opinion_document_view(request, sid: int):
    submission = _submission(request, sid)
    return _back_to_case(request, lambda: services.issue_opinion_document(actor=request.user, submission=submission),
                         _("Document issued."), submission.case_id)


@staff_required
@require_POST
def discussion_request_view(request, pk: int):
    case = get_case_for(user=request.user, pk=pk)
    return _back_to_case(request, lambda: services.request_discussion(actor=request.user, case=case), _("Recorded."), pk)


@staff_required
@require_POST
def discussion_view(request, did: int):
    discussion = selectors.get_discussion_for(user=request.user, pk=did)
    p = request.POST
    try:
        held_at = timezone.make_aware(datetime.fromisoformat(p.get("held_at", "")))
    except ValueError:
        held_at = None
    lines = lambda name: [x.strip() for x in p.get(name, "").splitlines() if x.strip()]  # noqa: E731
    return _back_to_case(request, lambda: services.record_discussion(
        actor=request.user, discussion=discussion, held_at=held_at, place=p.get("place", ""), chair=p.get("chair", ""),
        participants=lines("participants"), recorder=p.get("recorder", ""), minutes=p.get("minutes", ""),
        opinions=lines("opinions"), resolution=p.get("resolution", ""), resolution_text=p.get("resolution_text", "")),
        _("Collective discussion recorded."), discussion.case_id)


@staff_required
@require_POST
def discussion_document_view(request, did: int):
    discussion = selectors.get_discussion_for(user=request.user, pk=did)
    return _back_to_case(request, lambda: services.issue_discussion_record(actor=request.user, discussion=discussion),
                         _("Document issued."), discussion.case_id)


# --------------------------------------------------------------------------
# Catalogue (审核-6/7): a catalogue kind of the catalog app, filed through its
# one workflow (catalog.services); these pages edit its rules one by one.


@staff_required
def catalogue(request):
    user = request.user
    agency = user.agency if user.agency_id and user.role in REVIEW_CATALOGUE_EDITOR_ROLES else None
    versions = selectors.catalogue_versions_for(user=user).filter(agency=agency) if agency else []
    queue = selectors.filing_queue(user=user)
    return render(request, "review/catalogue.html", {"agency": agency, "versions": versions, "queue": queue})


@staff_required
def catalogue_version(request, vid: int):
    version = selectors.get_catalogue_version_for(user=request.user, pk=vid)
    return render(request, "review/catalogue_version.html", {
        "version": version, "rules": version.items(), "events": version.events.select_related("actor"),
        "can_edit": version.is_editable and request.user.agency_id == version.agency_id
        and request.user.role in REVIEW_CATALOGUE_EDITOR_ROLES,
        "can_decide": version.status == VersionStatus.SUBMITTED and can_decide_filing(request.user, version.agency),
    })


@staff_required
@require_POST
def catalogue_action(request, vid: int | None = None, action: str = ""):
    user = request.user
    p = request.POST
    if action == "start":
        if not user.agency_id:
            raise PermissionDenied
        try:
            version = catalog_services.start_draft(actor=user, agency=user.agency, kind=CatalogueKind.REVIEW_CATALOGUE,
                                                   note=p.get("note", ""))
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _message(exc))
            return redirect("review:catalogue")
        return redirect("review:catalogue_version", vid=version.pk)
    version = selectors.get_catalogue_version_for(user=user, pk=vid)
    if action == "rule":
        split = lambda name: [x.strip() for x in p.get(name, "").replace("，", ",").split(",") if x.strip()]  # noqa: E731
        run_shown(request, lambda: catalog_services.add_review_rule(
            actor=user, version=version, title=p.get("title", ""), act_kinds=p.getlist("act_kinds"),
            domain=p.get("domain", ""), penalty_categories=split("penalty_categories"),
            fine_citizen_yuan=p.get("fine_citizen_yuan") or None, fine_organisation_yuan=p.get("fine_organisation_yuan") or None,
            confiscation_citizen_yuan=p.get("confiscation_citizen_yuan") or None,
            confiscation_organisation_yuan=p.get("confiscation_organisation_yuan") or None,
            hearing_held="hearing_held" in p, major_public_interest="major_public_interest" in p, complex="complex" in p,
            social_impact="social_impact" in p, outside_benchmark="outside_benchmark" in p,
            citation=p.get("citation", "")), _("Rule added."))
    elif action == "remove":
        rule = version.items().filter(pk=optional_id(p.get("rule"), field="rule")).first()
        if rule is not None:
            run_shown(request, lambda: catalog_services.remove_review_rule(actor=user, rule=rule), _("Rule removed."))
    elif action == "switch":
        run_shown(request, lambda: catalog_services.set_all_non_summary(actor=user, version=version, enabled=p.get("enabled") == "1"),
            _("Recorded."))
    elif action == "submit":
        run_shown(request, lambda: catalog_services.submit_version(actor=user, version=version,
                                                                   effective_date=_date(p.get("effective_date", ""))),
            _("Submitted for filing."))
    elif action == "accept":
        run_shown(request, lambda: catalog_services.accept_version(actor=user, version=version), _("Filing accepted."))
    elif action == "return":
        run_shown(request, lambda: catalog_services.return_version(actor=user, version=version, reason=p.get("reason", "")),
            _("Returned with reasons."))
    return redirect("review:catalogue_version", vid=version.pk)


# --------------------------------------------------------------------------
# Reviewers (审核-2/3/4) and figures


@staff_required
def reviewers(request):
    user = request.user
    agencies = agencies_for(user=user).exclude(kind="legal_office")
    staffing = [(a, selectors.staffing_of(a)) for a in agencies[:200]]
    reviewers = list(selectors.reviewers_for(user=user).prefetch_related("trainings"))
    today = clock.today()
    return render(request, "review/reviewers.html", {
        # each reviewer's training hours against the yearly standard (审核-4)
        "reviewers": [(r, selectors.training_standing(r, on=today)) for r in reviewers], "staffing": staffing,
        "qualification_rule": predicates.qualification_rule(user.agency) if user.agency_id else None,
        "can_register": user.role == Role.AGENCY_HEAD and user.agency_id,
        "candidates": user.agency.users.filter(role=Role.LEGAL_REVIEWER) if user.agency_id else [], "today": today,
    })


@staff_required
@require_POST
def reviewer_action(request, action: str):
    user = request.user
    p = request.POST
    if action == "register":
        target = users_for(user=user).filter(pk=p.get("user")).first()
        if target is None:
            messages.error(request, _("Choose an account."))
        else:
            run_shown(request, lambda: services.register_reviewer(
                actor=user, user=target, name=p.get("name", ""), qualification_number=p.get("qualification_number", ""),
                qualification_date=_date(p.get("qualification_date", "")), first_time="first_time" in p),
                _("Reviewer registered."))
    elif action == "training":
        reviewer = selectors.get_reviewer_for(user=user, pk=p.get("reviewer"))
        run_shown(request, lambda: services.record_training(
            actor=user, reviewer=reviewer, held_on=_date(p.get("held_on", "")),
            title=p.get("title", ""), hours=p.get("hours", "0") or "0", provider=p.get("provider", ""),
            method=p.get("method", "")), _("Training recorded."))
    return redirect("review:reviewers")


def _period(request):
    return _date(request.GET.get("start", "")), _date(request.GET.get("end", ""))


@staff_required
def figures(request):
    start, end = _period(request)
    agencies, regions = selectors.figures_for(user=request.user, start=start, end=end)
    return render(request, "review/figures.html", {"agencies": agencies, "regions": regions, "start": start, "end": end,
                                                   "query": request.GET.urlencode()})


@staff_required
def figures_export(request):
    start, end = _period(request)
    data = selectors.figures_xlsx(user=request.user, start=start, end=end)
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = "attachment; filename*=UTF-8''legal-review-figures.xlsx"
    return response


# --------------------------------------------------------------------------
# Public: the review flowchart (审核流程图, 审核-8)


def flowchart(request):
    definition = workflow.definition()
    svg = render_flowchart_svg(definition)  # every text escaped there
    return render(request, "review/flowchart.html", {"definition": definition, "svg": mark_safe(svg)})
