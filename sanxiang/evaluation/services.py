"""Writes of 案卷评查. Each checks who acts (predicates), validates the whole
input (a refusal names the field; nothing half-written), writes and appends
its audit entry in one transaction."""

from __future__ import annotations

import secrets
from datetime import date
from decimal import ROUND_DOWN, Context, Decimal

from django.db import transaction

from sanxiang.cases.models import Case
from sanxiang.core import clock
from sanxiang.core.audit import append_audit
from sanxiang.core.deadlines import deadline_for
from sanxiang.core.models import Agency, User
from sanxiang.core.predicates import is_console
from sanxiang.core.refusals import Refused, reject
from sanxiang.core.selectors import agencies_for, legal_office_of
from sanxiang.inspections import drawv1

from . import predicates, schemes, selectors
from .models import (Assignment, Campaign, Evaluation, EvaluationStatus, Grade, ItemScore, Rectification,
                     RectificationStatus, Scheme, SchemeItem, VetoItem, VetoMark)

RECTIFICATION_RULE = "evaluation.rectification_limit"
TEXT_LIMIT = 5000


def _check(verdict) -> None:
    if not verdict:
        raise Refused(verdict)


def _text(value, field: str, *, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        reject(field, "应为文本。", "invalid")
    value = value.strip()
    if required and not value:
        reject(field, "必须填写。", "required")
    if len(value) > TEXT_LIMIT:
        reject(field, f"不得超过{TEXT_LIMIT}个字。", "too_long")
    return value


# --- schemes ---------------------------------------------------------------------


def load_schemes(*, actor, directory=None) -> list[Scheme]:
    """Store every scheme version of ``schemes/`` not stored yet. A stored
    version is immutable: a file whose bytes changed since is refused
    (SchemeError naming it); add a new version instead."""
    loaded = []
    for path in schemes.scheme_files(directory):
        parsed = schemes.parse_scheme(path)
        existing = Scheme.objects.filter(code=parsed.code, version=parsed.version).first()
        if existing is not None:
            if existing.digest != parsed.digest:
                raise schemes.SchemeError(
                    f"{path.name}: version {parsed.version} of {parsed.code} was loaded from other content "
                    f"(SHA-256 {existing.digest[:12]}…): a published version is immutable, add version {parsed.version + 1}")
            continue
        with transaction.atomic():
            scheme = Scheme.objects.create(
                code=parsed.code, version=parsed.version, title=parsed.title, year=parsed.year, act_kinds=parsed.act_kinds,
                valid_from=parsed.valid_from, source=parsed.source, digest=parsed.digest, file_name=parsed.file_name,
                loaded_at=clock.now())
            Grade.objects.bulk_create([Grade(scheme=scheme, position=n, code=g["code"], name=g["name"], min_score=g["min"])
                                       for n, g in enumerate(parsed.grades)])
            SchemeItem.objects.bulk_create([SchemeItem(scheme=scheme, position=n, **it) for n, it in enumerate(parsed.items)])
            VetoItem.objects.bulk_create([VetoItem(scheme=scheme, position=n, **v) for n, v in enumerate(parsed.vetoes)])
            append_audit(actor=actor, action="evaluation.scheme_load", obj=scheme,
                         payload={"code": scheme.code, "version": scheme.version, "sha256": scheme.digest})
        loaded.append(scheme)
    return loaded


# --- evaluating ------------------------------------------------------------------


def _assignment(actor, case: Case, campaign: Campaign | None) -> bool:
    if campaign is None:
        return False
    return Assignment.objects.filter(campaign=campaign, case=case, evaluator=actor).exists() if not is_console(actor) else True


def start_evaluation(*, actor, case: Case, scheme: Scheme, campaign: Campaign | None = None) -> Evaluation:
    """The actor's evaluation of the case (a draft; the same one again if started)."""
    if campaign is not None and campaign.scheme_id != scheme.pk:
        reject("scheme", "评查活动使用的评查标准不同。", "scheme_mismatch")
    if campaign is not None and not Assignment.objects.filter(campaign=campaign, case=case).exists():
        reject("case", "该案卷不在本次评查活动的抽取结果中。", "not_drawn")
    _check(predicates.can_evaluate(actor, case, assigned=_assignment(actor, case, campaign)))
    if is_console(actor):
        reject("actor", "评查须由评查人员登录后进行。", "person_required")
    with transaction.atomic():
        evaluation, created = Evaluation.objects.get_or_create(
            case=case, scheme=scheme, evaluator=actor, campaign=campaign, defaults={"created_at": clock.now()})
        if created:
            append_audit(actor=actor, action="evaluation.start", obj=evaluation,
                         payload={"case": case.pk, "scheme": f"{scheme.code}@{scheme.version}",
                                  "campaign": campaign.pk if campaign else None})
    return evaluation


def _deduction(raw, item: SchemeItem) -> int:
    field = f"deduction_{item.code}"
    if raw in (None, ""):
        reject(field, f"{item.code}：请填写扣分（不扣分填0）。", "required")
    text = str(raw).strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 4):
        reject(field, f"{item.code}：扣分应为整数。", "invalid")
    value = int(text)
    if value and not item.deduct_min <= value <= item.deduct_max:
        reject(field, f"{item.code}：扣分应为0或{item.deduct_min}至{item.deduct_max}分。", "out_of_range")
    return value


def save_scores(*, actor, evaluation: Evaluation, scores: dict, vetoes: dict, submit: bool = False) -> Evaluation:
    """Record the manual items (``scores``: item code → {"deduction",
    "finding"}) and the manual vetoes found (``vetoes``: code → note); every
    manual item must be given. With ``submit``, the result is computed and
    frozen, and the findings go to the agency to rectify (整改) when there
    are any."""
    if evaluation.evaluator_id != getattr(actor, "pk", None):
        raise Refused(predicates.refuse("只有该评查人员本人可以评分。", "not_evaluator", "actor"))
    _check(predicates.can_evaluate(actor, evaluation.case, assigned=evaluation.campaign_id is not None and
                                   Assignment.objects.filter(campaign_id=evaluation.campaign_id, case=evaluation.case,
                                                             evaluator=actor).exists()))
    if evaluation.status == EvaluationStatus.SUBMITTED:
        reject("status", "该评查已提交，不能再修改。", "submitted")
    if not isinstance(scores, dict) or not isinstance(vetoes, dict):
        reject("scores", "评分应为对象。", "invalid")
    manual = list(evaluation.scheme.items.filter(auto_check="").order_by("position"))
    known = {i.code for i in manual}
    unknown = [c for c in scores if c not in known]
    if unknown:
        reject("scores", f"不是本标准的人工评查项：{'、'.join(map(str, unknown))}。", "unknown_item")
    rows = []
    for item in manual:
        entry = scores.get(item.code) or {}
        if not isinstance(entry, dict):
            reject(f"deduction_{item.code}", f"{item.code}：应为对象。", "invalid")
        deduction = _deduction(entry.get("deduction"), item)
        finding = _text(entry.get("finding"), f"finding_{item.code}", required=bool(deduction))
        rows.append((item, deduction, finding))
    manual_vetoes = {v.code: v for v in evaluation.scheme.vetoes.filter(auto_check="")}
    unknown = [c for c in vetoes if c not in manual_vetoes]
    if unknown:
        reject("vetoes", f"不是本标准的人工否决项：{'、'.join(map(str, unknown))}。", "unknown_veto")
    marks = [(manual_vetoes[c], _text(note, f"veto_{c}", required=True)) for c, note in vetoes.items()]
    with transaction.atomic():
        evaluation = Evaluation.objects.select_for_update(of=("self",)).select_related("case", "case__agency", "scheme", "campaign").get(pk=evaluation.pk)
        if evaluation.status == EvaluationStatus.SUBMITTED:
            reject("status", "该评查已提交，不能再修改。", "submitted")
        evaluation.scores.all().delete()
        evaluation.veto_marks.all().delete()
        ItemScore.objects.bulk_create([ItemScore(evaluation=evaluation, item=i, deduction=d, finding=f) for i, d, f in rows])
        VetoMark.objects.bulk_create([VetoMark(evaluation=evaluation, veto=v, note=n) for v, n in marks])
        payload = {"scores": {i.code: d for i, d, _f in rows}, "vetoes": [v.code for v, _n in marks]}
        if submit:
            now = clock.now()
            result = selectors.compute_result(case=evaluation.case, scheme=evaluation.scheme, evaluation=evaluation,
                                              today=clock.local_date(now))
            evaluation.status = EvaluationStatus.SUBMITTED
            evaluation.submitted_at = now
            evaluation.result = result
            evaluation.score = Decimal(str(result["score"]))
            evaluation.grade = result["grade_code"]
            evaluation.save(update_fields=["status", "submitted_at", "result", "score", "grade"])
            payload.update(score=result["score"], grade=result["grade_code"], vetoes=result["vetoes"])
            _open_rectification(evaluation, result, now)
        append_audit(actor=actor, action="evaluation.submit" if submit else "evaluation.save", obj=evaluation, payload=payload)
    return evaluation


def _findings_text(result: dict) -> str:
    lines = [f"{i['code']} {i['title']}：扣{i['deduction']}分。{i['finding']}".strip()
             for i in result["items"] if i["deduction"]]
    lines += [f"否决项 {v['code']} {v['text']}。{v['note']}".strip() for v in result["veto_items"] if v["found"]]
    return "\n".join(lines)


def _open_rectification(evaluation: Evaluation, result: dict, now) -> Rectification | None:
    findings = _findings_text(result)
    if not findings:
        return None
    agency = evaluation.case.agency
    office = evaluation.campaign.office if evaluation.campaign_id else legal_office_of(agency)
    if office is None:
        return None
    today = clock.local_date(now)
    due = deadline_for(rule=RECTIFICATION_RULE, start=today, agency=agency)
    return Rectification.objects.create(evaluation=evaluation, agency=agency, office=office, findings=findings,
                                        due_on=due.date, due_reference=due.rule.reference[:255], created_at=now)


# --- campaigns -------------------------------------------------------------------


def create_campaign(*, actor, office: Agency, title, scheme: Scheme | None, period_start: date | None,
                    period_end: date | None, agencies, evaluators, sample_size, evaluators_per_case=1) -> Campaign:
    _check(predicates.can_manage_campaign(actor, office))
    title = _text(title, "title", required=True)[:128]
    if scheme is None:
        reject("scheme", "请选择评查标准。", "required")
    if period_start is None or period_end is None:
        reject("period_start", "请填写案卷结案日期的起止。", "required")
    if period_end < period_start:
        reject("period_end", "结束日期不得早于开始日期。", "date_order")
    for field, value, low in (("sample_size", sample_size, 1), ("evaluators_per_case", evaluators_per_case, 1)):
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= 1000:
            reject(field, "应为1至1000之间的整数。", "invalid")
    agencies = list(dict.fromkeys(agencies or []))
    if not agencies:
        reject("agencies", "请选择被评查的执法部门。", "required")
    if not is_console(actor):
        scope = set(agencies_for(user=actor).values_list("pk", flat=True))
        outside = [a.name for a in agencies if a.pk not in scope]
        if outside:
            reject("agencies", f"不在您的监督范围内：{'、'.join(outside)}。", "out_of_scope")
    evaluators = list(dict.fromkeys(evaluators or []))
    if not evaluators:
        reject("evaluators", "请选择评查人员。", "required")
    inactive = [u.username for u in evaluators if not isinstance(u, User) or not u.is_active]
    if inactive:
        reject("evaluators", f"评查人员账号不可用：{'、'.join(inactive)}。", "inactive")
    with transaction.atomic():
        campaign = Campaign.objects.create(office=office, title=title, scheme=scheme, period_start=period_start,
                                           period_end=period_end, sample_size=sample_size,
                                           evaluators_per_case=evaluators_per_case, created_by=actor if not is_console(actor) else evaluators[0],
                                           created_at=clock.now())
        campaign.agencies.set(agencies)
        campaign.evaluators.set(evaluators)
        append_audit(actor=actor, action="evaluation.campaign_create", obj=campaign,
                     payload={"scheme": f"{scheme.code}@{scheme.version}", "agencies": [a.pk for a in agencies],
                              "evaluators": [u.username for u in evaluators], "sample_size": sample_size,
                              "period": [period_start.isoformat(), period_end.isoformat()]})
    return campaign


def _ratio(size: int, population: int) -> str:
    """size/N as a decimal rounded down, so ceil(ratio × N) = size exactly."""
    if population == 0:
        return "0"
    if size >= population:
        return "1"
    return str(Context(prec=20, rounding=ROUND_DOWN).divide(Decimal(size), Decimal(population)))


def draw_inputs(campaign: Campaign) -> dict:
    """The draw's inputs from the campaign: the population snapshot (closed
    cases as objects, stratum = agency id; evaluators as inspectors),
    ratios giving each agency its sample size, and the 回避 pairs."""
    cases = list(selectors.closed_cases(campaign).select_related("agency").order_by("pk"))
    evaluators = list(campaign.evaluators.select_related("officer").order_by("pk"))
    snapshot = drawv1.snapshot_of([{"id": str(c.pk), "stratum": str(c.agency_id)} for c in cases],
                                  [str(u.pk) for u in evaluators])
    per_agency: dict[str, int] = {}
    for c in cases:
        per_agency[str(c.agency_id)] = per_agency.get(str(c.agency_id), 0) + 1
    ratios = {a: _ratio(campaign.sample_size, n) for a, n in sorted(per_agency.items())}
    conflicts = [{"inspector": str(u.pk), "object": str(c.pk)} for c in cases for u in evaluators
                 if predicates.conflict(u, c)]
    return {"snapshot": snapshot, "ratios": ratios, "conflicts": conflicts}


def draw_campaign(*, actor, campaign: Campaign, seed_value: str | None = None) -> Campaign:
    """Draw the sample (sanxiang-draw-v1, docs/random-inspection.md): per
    agency ``sample_size`` closed cases, each with ``evaluators_per_case``
    evaluators, never one in conflict (回避). The public seed value, the
    population snapshot, ratios and conflicts are stored, so anyone re-runs
    the draw (``verify_draw``) and gets the same result."""
    _check(predicates.can_manage_campaign(actor, campaign.office))
    seed_value = seed_value if seed_value is not None else secrets.token_hex(16)
    if not isinstance(seed_value, str) or not (1 <= len(seed_value) <= 64):
        reject("seed_value", "公开随机数应为1至64个字符。", "invalid")
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.drawn:
            reject("campaign", "本次评查活动已经抽取，不能重抽。", "already_drawn")
        inputs = draw_inputs(campaign)
        if not inputs["snapshot"]["objects"]:
            reject("campaign", "评查期间内所选部门没有已结案的案卷。", "empty_population")
        drawn = drawv1.draw(snapshot=inputs["snapshot"], secrets=[], public_value=seed_value, ratios=inputs["ratios"],
                            k=campaign.evaluators_per_case, limit=None, conflicts=inputs["conflicts"])
        campaign.seed_value = seed_value
        campaign.snapshot = inputs["snapshot"]
        campaign.snapshot_sha256 = drawv1.snapshot_sha256(inputs["snapshot"])
        campaign.ratios = inputs["ratios"]
        campaign.conflicts = inputs["conflicts"]
        campaign.seed = drawn.seed
        campaign.result = drawn.result
        campaign.drawn_at = clock.now()
        campaign.drawn_by = actor if not is_console(actor) else None
        campaign.save()
        users = {str(u.pk): u for u in campaign.evaluators.all()}
        rows = []
        for entry in drawn.result:
            team = entry["inspectors"] or [None]
            rows += [Assignment(campaign=campaign, case_id=int(entry["object"]), evaluator=users.get(pid) if pid else None)
                     for pid in team]
        Assignment.objects.bulk_create(rows)
        append_audit(actor=actor, action="evaluation.campaign_draw", obj=campaign,
                     payload={"seed": drawn.seed, "seed_value": seed_value, "snapshot_sha256": campaign.snapshot_sha256,
                              "drawn": len(drawn.result), "short": drawn.short})
    return campaign


def verify_draw(campaign: Campaign) -> list[str]:
    """Run the stored draw again from its stored inputs: the differences
    (empty when the result is what the inputs give). A read."""
    if not campaign.drawn:
        return ["not drawn"]
    problems = []
    if drawv1.snapshot_sha256(campaign.snapshot) != campaign.snapshot_sha256:
        problems.append("snapshot_sha256 differs from the stored snapshot")
    again = drawv1.draw(snapshot=campaign.snapshot, secrets=[], public_value=campaign.seed_value, ratios=campaign.ratios,
                        k=campaign.evaluators_per_case, limit=None, conflicts=campaign.conflicts)
    if again.seed != campaign.seed:
        problems.append("seed differs")
    if again.result != campaign.result:
        problems.append("result differs")
    return problems


# --- rectification (整改) ---------------------------------------------------------


def respond_rectification(*, actor, rectification: Rectification, text) -> Rectification:
    _check(predicates.can_respond(actor, rectification))
    text = _text(text, "response", required=True)
    with transaction.atomic():
        r = Rectification.objects.select_for_update().get(pk=rectification.pk)
        if r.status not in (RectificationStatus.OPEN, RectificationStatus.RETURNED):
            reject("status", "当前状态不能报送整改情况。", "wrong_status")
        r.response, r.status = text, RectificationStatus.RESPONDED
        r.responded_by, r.responded_at = (None if is_console(actor) else actor), clock.now()
        r.save(update_fields=["response", "status", "responded_by", "responded_at"])
        append_audit(actor=actor, action="evaluation.rectification_respond", obj=r, payload={"status": r.status})
    return r


def review_rectification(*, actor, rectification: Rectification, accept: bool, note) -> Rectification:
    _check(predicates.can_review_rectification(actor, rectification))
    note = _text(note, "review_note", required=not accept)
    with transaction.atomic():
        r = Rectification.objects.select_for_update().get(pk=rectification.pk)
        if r.status != RectificationStatus.RESPONDED:
            reject("status", "被评查单位尚未报送整改情况。", "wrong_status")
        r.status = RectificationStatus.ACCEPTED if accept else RectificationStatus.RETURNED
        r.review_note = note
        r.reviewed_by, r.reviewed_at = (None if is_console(actor) else actor), clock.now()
        r.save(update_fields=["status", "review_note", "reviewed_by", "reviewed_at"])
        append_audit(actor=actor, action="evaluation.rectification_review", obj=r, payload={"status": r.status})
    return r
