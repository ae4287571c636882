"""The back office over the core tables, scoped by jurisdiction.

Every queryset comes from a selector that takes the acting user, so an
object outside the user's jurisdiction is "not found" here exactly as on the
pages and in the API. Django's per-model permissions are not used: the role
decides.

``BackOfficeAdmin`` is the one base of every ModelAdmin of the platform
(all apps): read-only by default — no add, change or delete, no bulk
delete, and ``save_model`` / ``delete_model`` refuse. An admin offers a
write only by naming the services it calls (``writes_through``) and
overriding ``save_model`` to call them, so the service checks who acts,
validates, writes and appends the audit entry. Tables without a service
stay read-only (core/tests/test_admin_read_only.py checks every registered
admin).
"""

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from . import selectors, services
from .auth import is_fully_authenticated
from .models import Agency, AuditCheckpoint, AuditEntry, CalendarYear, Officer, Region, Role, SecurityEvent, User


class SanxiangAdminSite(admin.AdminSite):
    site_header = _("Three Systems Platform — back office")
    site_title = _("Back office")
    index_title = _("Tables in your jurisdiction")

    def has_permission(self, request):
        user = request.user
        return bool(user.is_active and user.is_staff and is_fully_authenticated(user))

    def login(self, request, extra_context=None):
        # One login page for the whole platform (with TOTP and lockout).
        target = request.GET.get(REDIRECT_FIELD_NAME, reverse("admin:index"))
        return redirect(f"{reverse('core:login')}?next={target}")


site = SanxiangAdminSite(name="admin")


def _is_admin(user) -> bool:
    return user.role == Role.SYSADMIN or user.is_superuser


def _can_manage(user) -> bool:
    """Certificates and agencies are managed by legal offices (which issue
    certificates) and system administrators."""
    return _is_admin(user) or user.role == Role.LEGAL_SUPERVISOR


NO_SERVICE = "该数据在后台只读：只能通过相应的业务功能（服务）修改，修改会核对办理人并写入审计日志。"


class BackOfficeAdmin(admin.ModelAdmin):
    """Read-only unless a subclass routes its writes through services."""

    selector = None  # a function(*, user) -> QuerySet
    # Names of the services (e.g. "core.services.create_region") that this
    # admin's save_model calls; empty: the admin writes nothing.
    writes_through: tuple[str, ...] = ()

    def get_queryset(self, request):
        return type(self).selector(user=request.user)

    def has_module_permission(self, request):
        return True

    def has_view_permission(self, request, obj=None):
        return True

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # nothing is deleted from the back office; rows are deactivated or revoked by services

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        raise PermissionDenied(NO_SERVICE)

    def save_related(self, request, form, formsets, change):
        # Relations are written by the services save_model calls, never by the form.
        if formsets:
            raise PermissionDenied(NO_SERVICE)

    def delete_model(self, request, obj):
        raise PermissionDenied(NO_SERVICE)

    def delete_queryset(self, request, queryset):
        raise PermissionDenied(NO_SERVICE)


class ScopedAdmin(BackOfficeAdmin):
    """Core tables managed by legal offices and administrators: add and
    change are offered to them; the services decide (core.predicates)."""

    def has_add_permission(self, request):
        return _can_manage(request.user)

    def has_change_permission(self, request, obj=None):
        return _can_manage(request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Agency:
            kwargs["queryset"] = selectors.agencies_for(user=request.user)
        elif db_field.related_model is Region and not _is_admin(request.user):
            kwargs["queryset"] = selectors.regions_for(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Region, site=site)
class RegionAdmin(ScopedAdmin):
    selector = staticmethod(selectors.regions_for)
    writes_through = ("sanxiang.core.services.create_region",)
    list_display = ("code", "name", "level", "parent")
    search_fields = ("code", "name")
    list_filter = ("level",)
    fields = ("code", "name", "level", "parent")

    def has_add_permission(self, request):
        return _is_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return False  # codes are national data; a change is a new region

    def save_model(self, request, obj, form, change):
        created = services.create_region(actor=request.user, code=obj.code, name=obj.name, level=obj.level, parent=obj.parent)
        obj.pk = created.pk


@admin.register(Agency, site=site)
class AgencyAdmin(ScopedAdmin):
    selector = staticmethod(selectors.agencies_for)
    writes_through = ("sanxiang.core.services.create_agency", "sanxiang.core.services.update_agency")
    list_display = ("name", "credit_code", "region", "kind", "is_active")
    search_fields = ("name", "credit_code")
    list_filter = ("kind", "is_active")
    fields = ("name", "short_name", "credit_code", "region", "kind", "legal_office", "address", "phone", "report_phone",
              "report_url", "is_active")

    def get_readonly_fields(self, request, obj=None):
        return ("credit_code",) if obj else ()

    def save_model(self, request, obj, form, change):
        if change:
            services.update_agency(actor=request.user, agency=obj, **{f: form.cleaned_data[f] for f in form.changed_data if f in services.AGENCY_EDITABLE})
        else:
            created = services.create_agency(
                actor=request.user, name=obj.name, credit_code=obj.credit_code, region=obj.region, kind=obj.kind,
                legal_office=obj.legal_office, short_name=obj.short_name, address=obj.address, phone=obj.phone,
            )
            obj.pk = created.pk


@admin.register(Officer, site=site)
class OfficerAdmin(ScopedAdmin):
    selector = staticmethod(selectors.officers_for)
    writes_through = ("sanxiang.core.services.create_officer", "sanxiang.core.services.update_officer")
    list_display = ("name", "certificate_number", "agency", "status", "valid_to")
    search_fields = ("name", "certificate_number")
    list_filter = ("status",)
    fields = ("name", "agency", "post", "certificate_number", "categories", "enforcement_region", "valid_from", "valid_to", "status")

    def get_readonly_fields(self, request, obj=None):
        return ("certificate_number", "status") if obj else ()

    def save_model(self, request, obj, form, change):
        if change:
            services.update_officer(actor=request.user, officer=obj, **{f: form.cleaned_data[f] for f in form.changed_data if f in services.OFFICER_EDITABLE})
        else:
            created = services.create_officer(
                actor=request.user, name=obj.name, agency=obj.agency, certificate_number=obj.certificate_number,
                categories=obj.categories, enforcement_region=obj.enforcement_region, valid_from=obj.valid_from,
                valid_to=obj.valid_to, post=obj.post, status=obj.status,
            )
            obj.pk = created.pk


@admin.register(User, site=site)
class UserAdmin(ScopedAdmin):
    selector = staticmethod(selectors.users_for)
    writes_through = ("sanxiang.core.services.set_user_role", "sanxiang.core.services.update_user_account")
    list_display = ("username", "display_name", "role", "agency", "region", "is_active", "last_login")
    search_fields = ("username", "display_name")
    list_filter = ("role", "is_active")
    fields = ("username", "display_name", "role", "agency", "region", "is_active", "last_login")
    readonly_fields = ("username", "last_login")

    def has_add_permission(self, request):
        return False  # `sanxiang createuser` (password policy, audit)

    def has_change_permission(self, request, obj=None):
        return _is_admin(request.user)

    def save_model(self, request, obj, form, change):
        if not _is_admin(request.user):
            raise PermissionDenied
        if {"role", "agency", "region"} & set(form.changed_data):
            services.set_user_role(actor=request.user, user=obj, role=obj.role, agency=obj.agency, region=obj.region)
        if "is_active" in form.changed_data or "display_name" in form.changed_data:
            services.update_user_account(actor=request.user, user=obj, is_active=obj.is_active, display_name=obj.display_name)


class ReadOnlyAdmin(BackOfficeAdmin):
    """Scoped and read-only (the base's default, named for readers)."""


@admin.register(AuditEntry, site=site)
class AuditEntryAdmin(ReadOnlyAdmin):
    selector = staticmethod(selectors.audit_entries_for)
    list_display = ("seq", "time", "actor", "action", "object_type", "object_id")
    search_fields = ("actor", "action", "object_id")
    list_filter = ("action",)

    def has_module_permission(self, request):
        return selectors.audit_entries_for(user=request.user).exists() or _is_admin(request.user)


@admin.register(AuditCheckpoint, site=site)
class AuditCheckpointAdmin(ReadOnlyAdmin):
    list_display = ("tree_size", "root_hash", "created_at")

    def get_queryset(self, request):
        return AuditCheckpoint.objects.all() if _is_admin(request.user) else AuditCheckpoint.objects.none()

    def has_module_permission(self, request):
        return _is_admin(request.user)


@admin.register(CalendarYear, site=site)
class CalendarYearAdmin(ReadOnlyAdmin):
    list_display = ("year", "source", "loaded_at")

    def get_queryset(self, request):
        return CalendarYear.objects.all()


@admin.register(SecurityEvent, site=site)
class SecurityEventAdmin(ReadOnlyAdmin):
    """Refused attempts (core.security_log), for administrators only."""

    list_display = ("time", "kind", "status", "method", "path", "username", "ip")
    list_filter = ("kind", "status")
    search_fields = ("path", "username", "ip")
    date_hierarchy = "time"

    def get_queryset(self, request):
        return SecurityEvent.objects.all() if _is_admin(request.user) else SecurityEvent.objects.none()

    def has_module_permission(self, request):
        return _is_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return _is_admin(request.user)


from axes.models import AccessAttempt  # noqa: E402  (the login locks, sanxiang/core/lockout.py)

from .models import ScheduledJob  # noqa: E402


@admin.register(AccessAttempt, site=site)
class LoginLockAdmin(ReadOnlyAdmin):
    """Failed logins counting towards a lock (per account, address and pair),
    for administrators; "unlock" lifts them through core.services.unlock_login."""

    writes_through = ("sanxiang.core.services.unlock_login",)
    list_display = ("username", "ip_address", "failures_since_start", "attempt_time", "user_agent")
    search_fields = ("username", "ip_address")
    actions = ["unlock"]

    def get_queryset(self, request):
        return AccessAttempt.objects.all() if _is_admin(request.user) else AccessAttempt.objects.none()

    def has_module_permission(self, request):
        return _is_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return _is_admin(request.user)

    @admin.action(description=_("Unlock the selected account and address pairs"))
    def unlock(self, request, queryset):
        removed = 0
        for username, ip in set(queryset.values_list("username", "ip_address")):
            removed += services.unlock_login(actor=request.user, username=username or "", ip_address=ip or "")
        self.message_user(request, _("Unlocked: %(count)d failed-login records removed.") % {"count": removed})


@admin.register(ScheduledJob, site=site)
class ScheduledJobAdmin(ReadOnlyAdmin):
    """Each scheduled job's lock and last run (sanxiang/core/jobs.py)."""

    list_display = ("name", "last_started_at", "last_finished_at", "last_ok", "consecutive_failures", "owner", "locked_until")

    def get_queryset(self, request):
        return ScheduledJob.objects.all() if _is_admin(request.user) else ScheduledJob.objects.none()

    def has_module_permission(self, request):
        return _is_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return _is_admin(request.user)
