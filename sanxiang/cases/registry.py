"""Where the apps above the cases app plug into it (docs/decisions/0011).

The cases app never imports documents, evidence, review or publicity: the
dependencies run one way (docs/architecture.md). What a higher app adds to
a case — a guard on the decision, a record derived from the case, a file
built when it ends, the documents and AV evidence shown on its page — it
registers here in its ``AppConfig.ready``; the cases app (its models,
services and selectors) calls the registry explicitly at the point where
the question arises. No signals: every call is visible at its door.

Registers (each ``register_*`` is idempotent):

- decision guards ``guard(case) -> str | None``: "who may block a
  decision?" (审核-8: the review app). A non-empty answer is the Chinese
  reason the decision is refused; asked by ``predicates.can_decide`` and by
  the saves of a decision (``Case.save``, ``CaseStep.save``, the documents
  app's ``Document.save``), so no door — service, back office, import,
  script — records a decision the guard blocks. A guard is a read: it
  writes nothing.
- case-changed hooks ``hook(*, actor, case)``: run inside a case write's
  transaction once it changed the record (opening, proposed decision,
  completed steps); the review app records its evaluation.
- case-ended hooks ``hook(*, actor, case)``: run inside the transaction that
  closes (结案) or terminates (终止) a case; the review app withdraws a
  pending round, the evidence app schedules the e-case file (on commit).
- what other apps hold for a step, shown on the case page: its AV evidence
  ``provider(step) -> iterable`` (the evidence app; also counted by
  ``predicates.can_complete_step``, 记录-4) and its numbered documents
  ``provider(*, user, step) -> iterable`` (the documents app). An empty list
  while no app provides them.
- the case's evidence list ``provider(case) -> iterable[str]``: one line
  per evidence item (the evidence app), which the documents app offers as
  the prefilled 证据 of a 文书 (issue 11 item 6) without importing its peer.
- case-page panels ``provider(*, user, case) -> CasePanel | None``: a
  section a higher app adds to the case page (the review app: whether
  review is required and its rounds; the publicity app: the decision's
  publicity status). Shown in ``order``, after the case's head.
- decision facts ``provider(case) -> dict | None``: what an app holds about
  the case's decision beyond the case's own fields (the documents app: the
  numbered 决定书 — 文号, legal representative, facts, violated provision,
  basis, content, amounts). Read by the publicity app's case-changed hook,
  which derives the decision record from the decided case (公示-14).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

DECISION_GUARDS: list[Callable] = []
CASE_CHANGED_HOOKS: list[Callable] = []
CASE_ENDED_HOOKS: list[Callable] = []
STEP_AV_ITEMS: list[Callable] = []
STEP_DOCUMENTS: list[Callable] = []
CASE_EVIDENCE: list[Callable] = []
CASE_PANELS: list[Callable] = []
DECISION_FACTS: list[Callable] = []


@dataclass(frozen=True)
class CasePanel:
    """A section of the case page rendered from ``template`` with
    ``context`` (available to the template as ``panel``)."""

    template: str
    context: dict = field(default_factory=dict)
    order: int = 100


def _add(hooks: list, hook: Callable) -> Callable:
    if hook not in hooks:
        hooks.append(hook)
    return hook


def register_decision_guard(guard: Callable) -> Callable:
    """``guard(case) -> str | None``: why a decision on ``case`` may not be
    made (a Chinese reason citing the article), or None. ``case`` may be a
    case not yet saved (an import of a case decided elsewhere)."""
    return _add(DECISION_GUARDS, guard)


def register_case_changed(hook: Callable) -> Callable:
    """``hook(*, actor, case)`` runs after each case write that changes the
    record (opening, proposed decision, completed steps)."""
    return _add(CASE_CHANGED_HOOKS, hook)


def register_case_ended(hook: Callable) -> Callable:
    """``hook(*, actor, case)`` runs in the transaction that closes or
    terminates ``case`` (``case.status`` says which)."""
    return _add(CASE_ENDED_HOOKS, hook)


def register_step_av_items(provider: Callable) -> Callable:
    """``provider(step) -> iterable``: the AV evidence (photo, audio, video)
    attached to a step."""
    return _add(STEP_AV_ITEMS, provider)


def register_step_documents(provider: Callable) -> Callable:
    """``provider(*, user, step) -> iterable``: the numbered documents issued
    in a step that ``user`` may see (记录-2/记录-3)."""
    return _add(STEP_DOCUMENTS, provider)


def register_case_evidence(provider: Callable) -> Callable:
    """``provider(case) -> iterable[str]``: the case's evidence items, one
    printable line each (what, when, where), for the documents' 证据 lists.
    A read: it writes nothing."""
    return _add(CASE_EVIDENCE, provider)


def register_case_panel(provider: Callable) -> Callable:
    """``provider(*, user, case) -> CasePanel | None``: a section of the case
    page. A read: it writes nothing."""
    return _add(CASE_PANELS, provider)


def register_decision_facts(provider: Callable) -> Callable:
    """``provider(case) -> dict | None``: facts about the case's decision
    (its numbered 决定书). A read: it writes nothing."""
    return _add(DECISION_FACTS, provider)


# --------------------------------------------------------------------------
# what the cases app (and the documents app's saves) ask


def decision_block(case) -> str | None:
    """The first registered guard's reason to refuse a decision on ``case``,
    or None (no guard registered: nothing blocks)."""
    for guard in DECISION_GUARDS:
        block = guard(case)
        if block:
            return block
    return None


def refuse_blocked_decision(case, field: str = "decision") -> None:
    """Raise ValidationError (code ``review_required``, under ``field``) when
    a guard blocks a decision on ``case``; the save or service calling it is
    inside its transaction, so nothing is written."""
    block = decision_block(case)
    if block:
        raise ValidationError({field: ValidationError(block, code="review_required")})


def case_changed(*, actor, case) -> None:
    for hook in CASE_CHANGED_HOOKS:
        hook(actor=actor, case=case)


def case_ended(*, actor, case) -> None:
    for hook in CASE_ENDED_HOOKS:
        hook(actor=actor, case=case)


def step_av_items(step) -> list:
    return [item for provider in STEP_AV_ITEMS for item in provider(step)]


def step_documents(*, user, step) -> list:
    return [doc for provider in STEP_DOCUMENTS for doc in provider(user=user, step=step)]


def case_evidence(case) -> list[str]:
    """The case's evidence, one line an item (empty while no app provides it)."""
    return [line for provider in CASE_EVIDENCE for line in provider(case)]


def case_panels(*, user, case) -> list[CasePanel]:
    panels = [panel for provider in CASE_PANELS if (panel := provider(user=user, case=case))]
    return sorted(panels, key=lambda panel: panel.order)


def decision_facts(case) -> dict:
    """The registered providers' facts about ``case``'s decision, merged
    (the first provider to give a key wins); {} while none answers."""
    merged: dict = {}
    for provider in DECISION_FACTS:
        for key, value in (provider(case) or {}).items():
            merged.setdefault(key, value)
    return merged
