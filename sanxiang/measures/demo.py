"""Demo of the task table (issue 16 part 2): the province's legal office
(login legal_hebei) has rolled the table out to the units of 河北省; the
platform's evidence check has run; 石家庄市市场监督管理局 (login head) has
its filed lists accepted as done (公示-3/6/7), its AV list (记录-4) accepted
with its filing, a list waiting for acceptance (公示-5), progress reported
on others; the legal offices have done some of theirs (公示-1 with an
uploaded document, 公示-4, 公示-8, 公示-9). The deadlines are those of a
year whose first deadlines have passed, so the matrix shows tasks done,
in progress and overdue. Loaded once."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from sanxiang.cases import services as case_services
from sanxiang.core import clock
from sanxiang.core.models import User

from . import services
from .models import Rollout, Task

ACTOR = "demo-loader"
MAIN_AGENCY = "石家庄市市场监督管理局"


def _pdf(title: str) -> bytes:
    """A small, valid one-page PDF (the demo's uploaded document)."""
    text = title.encode("ascii", "replace")
    stream = b"BT /F1 14 Tf 72 720 Td (" + text + b") Tj ET"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _task(code: str, user: User) -> Task | None:
    return (Task.objects.select_related("agency", "agency__region", "rollout")
            .filter(measure_code=code, agency_id=user.agency_id).first())


def _done(task: Task | None, *, unit: User, office: User, accept: bool = True) -> None:
    if task is None or not task.evidence.exists():
        return
    services.submit_task(actor=unit, task=task)
    if accept:
        services.accept_task(actor=office, task=task)


def load_measures_demo() -> int:
    """Once (nothing when a roll-out exists). Returns the number of tasks."""
    users = {u.username: u for u in User.objects.filter(username__in=["legal_hebei", "legal_sjz", "head"])}
    if len(users) < 3 or Rollout.objects.exists():
        return 0
    province, city, head = users["legal_hebei"], users["legal_sjz"], users["head"]
    today = clock.today()
    # A year whose April–June deadlines have passed: some tasks overdue.
    year = today.year if today.month >= 7 else today.year - 1
    result = services.roll_out(actor=province, year=year)
    tasks = list(services.tasks_of_rollout(result.rollout))
    # 记录-4: the head adds an entry of the agency's own AV list.
    if head.agency.name == MAIN_AGENCY:
        case_services.set_av_requirement(actor=head, agency=head.agency, act_kind="penalty", place="执法办案区（询问室）",
                                         content="询问当事人全过程录音录像", whole_process=True, device="执法办案区固定音视频设备")
    services.check_platform_evidence(actor=ACTOR, tasks=tasks)
    # The city's market regulation agency: its filed lists accepted as done.
    for code in ("公示-3", "公示-6", "公示-7", "记录-4"):
        _done(_task(code, head), unit=head, office=city)
    _done(_task("公示-5", head), unit=head, office=city, accept=False)  # waits on legal_sjz's to-do list
    av_filing = getattr(_task("记录-4", head), "filing", None)
    if av_filing is not None:
        services.submit_filing(actor=head, filing=av_filing, reference="石市监〔%d〕12号" % year)
        services.decide_filing(actor=city, filing=av_filing, accept=True)
    for code, text in (("公示-2", "公示具体办法已起草，正在征求法制机构意见。"),
                       ("公示-11", "现场执法文书已按省统一样式出具，正在组织全员培训。"),
                       ("记录-3", "已按案卷标准整理 2025 年度处罚案卷，正在推行文书电子化。")):
        task = _task(code, head)
        if task is not None:
            services.add_report(actor=head, task=task, text=text)
    draft = _task("公示-2", head)
    if draft is not None and hasattr(draft, "filing"):
        services.submit_filing(actor=head, filing=draft.filing, reference="石市监〔%d〕8号（征求意见稿）" % year)
    # The legal offices' own tasks.
    task = _task("公示-1", province)
    if task is not None:
        services.upload_evidence(actor=province, task=task, label="《河北省行政执法公示实施办法》（印发稿）",
                                 upload=SimpleUploadedFile("gongshi-banfa.pdf", _pdf("Hebei enforcement publicity measures")))
        _done(task, unit=province, office=province)
    _done(_task("公示-8", province), unit=province, office=province)
    for code in ("公示-4", "公示-9"):
        _done(_task(code, city), unit=city, office=province)
    task = _task("公示-17", province)
    if task is not None:
        services.add_report(actor=province, task=task, text="依托全省一体化网上政务服务平台的公示平台已上线，正在归集各市执法信息。")
    return result.created
