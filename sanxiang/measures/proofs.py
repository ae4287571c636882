"""The automatic evidence check: what the platform itself shows that a unit
has carried out a measure, per measure where the platform can know it.

``PROOFS`` maps a measure code to a finder ``finder(agencies) -> {agency_id:
[Proof]}`` that reads, in a bounded number of queries whatever the number of
agencies, and writes nothing; ``services.check_platform_evidence`` records
what it finds as evidence rows with their link. A measure absent here has
no automatic evidence: the unit uploads a document instead.

- 公示-3 行政执法事项清单, 公示-5 随机抽查事项清单, 公示-6 流程图, 公示-7 服务
  指南: an accepted (filed) version of the unit's catalogue (catalog app);
- 审核-6 重大执法决定法制审核目录清单: an accepted review catalogue;
- 公示-4 (a government publishes the item lists): an accepted item list of
  an agency in its region, on the public catalogue pages;
- 公示-8 全省行政执法人员清单 (the province's legal office) and 公示-9 (each
  unit's officers): officers with a valid certificate on the public list;
- 公示-14 执法决定公开: decisions of the unit published on the portal;
- 记录-4 音像记录事项清单: the unit's own entries of its AV list;
- 审核-3 法制审核人员: the unit's registered legal reviewers.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse

from sanxiang.cases.models import AvRequirement
from sanxiang.catalog.models import CatalogueKind, CatalogueVersion, VersionStatus
from sanxiang.core import clock
from sanxiang.core.models import Agency, AgencyKind, Officer, OfficerStatus
from sanxiang.publicity.models import Decision, DecisionStatus
from sanxiang.review.models import Reviewer


@dataclass(frozen=True)
class Proof:
    label: str
    url: str
    object_type: str
    object_id: str


def _catalogue(kind: str, name: str):
    def finder(agencies: list[Agency]) -> dict[int, list[Proof]]:
        found: dict[int, list[Proof]] = {}
        rows = (CatalogueVersion.objects.filter(agency__in=agencies, kind=kind, status=VersionStatus.ACCEPTED)
                .order_by("agency_id", "-number"))
        for v in rows:
            if v.agency_id in found:
                continue  # the newest accepted version is enough
            url = (reverse("review:catalogue_version", kwargs={"vid": v.pk}) if kind == CatalogueKind.REVIEW_CATALOGUE
                   else reverse("catalog:version", kwargs={"pk": v.pk}))
            day = f"{v.decided_at:%Y-%m-%d}" if v.decided_at else ""
            found[v.agency_id] = [Proof(f"{name}第 {v.number} 版已备案（{day}）", url, "catalog.catalogueversion", str(v.pk))]
        return found
    return finder


def _item_lists_in_region(agencies: list[Agency]) -> dict[int, list[Proof]]:
    """公示-4: a government (its legal office) — item lists of its region's agencies on the portal."""
    found = {}
    for agency in agencies:  # legal offices only: one per region, a query each (bounded by the regions)
        count = (CatalogueVersion.objects.filter(kind=CatalogueKind.ENFORCEMENT_ITEMS, status=VersionStatus.ACCEPTED,
                                                 agency__region__path__startswith=agency.region.path)
                 .values("agency_id").distinct().count())
        if count:
            url = reverse("catalog:index") + "?" + urlencode({"region": agency.region.code})
            found[agency.pk] = [Proof(f"本地区 {count} 个部门的行政执法事项清单已在门户公示", url, "core.region",
                                      agency.region.code)]
    return found


def _officers(agencies: list[Agency]) -> dict[int, list[Proof]]:
    """公示-8/9: officers with a valid certificate on the public list; a legal
    office answers for its whole region, a department for itself."""
    today = clock.today()
    valid = Officer.objects.filter(status=OfficerStatus.ACTIVE, valid_from__lte=today, valid_to__gte=today)
    found = {}
    departments = [a for a in agencies if a.kind != AgencyKind.LEGAL_OFFICE]
    counts: dict[int, int] = {}
    for agency_id in valid.filter(agency__in=departments).values_list("agency_id", flat=True):
        counts[agency_id] = counts.get(agency_id, 0) + 1
    for agency in departments:
        if counts.get(agency.pk):
            url = reverse("core:officer_list") + "?" + urlencode({"agency": agency.pk})
            found[agency.pk] = [Proof(f"{counts[agency.pk]} 名持有效证件的执法人员已在人员清单公示", url, "core.agency", str(agency.pk))]
    for agency in agencies:
        if agency.kind != AgencyKind.LEGAL_OFFICE:
            continue
        count = valid.filter(agency__region__path__startswith=agency.region.path).count()
        if count:
            url = reverse("core:officer_list") + "?" + urlencode({"region": agency.region.code})
            found[agency.pk] = [Proof(f"本地区 {count} 名持有效证件的执法人员已在人员清单公示", url, "core.region",
                                      agency.region.code)]
    return found


def _decisions(agencies: list[Agency]) -> dict[int, list[Proof]]:
    counts: dict[int, int] = {}
    for agency_id in Decision.objects.filter(agency__in=agencies, status=DecisionStatus.PUBLISHED).values_list("agency_id", flat=True):
        counts[agency_id] = counts.get(agency_id, 0) + 1
    return {a: [Proof(f"{n} 件执法决定已在门户公开", reverse("publicity:search") + "?" + urlencode({"agency": a}),
                      "core.agency", str(a))] for a, n in counts.items()}


def _av_list(agencies: list[Agency]) -> dict[int, list[Proof]]:
    counts: dict[int, int] = {}
    for agency_id in AvRequirement.objects.filter(agency__in=agencies).values_list("agency_id", flat=True):
        counts[agency_id] = counts.get(agency_id, 0) + 1
    return {a: [Proof(f"本单位音像记录事项清单共 {n} 项", reverse("cases:av") + "?" + urlencode({"agency": a}),
                      "core.agency", str(a))] for a, n in counts.items()}


def _reviewers(agencies: list[Agency]) -> dict[int, list[Proof]]:
    counts: dict[int, int] = {}
    for agency_id in Reviewer.objects.filter(agency__in=agencies, active=True).values_list("agency_id", flat=True):
        counts[agency_id] = counts.get(agency_id, 0) + 1
    return {a: [Proof(f"已登记 {n} 名法制审核人员", reverse("review:index"), "core.agency", str(a))]
            for a, n in counts.items()}


PROOFS = {
    "公示-3": _catalogue(CatalogueKind.ENFORCEMENT_ITEMS, "行政执法事项清单"),
    "公示-4": _item_lists_in_region,
    "公示-5": _catalogue(CatalogueKind.INSPECTION_ITEMS, "随机抽查事项清单"),
    "公示-6": _catalogue(CatalogueKind.FLOWCHARTS, "执法流程图"),
    "公示-7": _catalogue(CatalogueKind.SERVICE_GUIDES, "服务指南"),
    "公示-8": _officers,
    "公示-9": _officers,
    "公示-14": _decisions,
    "记录-4": _av_list,
    "审核-3": _reviewers,
    "审核-6": _catalogue(CatalogueKind.REVIEW_CATALOGUE, "重大执法决定法制审核目录清单"),
}
