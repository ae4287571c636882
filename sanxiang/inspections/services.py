"""Every write of 双随机一公开 (公示-5, 公示-15; docs/random-inspection.md).

The draw (sanxiang-draw-v1, drawv1.py) in four steps, each audited:
``create_draw`` freezes the snapshot of the eligible objects and
inspectors (and the declared conflicts among them) and names the
participants; each participant ``commit``s H(secret); once all have, the
snapshot and the commitments are public; each ``reveal``s its secret
(checked against its commitment), the announced public value is entered
(``enter_public_value``), and the last of these runs the draw. A
``redraw`` replaces a drawn draw for a stated, published reason.
"""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.crypto import salted_hmac
from django.db.models import Max

from sanxiang.cases.models import Procedure
from sanxiang.cases.predicates import can_handle
from sanxiang.cases.services import open_case
from sanxiang.catalog.models import CatalogueKind
from sanxiang.catalog.predicates import can_decide_filing
from sanxiang.catalog.selectors import version_in_force
from sanxiang.core import clock
from sanxiang.core import selectors as core_selectors
from sanxiang.core.audit import append_audit
from sanxiang.core.models import Agency, AgencyKind, Officer, OfficerStatus, Region
from sanxiang.core.refusals import Refused, reject
from sanxiang.core.text import NUMBER, TEXT, TextError, normalise
from sanxiang.core.validators import check_credit_code, check_id_number
from sanxiang.rules.loader import RuleNotFound, get_rule
from sanxiang.core.deadlines import RuleDeadline, deadline_for
from sanxiang.core.vocabulary import ActKind, PartyType
from sanxiang.publicity.redaction import redact_text

from . import drawv1, predicates
from .models import (Conflict, Draw, DrawParticipant, DrawStatus, Inspection, InspectionBatch, InspectionObject,
                     InspectionPlan, InspectionResult, PlanStatus, RiskTier)

HEX64 = re.compile(r"^[0-9a-f]{64}$")
TEAM_RULE = "random_inspection.inspectors_per_target_min"
PUBLICATION_RULE = "random_inspection.result_publication_limit"


def _check(verdict) -> None:
    if not verdict:
        raise Refused(verdict)


def _actor_name(actor) -> str:
    return actor if isinstance(actor, str) else actor.get_username()


# --- eligibility --------------------------------------------------------------


def agencies_of(batch: InspectionBatch) -> list[Agency]:
    """The planning agency and the agencies inspecting jointly with it."""
    agencies = [batch.plan.agency] + [a for a in batch.joint_agencies.all() if a.pk != batch.plan.agency_id]
    return agencies


def eligible_objects(batch: InspectionBatch):
    """The directory's objects in the batch's scope (region subtree, and
    industry and label where the batch names them)."""
    rows = InspectionObject.objects.filter(is_active=True, region__path__startswith=batch.scope_region.path)
    if batch.scope_industry:
        rows = rows.filter(industry=batch.scope_industry)
    rows = rows.only("pk", "risk_tier", "labels")
    if batch.scope_label:
        return [o for o in rows if batch.scope_label in (o.labels or [])]
    return list(rows)


def eligible_inspectors(batch: InspectionBatch):
    """The officers of the batch's agencies whose certificate covers
    inspection (执法类别 含 行政检查), in force (not suspended or revoked)
    and valid on every day of the batch's inspection period."""
    return list(Officer.objects.filter(
        agency__in=agencies_of(batch), status=OfficerStatus.ACTIVE,
        valid_from__lte=batch.starts_on, valid_to__gte=batch.ends_on,
    ).only("pk", "certificate_number", "categories").order_by("certificate_number"))


def _covers_inspection(officer: Officer) -> bool:
    return ActKind.INSPECTION in (officer.categories or [])


def _check_team_size(k, *, on, agency) -> None:
    """At least the dated minimum of inspectors per object
    (random_inspection.inspectors_per_target_min: two, as the law's two
    officers per enforcement act)."""
    minimum = int(get_rule(TEAM_RULE, on=on or clock.today(), agency=agency).value)
    if not isinstance(k, int) or isinstance(k, bool) or k < minimum:
        reject("inspectors_per_object", f"每个检查对象至少须由 {minimum} 名执法人员检查。", "too_few_inspectors")


# --- the draw -------------------------------------------------------------------


@transaction.atomic
def create_draw(*, actor, batch: InspectionBatch, public_value_note: str = "", replaces: Draw | None = None,
                redraw_reason: str = "") -> Draw:
    """Freeze the snapshot and name the participants: every agency of the
    batch and each one's supervising legal office."""
    batch = InspectionBatch.objects.select_related("plan__agency__region", "scope_region").get(pk=batch.pk)
    _check(predicates.can_organise_inspections(actor, batch.plan.agency))
    if batch.plan.status != PlanStatus.FILED:
        reject("batch", "年度抽查计划尚未经司法局备案，不能抽取。", "plan_not_filed")
    _check_team_size(batch.inspectors_per_object, on=batch.starts_on, agency=batch.plan.agency)
    if replaces is None and batch.draws.exclude(status=DrawStatus.REPLACED).exists():
        reject("batch", "该批次已有抽取；如须重新抽取，请说明理由后发起重新抽取。", "already_drawn")
    objects = eligible_objects(batch)
    if not objects:
        reject("batch", "抽查范围内没有检查对象（请检查名录库和抽查范围）。", "no_objects")
    inspectors = [o for o in eligible_inspectors(batch) if _covers_inspection(o)]
    if len(inspectors) < batch.inspectors_per_object:
        reject("batch", f"符合条件的执法检查人员只有 {len(inspectors)} 名（须持有在检查期间有效、含行政检查类别的执法证），"
                        f"少于每个对象所需的 {batch.inspectors_per_object} 名。", "too_few_inspectors")
    snapshot = drawv1.snapshot_of([{"id": o.draw_id, "stratum": o.risk_tier} for o in objects],
                                  [o.certificate_number for o in inspectors])
    ids = {o.pk for o in objects}
    numbers = {o.pk: o.certificate_number for o in inspectors}
    conflicts = sorted(
        ({"inspector": numbers[c.officer_id], "object": str(c.object_id)}
         for c in Conflict.objects.filter(object_id__in=ids, officer_id__in=numbers).only("officer_id", "object_id")),
        key=lambda c: (c["inspector"], c["object"]))
    try:
        drawv1.check_parameters(ratios=batch.ratios or {}, k=batch.inspectors_per_object,
                                limit=batch.limit_per_inspector, conflicts=conflicts)
    except drawv1.DrawError as exc:  # the parameters themselves are wrong: say so before anyone commits
        reject("ratios", f"抽查参数有误：{exc}", "invalid_parameters")
    number = (batch.draws.aggregate(n=Max("number"))["n"] or 0) + 1
    draw = Draw.objects.create(
        batch=batch, number=number, algorithm=drawv1.ALGORITHM, snapshot=snapshot,
        snapshot_sha256=drawv1.snapshot_sha256(snapshot), conflicts=conflicts, ratios=dict(batch.ratios or {}),
        k=batch.inspectors_per_object, limit=batch.limit_per_inspector,
        public_value_note=(public_value_note or "").strip()[:300], replaces=replaces,
        redraw_reason=redraw_reason, created_by=_actor_name(actor))
    participants = []
    for agency in agencies_of(batch):
        participants.append(agency)
        office = core_selectors.legal_office_of(agency)
        if office is None:
            reject("batch", f"“{agency.name}”没有所属司法局（法制机构），无法组成抽取的参与方。", "no_legal_office")
        participants.append(office)
    seen = set()
    for agency in participants:
        if agency.pk not in seen:
            seen.add(agency.pk)
            DrawParticipant.objects.create(draw=draw, agency=agency)
    append_audit(actor=actor, action="inspections.draw_created", obj=draw, payload={
        "batch": batch.pk, "number": number, "snapshot_sha256": draw.snapshot_sha256,
        "objects": len(snapshot["objects"]), "inspectors": len(snapshot["inspectors"]),
        "participants": sorted(seen), "public_value_note": draw.public_value_note,
        "replaces": replaces.pk if replaces else None, "reason": redraw_reason})
    return draw


def _participant(draw: Draw, agency_id) -> DrawParticipant:
    row = DrawParticipant.objects.select_for_update(of=("self",)).select_related("agency").filter(draw=draw, agency_id=agency_id).first()
    if row is None:
        reject("participant", "该单位不是本次抽取的参与方。", "not_a_participant")
    return row


@transaction.atomic
def commit(*, actor, draw: Draw, agency: Agency, commitment: str) -> DrawParticipant:
    """A participant's commitment: SHA-256 (lowercase hex) of its secret,
    given before anyone can know the result. The last one makes the
    snapshot and the commitments public."""
    draw = Draw.objects.select_for_update().get(pk=draw.pk)
    row = _participant(draw, agency.pk)
    _check(predicates.can_act_for_participant(actor, row.agency))
    if draw.status != DrawStatus.AWAITING_COMMITMENTS:
        reject("commitment", "承诺值已全部提交，不能再更改。", "commitments_closed")
    value = (commitment or "").strip().lower()
    if not HEX64.match(value):
        reject("commitment", "承诺值应为 64 位十六进制字符（密钥的 SHA-256）。", "invalid")
    if row.commitment:
        reject("commitment", "该单位已提交承诺值。", "already_committed")
    row.commitment, row.committed_by, row.committed_at = value, _actor_name(actor), clock.now()
    row.save(update_fields=["commitment", "committed_by", "committed_at"])
    opened = not draw.participants.filter(commitment="").exists()
    if opened:
        Draw.objects.filter(pk=draw.pk).update(status=DrawStatus.AWAITING_REVEALS)
    append_audit(actor=actor, action="inspections.commitment", obj=draw,
                 payload={"participant": agency.pk, "sha256": value, "all_committed": opened})
    return row


@transaction.atomic
def reveal(*, actor, draw: Draw, agency: Agency, secret: str) -> Draw:
    """A participant's secret, checked against its commitment. When every
    secret (and the announced public value) is in, the draw runs."""
    draw = Draw.objects.select_for_update().get(pk=draw.pk)
    row = _participant(draw, agency.pk)
    _check(predicates.can_act_for_participant(actor, row.agency))
    if draw.status == DrawStatus.AWAITING_COMMITMENTS:
        reject("secret", "还有参与方没有提交承诺值，密钥须在全部承诺值公开之后提交。", "commitments_open")
    if draw.status != DrawStatus.AWAITING_REVEALS:
        reject("secret", "本次抽取已经完成。", "already_drawn")
    if row.secret:
        reject("secret", "该单位已提交密钥。", "already_revealed")
    value = (secret or "").strip().lower()
    if not HEX64.match(value):
        reject("secret", "密钥应为 64 位十六进制字符（32 个随机字节）。", "invalid")
    if drawv1.commitment(value) != row.commitment:
        reject("secret", "该密钥与本单位此前提交的承诺值不符，抽取不能进行。", "does_not_match_commitment")
    row.secret, row.revealed_by, row.revealed_at = value, _actor_name(actor), clock.now()
    row.save(update_fields=["secret", "revealed_by", "revealed_at"])
    append_audit(actor=actor, action="inspections.reveal", obj=draw, payload={"participant": agency.pk, "secret": value})
    return _run_if_complete(actor, draw)


@transaction.atomic
def enter_public_value(*, actor, draw: Draw, value: str) -> Draw:
    """The public value announced before the draw (e.g. a lottery result),
    entered once it is known; only for a draw that announced one."""
    draw = Draw.objects.select_for_update(of=("self",)).select_related("batch__plan__agency").get(pk=draw.pk)
    _check(predicates.can_organise_inspections(actor, draw.batch.plan.agency))
    if not draw.public_value_note:
        reject("public_value", "本次抽取没有预先公布要使用的公开数值。", "no_public_value")
    if draw.status != DrawStatus.AWAITING_REVEALS:
        reject("public_value", "只有在全部承诺值公开之后、抽取完成之前可以录入公开数值。", "not_awaiting_reveals")
    if draw.public_value:
        reject("public_value", "公开数值已经录入。", "already_entered")
    text = (value or "").strip()
    if not text or len(text) > 300 or "|" in text:
        reject("public_value", "公开数值不能为空、不能含“|”，且不超过 300 个字符。", "invalid")
    Draw.objects.filter(pk=draw.pk).update(public_value=text)
    draw.public_value = text
    append_audit(actor=actor, action="inspections.public_value", obj=draw, payload={"value": text})
    return _run_if_complete(actor, draw)


def _run_if_complete(actor, draw: Draw) -> Draw:
    participants = list(draw.participants.order_by("agency_id"))
    if any(not p.secret for p in participants) or (draw.public_value_note and not draw.public_value):
        return draw
    drawn = drawv1.draw(snapshot=draw.snapshot, secrets=[p.secret for p in participants],
                        public_value=draw.public_value, ratios=draw.ratios, k=draw.k, limit=draw.limit,
                        conflicts=draw.conflicts)
    draw.seed, draw.result, draw.status, draw.drawn_at = drawn.seed, drawn.result, DrawStatus.DRAWN, clock.now()
    draw.save(update_fields=["seed", "result", "status", "drawn_at"])
    _create_inspections(draw)
    append_audit(actor=actor, action="inspections.drawn", obj=draw, payload={
        "seed": drawn.seed, "selected": len(drawn.result), "short": drawn.short,
        "result_sha256": hashlib.sha256(drawv1.canonical(drawn.result)).hexdigest()})
    return draw


@transaction.atomic
def redraw(*, actor, draw: Draw, reason: str, public_value_note: str = "") -> Draw:
    """Replace a draw for a stated reason (published with the new draw):
    a fresh snapshot, fresh commitments."""
    old = Draw.objects.select_for_update(of=("self",)).select_related("batch__plan__agency").get(pk=draw.pk)
    _check(predicates.can_organise_inspections(actor, old.batch.plan.agency))
    text = (reason or "").strip()
    if len(text) < 5:
        reject("reason", "重新抽取须说明理由（至少 5 个字），理由将与抽取记录一并公开。", "required")
    if old.status == DrawStatus.REPLACED:
        reject("draw", "该次抽取已被重新抽取取代。", "already_replaced")
    Draw.objects.filter(pk=old.pk).update(status=DrawStatus.REPLACED)
    append_audit(actor=actor, action="inspections.redraw", obj=old, payload={"reason": text[:500]})
    return create_draw(actor=actor, batch=old.batch, public_value_note=public_value_note, replaces=old,
                       redraw_reason=text[:500])


# --- the directory of inspection objects (检查对象名录库) ----------------------------

LABEL = re.compile(r"^[^|,，;；\s][^|,，;；]{0,31}$")


def _mask_id(number: str) -> str:
    """The first 6 and last 4 characters (the region and the check): what
    the directory shows of a natural person's ID number."""
    return f"{number[:6]}********{number[-4:]}"


def _id_hash(number: str) -> str:
    """The key that finds a natural person again by the full ID number
    (re-imports, a search by the number): an HMAC under the installation's
    secret key, not a plain hash — an ID number has so little entropy (a
    region, a birth date, three digits) that a plain hash is reversed by
    trying every candidate."""
    return salted_hmac("sanxiang.inspections.id_number", number, algorithm="sha256").hexdigest()


NUMBER_FIELDS = ("credit_code", "id_number", "region")


def clean_object_fields(data: dict, *, regions: dict) -> tuple[dict, list[tuple[str, str, str]]]:
    """One object's fields checked and normalised: (values, errors), each
    error (field, code, Chinese message). ``regions``: code → Region."""
    errors: list[tuple[str, str, str]] = []
    text: dict[str, str] = {}
    for key, raw in data.items():
        try:
            kind = NUMBER if key in NUMBER_FIELDS else TEXT
            text[key] = normalise("" if raw is None else str(raw), kind=kind).text
        except TextError as exc:
            errors.append((key, exc.code, exc.message))
            text[key] = ""
    values = {"name": text.get("name", ""), "legal_representative": text.get("legal_representative", ""),
              "address": text.get("address", ""), "industry": text.get("industry", "")}
    if not values["name"]:
        errors.append(("name", "required", "名称不能为空。"))
    elif len(values["name"]) > 200:
        errors.append(("name", "too_long", "名称不能超过 200 个字符。"))
    for field, size in (("legal_representative", 64), ("address", 255), ("industry", 64)):
        if len(values[field]) > size:
            errors.append((field, "too_long", f"不能超过 {size} 个字符。"))
    region = regions.get(text.get("region", ""))
    if region is None:
        errors.append(("region", "unknown_region", f"未登记的行政区划代码“{text.get('region', '')[:12]}”。"))
    values["region"] = region
    tier = text.get("risk_tier", "").upper() or "B"
    if tier not in RiskTier.values:
        errors.append(("risk_tier", "invalid", "信用风险分类应为 A、B、C、D 之一。"))
    values["risk_tier"] = tier
    labels = [x.strip() for x in re.split(r"[;；、]", text.get("labels", "")) if x.strip()]
    if any(not LABEL.match(x) for x in labels):
        errors.append(("labels", "invalid", "标签每个不超过 32 个字符，多个标签用“；”分隔。"))
    values["labels"] = sorted(set(labels))
    code, number = text.get("credit_code", "").upper(), text.get("id_number", "").upper()
    values.update(credit_code="", natural_person=False, id_masked="", id_hash="")
    if code and number:
        errors.append(("id_number", "both", "统一社会信用代码和身份证号只填一项：单位填代码，自然人填身份证号。"))
    elif code:
        problem = check_credit_code(code)
        if problem:
            errors.append(("credit_code", problem[0], problem[1]))
        values["credit_code"] = code
    elif number:
        problem = check_id_number(number)
        if problem:
            errors.append(("id_number", problem[0], problem[1]))
        else:
            values.update(natural_person=True, id_masked=_mask_id(number), id_hash=_id_hash(number))
    elif "credit_code" not in {e[0] for e in errors} and "id_number" not in {e[0] for e in errors}:
        errors.append(("credit_code", "required", "单位须填统一社会信用代码，自然人须填身份证号。"))
    return values, errors


@transaction.atomic
def add_object(*, actor, data: dict) -> InspectionObject:
    _check(predicates.can_maintain_directory(actor))
    regions = {r.code: r for r in Region.objects.filter(code=str(data.get("region") or "").strip())}
    values, errors = clean_object_fields(data, regions=regions)
    if errors:
        field, code, message = errors[0]
        reject(field, message, code)
    _refuse_duplicate(values)
    row = InspectionObject.objects.create(**values)
    append_audit(actor=actor, action="inspections.object_added", obj=row,
                 payload={"name": row.name, "credit_code": row.credit_code, "id_masked": row.id_masked,
                          "region": row.region.code, "risk_tier": row.risk_tier, "labels": row.labels})
    return row


def _refuse_duplicate(values: dict) -> None:
    if values["credit_code"] and InspectionObject.objects.filter(credit_code=values["credit_code"]).exists():
        reject("credit_code", "名录库中已有该统一社会信用代码的对象。", "taken")
    if values["id_hash"] and InspectionObject.objects.filter(id_hash=values["id_hash"]).exists():
        reject("id_number", "名录库中已有该身份证号的自然人。", "taken")


@transaction.atomic
def declare_conflict(*, actor, officer: Officer, obj: InspectionObject, reason: str) -> Conflict:
    """回避: the officer must not inspect the object (declared by the officer's
    agency organisers or the officer; the reason is kept, not published)."""
    own = not isinstance(actor, str) and getattr(actor, "pk", None) is not None and officer.user_id == actor.pk
    if not own:
        _check(predicates.can_organise_inspections(actor, officer.agency))
    text = (reason or "").strip()
    if not text:
        reject("reason", "请填写回避理由。", "required")
    if len(text) > 255:
        reject("reason", "回避理由不能超过 255 个字符。", "too_long")
    if Conflict.objects.filter(officer=officer, object=obj).exists():
        reject("object", "已登记该回避情形。", "taken")
    row = Conflict.objects.create(officer=officer, object=obj, reason=text, declared_by=_actor_name(actor))
    append_audit(actor=actor, action="inspections.conflict", obj=row,
                 payload={"officer": officer.certificate_number, "object": obj.pk, "reason": text})
    return row


# --- annual plans and their batches (年度抽查计划), filed with the legal office -----


@transaction.atomic
def create_plan(*, actor, agency: Agency, year: int, title: str) -> InspectionPlan:
    _check(predicates.can_organise_inspections(actor, agency))
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        reject("year", "年度应为 2000 至 2100 之间的年份。", "invalid")
    text = (title or "").strip()
    if not text or len(text) > 200:
        reject("title", "计划名称不能为空，且不超过 200 个字符。", "required")
    plan = InspectionPlan.objects.create(agency=agency, year=year, title=text)
    append_audit(actor=actor, action="inspections.plan_created", obj=plan, payload={"year": year, "title": text})
    return plan


def _ratios(raw) -> dict[str, str]:
    if not isinstance(raw, dict) or not raw:
        reject("ratios", "须为至少一个信用风险分类设定抽查比例。", "required")
    out = {}
    for tier, value in raw.items():
        if tier not in RiskTier.values:
            reject("ratios", f"“{str(tier)[:8]}”不是信用风险分类（A、B、C、D）。", "invalid")
        try:
            ratio = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            reject("ratios", f"{tier} 类的抽查比例“{str(value)[:16]}”不是数字。", "invalid")
        if not ratio.is_finite() or not Decimal(0) <= ratio <= Decimal(1):
            reject("ratios", f"{tier} 类的抽查比例应在 0 到 1 之间（例如 0.05 表示 5%）。", "invalid")
        out[tier] = format(ratio.normalize(), "f") if ratio else "0"
    return out


def _joint_agencies(agency: Agency, joint_agencies) -> list[Agency]:
    """The agencies inspecting jointly (部门联合抽查): other enforcement
    agencies of the organiser's own region (the same level of government),
    active. The organiser itself, a legal office (a participant of every
    draw as the supervisor, not an inspecting agency), an inactive agency or
    one of another region is refused, naming it."""
    joint, seen = [], set()
    for other in joint_agencies or ():
        if other.pk == agency.pk:
            reject("joint_agencies", "联合抽查的部门不能是本部门自己。", "self")
        if other.kind == AgencyKind.LEGAL_OFFICE:
            reject("joint_agencies", f"“{other.name}”是司法局（法制机构），作为监督方参与抽取，不能作为联合抽查的执法部门。",
                   "legal_office")
        if not other.is_active:
            reject("joint_agencies", f"“{other.name}”已停用，不能参加联合抽查。", "inactive")
        if other.region_id != agency.region_id:
            reject("joint_agencies", f"“{other.name}”不属于本部门所在的行政区划，只能与同级同区域的执法部门联合抽查。",
                   "outside_region")
        if other.pk not in seen:
            seen.add(other.pk)
            joint.append(other)
    return joint


@transaction.atomic
def add_batch(*, actor, plan: InspectionPlan, title: str, item_code: str, scope_region: Region, ratios: dict,
              starts_on, ends_on, inspectors_per_object: int = 2, limit_per_inspector: int | None = None,
              scope_industry: str = "", scope_label: str = "", joint_agencies=()) -> InspectionBatch:
    """A batch of the plan: an item of the agency's 随机抽查事项清单 in force
    (公示-5), the scope, the ratio per tier, k ≥ 2, the limit, the period."""
    plan = InspectionPlan.objects.select_for_update(of=("self",)).select_related("agency").get(pk=plan.pk)
    _check(predicates.can_organise_inspections(actor, plan.agency))
    if plan.status not in (PlanStatus.DRAFT, PlanStatus.RETURNED):
        reject("plan", "计划已报送或已备案，不能再增加批次。", "plan_not_editable")
    version = version_in_force(agency=plan.agency, kind=CatalogueKind.INSPECTION_ITEMS, on=starts_on)
    item = version.items().filter(code=(item_code or "").strip()).first() if version else None
    if item is None:
        reject("item_code", "该事项不在本部门检查期间有效的随机抽查事项清单中（公示-5）。", "unknown_item")
    _check_team_size(inspectors_per_object, on=starts_on, agency=plan.agency)
    if limit_per_inspector is not None and (not isinstance(limit_per_inspector, int) or limit_per_inspector < 1):
        reject("limit_per_inspector", "每名执法人员的检查对象上限应为正整数，或留空表示不设上限。", "invalid")
    if not starts_on or not ends_on or ends_on < starts_on:
        reject("ends_on", "检查结束日期不得早于开始日期。", "date_order")
    if starts_on.year != plan.year:
        reject("starts_on", f"批次应在计划年度 {plan.year} 年内开始。", "outside_year")
    text = (title or "").strip()
    if not text or len(text) > 200:
        reject("title", "批次名称不能为空，且不超过 200 个字符。", "required")
    joint = _joint_agencies(plan.agency, joint_agencies)
    batch = InspectionBatch.objects.create(
        plan=plan, title=text, item_code=item.code, item_name=item.name, scope_region=scope_region,
        scope_industry=(scope_industry or "").strip()[:64], scope_label=(scope_label or "").strip()[:64],
        ratios=_ratios(ratios), inspectors_per_object=inspectors_per_object,
        limit_per_inspector=limit_per_inspector, starts_on=starts_on, ends_on=ends_on)
    batch.joint_agencies.set(joint)
    append_audit(actor=actor, action="inspections.batch_added", obj=batch, payload={
        "plan": plan.pk, "item": item.code, "region": scope_region.code, "ratios": batch.ratios,
        "k": inspectors_per_object, "limit": limit_per_inspector, "joint": [a.credit_code for a in joint],
        "from": starts_on.isoformat(), "until": ends_on.isoformat()})
    return batch


@transaction.atomic
def submit_plan(*, actor, plan: InspectionPlan) -> InspectionPlan:
    plan = InspectionPlan.objects.select_for_update(of=("self",)).select_related("agency").get(pk=plan.pk)
    _check(predicates.can_organise_inspections(actor, plan.agency))
    if plan.status not in (PlanStatus.DRAFT, PlanStatus.RETURNED):
        reject("plan", "计划已报送。", "already_submitted")
    if not plan.batches.exists():
        reject("plan", "计划至少须有一个抽查批次。", "no_batches")
    plan.status, plan.submitted_at, plan.return_reason = PlanStatus.SUBMITTED, clock.now(), ""
    plan.save(update_fields=["status", "submitted_at", "return_reason"])
    append_audit(actor=actor, action="inspections.plan_submitted", obj=plan, payload={})
    return plan


@transaction.atomic
def decide_plan(*, actor, plan: InspectionPlan, accept: bool, reason: str = "") -> InspectionPlan:
    """The agency's legal office files the plan (备案) or returns it with
    reasons — the same office and rule as a catalogue version's filing."""
    plan = InspectionPlan.objects.select_for_update(of=("self",)).select_related("agency__region").get(pk=plan.pk)
    _check(can_decide_filing(actor, plan.agency))
    if plan.status != PlanStatus.SUBMITTED:
        reject("plan", "只有已报送的计划可以备案或退回。", "not_submitted")
    text = (reason or "").strip()
    if not accept and not text:
        reject("reason", "退回须说明理由。", "required")
    plan.status = PlanStatus.FILED if accept else PlanStatus.RETURNED
    plan.decided_at, plan.decided_by, plan.return_reason = clock.now(), _actor_name(actor), "" if accept else text[:500]
    plan.save(update_fields=["status", "decided_at", "decided_by", "return_reason"])
    append_audit(actor=actor, action="inspections.plan_filed" if accept else "inspections.plan_returned", obj=plan,
                 payload={"reason": plan.return_reason})
    return plan


# --- inspections on the record (issue 14 item 4) and their results (公示-15) -------------


def _create_inspections(draw: Draw) -> list[Inspection]:
    """Each selected object becomes an inspection for its drawn inspectors
    (in the draw's transaction): the task on their to-do list."""
    agency = draw.batch.plan.agency
    numbers = {n for row in draw.result for n in row["inspectors"]}
    officers = {o.certificate_number: o for o in Officer.objects.filter(certificate_number__in=numbers)}
    objects = {str(o.pk): o for o in InspectionObject.objects.filter(pk__in=[int(r["object"]) for r in draw.result])}
    made = []
    for row in draw.result:
        inspection = Inspection.objects.create(draw=draw, object=objects[row["object"]], agency=agency,
                                               inspectors=list(row["inspectors"]))
        inspection.officers.set([officers[n] for n in row["inspectors"] if n in officers])
        made.append(inspection)
    return made


def _party(obj: InspectionObject) -> dict:
    return {"party_name": obj.name, "party_credit_code": obj.credit_code,
            "party_type": PartyType.NATURAL_PERSON if obj.natural_person else PartyType.LEGAL_PERSON}


def _own_officers(inspection: Inspection) -> list[Officer]:
    """The inspectors of the inspection's agency (a joint batch's other
    agencies' inspectors take part and are named, their own agency's cases
    are theirs)."""
    team = [o for o in inspection.officers.all() if o.agency_id == inspection.agency_id]
    order = {n: i for i, n in enumerate(inspection.inspectors)}
    return sorted(team, key=lambda o: order.get(o.certificate_number, 99))


@transaction.atomic
def start_inspection(*, actor, inspection: Inspection):
    """Open the inspection case (行政检查, the cases app's process with its
    whole-process recording) for the drawn object and inspectors."""
    inspection = Inspection.objects.select_for_update(of=("self",)).select_related("object", "draw__batch", "agency").get(pk=inspection.pk)
    _check(can_handle(actor, inspection.agency_id))
    if inspection.case_id:
        reject("inspection", "该检查任务已开始。", "already_started")
    team = _own_officers(inspection)
    if not team:
        reject("inspection", "抽中的检查人员中没有本部门的执法人员，无法开始检查。", "no_inspectors")
    case = open_case(actor=actor, agency=inspection.agency, act_kind=ActKind.INSPECTION, procedure=Procedure.GENERAL,
                     title=f"{inspection.draw.batch.item_name}（双随机抽查）", officers=team, lead=team[0],
                     **_party(inspection.object))
    Inspection.objects.filter(pk=inspection.pk).update(case=case)
    append_audit(actor=actor, action="inspections.started", obj=inspection, payload={"case": case.pk})
    inspection.case = case
    return inspection


def publication_deadline(*, start, agency: Agency) -> RuleDeadline | None:
    """The latest day for a result to be public (公示-15): the dated limit
    random_inspection.result_publication_limit counted from ``start``, or
    None where no value of it applies to the agency's region — the limit is
    local practice (Hebei's 20 working days), there is no national value, so
    elsewhere a result has no due date (and is never overdue) until the
    region's value is added to the rules (docs/random-inspection.md)."""
    try:
        return deadline_for(rule=PUBLICATION_RULE, start=start, agency=agency)
    except RuleNotFound:
        return None


@transaction.atomic
def record_result(*, actor, inspection: Inspection, result: str, inspected_on, note: str = "") -> Inspection:
    """The result of the inspection, published at once on the portal
    (redacted; 公示-15) — its due date, from the dated limit counted from
    the inspection day, is kept to show it was met. A problem referred
    opens a penalty case linked to the inspection."""
    inspection = (Inspection.objects.select_for_update(of=("self",)).select_related("object", "agency", "draw__batch", "case")
                  .get(pk=inspection.pk))
    _check(can_handle(actor, inspection.agency_id))
    if inspection.result:
        reject("result", "该检查结果已登记。", "already_recorded")
    if result not in InspectionResult.values:
        reject("result", f"检查结果应为：{'、'.join(str(label) for label in InspectionResult.labels)}。", "invalid")
    today = clock.today()
    if inspected_on is None:
        reject("inspected_on", "请填写检查日期。", "required")
    if inspected_on > today:
        reject("inspected_on", "检查日期不能晚于今天。", "future")
    if inspection.draw.drawn_at and inspected_on < clock.local_date(inspection.draw.drawn_at):
        reject("inspected_on", "检查日期不能早于抽取日期。", "before_draw")
    try:
        text = normalise(note or "", kind=TEXT).text
    except TextError as exc:
        reject("note", exc.message, exc.code)
    if result in (InspectionResult.CORRECTED, InspectionResult.REFERRED) and not text:
        reject("note", "发现问题的，须写明发现的问题及处理情况。", "required")
    if len(text) > 2000:
        reject("note", "检查情况不能超过 2000 个字符。", "too_long")
    obj = inspection.object
    if obj.natural_person:
        public = redact_text(text, known_names=[obj.name]).text if text else ""
    else:  # a business's name and premises are public; people named in the note are not
        public = redact_text(text, keep=[obj.name], address_mode="residence").text if text else ""
    due = publication_deadline(start=inspected_on, agency=inspection.agency)
    referred = None
    if result == InspectionResult.REFERRED:
        team = _own_officers(inspection)
        if not team:
            reject("result", "抽中的检查人员中没有本部门的执法人员，无法移交立案。", "no_inspectors")
        referred = open_case(actor=actor, agency=inspection.agency, act_kind=ActKind.PENALTY, procedure=Procedure.GENERAL,
                             title=f"{obj.name}涉嫌违法（双随机抽查发现）", officers=team, lead=team[0], **_party(obj))
    now = clock.now()
    Inspection.objects.filter(pk=inspection.pk).update(
        result=result, inspected_on=inspected_on, public_note=public, referred_case=referred,
        publication_due=due.date if due else None, publication_due_provisional=bool(due and due.provisional), published_at=now,
        recorded_by=_actor_name(actor))
    inspection.refresh_from_db()
    append_audit(actor=actor, action="inspections.result", obj=inspection, payload={
        "result": result, "inspected_on": inspected_on.isoformat(), "public_note": public,
        "publication_due": due.date.isoformat() if due else None, "referred_case": referred.pk if referred else None})
    return inspection


# --- the directory as a file, and its upkeep (检查对象名录库: import, tier and labels) ---

import time  # noqa: E402

from django.db import IntegrityError  # noqa: E402
from django.db.models import Q  # noqa: E402

from . import imports as object_imports  # noqa: E402  (reads and writes files only; needs nothing of this module)

IMPORT_CHUNK = 1000
UPDATABLE = ("name", "legal_representative", "address", "industry", "region_id", "risk_tier", "labels")


def _identity(values: dict):
    return ("credit_code", values["credit_code"]) if values["credit_code"] else ("id_number", values["id_hash"])


def import_objects(*, actor, data: bytes, filename: str, progress=None) -> object_imports.ImportResult:
    """Import an XLSX or CSV file into the directory (docs/random-inspection.md,
    "The directory"). Every row is checked as ``add_object`` checks one
    object; a refused row is reported (row number, field, Chinese message)
    and nothing of it is written. A row whose credit code or ID number is
    already in the directory updates that object (name, representative,
    address, industry, region, tier — kept when the cell is empty — and
    labels): the directory is maintained by re-importing it. Rows of one
    file with the same code or number are all refused, each naming the
    others. The good rows are written in chunks (one look-up, one insert and
    one update per chunk) and audited per chunk, all in one transaction.
    ``progress(done, total)`` is called after each chunk."""
    t0 = time.perf_counter()
    _check(predicates.can_maintain_directory(actor))
    rows = object_imports.read_rows(data, filename)
    result = object_imports.ImportResult(filename=(filename or "")[:200], rows=len(rows))
    codes = {raw.get("region", "").strip() for _, raw in rows}
    regions = {r.code: r for r in Region.objects.filter(code__in=[c for c in codes if c and len(c) <= 12])}
    good: list[tuple[int, dict, dict]] = []
    holders: dict[tuple, list[int]] = {}
    for number, raw in rows:
        values, errors = clean_object_fields(raw, regions=regions)
        if errors:
            name = object_imports.who(raw)
            result.refused.extend(object_imports.RowRefusal(number, f, c, m, name) for f, c, m in errors)
            continue
        good.append((number, raw, values))
        holders.setdefault(_identity(values), []).append(number)
    twice = {key: numbers for key, numbers in holders.items() if len(numbers) > 1}
    if twice:
        kept = []
        for number, raw, values in good:
            key = _identity(values)
            if key not in twice:
                kept.append((number, raw, values))
                continue
            others = "、".join(str(n) for n in twice[key] if n != number)
            label = "统一社会信用代码" if key[0] == "credit_code" else "身份证号"
            result.refused.append(object_imports.RowRefusal(
                number, key[0], "duplicate_in_file",
                f"与第 {others} 行的{label}相同：同一文件中每个对象只能出现一次，这几行均未导入。",
                object_imports.who(raw)))
        good = kept
    result.refused.sort(key=lambda r: r.row)
    try:
        with transaction.atomic():
            for start in range(0, len(good), IMPORT_CHUNK):
                _import_chunk(actor, good[start:start + IMPORT_CHUNK], result, filename)
                if progress is not None:
                    progress(min(start + IMPORT_CHUNK, len(good)), len(good))
    except IntegrityError:
        # Another import or API call added one of these codes between our
        # look-up and our insert: nothing of this file was written.
        reject("file", "导入时名录库被同时修改（另一导入或接口写入了相同的对象），本文件未导入任何行，请重新导入。",
               "concurrent_change")
    result.seconds = round(time.perf_counter() - t0, 3)
    return result


def _import_chunk(actor, chunk, result, filename: str) -> None:
    codes = [v["credit_code"] for _, _, v in chunk if v["credit_code"]]
    hashes = [v["id_hash"] for _, _, v in chunk if v["id_hash"]]
    held = {}
    for obj in InspectionObject.objects.filter(Q(credit_code__in=codes) | Q(id_hash__in=hashes)):
        held[("credit_code", obj.credit_code) if obj.credit_code else ("id_number", obj.id_hash)] = obj
    new, changed, updated = [], [], {}
    for number, raw, values in chunk:
        obj = held.get(_identity(values))
        if obj is None:
            new.append(InspectionObject(**values))
            continue
        wanted = {"name": values["name"], "legal_representative": values["legal_representative"],
                  "address": values["address"], "industry": values["industry"], "region_id": values["region"].pk,
                  "risk_tier": values["risk_tier"] if (raw.get("risk_tier") or "").strip() else obj.risk_tier,
                  "labels": values["labels"]}
        fields = [f for f in UPDATABLE if getattr(obj, f) != wanted[f]]
        if not fields:
            result.unchanged += 1
            continue
        for f in fields:
            setattr(obj, f, wanted[f])
        changed.append(obj)
        updated[str(obj.pk)] = fields
    if new:
        InspectionObject.objects.bulk_create(new, batch_size=IMPORT_CHUNK)
    if changed:
        InspectionObject.objects.bulk_update(changed, UPDATABLE, batch_size=IMPORT_CHUNK)
    result.created += len(new)
    result.updated += len(changed)
    if new or changed:
        append_audit(actor=actor, action="inspections.objects_imported", object_type="inspections.inspectionobject",
                     payload={"file": (filename or "")[:200], "rows": [chunk[0][0], chunk[-1][0]],
                              "created": [o.pk for o in new], "updated": updated})


@transaction.atomic
def update_object(*, actor, obj: InspectionObject, risk_tier: str | None = None, labels=None) -> InspectionObject:
    """Change an object's credit-risk tier and/or its labels (the API's
    PATCH); labels as a list or a text separated by "；"."""
    _check(predicates.can_maintain_directory(actor))
    row = InspectionObject.objects.select_for_update().get(pk=obj.pk)
    changes = {}
    if risk_tier is not None:
        tier = str(risk_tier).strip().upper()
        if tier not in RiskTier.values:
            reject("risk_tier", "信用风险分类应为 A、B、C、D 之一。", "invalid")
        changes["risk_tier"] = tier
    if labels is not None:
        text = "；".join(str(x) for x in labels) if isinstance(labels, (list, tuple)) else str(labels)
        values, errors = clean_object_fields({"labels": text}, regions={})
        problem = next((e for e in errors if e[0] == "labels"), None)
        if problem:
            reject("labels", problem[2], problem[1])
        changes["labels"] = values["labels"]
    changes = {k: v for k, v in changes.items() if getattr(row, k) != v}
    if changes:
        before = {k: getattr(row, k) for k in changes}
        for k, v in changes.items():
            setattr(row, k, v)
        row.save(update_fields=list(changes))
        append_audit(actor=actor, action="inspections.object_updated", obj=row,
                     payload={"before": before, "after": changes})
    return row
