"""Core tables: regions, agencies, officers, users and roles, the audit chain,
and loaded official working-day schedules.

No business logic beyond single-row invariants lives here: writes go through
``services.py``, reads of non-public data through ``selectors.py``.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _, pgettext_lazy

from . import changes, validators
from .vocabulary import (  # noqa: F401  (re-exported: the vocabulary is defined in vocabulary.py)
    AGENCY_ROLES, TOTP_ROLES, ActKind, EnforcementCategory, Role,
)


class RegionLevel(models.TextChoices):
    PROVINCE = "province", _("province")
    CITY = "city", _("city")
    COUNTY = "county", _("county")
    TOWNSHIP = "township", _("township")


class ReferenceRow(models.Model):
    """Regions and agencies: each save or deletion is counted in
    core.changes, so that lists of them held between requests (the portal's
    search form) are read again."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        changes.reference_changed(self._state.db)

    def delete(self, *args, **kwargs):
        using = self._state.db
        deleted = super().delete(*args, **kwargs)
        changes.reference_changed(using)
        return deleted


class Region(ReferenceRow):
    """An administrative division with its GB/T 2260 code (a tree)."""

    code = models.CharField(_("region code"), max_length=12, unique=True, validators=[validators.validate_region_code])
    name = models.CharField(_("name"), max_length=64)
    level = models.CharField(_("level"), max_length=16, choices=RegionLevel.choices)
    parent = models.ForeignKey("self", verbose_name=_("parent region"), null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    # Materialised path of codes ("130000/130100/130102/"): a subtree is a
    # prefix match, one indexed query on both databases.
    path = models.CharField(_("region path"), max_length=255, db_index=True, editable=False)

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self):
        return self.name

    def compute_path(self) -> str:
        return (self.parent.path if self.parent else "") + self.code + "/"

    def save(self, *args, **kwargs):
        self.path = self.compute_path()
        super().save(*args, **kwargs)

    def ancestors_and_self(self) -> list[str]:
        """Codes from the root down to this region."""
        return [c for c in self.path.split("/") if c]


class AgencyKind(models.TextChoices):
    LEGAL_OFFICE = "legal_office", _("legal affairs office (司法局)")
    MARKET_REGULATION = "market_regulation", _("market regulation")
    ECOLOGY = "ecology", _("ecology and environment")
    EMERGENCY = "emergency", _("emergency management")
    TRANSPORT = "transport", _("transport")
    URBAN_MANAGEMENT = "urban_management", _("urban management")
    NATURAL_RESOURCES = "natural_resources", _("natural resources")
    HOUSING = "housing", _("housing and construction")
    AGRICULTURE = "agriculture", _("agriculture and rural affairs")
    CULTURE_TOURISM = "culture_tourism", _("culture and tourism")
    HEALTH = "health", _("health")
    HUMAN_RESOURCES = "human_resources", _("human resources and social security")
    WATER = "water", _("water resources")
    EDUCATION = "education", _("education")
    TAX = "tax", _("taxation")
    OTHER = "other", _("other")


class Agency(ReferenceRow):
    """An enforcement body (执法主体), identified by its 统一社会信用代码."""

    name = models.CharField(_("name"), max_length=128)
    short_name = models.CharField(_("document abbreviation"), max_length=16, blank=True, help_text=_("Used in document numbers, e.g. 冀石市监"))
    credit_code = models.CharField(_("unified social credit code"), max_length=18, unique=True, validators=[validators.validate_credit_code])
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="agencies")
    kind = models.CharField(_("kind"), max_length=32, choices=AgencyKind.choices)
    legal_office = models.ForeignKey(
        "self", verbose_name=_("supervising legal office"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="supervised_agencies",
        limit_choices_to={"kind": AgencyKind.LEGAL_OFFICE},
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    phone = models.CharField(_("office phone"), max_length=32, blank=True)
    # 公示-9: where the public reports an officer or complains (shown on /verify).
    report_phone = models.CharField(_("reporting phone"), max_length=32, blank=True)
    report_url = models.URLField(_("reporting web address"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["region__code", "name"]
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")

    def __str__(self):
        return self.name

    @property
    def is_legal_office(self) -> bool:
        return self.kind == AgencyKind.LEGAL_OFFICE


class OfficerStatus(models.TextChoices):
    # "active" here is the status field (正常), not validity on a day:
    # selectors.certificate_state says 有效 / 已过期 (one msgid per meaning).
    ACTIVE = "active", pgettext_lazy("certificate status", "active")  # may enforce within validity
    SUSPENDED = "suspended", _("suspended")  # temporarily barred (暂扣)
    REVOKED = "revoked", _("revoked")  # certificate withdrawn for good (吊销/注销)


class Officer(models.Model):
    """An enforcement officer and the certificate (执法证) they hold."""

    name = models.CharField(_("name"), max_length=64)
    agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="officers")
    post = models.CharField(_("post"), max_length=64, blank=True)
    certificate_number = models.CharField(
        _("certificate number"), max_length=32, unique=True, validators=[validators.validate_certificate_number]
    )
    categories = models.JSONField(_("enforcement categories"), default=list, validators=[validators.validate_categories])
    enforcement_region = models.ForeignKey(Region, verbose_name=_("enforcement region"), on_delete=models.PROTECT, related_name="+")
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"))
    status = models.CharField(_("status"), max_length=16, choices=OfficerStatus.choices, default=OfficerStatus.ACTIVE)
    user = models.OneToOneField("core.User", verbose_name=_("login account"), null=True, blank=True, on_delete=models.SET_NULL, related_name="officer")

    class Meta:
        ordering = ["agency__region__code", "agency__name", "name"]
        verbose_name = _("officer")
        verbose_name_plural = _("officers")

    def __str__(self):
        return f"{self.name} ({self.certificate_number})"

    def category_labels(self) -> list[str]:
        return [EnforcementCategory(c).label for c in self.categories if c in EnforcementCategory.values]

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": ValidationError(_("有效期至不得早于有效期自。"), code="date_order")})


class User(AbstractUser):
    """A person or system account. Its role and agency/region give its scope."""

    role = models.CharField(_("role"), max_length=32, choices=Role.choices, default=Role.OFFICER)
    agency = models.ForeignKey(Agency, verbose_name=_("agency"), null=True, blank=True, on_delete=models.PROTECT, related_name="users")
    region = models.ForeignKey(
        Region, verbose_name=_("supervised region"), null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text=_("For legal-office supervisors: the region whose agencies they supervise."),
    )
    display_name = models.CharField(_("display name"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.display_name or self.username

    @property
    def needs_totp(self) -> bool:
        return self.role in TOTP_ROLES


class AuditEntry(models.Model):
    """One link of the append-only, hash-chained audit log.

    ``entry_hash`` = SHA-256 over the canonical serialisation of
    (prev_hash, seq, time, actor, action, object, payload); see audit.py.
    The database refuses UPDATE and DELETE on this table (triggers in
    migration 0002).
    """

    seq = models.BigIntegerField(_("sequence number"), unique=True)
    time = models.DateTimeField(_("time"))
    actor = models.CharField(_("actor"), max_length=150)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True, db_index=True)
    payload = models.TextField(_("payload"), help_text=_("canonical JSON"))
    prev_hash = models.CharField(_("previous entry hash"), max_length=64)
    entry_hash = models.CharField(_("entry hash"), max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")

    def __str__(self):
        return f"#{self.seq} {self.action}"


class AuditCheckpoint(models.Model):
    """A Merkle tree head (RFC 6962) over the first ``tree_size`` entries."""

    tree_size = models.BigIntegerField(_("tree size"), unique=True)
    root_hash = models.CharField(_("root hash"), max_length=64)
    last_entry_hash = models.CharField(_("last entry hash"), max_length=64)
    created_at = models.DateTimeField(_("created at"))
    signature = models.CharField(_("signature"), max_length=64, help_text=_("HMAC-SHA256 of the tree head"))

    class Meta:
        ordering = ["tree_size"]
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")

    def __str__(self):
        return f"#{self.tree_size}"


class AuditCheckpointSignature(models.Model):
    """The Ed25519 signature of a checkpoint by the platform's key
    (sanxiang/core/signing.py): verifiable by anyone with the public key,
    which the row carries (and which is compared with the platform's own
    key when the chain is verified). Append-only like the chain."""

    checkpoint = models.OneToOneField(AuditCheckpoint, on_delete=models.PROTECT, to_field="tree_size",
                                      related_name="public_signature", verbose_name=_("audit checkpoint"))
    algorithm = models.CharField(max_length=16, default="ed25519", verbose_name=_("signature algorithm"))
    public_key = models.CharField(max_length=64, help_text=_("raw Ed25519 public key, hex"), verbose_name=_("public key"))
    signature = models.CharField(max_length=128, help_text=_("Ed25519 signature of the checkpoint message, hex"), verbose_name=_("signature"))

    class Meta:
        verbose_name = _("audit checkpoint signature")
        verbose_name_plural = _("audit checkpoint signatures")


class CalendarYear(models.Model):
    """An official State Council holiday schedule loaded by an administrator
    for a year the chinese-calendar package does not know."""

    year = models.PositiveIntegerField(_("year"), unique=True)
    source = models.CharField(_("source"), max_length=255, help_text=_("e.g. 国办发明电〔2026〕X号"))
    loaded_at = models.DateTimeField(_("loaded at"), auto_now_add=True)

    class Meta:
        ordering = ["year"]
        verbose_name = _("official calendar year")
        verbose_name_plural = _("official calendar years")


class CalendarDay(models.Model):
    """An exception to the Monday–Friday rule in a loaded year: a holiday on
    a weekday or a make-up working day (调休) on a weekend."""

    year = models.ForeignKey(CalendarYear, on_delete=models.CASCADE, related_name="days", verbose_name=_("year"))
    date = models.DateField(unique=True, verbose_name=_("date"))
    is_workday = models.BooleanField(verbose_name=_("working day"))
    name = models.CharField(max_length=64, blank=True, verbose_name=_("holiday name"))

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")


class SecurityEvent(models.Model):
    """One refused attempt (issue 9): a 401/403 anywhere, a 404 on a private
    route or by a signed-in caller, a wrong API token. Written only by
    ``security_log.SecurityLogMiddleware``; append-only (the database
    refuses UPDATE, migration 0004); rows older than the dated retention
    (``security.log_retention``) are removed by the ``security.log_purge``
    job. Not part of the audit chain: refusals are not state changes."""

    class Kind(models.TextChoices):
        UNAUTHENTICATED = "unauthenticated", _("not signed in")  # 401 without credentials
        BAD_TOKEN = "bad_token", _("wrong API token")  # 401 with an Authorization header
        FORBIDDEN = "forbidden", _("forbidden")  # 403
        NOT_FOUND = "not_found", _("not found")  # 404 on a private route

    time = models.DateTimeField(_("time"), db_index=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, db_index=True)
    status = models.PositiveSmallIntegerField(_("status"))
    method = models.CharField(_("method"), max_length=8)
    path = models.CharField(_("route"), max_length=500)
    username = models.CharField(_("user"), max_length=150, blank=True, db_index=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True, db_index=True)
    user_agent = models.CharField(_("user agent"), max_length=255, blank=True)

    class Meta:
        ordering = ["-time", "-id"]
        verbose_name = _("security event")
        verbose_name_plural = _("security log")

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("the security log is append-only")
        super().save(*args, **kwargs)

    def __str__(self):
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.get_kind_display()} {self.method} {self.path}"


class ScheduledJob(models.Model):
    """One row per scheduled job (sanxiang.core.jobs): the lock that lets
    one process at a time run it, and how its last run ended.

    The lock is taken by one conditional UPDATE (free or expired → mine),
    atomic on SQLite and PostgreSQL alike; the holder extends
    ``locked_until`` while it runs, so a crashed holder frees it after one
    lease (SANXIANG_JOB_LEASE_SECONDS)."""

    name = models.CharField(_("job"), max_length=64, primary_key=True)
    owner = models.CharField(_("held by"), max_length=160, blank=True, help_text=_("host:pid:thread of the runner holding the lock"))
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    last_started_at = models.DateTimeField(_("last started"), null=True, blank=True)
    last_finished_at = models.DateTimeField(_("last finished"), null=True, blank=True)
    last_ok = models.BooleanField(_("last run succeeded"), null=True)
    last_result = models.BigIntegerField(_("last result"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    consecutive_failures = models.PositiveIntegerField(_("consecutive failures"), default=0)

    class Meta:
        ordering = ["name"]
        verbose_name = _("scheduled job")
        verbose_name_plural = _("scheduled jobs")

    def __str__(self):
        return self.name


class FailedTask(models.Model):
    """A task of the job queue that raised (sanxiang.core.queue): one row
    per task, updated by each failed attempt; ``final`` once its attempts
    are spent. Administrators see the final ones on the failed-tasks page
    and re-enqueue them (``services.retry_failed_task``, audited), which
    marks the row resolved."""

    task_id = models.CharField(_("task id"), max_length=64, unique=True)
    name = models.CharField(_("task"), max_length=128)
    args = models.JSONField(_("arguments"), default=list, blank=True)
    kwargs = models.JSONField(_("keyword arguments"), default=dict, blank=True)
    args_summary = models.CharField(_("arguments"), max_length=500, blank=True)
    error = models.TextField(_("error"), blank=True)
    traceback = models.TextField(_("traceback"), blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    first_failed_at = models.DateTimeField(_("first failure"))
    last_failed_at = models.DateTimeField(_("last failure"))
    final = models.BooleanField(_("attempts spent"), default=False)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey("core.User", verbose_name=_("resolved by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    retried_as = models.CharField(_("retried as task"), max_length=64, blank=True)

    class Meta:
        ordering = ["-last_failed_at", "-id"]
        verbose_name = _("failed task")
        verbose_name_plural = _("failed tasks")
        indexes = [models.Index(fields=["final", "resolved_at"], name="core_failedtask_open")]

    def __str__(self):
        return f"{self.name} ({self.task_id})"
