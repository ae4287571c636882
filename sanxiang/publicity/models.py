"""Publicity of enforcement decisions (行政执法公示, seed 公示-14 … 公示-19).

Two sides, kept apart on purpose (design.md, "Privacy by default"):
- the private record (`Decision` and its `DecisionVersion`s) keeps what the
  case system sent, personal data included, for the agency and its legal
  office;
- the public side (`PublicDecision`, `PublicVersion`, `WithdrawalNotice`)
  holds only redacted copies, and is all the portal and search ever read.
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager

from django.db import models
from django.utils.translation import gettext_lazy as _

from sanxiang.core.vocabulary import PENALTY_SEVERITY, ActKind, PartyType, PenaltyCategory

from .redaction import check_public_row, loaded_fingerprints


class DecisionStatus(models.TextChoices):
    PENDING = "pending", _("awaiting pre-publication check")  # received, not yet public
    PUBLISHED = "published", _("published")  # on the portal now
    NOT_PUBLIC = "not_public", _("not to be published")  # minor, secret or privacy (art. 50)
    WITHDRAWN = "withdrawn", _("withdrawn")  # decision changed/revoked/illegal/void: notice only
    EXPIRED = "expired", _("publicity period ended")  # left the portal at its 公示截止期
    STOPPED = "stopped", _("publicity ended early (credit repair)")


class Decision(models.Model):
    """The private record of one enforcement decision, keyed by
    (agency, external id): a second push of the same key is a correction."""

    agency = models.ForeignKey("core.Agency", on_delete=models.PROTECT, related_name="decisions", verbose_name=_("agency"))
    external_id = models.CharField(_("external id"), max_length=64)
    kind = models.CharField(_("act kind"), max_length=16, choices=ActKind.choices)
    status = models.CharField(_("status"), max_length=16, choices=DecisionStatus.choices, default=DecisionStatus.PENDING)
    version = models.PositiveIntegerField(_("current version"), default=1)
    # The current version's normalised fields (see intake.py); personal data included.
    data = models.JSONField(_("record"))
    doc_number = models.CharField(_("document number"), max_length=128, db_index=True)
    party_name = models.CharField(_("party"), max_length=255)
    party_type = models.CharField(_("party type"), max_length=24, choices=PartyType.choices)
    decision_date = models.DateField(_("decision date"), db_index=True)
    not_public_reason = models.CharField(_("reason not published"), max_length=255, blank=True)
    publication_due = models.DateField(_("publication due"), null=True, blank=True, db_index=True)
    publication_due_provisional = models.BooleanField(default=False, verbose_name=_("publication due date provisional"))
    publication_rule = models.CharField(max_length=255, blank=True, help_text=_("the rule and reference that set the due date"), verbose_name=_("publication rule"))
    publicity_end = models.DateField(_("publicity end date"), null=True, blank=True, db_index=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    published_at = models.DateTimeField(_("first published at"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawal_due = models.DateField(_("withdrawal due"), null=True, blank=True)
    # the day the decision changed (the withdrawal period counts from it) and
    # whether the due date looked at a year without an official schedule
    withdrawal_changed_on = models.DateField(null=True, blank=True, verbose_name=_("withdrawal date changed on"))
    withdrawal_due_provisional = models.BooleanField(default=False, verbose_name=_("withdrawal due date provisional"))
    # The platform case this record was derived from (公示-14: a decided
    # case reaches publicity by itself, case_sync.py); null for records
    # pushed by a case system or imported from a 双公示 file.
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="publicity_decisions", verbose_name=_("case"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency", "external_id"], name="decision_unique_per_agency"),
                       models.UniqueConstraint(fields=["case"], condition=models.Q(case__isnull=False),
                                               name="decision_one_per_case")]
        # (agency, doc_number): every push checks its 文号 against the
        # agency's namespace (core.doc_numbers); SQLite, without statistics,
        # otherwise walked all of the agency's decisions for it (the docking
        # bench's county: a push's cost grew with every record stored).
        indexes = [models.Index(fields=["agency", "status", "publication_due"]),
                   models.Index(fields=["agency", "doc_number"], name="decision_agency_number")]
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")

    def __str__(self):
        return f"{self.doc_number} ({self.party_name})"


class DecisionVersion(models.Model):
    """Every version received or corrected, kept whole (private)."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="versions", verbose_name=_("decision"))
    number = models.PositiveIntegerField(verbose_name=_("version number"))
    data = models.JSONField(verbose_name=_("stored data"))
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    source = models.CharField(max_length=16, help_text=_("push API, file import or this platform"), verbose_name=_("arrived through"))
    actor = models.CharField(max_length=150, verbose_name=_("actor"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    # How a version arrived, as a page names it (the field keeps the code).
    SOURCE_LABELS = {
        "api": _("pushed by a case system"), "import": _("imported from a 双公示 file"),
        "web": _("changed on this platform"), "case": _("from a case on this platform"),
        "docking": _("sent by a lower platform"),
    }

    @property
    def source_label(self) -> str:
        return str(self.SOURCE_LABELS.get(self.source, self.source))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["decision", "number"], name="decision_version_unique")]
        ordering = ["decision", "number"]
        verbose_name = _("decision version")
        verbose_name_plural = _("decision versions")


class PublicitySettings(models.Model):
    """An agency's publicity choices."""

    agency = models.OneToOneField("core.Agency", on_delete=models.CASCADE, related_name="publicity_settings", verbose_name=_("agency"))
    auto_publish = models.BooleanField(_("publish automatically after the automatic check"), default=False)
    name_rule = models.CharField(_("name masking rule"), max_length=32, default="surname_mouxx")

    class Meta:
        verbose_name = _("publicity settings")
        verbose_name_plural = _("publicity settings")


_DISPLAY_ONLY = contextvars.ContextVar("public_rows_display_only", default=False)


@contextmanager
def display_only():
    """Public rows loaded inside are for display only (a portal page): the
    guard takes no fingerprint of their texts (encoding a row's stored data
    costs more than reading it), so those texts count as not read from the
    database and saving such a row raises UnredactedPublicText unless every
    text field was set again from redaction.public_copy."""
    token = _DISPLAY_ONLY.set(True)
    try:
        yield
    finally:
        _DISPLAY_ONLY.reset(token)


class PublicTextGuard(models.Model):
    """Public models: their text fields (redaction.PUBLIC_TEXT_FIELDS) are
    saved only with values made by redaction.public_copy, or as read from
    the database (not inside `display_only`); anything else raises
    redaction.UnredactedPublicText."""

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        # Display only: no fingerprints, so no loaded text may be saved back.
        instance._public_loaded = {} if _DISPLAY_ONLY.get() else loaded_fingerprints(instance, cls._meta.label)
        return instance

    def save(self, *args, **kwargs):
        check_public_row(self, self._meta.label, getattr(self, "_public_loaded", None))
        super().save(*args, **kwargs)
        self._public_loaded = loaded_fingerprints(self, self._meta.label)


class PublicDecision(PublicTextGuard):
    """The redacted public copy of a decision: the only thing the portal,
    the feeds and search read. One row per decision, updated by corrections."""

    decision = models.OneToOneField(Decision, on_delete=models.CASCADE, related_name="public", verbose_name=_("decision"))
    agency = models.ForeignKey("core.Agency", on_delete=models.PROTECT, related_name="+", verbose_name=_("agency"))
    region_path = models.CharField(max_length=255, db_index=True, verbose_name=_("region path"))  # the agency's region path, for subtree filters
    kind = models.CharField(max_length=16, choices=ActKind.choices, db_index=True, verbose_name=_("kind of decision"))
    version = models.PositiveIntegerField(verbose_name=_("version number"))
    doc_number = models.CharField(max_length=128, verbose_name=_("document number (文号)"))
    party_name = models.CharField(max_length=255, verbose_name=_("party name"))  # masked for natural persons
    title = models.CharField(max_length=255, verbose_name=_("title"))
    data = models.JSONField(verbose_name=_("stored data"))  # every public field, redacted
    main_category = models.CharField(max_length=32, blank=True, db_index=True, verbose_name=_("main category"))  # heaviest penalty category
    fine_fen = models.BigIntegerField(null=True, blank=True, verbose_name=_("fine (fen)"))
    decision_date = models.DateField(db_index=True, verbose_name=_("decision date"))
    published_at = models.DateTimeField(db_index=True, verbose_name=_("published at"))
    publicity_end = models.DateField(null=True, blank=True, verbose_name=_("publicity ends on"))
    visible = models.BooleanField(default=True, db_index=True, verbose_name=_("publicly visible"))
    # A decision received from a lower platform (docking, publicity/docked.py):
    # that platform's name as registered on this platform's trust list; blank
    # for a local record. On this row, not the private Decision, because the
    # portal's pages and search rows read only PublicDecision (with its
    # agency): naming the source then costs no join and no query per row.
    # Not free text of the record: set by receive_public_copy from the trust
    # list (redaction.PUBLIC_STRUCTURAL_FIELDS). db_default: the batch
    # publication inserts rows without naming it (services._insert_rows).
    received_from = models.CharField(max_length=255, blank=True, default="", db_default="",
                                     verbose_name=_("received from lower platform"))

    class Meta:
        indexes = [models.Index(fields=["visible", "-decision_date", "-id"])]
        verbose_name = _("public decision")
        verbose_name_plural = _("public decisions")


class PublicVersion(PublicTextGuard):
    """Public history: every published version with the correction reason."""

    public = models.ForeignKey(PublicDecision, on_delete=models.CASCADE, related_name="history", verbose_name=_("public decision"))
    number = models.PositiveIntegerField(verbose_name=_("version number"))
    data = models.JSONField(verbose_name=_("stored data"))
    reason = models.CharField(max_length=255, blank=True, verbose_name=_("reason"))
    published_at = models.DateTimeField(verbose_name=_("published at"))

    class Meta:
        ordering = ["public", "number"]
        verbose_name = _("public version")
        verbose_name_plural = _("public versions")


class WithdrawalGround(models.TextChoices):
    CHANGED = "changed", _("decision changed")
    REVOKED = "revoked", _("decision revoked")
    ILLEGAL = "illegal", _("confirmed illegal")
    VOID = "void", _("confirmed void")


class DecisionChangeVia(models.TextChoices):
    """How a decision came to change after it was made (penalty law art. 48;
    issue 11 item 1): the record is corrected or withdrawn with the reason
    (services.record_decision_change)."""

    RECONSIDERATION = "reconsideration", _("administrative reconsideration")  # 行政复议
    LITIGATION = "litigation", _("administrative litigation")  # 行政诉讼
    AGENCY = "agency", _("revoked or corrected by the agency")  # 本机关撤销或者纠正


class WithdrawalNotice(PublicTextGuard):
    """Published when a decision leaves the portal because it changed, was
    revoked or found illegal or void (penalty law art. 48, 公示-2)."""

    decision = models.OneToOneField(Decision, on_delete=models.CASCADE, related_name="withdrawal", verbose_name=_("decision"))
    agency = models.ForeignKey("core.Agency", on_delete=models.PROTECT, related_name="+", verbose_name=_("agency"))
    doc_number = models.CharField(max_length=128, verbose_name=_("document number (文号)"))
    ground = models.CharField(max_length=16, choices=WithdrawalGround.choices, verbose_name=_("withdrawal ground"))
    reason = models.TextField(verbose_name=_("reason"))
    withdrawn_at = models.DateTimeField(verbose_name=_("withdrawn at"))
    due = models.DateField(verbose_name=_("withdrawal due on"))
    on_time = models.BooleanField(verbose_name=_("withdrawn on time"))

    class Meta:
        verbose_name = _("withdrawal notice")
        verbose_name_plural = _("withdrawal notices")


class EarlyEndStatus(models.TextChoices):
    APPLIED = "applied", _("applied")
    APPROVED = "approved", _("approved")
    REFUSED = "refused", _("refused")


class EarlyEndChannel(models.TextChoices):
    PARTY = "party", _("the party applied")  # 当事人提出申请，由执法部门登记
    AGENCY = "agency", _("the agency applied on the party's behalf")  # 执法部门代当事人申请


class EarlyEndApplication(models.Model):
    """Credit repair: ending the publicity period early needs an application
    and the approval of the office named in the dated rule
    ``publicity.early_end_approver_roles`` (not for 停产停业, 吊销, 限制从业).
    The applicant is always the decision's party: the party applies (the
    deciding agency records it) or the agency applies on its behalf; one
    pending or approved application per decision; whoever recorded it
    (`applied_by`) may never approve it (publicity/predicates.py)."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="early_end_applications", verbose_name=_("decision"))
    applicant = models.CharField(_("applicant"), max_length=255)
    channel = models.CharField(_("applied by"), max_length=8, choices=EarlyEndChannel.choices, default=EarlyEndChannel.PARTY)
    applied_by = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+", null=True, blank=True,
                                   verbose_name=_("recorded by"))
    reason = models.TextField(_("reason"))
    status = models.CharField(max_length=16, choices=EarlyEndStatus.choices, default=EarlyEndStatus.APPLIED, verbose_name=_("status"))
    applied_at = models.DateTimeField(auto_now_add=True, verbose_name=_("applied at"))
    decided_by = models.CharField(max_length=150, blank=True, verbose_name=_("application decided by"))
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("application decided at"))
    decision_note = models.TextField(blank=True, verbose_name=_("approval note"))

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["decision"], condition=models.Q(status__in=["applied", "approved"]),
            name="early_end_one_open_application_per_decision")]
        verbose_name = _("early end application")
        verbose_name_plural = _("early end applications")
