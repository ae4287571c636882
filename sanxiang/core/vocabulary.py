"""The platform's shared vocabulary, defined once (domain.md section 2).

Every app imports these instead of keeping its own copy: the kinds of
enforcement act, the types of party and which of them are natural persons,
the roles and the named groups of roles that hold a power together. Model
fields take their ``choices`` from here, forms their options, intake its
validation, redaction its natural-person test and the 双公示 exchange its
column values. Where one app narrows a list (a case needs a process
definition for its act kind; the 双公示 files carry penalties and licences
only), it narrows this one, never redefines it.

Plain Python and Django enums only: no model, no query, importable from any
app (and from migrations, which must not depend on it: they keep literal
choices).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

# --- kinds of enforcement act (执法行为类别) -----------------------------------


class ActKind(models.TextChoices):
    """执法行为类别 of an enforcement item, a case, a decision (domain.md
    section 2): the six acts every officer's certificate names, and the
    other administrative powers of the enforcement item lists."""

    LICENSE = "license", _("licensing (许可)")
    PENALTY = "penalty", _("penalty (处罚)")
    COERCION = "coercion", _("coercion (强制)")
    LEVY = "levy", _("levy (征收)")
    FEE = "fee", _("fee (收费)")
    INSPECTION = "inspection", _("inspection (检查)")
    CONFIRMATION = "confirmation", _("confirmation (确认)")
    PAYMENT = "payment", _("payment (给付)")
    ADJUDICATION = "adjudication", _("adjudication (裁决)")
    OTHER = "other", _("other (其他)")


# The Chinese names the item-list spreadsheets and 双公示 file names use.
ACT_KIND_NAMES = {
    ActKind.LICENSE: "行政许可", ActKind.PENALTY: "行政处罚", ActKind.COERCION: "行政强制", ActKind.LEVY: "行政征收",
    ActKind.FEE: "行政收费", ActKind.INSPECTION: "行政检查", ActKind.CONFIRMATION: "行政确认", ActKind.PAYMENT: "行政给付",
    ActKind.ADJUDICATION: "行政裁决", ActKind.OTHER: "其他行政权力",
}

# 执法类别 printed on an officer's certificate (执法证): the act kinds an
# officer may carry out, a subset of ActKind with the same values and labels.
CERTIFICATE_KINDS = (ActKind.LICENSE, ActKind.PENALTY, ActKind.COERCION, ActKind.LEVY, ActKind.FEE, ActKind.INSPECTION)
EnforcementCategory = models.TextChoices(
    "EnforcementCategory", [(k.name, (k.value, k.label)) for k in CERTIFICATE_KINDS])
EnforcementCategory.__doc__ = "执法类别 printed on a certificate: the act kinds an officer may carry out."

# The kinds the 双公示 standard has a layout for (行政许可 and 行政处罚).
EXCHANGE_KINDS = (ActKind.PENALTY, ActKind.LICENSE)


# --- types of party (行政相对人类别) -------------------------------------------


class PartyType(models.TextChoices):
    NATURAL_PERSON = "natural_person", _("natural person")  # 自然人
    LEGAL_PERSON = "legal_person", _("legal person or other organisation")  # 法人及非法人组织
    INDIVIDUAL_BUSINESS = "individual_business", _("individual business")  # 个体工商户


# 行政相对人类别 as the 双公示 standard writes it.
PARTY_TYPE_NAMES = {
    PartyType.LEGAL_PERSON: "法人及非法人组织",
    PartyType.NATURAL_PERSON: "自然人",
    PartyType.INDIVIDUAL_BUSINESS: "个体工商户",
}
PARTY_TYPE_BY_NAME = {name: str(code) for code, name in PARTY_TYPE_NAMES.items()}

# Natural persons: their name is masked, their ID number never published,
# their age read from it (minors are not published).
NATURAL_PERSON_TYPES = frozenset({PartyType.NATURAL_PERSON})
# 公民 for the penalty law's thresholds (art. 51 summary fines and the
# review catalogue's amounts): natural persons and individual businesses
# (a natural person carrying on business, 民法典 art. 54).
CITIZEN_PARTY_TYPES = frozenset({PartyType.NATURAL_PERSON, PartyType.INDIVIDUAL_BUSINESS})
# Registered parties that carry a 统一社会信用代码 (the 双公示 placeholder
# stands in where it is missing).
REGISTERED_PARTY_TYPES = frozenset({PartyType.LEGAL_PERSON, PartyType.INDIVIDUAL_BUSINESS})


def is_natural_person(party_type) -> bool:
    """The party type (code, or the 双公示 name 自然人) is a natural person."""
    value = str(party_type or "").strip()
    return PARTY_TYPE_BY_NAME.get(value, value) in NATURAL_PERSON_TYPES


def is_citizen(party_type) -> bool:
    """The party counts as 公民 for the penalty law's thresholds."""
    value = str(party_type or "").strip()
    return PARTY_TYPE_BY_NAME.get(value, value) in CITIZEN_PARTY_TYPES


# --- kinds of administrative penalty (行政处罚种类) -------------------------------


class PenaltyCategory(models.TextChoices):
    """The kinds of administrative penalty (penalty law art. 9), lightest to
    heaviest (domain.md section 5); statistics count a case once, under its
    heaviest category. A case proposes them (cases), a decision publishes
    them (publicity)."""

    WARNING = "警告", _("warning")
    CIRCULATED_CRITICISM = "通报批评", _("circulated criticism")
    FINE = "罚款", _("fine")
    CONFISCATION = "没收违法所得、没收非法财物", _("confiscation")
    LICENCE_SUSPENSION = "暂扣许可证件", _("licence suspension")
    QUALIFICATION_DOWNGRADE = "降低资质等级", _("qualification downgrade")
    LICENCE_REVOCATION = "吊销许可证件", _("licence revocation")
    RESTRICT_BUSINESS = "限制开展生产经营活动", _("restriction of business activities")
    SUSPEND_BUSINESS = "责令停产停业", _("suspension of production or business")
    CLOSURE = "责令关闭", _("closure")
    RESTRICT_EMPLOYMENT = "限制从业", _("restriction of employment")
    DETENTION = "行政拘留", _("administrative detention")
    OTHER = "其他", _("other")


PENALTY_SEVERITY = {c.value: i for i, c in enumerate(PenaltyCategory)}


# --- roles and the groups that hold a power together ---------------------------


class Role(models.TextChoices):
    OFFICER = "officer", _("enforcement officer")
    LEGAL_REVIEWER = "legal_reviewer", _("legal reviewer")
    AGENCY_HEAD = "agency_head", _("agency head")
    PUBLICITY_ADMIN = "publicity_admin", _("agency publicity administrator")
    LEGAL_SUPERVISOR = "legal_supervisor", _("legal-office supervisor")
    SYSADMIN = "sysadmin", _("system administrator")
    API_CLIENT = "api_client", _("API client")


# Roles whose scope is one agency; the others are scoped by region (legal
# office) or see everything (system administrator).
AGENCY_ROLES = frozenset({Role.OFFICER, Role.LEGAL_REVIEWER, Role.AGENCY_HEAD, Role.PUBLICITY_ADMIN, Role.API_CLIENT})
# Roles that must give a TOTP code at login.
TOTP_ROLES = frozenset({Role.LEGAL_SUPERVISOR, Role.SYSADMIN})
# The case unit (承办机构): who opens and handles the agency's cases, by page
# or through the agency's API clients.
CASE_HANDLERS = frozenset({Role.OFFICER, Role.AGENCY_HEAD, Role.API_CLIENT})
# Case handlers not bound to their assignment (承办人员): the agency's head
# and its authorised systems act in any case of the agency.
AGENCY_WIDE_HANDLERS = CASE_HANDLERS - {Role.OFFICER}
# The agency's publicity work: publishing, correcting and withdrawing
# decisions, 双公示 files, early-end applications, and the 事前公开 lists.
PUBLICITY_MANAGERS = frozenset({Role.PUBLICITY_ADMIN, Role.AGENCY_HEAD})
# Who takes part in random inspection draws (双随机一公开): an agency's
# publicity managers (who also organise them) and a legal office's
# supervisors, each for their own agency.
INSPECTION_ROLES = PUBLICITY_MANAGERS | {Role.LEGAL_SUPERVISOR}
# The agency's legal-review office (法制审核机构) and its head: assign
# reviewers, write opinions, compile the review catalogue.
REVIEW_OFFICE = frozenset({Role.LEGAL_REVIEWER, Role.AGENCY_HEAD})
# Evidence holds, deletion and restoration; fixity alerts.
EVIDENCE_MANAGERS = frozenset({Role.AGENCY_HEAD, Role.LEGAL_SUPERVISOR, Role.SYSADMIN})
# Rebuilding a closed case's e-case file (电子案卷): its agency's officers and head.
ARCHIVE_BUILDERS = frozenset({Role.OFFICER, Role.AGENCY_HEAD})
# Who sees the publicity and legal-review work areas in the navigation.
PUBLICITY_READERS = PUBLICITY_MANAGERS | {Role.LEGAL_SUPERVISOR, Role.SYSADMIN}
REVIEW_READERS = REVIEW_OFFICE | {Role.LEGAL_SUPERVISOR, Role.SYSADMIN}
# Who carries the 2017 task table's tasks for a unit (三项制度任务, measures
# app): an agency's publicity managers and legal-review office, a legal
# office's supervisors.
TASK_TABLE_ROLES = PUBLICITY_MANAGERS | REVIEW_OFFICE | {Role.LEGAL_SUPERVISOR}
