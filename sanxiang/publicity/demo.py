"""Demo decisions for the portal: realistic records for a few demo
agencies, received through the same service as the push API, most of them
published, one corrected and one withdrawn; a few left pending (some
overdue) so the back office has work to show."""

from __future__ import annotations

from django.db import transaction

from sanxiang.core.models import Agency, AgencyKind

from . import services
from .generator import generate_records
from .intake import validate_record
from .models import Decision

ACTOR = "demo-loader"


@transaction.atomic
def load_publicity_demo(*, per_agency: int = 30, agencies: int = 6, seed: int = 2026) -> int:
    """Load once (nothing if any decision exists); returns how many records."""
    if Decision.objects.exists():
        return 0
    # The generator writes market-regulation matters (food, advertising,
    # product quality, prices): give them to market-regulation agencies.
    chosen = list(Agency.objects.select_related("region").filter(kind=AgencyKind.MARKET_REGULATION, is_active=True)
                  .order_by("region__code", "pk")[:agencies])
    total = 0
    for n, agency in enumerate(chosen):
        region = agency.region.code if agency.region.level == "county" else "130102"
        raw = generate_records(per_agency, seed=seed + n, prefix=f"DEMO{agency.pk}", agency_name=agency.name,
                               abbr=agency.short_name or "冀", regions=[region], days_back=150)
        records = [rec for rec, errors in (validate_record(r, index=i) for i, r in enumerate(raw)) if rec]
        results = services.receive_records(actor=ACTOR, agency=agency, records=records, source="import")
        total += len(results)
        decisions = list(Decision.objects.filter(pk__in=[r.decision_id for r in results]).order_by("decision_date"))
        # The newest few stay pending for the pre-publication check.
        for decision in decisions[:-3]:
            if decision.status == "pending":
                services.publish_decision(actor=ACTOR, decision=decision)
        if n == 0 and len(decisions) > 5:
            first, second = Decision.objects.filter(agency=agency, status="published").order_by("decision_date")[:2]
            corrected = dict(first.data, content=first.data["content"] + "（经复核更正）", correction_reason="复核发现决定内容录入错误，予以更正")
            services.receive_records(actor=ACTOR, agency=agency, records=[corrected], source="import")
            services.withdraw_decision(actor=ACTOR, decision=second, ground="revoked",
                                       reason="当事人申请行政复议，复议机关决定撤销原行政处罚决定。")
    return total
