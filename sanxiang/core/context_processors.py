"""Navigation per role: each role sees the entries of its work."""

from django.urls import reverse
from django.utils.translation import gettext as _

from . import todo
from .auth import is_fully_authenticated
from .vocabulary import PUBLICITY_READERS, REVIEW_READERS


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
        if user.is_staff:
            items.append({"url": reverse("admin:index"), "label": _("Back office")})
    return {"nav_items": items}
