"""Docking's work on the job queue (sanxiang/core/queue.py): delivering
the outbox.

A delivery pass runs under the scheduled-job lock ("docking.deliver"), so
two workers never send at the same time (each object's versions leave in
order). It is started when a message is written (on commit), again when
the next retry comes due (the retry schedule starts at 5 seconds), and by
the scheduled jobs every interval as a safety net.

The holder of the lock keeps passing while anything is due (a message
written during a pass is sent by the next pass of the same holder): a task
that finds this process already delivering only says so and ends, instead
of queueing another task (at 100 messages a second, one task per message
each waiting for the lock would cost more than the sending). A task that
finds another process delivering comes back a second later (at most one
such task per process waits). A holder that died (SIGKILL, power loss: the
lock's lease would keep it for minutes) is recognised when it was a
process of this machine that no longer runs, and its lock is taken over at
once, so a restarted instance sends without waiting for the lease."""

from __future__ import annotations

import os
import socket
import threading
import time

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sanxiang.core import jobs, queue
from sanxiang.core.models import ScheduledJob

from . import reconcile, services
from .models import OutboxMessage, OutboxState

JOB = "docking.deliver"
# A retry due later than this is left to the scheduled job's interval.
LONGEST_WAKE_UP = 600
# Passes one job run makes at most before it hands over to a new task (the
# job's lock and the queue's worker are not held forever under constant
# load).
MAX_PASSES = 200
# After a pass that delivered, the holder looks for newly due messages every
# LINGER_STEP seconds for up to LINGER_SECONDS before it ends (a flow of
# changes is sent pass after pass without waiting for the queue's worker to
# pick up the next task: up to a second at its idle polling).
LINGER_SECONDS = 1.0
LINGER_STEP = 0.05

_state = threading.Lock()
_running = False  # this process holds the lock and is passing
_wanted = False  # a pass was asked for while this process was passing
_retry_waiting = False  # a task of this process waits for another process's pass


def _take_wanted() -> bool:
    global _wanted
    with _state:
        wanted, _wanted = _wanted, False
    return wanted


def _more_comes_due(seconds: float) -> bool:
    """Wait up to ``seconds`` for a message to come due (written by a
    commit meanwhile) or a pass to be asked for."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(LINGER_STEP)
        if _take_wanted() or OutboxMessage.objects.filter(
                state=OutboxState.PENDING, next_attempt_at__lte=timezone.now()).exists():
            return True
    return False


def deliver_outbox_job() -> int:
    """Passes while anything is due or was asked for meanwhile; after a
    pass that sent something, for up to LINGER_SECONDS more while messages
    keep coming (under a steady flow the next pass starts as soon as the
    next message commits, not when the queue's worker next looks for
    tasks); then wake up for what comes due next."""
    global _running
    with _state:
        _running = True
    sent, passes = 0, 0
    try:
        while True:
            _take_wanted()
            result = services.deliver_due()
            sent += result.sent
            passes += 1
            if result.disabled:
                break
            if not (result.more or _take_wanted() or (result.delivered and _more_comes_due(LINGER_SECONDS))):
                break
            if passes >= MAX_PASSES:
                deliver_outbox.schedule(delay=0)
                return sent
    finally:
        with _state:
            _running = False
    due = result.next_due()
    if due is not None:
        wait = max((due - timezone.now()).total_seconds(), 0.0)
        if wait <= LONGEST_WAKE_UP:
            deliver_outbox.schedule(delay=wait + 0.05)
    return sent


def _holder_is_gone(owner: str) -> bool:
    """The lock's holder ("host:pid:thread") was a process of this machine
    that no longer runs."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it runs, as another user
        return False
    return False


def _release_dead_holder(owner: str) -> bool:
    if not _holder_is_gone(owner):
        return False
    return ScheduledJob.objects.filter(name=JOB, owner=owner).update(locked_until=timezone.now()) == 1


@queue.task(name="docking.deliver_outbox", label=_("Send the docking messages that are due to the platform above"))
def deliver_outbox(retry: bool = False) -> None:
    """``retry``: the one task of this process that waited for another
    process's pass."""
    global _wanted, _retry_waiting
    with _state:
        _wanted = True
        if retry:
            _retry_waiting = False
        if _running:  # this process's pass sends it
            return
    for _attempt in range(2):
        outcome = jobs.run_job(JOB, jobs.JOBS[JOB])
        if not isinstance(outcome, jobs.Busy) or not _release_dead_holder(outcome.owner):
            break
    if isinstance(outcome, jobs.Busy):
        with _state:
            if _running or _retry_waiting:
                return
            _retry_waiting = True
        deliver_outbox.schedule(kwargs={"retry": True}, delay=1)
    elif isinstance(outcome, jobs.Failed):
        raise jobs.JobFailed(JOB, outcome.error, outcome.traceback)
    elif _take_wanted():
        # Asked for after this run's last pass, while it still held the lock.
        deliver_outbox.schedule(delay=0)


# --- reconciliation (reconcile.py; docs/docking.md "Reconciliation") ---------

RECONCILE_JOB = "docking.reconcile"


def reconcile_job() -> int:
    """The daily reconciliation with the platform above: offered every
    interval, it runs when the last one is at least a day old (and there is
    an active upstream). Returns the objects re-sent."""
    if not reconcile.due():
        return 0
    return reconcile.run(actor=reconcile.SYSTEM).resent


@queue.task(name="docking.reconcile_now", label=_("Reconcile with the platform above now"))
def reconcile_now(user_id: int) -> None:
    """The docking page's button: a reconciliation now, as the administrator
    who asked (checked again when it runs)."""
    reconcile.run_as(user_id)
