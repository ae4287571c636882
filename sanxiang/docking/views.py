"""Docking pages and the receiving endpoint (docs/docking.md).

- ``index`` (/workbench/docking/): the system administrator's page — the
  platform above and this platform's key, the messages that were not
  delivered (重新发送 each), sending resumed after a 410, and the trust list
  of lower platforms with what each may report and when it last did;
  对账 now (a reconciliation with the platform above, on the job queue).
- ``supervision`` (/workbench/docking/supervision/): every lower platform's
  last reconciliation, lag and backlog, and every case system's lag and
  backlog (system administrators, the platform's legal office).
- ``receive`` (POST /api/v1/docking/messages): one signed message per
  request. Authentication is the message's signature against the trust
  list, not a session or a token, so it is exempt from CSRF; everything
  else is services.receive_message."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from sanxiang.core.parsing import parse_id
from sanxiang.core.refusals import Refused, run_shown
from sanxiang.core.views import staff_required

from sanxiang.core import queue

from . import keys, predicates, selectors, services, tasks, webhooks


@csrf_exempt
@require_POST
def receive(request):
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > services.MAX_BODY_BYTES:  # refused before the body is read
        answer = services.too_large()
    else:
        answer = services.receive_message(headers=request.headers, body=request.body)
    return JsonResponse(answer.body, status=answer.status, json_dumps_params={"ensure_ascii": False})


@staff_required
@require_http_methods(["GET", "POST"])
def index(request):
    user = request.user
    if request.method == "POST":
        if request.POST.get("action") == "enable":
            run_shown(request, lambda: services.enable_upstream(actor=user), _("Sending to the platform above resumed."))
        elif request.POST.get("action") == "reconcile":
            run_shown(request, lambda: _reconcile_later(user),
                      _("Reconciliation with the platform above is queued; its outcome appears here when it is done."))
        else:
            message = selectors.get_message_for(user=user, pk=parse_id(request.POST.get("message"), field="message"))
            run_shown(request, lambda: services.retry_message(actor=user, message=message),
                      _("The message is queued to be sent again."))
        return redirect("docking:index")
    upstream = selectors.upstream_for(user=user)
    public = keys.existing_public_key()
    return render(request, "docking/index.html", {
        "upstream": upstream, "public_key": public, "fingerprint": webhooks.fingerprint(public) if public else "",
        "counts": selectors.outbox_counts_for(user=user),
        "outbox": list(selectors.troubled_messages_for(user=user)),
        "instances": list(selectors.instances_for(user=user)),
        "may_supervise": predicates.can_view_supervision(user).ok,
    })


def _reconcile_later(user) -> None:
    verdict = predicates.can_manage_docking(user)
    if not verdict:
        raise Refused(verdict)
    queue.enqueue_on_commit(tasks.reconcile_now, user.pk)


@staff_required
def supervision(request):
    return render(request, "docking/supervision.html", {
        "supervision": selectors.supervision_for(user=request.user),
        "may_manage": predicates.can_manage_docking(request.user).ok,
    })
