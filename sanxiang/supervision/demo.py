"""Demo of 投诉举报 (issue 15 item 5): three complaints about 石家庄市市场监督管理局
routed to 石家庄市司法局 — one new (on legal_sjz's to-do list to assign),
one under investigation with a note, one replied — so the demo login
legal_sjz sees the list, the statistics and each action. Loaded once."""

from __future__ import annotations

from sanxiang.core.models import Agency, User

from . import services
from .models import Complaint

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
