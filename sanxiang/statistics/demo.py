"""Demo of the annual enforcement statistics (issue 16 part 1): the
2026 report of 石家庄市市场监督管理局 (login head) drafted — the figures the
platform computes from the demo's cases and decisions, the figures it cannot
know entered with their notes, a 情况说明 written — and not yet published,
so the legal office (login legal_sjz) sees it as drafted against 31 January.
Loaded once."""

from __future__ import annotations

from sanxiang.core import clock
from sanxiang.core.models import User

from . import annual_services
from .models import AnnualReport

EXPLANATION = (
    "一、总体情况。本局依照《国务院办公厅关于全面推行行政执法公示制度执法全过程记录制度重大执法决定法制审核制度的"
    "指导意见》（国办发〔2018〕118号）要求，统计本年度行政处罚、行政许可、行政检查等执法数据。表中行政处罚、行政许可、"
    "法制审核数据由执法监督平台根据本局案件和执法决定自动统计；行政征收、征用及复议、诉讼情况由本局据台账填报。\n"
    "二、主要特点。行政处罚以罚款为主，一份决定有多个处罚种类的，按最重的种类统计一次；没收金额只统计决定书载明金额的部分。\n"
    "三、存在问题和下一步打算。个别案件音像记录上传不及时，下一年度将加强执法全过程记录的检查。")
MANUAL = {
    "levy.count": {"value": "0", "note": "本局无行政征收职权事项，据财务台账核对无征收。"},
    "requisition.count": {"value": "0", "note": "本年度未实施行政征用。"},
    "reconsideration.count": {"value": "2", "note": "据本局复议应诉台账。"},
    "reconsideration.corrected": {"value": "1", "note": "一件处罚决定被复议机关撤销（见公示撤回记录）。"},
    "litigation.count": {"value": "1", "note": "据本局应诉台账。"},
    "litigation.lost": {"value": "0", "note": "尚无生效判决。"},
}


def demo_year() -> int:
    return max(2026, clock.today().year - 1)


def load_annual_demo() -> AnnualReport | None:
    """Once (nothing when the head's agency already has a report of the year)."""
    head = User.objects.select_related("agency").filter(username="head").first()
    if head is None or head.agency is None:
        return None
    year = demo_year()
    if AnnualReport.objects.filter(agency=head.agency, year=year).exists():
        return None
    return annual_services.save_draft(actor=head, agency=head.agency, year=year, explanation=EXPLANATION, manual=MANUAL)
