"""Catalogues published before enforcement (事前公开), versioned and filed.

Each agency keeps four public lists (seed 公示-3, 公示-5, 公示-6, 公示-7) and
its legal review catalogue (法制审核目录清单, 审核-6/7, read by the review
app; its items are ``ReviewRule``s). A list is
a series of numbered versions; a version is drafted and submitted by the
agency, and accepted or returned with reasons by its legal office (备案).
Only accepted versions are public; the one in force on a day is the accepted
version with the latest effective date on or before that day. The items of a
version hang off it and never change once the version leaves the draft.

No business logic beyond single-row invariants: writes go through
``services.py``, reads through ``selectors.py``.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sanxiang.core.vocabulary import ActKind


class CatalogueKind(models.TextChoices):
    ENFORCEMENT_ITEMS = "enforcement_items", _("enforcement item list")  # 行政执法事项清单, 公示-3/4
    INSPECTION_ITEMS = "inspection_items", _("random inspection item list")  # 随机抽查事项清单, 公示-5
    SERVICE_GUIDES = "service_guides", _("service guides")  # 服务指南, 公示-7
    FLOWCHARTS = "flowcharts", _("enforcement flowcharts")  # 执法流程图, 公示-6
    # 法制审核目录清单 (审核-6/7): which decisions need legal review. Filed
    # like the lists above, read by the review app; not on the portal.
    REVIEW_CATALOGUE = "review_catalogue", _("legal review catalogue")


# The lists published on the portal (事前公开), imported and exported as Excel.
PUBLIC_KINDS = (CatalogueKind.ENFORCEMENT_ITEMS, CatalogueKind.INSPECTION_ITEMS, CatalogueKind.SERVICE_GUIDES,
                CatalogueKind.FLOWCHARTS)


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("draft")  # being edited by the agency; private
    SUBMITTED = "submitted", _("submitted for filing")  # waiting for the legal office; private, frozen
    ACCEPTED = "accepted", _("accepted")  # filed: public from its effective date, frozen for good
    RETURNED = "returned", _("returned")  # sent back with reasons; private, editable and resubmittable


OPEN_STATUSES = (VersionStatus.DRAFT, VersionStatus.SUBMITTED, VersionStatus.RETURNED)
EDITABLE_STATUSES = (VersionStatus.DRAFT, VersionStatus.RETURNED)


class CatalogueVersion(models.Model):
    """One numbered version of one list of one agency."""

    agency = models.ForeignKey("core.Agency", verbose_name=_("agency"), on_delete=models.PROTECT, related_name="catalogue_versions")
    kind = models.CharField(_("catalogue"), max_length=32, choices=CatalogueKind.choices)
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=16, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    effective_date = models.DateField(_("effective date"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("submitted by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("filing decided by"))
    return_reason = models.TextField(_("reason for return"), blank=True)
    # Review catalogue only (审核-7): review every decision outside the summary procedure.
    all_non_summary = models.BooleanField(_("review every non-summary decision"), default=False)
    # Where the audit chain named this version before it moved here (a review
    # catalogue version filed before issue 10 was "review.reviewcatalogueversion"
    # with its old id). The chain is append-only and never rewritten, so the
    # old entries are found through this reference (``audit_references``).
    former_object_type = models.CharField(max_length=64, blank=True, editable=False, verbose_name=_("former object type"))
    former_object_id = models.CharField(max_length=64, blank=True, editable=False, verbose_name=_("former object ID"))
    # A version filed at a lower platform and received through docking
    # (docs/docking.md "Catalogue versions"): the name of that platform as
    # registered on this platform's trust list; blank for a version filed
    # here. The public pages say 由下级平台“…”报送 from it (no extra query).
    received_from = models.CharField(max_length=255, blank=True, editable=False,
                                     verbose_name=_("received from lower platform"))

    class Meta:
        ordering = ["agency_id", "kind", "-number"]
        verbose_name = _("catalogue version")
        verbose_name_plural = _("catalogue versions")
        constraints = [
            models.UniqueConstraint(fields=["agency", "kind", "number"], name="catalog_version_number_unique"),
            # One version in the works per list at a time: drafts never fork.
            models.UniqueConstraint(fields=["agency", "kind"], condition=Q(status__in=list(OPEN_STATUSES)),
                                    name="catalog_one_open_version"),
        ]

    def __str__(self):
        return f"{self.agency} · {self.get_kind_display()} · v{self.number}"

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    @property
    def is_public(self) -> bool:
        return self.status == VersionStatus.ACCEPTED

    def items(self):
        """The rows of this version, whatever the kind."""
        return ITEM_MODELS[self.kind].objects.filter(version=self).order_by("position", "pk")

    def audit_references(self) -> list[tuple[str, str]]:
        """Every (object_type, object_id) under which the audit chain names
        this version: its own, and the one it had before it moved here."""
        refs = [(self._meta.label_lower, str(self.pk))]
        if self.former_object_type:
            refs.append((self.former_object_type, self.former_object_id))
        return refs


class FilingEvent(models.Model):
    """The timeline of a version: created, imported, submitted, accepted,
    returned (with the reason). The audit chain holds the same facts; this
    table is for showing them."""

    class Action(models.TextChoices):
        CREATED = "created", _("created")
        IMPORTED = "imported", _("imported")
        SUBMITTED = "submitted", _("submitted")
        ACCEPTED = "accepted", _("accepted")
        RETURNED = "returned", _("returned")
        DISCARDED = "discarded", _("discarded")

    version = models.ForeignKey(CatalogueVersion, on_delete=models.CASCADE, related_name="events", verbose_name=_("catalogue version"))
    action = models.CharField(max_length=16, choices=Action.choices, verbose_name=_("action"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("actor"))
    at = models.DateTimeField(auto_now_add=True, verbose_name=_("time"))
    text = models.TextField(blank=True, verbose_name=_("opinion text"))

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("filing event")
        verbose_name_plural = _("filing events")


class CatalogueItem(models.Model):
    version = models.ForeignKey(CatalogueVersion, on_delete=models.CASCADE, related_name="+",
                                verbose_name=_("catalogue version"))
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        abstract = True
        ordering = ["position", "pk"]


class EnforcementItem(CatalogueItem):
    """A row of the 行政执法事项清单 (公示-3): what the agency may enforce, under
    which duty and authority, on which legal basis. The enforcing body is the
    version's agency."""

    code = models.CharField(_("item code"), max_length=64)
    name = models.CharField(_("item name"), max_length=255)
    act_kind = models.CharField(_("act kind"), max_length=16, choices=ActKind.choices)
    duty = models.TextField(_("duty"))
    authority = models.TextField(_("authority"))
    basis_law = models.CharField(_("legal basis (law)"), max_length=255)
    basis_article = models.CharField(_("legal basis (article)"), max_length=255)

    class Meta(CatalogueItem.Meta):
        verbose_name = _("enforcement item")
        verbose_name_plural = _("enforcement items")
        constraints = [models.UniqueConstraint(fields=["version", "code"], name="catalog_enforcement_item_code_unique")]


class InspectionItem(CatalogueItem):
    """A row of the 随机抽查事项清单 (公示-5)."""

    code = models.CharField(_("item code"), max_length=64)
    name = models.CharField(_("item name"), max_length=255)
    body = models.CharField(_("inspecting body"), max_length=255)
    basis = models.TextField(_("basis"))
    target = models.TextField(_("inspection target"))
    content = models.TextField(_("inspection content"))
    # Percent of targets drawn (3.00 = 3 %); the draw itself lives in the inspection app.
    ratio = models.DecimalField(_("ratio (%)"), max_digits=5, decimal_places=2,
                                validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))])
    method = models.CharField(_("method"), max_length=255)
    frequency = models.CharField(_("frequency"), max_length=255)

    class Meta(CatalogueItem.Meta):
        verbose_name = _("inspection item")
        verbose_name_plural = _("inspection items")
        constraints = [models.UniqueConstraint(fields=["version", "code"], name="catalog_inspection_item_code_unique")]


class ServiceGuide(CatalogueItem):
    """A 服务指南 with the fifteen fields of seed 公示-7."""

    code = models.CharField(_("item code"), max_length=64)
    name = models.CharField(_("item name"), max_length=255)  # 事项名称
    basis = models.TextField(_("basis"))  # 依据
    accepting_body = models.CharField(_("accepting body"), max_length=255)  # 受理机构
    approving_body = models.CharField(_("approving body"), max_length=255)  # 审批机构
    conditions = models.TextField(_("conditions for approval"))  # 许可条件
    preferential_policies = models.TextField(_("preferential policies"), blank=True)  # 优惠政策 (often none)
    materials = models.TextField(_("application materials"))  # 申请材料
    procedure = models.TextField(_("handling procedure"))  # 办理流程
    time_limit = models.CharField(_("time limit"), max_length=255)  # 办理时限
    supervision = models.TextField(_("supervision"))  # 监督方式
    accountability = models.TextField(_("accountability"))  # 责任追究
    remedies = models.TextField(_("remedies"))  # 救济渠道
    office_hours = models.CharField(_("office hours"), max_length=255)  # 办公时间
    office_address = models.CharField(_("office address"), max_length=255)  # 办公地址
    office_phone = models.CharField(_("office phone"), max_length=64)  # 办公电话

    class Meta(CatalogueItem.Meta):
        verbose_name = _("service guide")
        verbose_name_plural = _("service guides")
        constraints = [models.UniqueConstraint(fields=["version", "code"], name="catalog_service_guide_code_unique")]


class Flowchart(CatalogueItem):
    """A 执法流程图 (公示-6): which process definition the agency publishes for
    an act kind. The drawing is rendered from that definition, never stored,
    so it always matches what case handling enforces; ``definition_digest``
    records which text of the definition the filing saw."""

    act_kind = models.CharField(_("act kind"), max_length=16, choices=ActKind.choices)
    procedure = models.CharField(_("procedure"), max_length=32, default="general")
    note = models.CharField(_("note"), max_length=255, blank=True)
    definition_digest = models.CharField(max_length=64, blank=True, editable=False, verbose_name=_("definition digest"))

    class Meta(CatalogueItem.Meta):
        verbose_name = _("flowchart")
        verbose_name_plural = _("flowcharts")
        constraints = [models.UniqueConstraint(fields=["version", "act_kind", "procedure"], name="catalog_flowchart_unique")]

    @property
    def code(self) -> str:
        return f"{self.act_kind}-{self.procedure}"

    def clean(self):
        from .processes import ProcessNotFound, get_process

        if not self.act_kind or not self.procedure:
            return
        try:
            get_process(self.act_kind, self.procedure)
        except ProcessNotFound:
            raise ValidationError({"procedure": ValidationError(f"没有“{self.act_kind}-{self.procedure}”的流程定义。",
                                                                code="process_not_found")})


class ReviewRule(CatalogueItem):
    """One entry of a review catalogue (法制审核目录清单, 审核-6). A rule applies
    to a case of its act kinds (all if none) and domain (any if blank) when
    ANY of its triggers holds; a rule with no trigger applies to every such
    case. ``position`` is the entry's number in the catalogue."""

    title = models.CharField(_("title"), max_length=255)
    act_kinds = models.JSONField(_("act kinds"), default=list, blank=True)
    domain = models.CharField(_("domain"), max_length=64, blank=True)
    penalty_categories = models.JSONField(_("penalty categories"), default=list, blank=True)
    fine_citizen_fen = models.BigIntegerField(_("fine threshold, citizens (fen)"), null=True, blank=True)
    fine_organisation_fen = models.BigIntegerField(_("fine threshold, organisations (fen)"), null=True, blank=True)
    confiscation_citizen_fen = models.BigIntegerField(_("confiscation threshold, citizens (fen)"), null=True, blank=True)
    confiscation_organisation_fen = models.BigIntegerField(_("confiscation threshold, organisations (fen)"), null=True, blank=True)
    hearing_held = models.BooleanField(_("a hearing was held"), default=False)
    major_public_interest = models.BooleanField(_("major public interest"), default=False)
    complex = models.BooleanField(_("complex, several legal relations"), default=False)
    social_impact = models.BooleanField(_("major social impact"), default=False)
    outside_benchmark = models.BooleanField(_("outside the discretion benchmark"), default=False)
    citation = models.CharField(_("basis"), max_length=255, blank=True)

    class Meta(CatalogueItem.Meta):
        verbose_name = _("review catalogue rule")
        verbose_name_plural = _("review catalogue rules")
        constraints = [models.UniqueConstraint(fields=["version", "position"], name="catalog_review_rule_position_unique")]

    def __str__(self):
        return f"{self.position}. {self.title}"


ITEM_MODELS: dict[str, type[CatalogueItem]] = {
    CatalogueKind.ENFORCEMENT_ITEMS: EnforcementItem,
    CatalogueKind.INSPECTION_ITEMS: InspectionItem,
    CatalogueKind.SERVICE_GUIDES: ServiceGuide,
    CatalogueKind.FLOWCHARTS: Flowchart,
    CatalogueKind.REVIEW_CATALOGUE: ReviewRule,
}


class ImportAttempt(models.Model):
    """One Excel upload into a draft, kept with its per-row error report so
    the report can be downloaded later."""

    version = models.ForeignKey(CatalogueVersion, on_delete=models.CASCADE, related_name="imports", verbose_name=_("catalogue version"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("actor"))
    at = models.DateTimeField(auto_now_add=True, verbose_name=_("time"))
    filename = models.CharField(max_length=255, blank=True, verbose_name=_("file name"))
    sha256 = models.CharField(max_length=64, verbose_name=_("SHA-256 digest"))
    rows = models.PositiveIntegerField(default=0, verbose_name=_("rows"))
    ok = models.BooleanField(default=False, verbose_name=_("succeeded"))
    errors = models.JSONField(default=list, verbose_name=_("errors"))  # [{"row": 3, "column": "事项名称", "problem": "..."}]

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("import attempt")
        verbose_name_plural = _("import attempts")

    def __str__(self):  # the back office's title for the row, instead of "ImportAttempt object (1)"
        return f"{self.filename or '—'} · {self.at:%Y-%m-%d %H:%M}" if self.at else (self.filename or "—")
