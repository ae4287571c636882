from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from sanxiang.cases import registry
from sanxiang.core.calendar_hooks import register_provisional_recompute
from sanxiang.core.jobs import register_job
from sanxiang.core.todo import register_todo_provider


class ReviewConfig(AppConfig):
    name = "sanxiang.review"
    label = "review"
    verbose_name = _("Legal review of major decisions")

    def ready(self):
        # The review app plugs into the cases app through its registry
        # (sanxiang.cases.registry, docs/decisions/0011), never signals:
        # - 审核-8: its guard answers "who may block a decision?" at every
        #   door of a decision (can_decide, Case/CaseStep/Document saves);
        # - the evaluation is recorded by the case writes that change its
        #   inputs, with the acting user — never by a read (issue 9);
        # - a pending round is withdrawn with the case that ends;
        # - its section of the case page (panels.case_panel).
        from . import guards, panels, services, tasks
        from .services import deadlines as review_deadlines

        registry.register_decision_guard(guards.block_decision)
        registry.register_case_changed(services.record_evaluation)
        registry.register_case_ended(services.withdraw_reviews_of_ended_case)
        # The case page says whether review is required and why, what the
        # decision waits for, each round's result and the link to submit.
        registry.register_case_panel(panels.case_panel)
        register_job("review.deadlines", tasks.review_deadlines_job)  # reminders and escalation (审核-8)
        # Loading a year's holiday schedule recomputes the provisional review
        # limits (core.calendar registry; core imports no app).
        register_provisional_recompute(review_deadlines.recompute_provisional_deadlines)
        # Rounds to review, to assign, extensions and escalations to decide,
        # opinions to answer, filings to accept on the to-do list (core/todo.py).
        from . import todo

        register_todo_provider(todo.todo_items)
