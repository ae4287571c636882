"""Evidence tables: unfinished tus uploads, evidence items (immutable objects
named by SHA-256 in the store), recorders and their assignments, retention
categories, shares and fixity alerts.

Seed measures: 记录-5 "规范开展录音、录相、照相、视频监控等音像记录……并将音像资料
及时归档保存"; 记录-6..9 recorder equipment, its use and supervision
("配备执法记录仪或手持执法终端等"); 记录-11 "全过程音像记录的即时上传云存储模式";
记录-12 "执法全过程记录信息收集、保存、管理、使用等工作制度".
"""

from __future__ import annotations

import uuid
from datetime import date

from django.db import models
from django.utils.translation import gettext_lazy as _

from sanxiang.core import clock


class EvidenceKind(models.TextChoices):
    PHOTO = "photo", _("photo")  # 照相
    AUDIO = "audio", _("audio recording")  # 录音
    VIDEO = "video", _("video recording")  # 录像
    DOCUMENT = "document", _("document scan")  # 书证、扫描件
    OTHER = "other", _("other")


AV_KINDS = (EvidenceKind.PHOTO, EvidenceKind.AUDIO, EvidenceKind.VIDEO)


class RetentionCategory(models.Model):
    """A category of evidence with its own retention (音像记录事项清单,
    retention column). An item may fall under several categories: the
    longest wins. How long is not stored here: ``rule`` names the dated legal
    parameter (sanxiang/rules/params/evidence.yaml, in months or years, or
    permanent) looked up for the case's agency when the retention is set."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    rule = models.CharField(_("retention rule"), max_length=100,
                            help_text=_("The legal parameter that gives the period, e.g. evidence.retention_general."))
    is_default = models.BooleanField(_("applies to every item"), default=False)
    source = models.CharField(_("source"), max_length=255, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("retention category")
        verbose_name_plural = _("retention categories")

    def __str__(self):
        return self.name


class DeviceStatus(models.TextChoices):
    ACTIVE = "active", _("in service")  # 在用
    REPAIR = "repair", _("under repair")  # 维修
    LOST = "lost", _("lost")  # 遗失
    RETIRED = "retired", _("retired")  # 报废


class Device(models.Model):
    """A recorder (执法记录仪) or handheld terminal of an agency (记录-6..9)."""

    serial = models.CharField(_("serial number"), max_length=64, unique=True)
    model = models.CharField(_("model"), max_length=128)
    agency = models.ForeignKey("core.Agency", on_delete=models.PROTECT, related_name="devices", verbose_name=_("agency"))
    status = models.CharField(_("status"), max_length=16, choices=DeviceStatus.choices, default=DeviceStatus.ACTIVE)
    registered_at = models.DateTimeField(_("registered at"), auto_now_add=True)

    class Meta:
        ordering = ["agency", "serial"]
        verbose_name = _("recorder")
        verbose_name_plural = _("recorders")

    def __str__(self):
        return f"{self.model} {self.serial}"


class DeviceAssignment(models.Model):
    """A device in an officer's hands from a day to a day (open-ended while
    `valid_to` is empty)."""

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("recorder"))
    officer = models.ForeignKey("core.Officer", on_delete=models.PROTECT, related_name="device_assignments",
                                verbose_name=_("officer"))
    valid_from = models.DateField(_("from"))
    valid_to = models.DateField(_("to"), null=True, blank=True)
    assigned_by = models.CharField(max_length=150, blank=True, verbose_name=_("assigned by"))

    class Meta:
        ordering = ["device", "-valid_from"]
        verbose_name = _("recorder assignment")
        verbose_name_plural = _("recorder assignments")

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class UploadStatus(models.TextChoices):
    RECEIVING = "receiving", _("receiving")  # bytes arriving (tus PATCH)
    COMPLETED = "completed", _("completed")  # stored; `evidence` set
    FAILED = "failed", _("refused: hash mismatch")  # the bytes did not match the declared SHA-256


class Upload(models.Model):
    """An upload in progress (tus 1.0). The bytes live in
    EVIDENCE_UPLOAD_DIR/<id>.part until complete; `offset` is the count of
    bytes known to be on disk (the file is cut back to it on resume)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("upload ID"))
    created_by = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("created by"))
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+", verbose_name=_("case"))
    step = models.ForeignKey("cases.CaseStep", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("step"))
    device = models.ForeignKey(Device, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("device"))
    length = models.BigIntegerField(verbose_name=_("length (bytes)"))
    offset = models.BigIntegerField(default=0, verbose_name=_("offset (bytes)"))
    sha256 = models.CharField(max_length=64, verbose_name=_("SHA-256 digest"))  # declared by the client
    metadata = models.JSONField(default=dict, verbose_name=_("metadata"))  # captured_at, place, duration, filename, category
    status = models.CharField(max_length=16, choices=UploadStatus.choices, default=UploadStatus.RECEIVING, verbose_name=_("upload status"))
    failure = models.CharField(max_length=255, blank=True, verbose_name=_("failure reason"))
    evidence = models.ForeignKey("EvidenceItem", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("evidence item"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    expires_at = models.DateTimeField(db_index=True, verbose_name=_("expires at"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("upload")
        verbose_name_plural = _("uploads")


class EvidenceItem(models.Model):
    """One piece of evidence: an immutable stored object (by SHA-256) plus
    its metadata. Several items may name the same object (dedup)."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="evidence_items", verbose_name=_("case"))
    step = models.ForeignKey("cases.CaseStep", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="evidence_items", verbose_name=_("step"))
    officer = models.ForeignKey("core.Officer", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                verbose_name=_("officer"))
    device = models.ForeignKey(Device, on_delete=models.PROTECT, null=True, blank=True, related_name="evidence_items",
                               verbose_name=_("recorder"))
    captured_at = models.DateTimeField(_("captured at"))
    place = models.CharField(_("place"), max_length=255, blank=True)
    duration_s = models.FloatField(_("duration (s)"), null=True, blank=True)
    mime_type = models.CharField(_("detected type"), max_length=128)  # sniffed from the bytes, never the client's word
    kind = models.CharField(_("kind"), max_length=16, choices=EvidenceKind.choices)
    original_name = models.CharField(_("original name"), max_length=255, blank=True)
    size = models.BigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256 digest"), max_length=64, db_index=True)
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    uploaded_by = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by"))
    retention_categories = models.ManyToManyField(RetentionCategory, blank=True, related_name="+",
                                                  verbose_name=_("retention categories"))
    retention_until = models.DateField(_("kept until"), null=True, blank=True)  # empty: permanent
    legal_hold = models.BooleanField(_("legal hold"), default=False)
    hold_reason = models.CharField(_("hold reason"), max_length=255, blank=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)
    delete_reason = models.CharField(_("reason for deletion"), max_length=255, blank=True)
    purged_at = models.DateTimeField(_("purged at"), null=True, blank=True)
    fixity_checked_at = models.DateTimeField(_("fixity last checked"), null=True, blank=True)

    @property
    def recoverable_until(self):
        """When the recovery window of a soft-deleted item ends (it is purged
        after that: services.purge_deleted_evidence); None when not deleted
        or already purged."""
        if self.deleted_at is None or self.purged_at is not None:
            return None
        from datetime import timedelta

        from django.conf import settings

        return self.deleted_at + timedelta(days=settings.EVIDENCE_RECOVERY_DAYS)

    class Meta:
        ordering = ["-captured_at", "-id"]
        verbose_name = _("evidence item")
        verbose_name_plural = _("evidence items")
        indexes = [models.Index(fields=["device", "captured_at"])]

    def __str__(self):
        return self.original_name or self.sha256[:12]

    @property
    def is_av(self) -> bool:
        return self.kind in AV_KINDS


class EvidenceShare(models.Model):
    """Evidence handed to someone outside the case (a review body, a court):
    a link carrying a random token, of which only the SHA-256 is stored. It
    works once approved (by the agency head, or at once where the asker's
    role is named in ``evidence.share_without_approval_roles``), until
    `expires_at` (counted from the approval) and until revoked; every use,
    and every refused use of a real token, is in the audit chain."""

    item = models.ForeignKey(EvidenceItem, on_delete=models.PROTECT, related_name="shares", verbose_name=_("evidence item"))
    recipient = models.CharField(_("recipient"), max_length=255)
    reason = models.CharField(_("reason"), max_length=255)
    shared_by = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("shared by"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    # SHA-256 (hex) of the link's token; the token itself is shown once and
    # never stored. Empty for links made before tokens (signed links): dead.
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, verbose_name=_("token hash"))
    days = models.PositiveIntegerField(_("days valid"), default=7)
    approved_by = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+", null=True, blank=True, verbose_name=_("approved by"))
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("valid until"), null=True, blank=True)  # set on approval
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("share revoked at"))
    revoked_by = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+", null=True, blank=True, verbose_name=_("share revoked by"))
    revoke_reason = models.CharField(max_length=255, blank=True, verbose_name=_("reason for revoking"))
    uses = models.PositiveIntegerField(_("uses"), default=0)
    last_used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last used at"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("evidence share")
        verbose_name_plural = _("evidence shares")

    @property
    def state(self) -> str:
        """pending / active / expired / revoked (at the time of asking)."""
        if self.revoked_at:
            return "revoked"
        if self.approved_at is None:
            return "pending"
        if self.expires_at is None or self.expires_at <= clock.now():
            return "expired"
        return "active"

    STATE_TEXT = {"pending": "待负责人批准", "active": "有效", "expired": "已过期", "revoked": "已撤销"}

    @property
    def state_text(self) -> str:
        return self.STATE_TEXT[self.state]


class FixityProblem(models.TextChoices):
    MISMATCH = "mismatch", _("content changed")  # the bytes no longer hash to their name
    MISSING = "missing", _("object missing")  # the store has no object under the name


class FixityAlert(models.Model):
    """Raised by the fixity job (记录-12) when a stored object is missing or
    no longer hashes to its SHA-256. Listed for administrators."""

    sha256 = models.CharField(max_length=64, db_index=True, verbose_name=_("SHA-256 digest"))
    problem = models.CharField(_("problem"), max_length=16, choices=FixityProblem.choices)
    actual_sha256 = models.CharField(max_length=64, blank=True, verbose_name=_("actual SHA-256"))
    detected_at = models.DateTimeField(auto_now_add=True, verbose_name=_("detected at"))
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved at"))
    note = models.CharField(max_length=255, blank=True, verbose_name=_("note"))

    class Meta:
        ordering = ["-detected_at"]
        verbose_name = _("fixity alert")
        verbose_name_plural = _("fixity alerts")


class ArchivePackage(models.Model):
    """An electronic case file (电子案卷) built when a case closes: a ZIP
    under ARCHIVE_DIR with the manifest, the files, the case's audit-chain
    excerpt and the checkpoint covering it (sanxiang/evidence/archive/,
    seed 记录-3 and 记录-12). Each build is a new package; none is changed."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="archive_packages", verbose_name=_("case"))
    path = models.CharField(_("package file"), max_length=500)  # relative to ARCHIVE_DIR
    sha256 = models.CharField(_("package SHA-256"), max_length=64)
    size = models.BigIntegerField(_("size (bytes)"))
    manifest_sha256 = models.CharField(_("manifest SHA-256"), max_length=64)
    items = models.PositiveIntegerField(_("items"))
    checkpoint_size = models.BigIntegerField(_("checkpoint tree size"))
    built_at = models.DateTimeField(_("built at"), auto_now_add=True)
    built_by = models.CharField(_("built by"), max_length=150)

    class Meta:
        ordering = ["-built_at", "-id"]
        verbose_name = _("case file archive")
        verbose_name_plural = _("case file archives")

    def __str__(self):
        return self.path
