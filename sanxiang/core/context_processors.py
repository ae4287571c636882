"""Navigation per role: each role sees the entries of its work."""

from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _

from . import todo
from .auth import is_fully_authenticated
from .models import Role
from .predicates import supervises_platform
from .vocabulary import INSPECTION_ROLES, PUBLICITY_MANAGERS, PUBLICITY_READERS, REVIEW_OFFICE, REVIEW_READERS, TASK_TABLE_ROLES

# URL names above a page that answer no GET of their own (actions, files).
NOT_A_PAGE = {"logout"}


def navigation(request):
    user = getattr(request, "user", None)
    items = []
    if user is not None and is_fully_authenticated(user):
        # The 工作台 entry carries the number of open to-do items (issue 11
        # item 5), the same list the workbench shows first.
        items.append({"url": reverse("core:workbench"), "label": _("Workbench"),
                      "count": len(todo.todo_for_request(request)), "count_label": _("to-do items")})
        items.append({"url": reverse("core:staff_officer_list"), "label": _("Officers")})
        items.append({"url": reverse("cases:list"), "label": _("Cases")})
        if user.role in PUBLICITY_READERS:
            items.append({"url": reverse("publicity:workbench"), "label": _("Publicity")})
        if user.role in REVIEW_READERS:
            items.append({"url": reverse("review:index"), "label": _("Legal review")})
        if user.agency_id and (user.role in INSPECTION_ROLES or user.role == Role.OFFICER):
            items.append({"url": reverse("inspections:office"), "label": _("Random inspections")})
        if user.role == Role.LEGAL_SUPERVISOR and user.agency_id:
            items.append({"url": reverse("supervision:complaints"), "label": _("Complaint handling")})
            items.append({"url": reverse("supervision:alerts"), "label": _("Supervision alerts")})
        if (user.role == Role.LEGAL_SUPERVISOR or user.role in REVIEW_OFFICE) and user.agency_id:
            items.append({"url": reverse("supervision:instruments"), "label": _("Supervision instruments")})
        if user.role == Role.LEGAL_SUPERVISOR and user.region_id:
            items.append({"url": reverse("statistics:cockpit"), "label": _("Supervision cockpit")})
            items.append({"url": reverse("measures:matrix"), "label": _("Three-systems tasks")})
        elif user.agency_id and user.role in TASK_TABLE_ROLES:
            items.append({"url": reverse("measures:tasks"), "label": _("Three-systems tasks")})
        if user.agency_id and (user.role in REVIEW_OFFICE or user.role == Role.LEGAL_SUPERVISOR):
            items.append({"url": reverse("evaluation:index"), "label": _("Case-file evaluation")})
        if user.role == Role.LEGAL_SUPERVISOR and user.region_id:
            items.append({"url": reverse("statistics:annual_status"), "label": _("Annual enforcement statistics")})
        elif user.agency_id and user.role in PUBLICITY_MANAGERS:
            items.append({"url": reverse("statistics:annual_edit"), "label": _("Annual enforcement statistics")})
        if user.role == Role.SYSADMIN or user.is_superuser:
            items.append({"url": reverse("docking:index"), "label": _("Docking")})
        if user.role == Role.SYSADMIN or user.is_superuser or supervises_platform(user):
            items.append({"url": reverse("docking:supervision"), "label": _("Docking supervision")})
        if user.is_staff:
            items.append({"url": reverse("admin:index"), "label": _("Back office")})
    return {"nav_items": items, **back_link(request)}


# Pages that are where one starts: no way back is offered on them.
STARTING_POINTS = {"/", "/workbench/", "/login/", "/login/totp/"}


def back_link(request) -> dict:
    """Every page has a way back (issue 11 item 8): the nearest page above it
    in the URL tree that is a page of the site (a case's step -> the case,
    an officer -> the officer list, a decision -> the decisions), else the
    workbench (signed in) or the home page. base.html shows it above the
    content; a template with its own, more specific "←" link empties the
    block ``back``."""
    path = getattr(request, "path", "") or ""
    if path in STARTING_POINTS or path.startswith(("/admin/", "/api/")):
        return {}
    signed_in = is_fully_authenticated(getattr(request, "user", None))
    parts = path.rstrip("/").split("/")
    while len(parts) > 2:
        parts = parts[:-1]
        candidate = "/".join(parts) + "/"
        if candidate in STARTING_POINTS:
            break
        try:
            match = resolve(candidate)
        except Resolver404:
            continue
        if match.url_name in NOT_A_PAGE:
            continue
        return {"back_url": candidate, "back_label": _("Back")}
    if signed_in and path.startswith(("/workbench/", "/account/", "/review/", "/documents/", "/catalog/office/", "/statistics/", "/evaluation/")):
        return {"back_url": reverse("core:workbench"), "back_label": _("Back to the workbench")}
    return {"back_url": reverse("home"), "back_label": _("Back to the home page")}
