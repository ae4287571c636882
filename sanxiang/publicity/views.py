"""Portal (公示-16/17) and back-office pages of the publicity domain.

Public pages read only redacted copies through selectors and search; the
back office reads private records through jurisdiction-scoped selectors and
writes through services."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from django.contrib.syndication.views import Feed
from django.core.paginator import Paginator
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST

from sanxiang.core import selectors as core_selectors
from sanxiang.core.db_router import public_read
from sanxiang.core.models import Agency, Region, RegionLevel
from sanxiang.core.parsing import optional_id, parse_page
from sanxiang.core.refusals import run_shown
from sanxiang.core.views import staff_required

from . import predicates, search, selectors, services, todo
from .feeds import XmlSafeRssFeed
from .models import ActKind, DecisionChangeVia, EarlyEndChannel, PenaltyCategory, PublicDecision, WithdrawalGround
from sanxiang.core.exports import streaming_csv_response

PAGE_SIZE = 20


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@public_read
def portal_home(request):
    return render(request, "publicity/home.html", {
        "latest": selectors.latest_public(limit=10),
        "officer_count": core_selectors.public_officer_list().count(),
        "agency_count": core_selectors.public_agencies().count(),
        "cities": Region.objects.filter(level=RegionLevel.CITY).order_by("code"),
        "kinds": ActKind.choices,
    })


def _sort(g) -> str:
    """公示-16: words searched for rank by relevance unless newest (or
    oldest) first is asked for; a plain listing is newest first."""
    sort = g.get("sort", "")
    if sort in search.SORTS:
        return sort
    return "relevance" if g.get("q", "").strip() else "newest"


def _search(g, *, page: int, page_size: int):
    agency = g.get("agency", "")
    return search.search_public(
        q=g.get("q", "").strip()[:100], region_code=g.get("region", ""), agency_id=optional_id(agency, field="agency"),
        kind=g.get("kind", ""), category=g.get("category", ""), date_from=_date(g.get("from", "")),
        date_to=_date(g.get("to", "")), sort=_sort(g),
        page=page, page_size=page_size,
    )


EXPORT_COLUMNS = [("doc_number", "行政处罚决定书文号/许可文号"), ("party_name", "行政相对人名称"), ("kind", "决定类别"),
                  ("main_category", "处罚类别"), ("content", "决定内容"), ("decision_date", "决定日期"), ("agency", "决定机关")]


def _export_rows(g):
    """Every public copy matching the search, page after page of the
    search's largest page size (the export has no row limit)."""
    page = 1
    while True:
        result = _search(g, page=page, page_size=search.PAGE_SIZE_MAX)
        for p in result.items:
            yield [p.doc_number, p.party_name, p.get_kind_display(), p.main_category, p.data.get("content", ""),
                   p.decision_date.isoformat(), p.agency.name]
        # A page may come back short when some rows left publicity today
        # before the job ran: only an empty page, or the exact count, ends it.
        if not result.items or (not result.count_is_estimate and page * result.page_size >= result.count):
            return
        page += 1


@public_read
def export_csv(request):
    """The search results as CSV, every matching row, streamed: the same
    redacted public copies the pages show, nothing else, written by
    core.exports (cells a spreadsheet would run as a formula neutralised)."""
    return streaming_csv_response([label for _, label in EXPORT_COLUMNS], _export_rows(request.GET.copy()),
                                  filename="decisions.csv")


@public_read
def search_page(request):
    g = request.GET
    page_number = parse_page(g.get("page", ""))
    result = _search(g, page=page_number, page_size=PAGE_SIZE)
    pages = max(1, -(-result.count // PAGE_SIZE))
    return render(request, "publicity/search.html", {
        "result": result, "params": g, "pages": pages, "page_number": page_number,
        "query": g.get("q", "").strip()[:100], "sort": _sort(g),
        "has_next": page_number < pages, "has_previous": page_number > 1,
        # The pager's links: the search's parameters but the page, each
        # "name=value&" (last value of a repeated name, as the search reads).
        "pager_query": "".join(f"{quote(k)}={quote(v)}&" for k, v in g.items() if k != "page") if pages > 1 else "",
        "filters": selectors.portal_filter_choices(region_code=g.get("region", "")),
        "kinds": ActKind.choices, "categories": PenaltyCategory.choices,
    })


@public_read
def detail(request, pk: int):
    public = selectors.get_public_decision(pk=pk)
    if public is None:
        notice = selectors.withdrawal_notice_for(public_id=pk)
        if notice is None:
            raise Http404("decision not public")
        return render(request, "publicity/withdrawn.html", {"notice": notice}, status=410)
    return render(request, "publicity/detail.html", {
        "public": public, "data": public.data, "history": selectors.public_history(public_id=public.pk),
    })


@public_read
def withdrawn_list(request):
    page = Paginator(selectors.withdrawal_notices(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "publicity/withdrawn_list.html", {"page": page})


class AgencyFeed(Feed):
    """An Atom-compatible RSS feed of one agency's published decisions.
    Written by feeds.XmlSafeRssFeed: a character XML 1.0 cannot hold, in any
    field, is dropped instead of failing the whole feed."""

    feed_type = XmlSafeRssFeed

    @method_decorator(public_read)
    def __call__(self, request, *args, **kwargs):
        return super().__call__(request, *args, **kwargs)

    def get_object(self, request, agency_id: int):
        return get_object_or_404(Agency, pk=agency_id, is_active=True)

    def title(self, obj):
        return f"{obj.name} · 行政执法决定公示"

    def link(self, obj):
        return reverse("publicity:search") + f"?agency={obj.pk}"

    def description(self, obj):
        return f"{obj.name}最新公示的行政执法决定"

    def items(self, obj):
        return selectors.latest_public(limit=50, agency_id=obj.pk)

    def item_title(self, item):
        return f"{item.doc_number} {item.title}"

    def item_description(self, item):
        return item.data.get("content", "")

    def item_link(self, item):
        return reverse("publicity:detail", kwargs={"pk": item.pk})

    def item_pubdate(self, item):
        return item.published_at


# --- back office ------------------------------------------------------------------


@staff_required
def workbench(request):
    user = request.user
    return render(request, "publicity/workbench.html", {
        "pending": selectors.pending_for(user=user).select_related("agency")[:100],
        "overdue": selectors.overdue_for(user=user).select_related("agency")[:100],
        # withdrawals recorded after their 3-working-day due date (art. 48; issue 11 item 4)
        "overdue_withdrawals": todo.overdue_withdrawals(user=user)[:100],
        "timeliness": selectors.timeliness_for(user=user),
        "early_end_queue": [(a, predicates.can_decide_early_end(user, a))
                            for a in selectors.early_end_queue_for(user=user).select_related("applied_by")[:50]],
    })


@staff_required
def settings_page(request):
    """The agency's automatic publication (issue 11 item 1): shown to its
    publicity administrator and head, switched by them only
    (``services.set_auto_publish`` asks ``predicates.can_manage_publicity``)."""
    user = request.user
    agency = user.agency if getattr(user, "agency_id", None) else None
    if agency is None or not predicates.can_manage_publicity(user, agency):
        raise PermissionDenied
    if request.method == "POST":
        enabled = request.POST.get("auto_publish") == "1"
        run_shown(request, lambda: services.set_auto_publish(actor=user, agency=agency, enabled=enabled),
                  _("Automatic publication switched on.") if enabled else _("Automatic publication switched off."))
        return redirect("publicity:settings")
    return render(request, "publicity/settings.html", {
        "agency": agency, "auto_publish": services.auto_publish_enabled(agency)})


# What each kind of removal is called on the pre-publication check.
REMOVAL_KINDS = {
    "id_number": _lazy("ID number"), "phone": _lazy("Phone number"), "bank_card": _lazy("Bank account"),
    "email": _lazy("E-mail address"), "contact": _lazy("Contact details"), "address": _lazy("Address"),
    "name": _lazy("Name"), "removed": _lazy("Field not published"), "nested": _lazy("Personal data in the list"),
}
# The record's fields shown on the check, in this order; any other field is
# shown only when something in it is hidden.
CHECK_FIELDS = {
    "doc_number": _lazy("Document number"), "party_name": _lazy("Party"),
    "party_credit_code": _lazy("Unified social credit code"), "party_id_type": _lazy("Type of ID"),
    "party_id_number": _lazy("ID number"), "legal_representative": _lazy("Legal representative"),
    "party_address": _lazy("Address"), "address": _lazy("Address"), "home_address": _lazy("Address"),
    "party_phone": _lazy("Phone number"), "phone": _lazy("Phone number"), "mobile": _lazy("Phone number"),
    "witnesses": _lazy("Witnesses"), "other_persons": _lazy("Other persons"), "other_person_names": _lazy("Other persons"),
    "violation_type": _lazy("Type of violation"), "facts": _lazy("Facts"), "basis": _lazy("Legal basis"),
    "penalty_categories": _lazy("Penalty categories"), "content": _lazy("Decision content"),
}


def _check_rows(check: selectors.PublicationCheck) -> list[dict]:
    """The check's fields as rows for the page: the private text as (text,
    kind label) segments, escaped by the template one by one."""
    rows = []
    ordered = sorted(check.fields, key=lambda f: list(CHECK_FIELDS).index(f.key) if f.key in CHECK_FIELDS else 99)
    for f in ordered:
        if f.key not in CHECK_FIELDS and not f.kinds:
            continue
        rows.append({
            "label": CHECK_FIELDS.get(f.key, _lazy("Other information")), "published": f.published, "public": f.public,
            "private": [(text, REMOVAL_KINDS.get(kind, REMOVAL_KINDS["removed"]) if kind else None)
                        for text, kind in f.private],
        })
    return rows


@staff_required
def decision_private(request, pk: int):
    decision = selectors.get_decision_for(user=request.user, pk=pk)
    check = None
    if decision.status == "pending":
        check = selectors.publication_check_for(user=request.user, pk=decision.pk)
    return render(request, "publicity/private_detail.html", {
        "check": check, "check_rows": _check_rows(check) if check else [],
        "check_kinds": [REMOVAL_KINDS.get(k, REMOVAL_KINDS["removed"]) for k in check.kinds] if check else [],
        "decision": decision, "versions": decision.versions.order_by("-number"),
        "grounds": WithdrawalGround.choices, "change_vias": DecisionChangeVia.choices,
        "public": PublicDecision.objects.filter(decision=decision, visible=True).first(),
        "may_apply_early_end": predicates.can_apply_early_end(request.user, decision),
        "early_end_channels": EarlyEndChannel.choices,
    })


def _run(request, pk: int, action, success: str):
    """A write on one decision from its page: `action(decision)`, its
    refusal or `success` shown, back to the decision."""
    decision = selectors.get_decision_for(user=request.user, pk=pk)
    run_shown(request, lambda: action(decision), success)
    return redirect("publicity:private", pk=decision.pk)


@staff_required
@require_POST
def publish(request, pk: int):
    p = request.POST
    return _run(request, pk, lambda decision: services.publish_decision(
        actor=request.user, decision=decision, confirmed=p.get("confirmed") == "1",
        checked_version=optional_id(p.get("checked_version", ""), field="checked_version")), _("Published."))


@staff_required
@require_POST
def withdraw(request, pk: int):
    p = request.POST
    return _run(request, pk, lambda decision: services.withdraw_decision(
        actor=request.user, decision=decision, ground=p.get("ground", ""), reason=p.get("reason", ""),
        changed_on=_date(p.get("changed_on", ""))), _("Withdrawn; the notice is public."))


@staff_required
@require_POST
def record_change(request, pk: int):
    """The decision changed after it was made (复议, 诉讼, 撤销; issue 11
    item 1): corrected or withdrawn with the reason."""
    p = request.POST
    return _run(request, pk, lambda decision: services.record_decision_change(
        actor=request.user, decision=decision, via=p.get("via", ""), outcome=p.get("outcome", ""),
        reason=p.get("reason", ""), changed_on=_date(p.get("changed_on", "")), content=p.get("content", "")),
        _("The change of the decision is recorded."))


@staff_required
@require_POST
def apply_early_end(request, pk: int):
    p = request.POST
    return _run(request, pk, lambda decision: services.apply_early_end(
        actor=request.user, decision=decision, applicant=p.get("applicant"), reason=p.get("reason", ""),
        channel=p.get("channel") or EarlyEndChannel.PARTY), _("Application recorded; the legal office decides."))


@staff_required
@require_POST
def decide_early_end(request, application_id: int):
    application = get_object_or_404(selectors.early_end_queue_for(user=request.user), pk=application_id)
    run_shown(request, lambda: services.decide_early_end(
        actor=request.user, application=application, approve=request.POST.get("approve") == "1",
        note=request.POST.get("note", "")), _("Decision recorded."))
    return redirect("publicity:workbench")
