"""Demo of 双随机一公开 (issue 14 item 7) for a first login: 石家庄市市场监督管理局
has a directory of food and advertising businesses, a 2026 plan filed by
石家庄市司法局, one draw completed and public (its record re-runs with the
verifier), and one draw waiting for the legal office's secret — on the
to-do list of the demo login legal_sjz, who reveals DEMO_OFFICE_SECRET
(printed by the loader and in docs/demo.md; a real participant keeps its
secret to itself)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.db import transaction

from sanxiang.core import clock
from sanxiang.core.models import Agency, Region, User
from sanxiang.core.selectors import legal_office_of
from sanxiang.core.validators import make_credit_code

from . import drawv1, services
from .models import Draw, DrawStatus, Inspection, InspectionObject, InspectionPlan, InspectionResult

AGENCY = "石家庄市市场监督管理局"
CITY = "130100"
# The demo's secrets, derived from fixed words so every demo is the same;
# the legal office's second one is for the demo login to reveal.
DEMO_AGENCY_SECRETS = [hashlib.sha256(f"sanxiang-demo-agency-{n}".encode()).hexdigest() for n in (1, 2)]
DEMO_OFFICE_SECRETS = [hashlib.sha256(f"sanxiang-demo-office-{n}".encode()).hexdigest() for n in (1, 2)]
DEMO_OFFICE_SECRET = DEMO_OFFICE_SECRETS[1]

BUSINESSES = [
    ("石家庄华联超市有限公司", "A", "食品经营"), ("石家庄北国便利店有限公司", "B", "食品经营"),
    ("长安区惠民粮油店", "C", "食品经营"), ("桥西区鲜果汇水果店", "B", "食品经营"), ("新华区老街熟食店", "D", "食品经营"),
    ("裕华区好邻居便利店", "A", "食品经营"), ("石家庄市盛达食品批发有限公司", "C", "食品经营"), ("正定古城小吃店", "B", "食品经营"),
    ("石家庄金谷米业有限公司", "A", "食品经营"), ("长安区一品烘焙坊", "D", "食品经营"), ("桥西区益康大药房", "B", "食品经营"),
    ("新华区平价冷鲜肉店", "C", "食品经营"), ("裕华区味之源调味品商行", "B", "食品经营"), ("石家庄市恒润茶业有限公司", "A", "食品经营"),
    ("石家庄星河传媒广告有限公司", "B", "广告"), ("长安区创意印务广告部", "C", "广告"), ("石家庄市光明户外广告有限公司", "A", "广告"),
    ("桥西区乐享网络科技有限公司", "D", "广告"),
]
PERSONS = [("王秀兰", "130102196805121526", "C", "食品经营"), ("刘建军", "130104197503084413", "B", "食品经营")]


@transaction.atomic
def load_inspection_demo() -> int:
    """Once: nothing when the agency has a plan already. Returns the number
    of draws made."""
    agency = Agency.objects.filter(name=AGENCY).select_related("region", "legal_office").first()
    users = {u.username: u for u in User.objects.filter(username__in=["publicity", "legal_sjz"])}
    if agency is None or len(users) < 2 or InspectionPlan.objects.filter(agency=agency).exists():
        return 0
    organiser, office_user = users["publicity"], users["legal_sjz"]
    office = legal_office_of(agency)
    counties = list(Region.objects.filter(parent__code=CITY).order_by("code"))
    if office is None or not counties:
        return 0
    for n, (name, tier, industry) in enumerate(BUSINESSES):
        region = counties[n % len(counties)]
        code = make_credit_code(region_code=region.code, serial=8000 + n)
        if not InspectionObject.objects.filter(credit_code=code).exists():
            services.add_object(actor=organiser, data={
                "name": name, "credit_code": code, "region": region.code, "risk_tier": tier, "industry": industry,
                "legal_representative": "", "address": f"{region.name}", "labels": "投诉举报" if tier == "D" else ""})
    for name, number, tier, industry in PERSONS:
        services.add_object(actor=organiser, data={"name": name, "id_number": number, "region": counties[0].code,
                                                   "risk_tier": tier, "industry": industry})
    today = clock.today()
    start = today + timedelta(days=3)
    plan = services.create_plan(actor=organiser, agency=agency, year=start.year, title=f"{start.year}年度双随机抽查工作计划")
    food = services.add_batch(actor=organiser, plan=plan, title="食品经营者日常监督检查（第四季度）", item_code="SJZ-SJ-001",
                              scope_region=agency.region, scope_industry="食品经营",
                              ratios={"A": "0.2", "B": "0.3", "C": "0.5", "D": "1"}, starts_on=start,
                              ends_on=start + timedelta(days=20), inspectors_per_object=2, limit_per_inspector=3)
    ads = services.add_batch(actor=organiser, plan=plan, title="广告发布行为检查（第四季度）", item_code="SJZ-SJ-002",
                             scope_region=agency.region, scope_industry="广告", ratios={"A": "0.5", "B": "0.5", "C": "1", "D": "1"},
                             starts_on=start, ends_on=start + timedelta(days=25), inspectors_per_object=2)
    services.submit_plan(actor=organiser, plan=plan)
    services.decide_plan(actor=office_user, plan=plan, accept=True)
    for n, batch in enumerate((food, ads)):
        draw = services.create_draw(actor=organiser, batch=batch)
        services.commit(actor=organiser, draw=draw, agency=agency, commitment=drawv1.commitment(DEMO_AGENCY_SECRETS[n]))
        services.commit(actor=office_user, draw=draw, agency=office, commitment=drawv1.commitment(DEMO_OFFICE_SECRETS[n]))
        services.reveal(actor=organiser, draw=draw, agency=agency, secret=DEMO_AGENCY_SECRETS[n])
        if n == 0:  # the first is drawn; the second waits for the legal office's secret
            services.reveal(actor=office_user, draw=draw, agency=office, secret=DEMO_OFFICE_SECRETS[n])
    return 2


RESULT_NOTES = {
    "corrected": "现场发现部分预包装食品未按规定分区存放，进货查验记录不全，已当场责令改正，复查时已整改完毕。",
    "referred": "现场发现超过保质期的预包装食品（酸奶）12盒仍在销售，已拍照取证并移交立案查处。",
}


@transaction.atomic
def load_inspection_results_demo() -> int:
    """After the demo cases (it opens cases of its own): the public draw's
    inspections in several states — one under way (its inspection case
    open), one without problems, one corrected, one referred with the
    penalty case opened from it; the rest wait for their inspectors. Once:
    nothing when one of them has begun. Returns how many were touched."""
    head = User.objects.filter(username="head").first()
    draw = Draw.objects.filter(batch__plan__agency__name=AGENCY, status=DrawStatus.DRAWN).order_by("pk").first()
    if head is None or draw is None:
        return 0
    inspections = list(Inspection.objects.filter(draw=draw).order_by("pk"))
    if len(inspections) < 4 or any(i.case_id or i.result for i in inspections):
        return 0
    today = clock.today()
    services.start_inspection(actor=head, inspection=inspections[0])
    services.record_result(actor=head, inspection=inspections[1], result=InspectionResult.NO_PROBLEM, inspected_on=today)
    services.record_result(actor=head, inspection=inspections[2], result=InspectionResult.CORRECTED, inspected_on=today,
                           note=RESULT_NOTES["corrected"])
    services.record_result(actor=head, inspection=inspections[3], result=InspectionResult.REFERRED, inspected_on=today,
                           note=RESULT_NOTES["referred"])
    return 4
