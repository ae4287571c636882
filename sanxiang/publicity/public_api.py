"""Public API of the portal (公示-16/17): search, a decision's redacted copy,
withdrawal notices. Reads only the public side."""

from __future__ import annotations

from datetime import date, datetime

from django.http import Http404
from ninja import Router, Schema
from ninja.decorators import decorate_view

from sanxiang.core.db_router import public_read
from sanxiang.core.parsing import Day, Id, PageNumber, PageSize, bounded

router = Router(tags=["publicity (public)"])

WithdrawalLimit = bounded(1, 200)


class PublicDecisionOut(Schema):
    id: int
    kind: str
    doc_number: str
    party_name: str
    title: str
    agency: str
    agency_credit_code: str
    decision_date: date
    published_at: datetime
    publicity_end: date | None
    main_category: str
    version: int
    data: dict


class SearchOut(Schema):
    count: int
    count_is_estimate: bool
    page: int
    page_size: int
    items: list[PublicDecisionOut]


class PublicVersionOut(Schema):
    number: int
    reason: str
    published_at: datetime


class PublicDetailOut(PublicDecisionOut):
    history: list[PublicVersionOut]


class NoticeOut(Schema):
    doc_number: str
    agency: str
    ground: str
    reason: str
    withdrawn_at: datetime


def _out(p) -> dict:
    return {"id": p.pk, "kind": p.kind, "doc_number": p.doc_number, "party_name": p.party_name, "title": p.title,
            "agency": p.agency.name, "agency_credit_code": p.agency.credit_code, "decision_date": p.decision_date,
            "published_at": p.published_at, "publicity_end": p.publicity_end, "main_category": p.main_category,
            "version": p.version, "data": p.data}


@router.get("/search", response=SearchOut, auth=None, summary="Search published decisions (Chinese full text)")
@decorate_view(public_read)
def search(request, q: str = "", region: str = "", agency: Id | None = None, kind: str = "", category: str = "",
           date_from: Day | None = None, date_to: Day | None = None, sort: str = "newest", page: PageNumber = 1,
           page_size: PageSize = 20):
    from . import search as engine

    result = engine.search_public(q=q[:100], region_code=region, agency_id=agency, kind=kind, category=category,
                                  date_from=date_from, date_to=date_to,
                                  sort=sort if sort in ("newest", "oldest", "relevance") else "newest",
                                  page=page, page_size=page_size)
    return {"count": result.count, "count_is_estimate": result.count_is_estimate, "page": page,
            "page_size": page_size, "items": [_out(p) for p in result.items]}


@router.get("/public/{public_id}", response=PublicDetailOut, auth=None, summary="One published decision")
@decorate_view(public_read)
def public_detail(request, public_id: Id):
    from . import selectors

    p = selectors.get_public_decision(pk=public_id)
    if p is None:
        raise Http404
    return {**_out(p), "history": [{"number": v.number, "reason": v.reason, "published_at": v.published_at}
                                   for v in p.history.order_by("number")]}


@router.get("/withdrawals", response=list[NoticeOut], auth=None, summary="Withdrawal notices, newest first")
@decorate_view(public_read)
def withdrawals(request, agency: Id | None = None, limit: WithdrawalLimit = 50):
    from . import selectors

    return [{"doc_number": n.doc_number, "agency": n.agency.name, "ground": n.ground, "reason": n.reason,
             "withdrawn_at": n.withdrawn_at} for n in selectors.withdrawal_notices(agency_id=agency)[:limit]]
