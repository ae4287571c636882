"""Demo of 投诉举报 (issue 15 item 5), and of alerts and supervision
instruments (items 2 and 4, ``load_supervision_demo`` below).

Complaints: three complaints about 石家庄市市场监督管理局 routed to 石家庄市司法局 — one new (on legal_sjz's to-do list to assign),
one under investigation with a note, one replied — so the demo login
legal_sjz sees the list, the statistics and each action. Loaded once."""

from __future__ import annotations

from sanxiang.core import clock
from sanxiang.core.calendar import add_working_days
from sanxiang.core.models import Agency, User

from . import services
from .models import Alert, AlertLevel, AlertStatus, Complaint, Instrument
from .rules import BUILT_IN

AGENCY = "石家庄市市场监督管理局"
# Documentation addresses (RFC 5737), one per complaint: the rate limit is per address.
COMPLAINTS = [
    ({"subject": "执法人员检查时未出示执法证件", "content": "2026年11月中旬，两名执法人员到我店检查食品经营许可，未出示执法证件，也未告知检查依据。",
      "complainant_name": "张晓梅", "complainant_phone": "13900001111"}, "192.0.2.11"),
    ({"subject": "罚款决定未告知陈述申辩权利", "content": "我公司收到的行政处罚决定书作出前，执法部门没有告知我们享有陈述、申辩的权利，直接作出了罚款决定。",
      "complainant_name": "", "complainant_phone": ""}, "192.0.2.12"),
    ({"subject": "查封期限届满后未及时解除", "content": "执法部门查封我店冷柜的期限已经届满，但至今没有解除查封，也没有作出延长查封的决定。",
      "complainant_name": "李国强", "complainant_phone": "13800002222"}, "192.0.2.13"),
]


def load_complaint_demo() -> int:
    """Once (nothing when the agency has complaints already). Returns the number filed."""
    agency = Agency.objects.filter(name=AGENCY).first()
    supervisor = User.objects.filter(username="legal_sjz").first()
    if agency is None or supervisor is None or Complaint.objects.filter(agency=agency).exists():
        return 0
    filed = [services.file_complaint(data={"agency": agency.pk, **data}, ip=ip) for data, ip in COMPLAINTS]
    if filed[0].office_id != supervisor.agency_id:
        return len(filed)
    _new, investigating, replied = filed
    services.assign(actor=supervisor, complaint=investigating, handler=supervisor)
    services.add_note(actor=supervisor, complaint=investigating,
                      text="已调取该案卷宗，正在核实告知书送达情况，并约谈承办执法人员。")
    services.assign(actor=supervisor, complaint=replied, handler=supervisor)
    services.add_note(actor=supervisor, complaint=replied, text="经核查，查封期限已届满且未依法延长，已责令执法部门立即解除查封。")
    services.reply(actor=supervisor, complaint=replied,
                   text="经调查核实，您反映的查封期限届满后未及时解除的问题属实。我局已责令石家庄市市场监督管理局依法解除查封，并对相关执法人员进行批评教育。感谢您对行政执法工作的监督。")
    return len(filed)


# --- alerts and supervision instruments (issue 15 items 2 and 4) --------------------------------

INSTRUMENTS = [
    # (issues, requirement, working days to the deadline, the loop's steps)
    ("2026年第四季度抽查的行政处罚案卷中，有2件未在法定期限内公示行政处罚决定信息。",
     "对逾期未公示的行政处罚决定信息立即予以公示，并建立公示期限提醒机制。", 3, []),
    ("现场检查中有1名执法人员未出示执法证件，执法证件管理制度落实不到位。",
     "开展执法证件使用专项检查，对未亮证执法的人员进行批评教育。", 15, ["report"]),
    ("查封扣押决定书未载明申请行政复议和提起行政诉讼的途径和期限。",
     "修订查封扣押决定书格式文本，对已送达的决定书依法补正告知。", 20, ["report", "return"]),
    ("重大执法决定法制审核目录未按规定报送备案。",
     "按规定报送重大执法决定法制审核目录并向社会公开。", 10, ["report", "accept"]),
]
REPORTS = {"report": "已完成整改：相关制度已修订印发，涉及的执法文书已依法补正，整改材料已归档备查。"}
RETURN_ANSWER = "整改材料未附修订后的格式文本和补正告知的送达回证，请补充后重新报送。"
ACCEPT_ANSWER = "整改到位，予以通过。"
CLOSE_REASON = "经核实，该事项已由执法部门作出说明并报请延期，同意关闭预警。"


def load_supervision_demo() -> dict[str, int]:
    """Once (nothing when 石家庄市司法局 has instruments already): four
    行政执法监督意见书 to 石家庄市市场监督管理局, one in each state of the loop
    (the issued one due in 3 working days: a yellow alert), then the real
    alert job over the demo data (red and escalated alerts of overdue case
    limits and the rest), then one open alert closed by legal_sjz with its
    reason. Returns what it did."""
    agency = Agency.objects.filter(name=AGENCY).first()
    supervisor = User.objects.filter(username="legal_sjz").first()
    head = User.objects.filter(username="head").first()
    if agency is None or supervisor is None or head is None or supervisor.agency_id is None \
            or Instrument.objects.filter(office_id=supervisor.agency_id).exists():
        return {}
    today = clock.today()
    for issues, requirement, days, steps in INSTRUMENTS:
        instrument = services.issue_instrument(
            actor=supervisor, kind="supervision_opinion", agency=agency,
            data={"issues": issues, "basis": "《河北省行政执法监督条例》第二十条", "requirement": requirement,
                  "rectification_due": add_working_days(start=today, days=days).date.isoformat()})
        for step in steps:
            if step == "report":
                services.report_rectification(actor=head, instrument=instrument, text=REPORTS["report"])
            else:
                services.examine_rectification(actor=supervisor, instrument=instrument, accept=step == "accept",
                                               answer=ACCEPT_ANSWER if step == "accept" else RETURN_ANSWER)
    totals = services.refresh_alerts()
    office_alerts = Alert.objects.filter(office_id=supervisor.agency_id, status=AlertStatus.OPEN)
    # Close one red alert that is not escalated (else any open one), keeping a yellow, a red and an escalated one open.
    built_in = [code for code, _label, _source in BUILT_IN]
    red = office_alerts.filter(level=AlertLevel.RED, escalated_at__isnull=True).order_by("-due", "pk")
    closable = (red.filter(rule__in=built_in).first() or red.first()
                or office_alerts.exclude(rule="supervision.instrument_rectification").order_by("-due", "pk").first())
    if closable is not None:
        services.close_alert(actor=supervisor, alert=closable, reason=CLOSE_REASON)
    return {"instruments": len(INSTRUMENTS), **totals}
