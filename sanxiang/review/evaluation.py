"""Pure evaluation: which catalogue rules and which art. 58 / art. 57
grounds a case matches (目录清单 + 《行政处罚法》第五十七条、第五十八条).

Nothing here writes. ``evaluate`` reads the case, its flags (CaseReview)
and the review catalogue in force (a catalogue kind of the catalog app)
and answers an ``Evaluation``: review required?, every matching rule with
its citation, collective discussion required? Pages, the API, the
predicates and the save-time guards call it; ``services.record_evaluation``
records it when a write changed its inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sanxiang.catalog import selectors as catalog_selectors
from sanxiang.catalog.models import CatalogueKind, CatalogueVersion, ReviewRule
from sanxiang.core.vocabulary import CITIZEN_PARTY_TYPES
from sanxiang.core import clock
from sanxiang.rules import RuleNotFound, get_rule

from .models import CaseReview

PENALTY_LAW = "《中华人民共和国行政处罚法》"
ART58 = f"{PENALTY_LAW}第五十八条"
ART57_2 = f"{PENALTY_LAW}第五十七条第二款"
ART58_ITEMS = {
    1: ("涉及重大公共利益", f"{ART58}第一款第（一）项"),
    2: ("直接关系当事人或者第三人重大权益，经过听证程序", f"{ART58}第一款第（二）项"),
    3: ("案件情况疑难复杂、涉及多个法律关系", f"{ART58}第一款第（三）项"),
    4: ("法律、法规规定应当进行法制审核", f"{ART58}第一款第（四）项"),
}
# 公民 for the catalogue's amounts: core.vocabulary.CITIZEN_PARTY_TYPES (as the art. 51 limits).


def _yuan(fen: int | None) -> str:
    if fen is None:
        return "0"
    return f"{Decimal(fen) / 100:,.2f}".rstrip("0").rstrip(".")



def proposal_of(case) -> dict:
    """The proposed decision as reviewed (拟作出的处理决定): what a passing
    review or a resolution covers. Any change needs a new review."""
    return {"categories": sorted(case.proposed_penalty_categories or []), "fine_fen": case.proposed_fine_fen,
            "confiscation_fen": case.proposed_confiscation_fen}


def describe_proposal(proposal: dict) -> str:
    parts = []
    for c in proposal.get("categories") or []:
        if c == "罚款" and proposal.get("fine_fen"):
            parts.append(f"罚款{_yuan(proposal['fine_fen'])}元")
        elif c.startswith("没收") and proposal.get("confiscation_fen"):
            parts.append(f"{c}{_yuan(proposal['confiscation_fen'])}元")
        else:
            parts.append(c)
    if proposal.get("fine_fen") and "罚款" not in (proposal.get("categories") or []):
        parts.append(f"罚款{_yuan(proposal['fine_fen'])}元")
    return "、".join(parts) or "（未记录拟处理决定）"


@dataclass(frozen=True)
class Match:
    rule: str  # what matched, in words
    citation: str  # where the rule comes from


@dataclass
class Evaluation:
    required: bool
    matches: list[Match] = field(default_factory=list)
    discussion_required: bool = False
    discussion_reasons: list[Match] = field(default_factory=list)
    catalogue_version: CatalogueVersion | None = None

    def reason_text(self) -> str:
        return "；".join(f"{m.rule}（{m.citation}）" for m in self.matches)



def hearing_held(case) -> bool:
    if case.hearing_on is not None:
        return True
    if case.pk is None:
        return False
    return case.steps.filter(code="hearing", status="completed").exists()



def catalogue_in_force(agency, *, on: date) -> CatalogueVersion | None:
    """The agency's accepted review catalogue in force on a day (the
    catalog app's one rule: latest effective date on or before the day)."""
    return catalog_selectors.version_in_force(agency=agency, kind=CatalogueKind.REVIEW_CATALOGUE, on=on)


def _rule_matches(rule: ReviewRule, case, flags: CaseReview, hearing: bool) -> list[str]:
    """The triggers of `rule` that hold for the case (empty: no match)."""
    if rule.act_kinds and case.act_kind not in rule.act_kinds:
        return []
    if rule.domain and rule.domain != flags.domain:
        return []
    citizen = case.party_type in CITIZEN_PARTY_TYPES
    fine, confiscation = case.proposed_fine_fen or 0, case.proposed_confiscation_fen or 0
    triggers, found = 0, []
    categories = set(case.proposed_penalty_categories or [])
    if rule.penalty_categories:
        triggers += 1
        hit = [c for c in rule.penalty_categories if c in categories]
        if hit:
            found.append(f"拟给予{'、'.join(hit)}")
    fine_limit = rule.fine_citizen_fen if citizen else rule.fine_organisation_fen
    who = "公民" if citizen else "法人或者其他组织"
    if rule.fine_citizen_fen is not None or rule.fine_organisation_fen is not None:
        triggers += 1
        if fine_limit is not None and fine and fine >= fine_limit:
            found.append(f"对{who}拟罚款{_yuan(fine)}元，达到{_yuan(fine_limit)}元")
    conf_limit = rule.confiscation_citizen_fen if citizen else rule.confiscation_organisation_fen
    if rule.confiscation_citizen_fen is not None or rule.confiscation_organisation_fen is not None:
        triggers += 1
        if conf_limit is not None and confiscation and confiscation >= conf_limit:
            found.append(f"对{who}拟没收{_yuan(confiscation)}元，达到{_yuan(conf_limit)}元")
    for attr, label in (("hearing_held", "经过听证程序"), ("major_public_interest", "涉及重大公共利益"),
                        ("complex", "案情疑难复杂、涉及多个法律关系"), ("social_impact", "社会影响重大"),
                        ("outside_benchmark", "超出裁量基准")):
        if getattr(rule, attr):
            triggers += 1
            held = hearing if attr == "hearing_held" else getattr(flags, attr)
            if held:
                found.append(label)
    if triggers == 0:
        found.append("属于本项范围")
    return found



def _default_rules(case, *, on: date) -> list[Match]:
    """Without a filed catalogue in force, the platform's dated default
    thresholds apply (legal_review.catalogue_fine_threshold_*)."""
    if case.act_kind != "penalty" or not case.proposed_fine_fen:
        return []
    citizen = case.party_type in CITIZEN_PARTY_TYPES
    name = "legal_review.catalogue_fine_threshold_citizen" if citizen else "legal_review.catalogue_fine_threshold_organisation"
    try:
        rule = get_rule(name, on=on, agency=case.agency)
    except RuleNotFound:
        return []
    limit = int((Decimal(str(rule.value)) * 100).to_integral_value())
    if case.proposed_fine_fen >= limit:
        who = "公民" if citizen else "法人或者其他组织"
        return [Match(f"对{who}拟罚款{_yuan(case.proposed_fine_fen)}元，达到{_yuan(limit)}元（本部门未备案目录清单，适用平台默认标准）",
                      rule.reference)]
    return []



def evaluate(case, *, on: date | None = None) -> Evaluation:
    """Pure: whether the case needs legal review, every matching rule with
    its citation, and whether collective discussion is required."""
    on = on or clock.today()
    flags = (CaseReview.objects.filter(case=case).first() if case.pk else None) or CaseReview()
    matches: list[Match] = []
    hearing = hearing_held(case)
    # The statutory triggers of art. 58 always apply, whatever the catalogue.
    if flags.major_public_interest:
        matches.append(Match(ART58_ITEMS[1][0], ART58_ITEMS[1][1]))
    if hearing:
        matches.append(Match(ART58_ITEMS[2][0], ART58_ITEMS[2][1]))
    if flags.complex:
        matches.append(Match(ART58_ITEMS[3][0], ART58_ITEMS[3][1]))
    if flags.required_by_law.strip():
        matches.append(Match(ART58_ITEMS[4][0], f"{ART58_ITEMS[4][1]}；{flags.required_by_law.strip()}"))
    version = catalogue_in_force(case.agency, on=on)
    if version is None:
        matches.extend(_default_rules(case, on=on))
    else:
        name = f"{case.agency.name}法制审核目录清单（第{version.number}版，{version.effective_date:%Y年%m月%d日}起施行）"
        if version.all_non_summary and case.procedure != "summary":
            matches.append(Match("本部门对法定简易程序以外的所有执法决定进行法制审核", f"{name}（审核-7）"))
        for rule in version.items():
            found = _rule_matches(rule, case, flags, hearing)
            if found:
                basis = f"；{rule.citation}" if rule.citation else ""
                matches.append(Match(f"{'，'.join(found)}", f"{name}第{rule.position}项「{rule.title}」{basis}"))
    reasons = []
    if flags.complex:
        reasons.append(Match("情节复杂", ART57_2))
    if flags.serious:
        reasons.append(Match("重大违法行为给予行政处罚", ART57_2))
    return Evaluation(required=bool(matches), matches=matches, discussion_required=bool(reasons),
                      discussion_reasons=reasons, catalogue_version=version)

