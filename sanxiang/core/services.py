"""Writes for the core domain. Every function is keyword-only, validates the
whole row before writing (errors name the field, in Chinese), writes in one
transaction and appends its audit entry inside that transaction."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from . import predicates
from .audit import append_audit
from .statuses import change_status
from . import changes as officer_changes
from . import clock, queue
from .models import Agency, FailedTask, Officer, OfficerStatus, Region, Role, User, AGENCY_ROLES


def _check(verdict: predicates.Verdict) -> None:
    """Every core service asks who acts first (core.predicates)."""
    if not verdict:
        raise PermissionDenied(verdict.reason)


def _saved(obj, *, exclude=None):
    obj.full_clean(exclude=exclude)
    obj.save()
    return obj


@transaction.atomic
def create_region(*, actor, code: str, name: str, level: str, parent: Region | None = None) -> Region:
    _check(predicates.can_manage_regions(actor))
    region = _saved(Region(code=code, name=name, level=level, parent=parent), exclude=["path"])
    append_audit(actor=actor, action="region.create", obj=region, payload={"code": code, "name": name, "level": level})
    return region


@transaction.atomic
def create_agency(*, actor, name: str, credit_code: str, region: Region, kind: str,
                  legal_office: Agency | None = None, short_name: str = "", address: str = "", phone: str = "") -> Agency:
    _check(predicates.can_manage_agency(actor, region=region))
    agency = _saved(Agency(name=name, credit_code=credit_code, region=region, kind=kind, legal_office=legal_office,
                           short_name=short_name, address=address, phone=phone))
    append_audit(actor=actor, action="agency.create", obj=agency,
                 payload={"name": name, "credit_code": credit_code, "region": region.code, "kind": kind})
    return agency


@transaction.atomic
def create_officer(*, actor, name: str, agency: Agency, certificate_number: str, categories: list[str],
                   enforcement_region: Region, valid_from: date, valid_to: date, post: str = "",
                   status: str = OfficerStatus.ACTIVE, user: User | None = None) -> Officer:
    _check(predicates.can_manage_officers(actor, agency=agency))
    officer = _saved(Officer(name=name, agency=agency, certificate_number=certificate_number, categories=list(categories),
                             enforcement_region=enforcement_region, valid_from=valid_from, valid_to=valid_to,
                             post=post, status=status, user=user))
    append_audit(actor=actor, action="officer.create", obj=officer,
                 payload={"certificate_number": certificate_number, "agency": agency.credit_code, "status": status})
    officer_changes.officer_changed(officer)
    return officer


@transaction.atomic
def set_officer_status(*, actor, officer: Officer, status: str, reason: str) -> Officer:
    _check(predicates.can_manage_officers(actor, agency=Agency.objects.select_related("region").get(pk=officer.agency_id)))
    officer = change_status(actor=actor, obj=officer, status=status, choices=OfficerStatus, action="officer.status",
                            what="证件", reason=reason, reason_required=True)
    officer_changes.officer_changed(officer)
    return officer


def _check_role_scope(*, role: str, agency: Agency | None, region: Region | None) -> None:
    if role not in Role.values:
        raise ValidationError({"role": ValidationError("角色无效。", code="invalid_choice")})
    if role in AGENCY_ROLES and agency is None:
        raise ValidationError({"agency": ValidationError("该角色必须属于一个执法部门。", code="agency_required")})
    if role == Role.LEGAL_SUPERVISOR and region is None:
        raise ValidationError({"region": ValidationError("司法局监督人员必须指定所监督的行政区划。", code="region_required")})


@transaction.atomic
def create_user(*, actor, username: str, password: str, role: str, agency: Agency | None = None,
                region: Region | None = None, display_name: str = "", email: str = "") -> User:
    from django.contrib.auth.password_validation import validate_password

    _check(predicates.can_manage_users(actor))

    _check_role_scope(role=role, agency=agency, region=region)
    user = User(username=username, role=role, agency=agency, region=region, display_name=display_name, email=email,
                is_staff=role != Role.API_CLIENT, is_superuser=False)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.error_list}) from exc
    user.set_password(password)
    _saved(user, exclude=["password"])
    append_audit(actor=actor, action="user.create", obj=user,
                 payload={"username": username, "role": role, "agency": agency.credit_code if agency else None,
                          "region": region.code if region else None})
    return user


@transaction.atomic
def set_user_role(*, actor, user: User, role: str, agency: Agency | None = None, region: Region | None = None) -> User:
    _check(predicates.can_manage_users(actor))
    _check_role_scope(role=role, agency=agency, region=region)
    stored = User.objects.select_related("agency", "region").get(pk=user.pk)  # the form may have changed `user`
    before = {"role": stored.role, "agency": stored.agency.credit_code if stored.agency else None,
              "region": stored.region.code if stored.region else None}
    user.role, user.agency, user.region = role, agency, region
    user.is_staff = role != Role.API_CLIENT
    user.save(update_fields=["role", "agency", "region", "is_staff"])
    append_audit(actor=actor, action="user.role_change", obj=user,
                 payload={"from": before, "to": {"role": role, "agency": agency.credit_code if agency else None,
                                                 "region": region.code if region else None}})
    return user


OFFICER_EDITABLE = ("name", "agency", "post", "categories", "enforcement_region", "valid_from", "valid_to")
AGENCY_EDITABLE = ("name", "short_name", "region", "kind", "legal_office", "address", "phone", "report_phone",
                   "report_url", "is_active")
REPORTING_CHANNEL_FIELDS = ("report_phone", "report_url")


def _update(*, actor, obj, changes: dict, editable: tuple[str, ...], action: str):
    """Change some fields of a row: only `editable` ones, validated as a
    whole row, audited with before and after."""
    unknown = set(changes) - set(editable)
    if unknown:
        raise ValidationError({f: ValidationError("该字段不能在此修改。", code="not_editable") for f in unknown})
    stored = type(obj).objects.get(pk=obj.pk)  # an admin form may already have changed `obj`
    for field, value in changes.items():
        setattr(obj, field, value)
    _saved(obj)
    changed = [f for f in changes if _plain(getattr(stored, f)) != _plain(getattr(obj, f))]
    append_audit(actor=actor, action=action, obj=obj,
                 payload={"before": {f: _plain(getattr(stored, f)) for f in changed},
                          "after": {f: _plain(getattr(obj, f)) for f in changed}})
    return obj


def _plain(value):
    """A value as the audit payload records it: related rows by primary key."""
    return value.pk if hasattr(value, "_meta") else value


@transaction.atomic
def update_officer(*, actor, officer: Officer, **changes) -> Officer:
    """Change an officer's record (not the status: see set_officer_status)."""
    stored = Officer.objects.select_related("agency__region").get(pk=officer.pk)
    _check(predicates.can_manage_officers(actor, agency=stored.agency))
    if "agency" in changes:  # moving an officer: the new agency must be the actor's to manage too
        _check(predicates.can_manage_officers(actor, agency=changes["agency"]))
    officer = _update(actor=actor, obj=officer, changes=changes, editable=OFFICER_EDITABLE, action="officer.update")
    officer_changes.officer_changed(officer)
    return officer


@transaction.atomic
def update_agency(*, actor, agency: Agency, **changes) -> Agency:
    stored = Agency.objects.select_related("region").get(pk=agency.pk)
    _check(predicates.can_manage_agency(actor, region=stored.region))
    if "region" in changes:
        _check(predicates.can_manage_agency(actor, region=changes["region"]))
    return _update(actor=actor, obj=agency, changes=changes, editable=AGENCY_EDITABLE, action="agency.update")


@transaction.atomic
def set_reporting_channel(*, actor, agency: Agency, report_phone: str, report_url: str) -> Agency:
    """Where the public reports this agency's officers or complains (公示-9,
    shown on the /verify page): set by the agency's head or whoever may
    manage the agency."""
    stored = Agency.objects.select_related("region").get(pk=agency.pk)
    _check(predicates.can_set_reporting_channel(actor, agency=stored))
    return _update(actor=actor, obj=stored, changes={"report_phone": report_phone.strip(), "report_url": report_url.strip()},
                   editable=REPORTING_CHANNEL_FIELDS, action="agency.reporting_channel")


@transaction.atomic
def update_user_account(*, actor, user: User, is_active: bool, display_name: str) -> User:
    _check(predicates.can_manage_users(actor))
    before = User.objects.values("is_active", "display_name").get(pk=user.pk)
    User.objects.filter(pk=user.pk).update(is_active=is_active, display_name=display_name)
    user.is_active, user.display_name = is_active, display_name
    append_audit(actor=actor, action="user.update", obj=user,
                 payload={"before": before, "after": {"is_active": is_active, "display_name": display_name}})
    return user


@transaction.atomic
def record_view(*, actor, obj, action: str, via: str, payload: dict | None = None):
    """A read of personal data (a case's record, its legal review) entered in
    the audit chain with who read it, as evidence views are (evidence.view).
    The only audit entries a read may write: the action ends in ``.view`` and
    names a signed-in person or API client — never an anonymous or system
    reader."""
    if not action.endswith(".view"):
        raise ValueError("record_view records reads only (an action ending in .view)")
    if isinstance(actor, str) or not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("只有已登录的人员或授权系统可以查阅。")
    return append_audit(actor=actor, action=action, obj=obj, payload={"via": via, **(payload or {})})


@transaction.atomic
def change_password(*, actor, user: User, old_password: str, new_password: str) -> User:
    """A person changes their own password (issue 9, §7): the old password
    must be right and the new one pass AUTH_PASSWORD_VALIDATORS (length,
    likeness to the username and name, common and all-digit passwords)."""
    from django.contrib.auth.password_validation import validate_password

    if isinstance(actor, str) or not getattr(actor, "is_authenticated", False) or actor.pk != user.pk:
        raise PermissionDenied("只能修改自己的密码。")
    if not user.check_password(old_password or ""):
        raise ValidationError({"old_password": ValidationError("原密码不正确。", code="wrong_password")})
    if new_password == old_password:
        raise ValidationError({"new_password": ValidationError("新密码不能与原密码相同。", code="same_password")})
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.error_list}) from exc
    user.set_password(new_password)
    user.save(update_fields=["password"])
    append_audit(actor=actor, action="user.password_change", obj=user, payload={})
    return user


@transaction.atomic
def unlock_login(*, actor, username: str = "", ip_address: str = "") -> int:
    """Lift login locks (django-axes, sanxiang/core/lockout.py): every failed
    attempt counted against the account, or from the address, or both.
    System administrators (or the console: `sanxiang unlock`)."""
    from axes.models import AccessAttempt

    _check(predicates.can_manage_users(actor))
    username, ip_address = (username or "").strip(), (ip_address or "").strip()
    if not username and not ip_address:
        raise ValidationError({"username": ValidationError("请指定要解锁的账号或IP地址。", code="required")})
    attempts = AccessAttempt.objects.all()
    if username:
        attempts = attempts.filter(username=username)
    if ip_address:
        attempts = attempts.filter(ip_address=ip_address)
    count, _ = attempts.delete()
    append_audit(actor=actor, action="auth.unlock", object_type="core.user", object_id=(username or ip_address)[:64],
                 payload={"username": username, "ip": ip_address, "attempts_removed": count})
    return count


def resolve_failures_of_job(*, task_name: str) -> int:
    """A scheduled job has just run without error: its open failure rows
    (``task_name`` "job.<name>", final or still retrying) are resolved by the
    system, since the work they stood for is now done. Audited, one entry
    per row, in one transaction; returns how many."""
    with transaction.atomic():
        rows = list(FailedTask.objects.select_for_update().filter(name=task_name, resolved_at__isnull=True))
        now = clock.now()
        for row in rows:
            row.resolved_at = now
            row.save(update_fields=["resolved_at"])
            append_audit(actor="system", action="queue.failure_resolved", obj=row, payload={
                "task": row.name, "failed_task_id": row.task_id, "attempts": row.attempts,
                "error": row.error[:500], "by": "a later run of the job succeeded"})
    return len(rows)


def retry_failed_task(*, actor, failed: FailedTask) -> FailedTask:
    """Re-enqueue a task of the job queue whose attempts are spent, with its
    arguments and a full set of attempts (a periodic job: run now under its
    lock); the row is marked resolved by the actor, and the task goes to
    the queue once that commits. Audited. If it fails again, it comes back
    as a new row."""
    _check(predicates.can_manage_failed_tasks(actor))
    with transaction.atomic():
        row = FailedTask.objects.select_for_update().get(pk=failed.pk)
        if not row.final:
            raise ValidationError({"task": ValidationError("这个任务仍在自动重试，不能手动重试。", code="still_retrying")})
        if row.resolved_at is not None:
            raise ValidationError({"task": ValidationError("这个任务已经重新排队，不能重复重试。", code="already_retried")})
        try:
            again = queue.task_again(row.name, row.args, row.kwargs)
        except ValueError:
            raise ValidationError({"task": ValidationError(
                "当前版本中没有名为“%(name)s”的任务，无法重试。", code="unknown_task", params={"name": row.name})}) from None
        row.resolved_at = clock.now()
        row.resolved_by = actor if isinstance(actor, User) else None
        row.retried_as = str(again.id)
        row.save(update_fields=["resolved_at", "resolved_by", "retried_as"])
        append_audit(actor=actor, action="queue.task_retry", obj=row, payload={
            "task": row.name, "failed_task_id": row.task_id, "new_task_id": row.retried_as,
            "arguments": row.args_summary, "attempts": row.attempts, "error": row.error[:500]})
        transaction.on_commit(lambda: queue.enqueue(again))
    return row
