from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from sanxiang.cases import registry as case_registry
from sanxiang.core.calendar_hooks import register_provisional_recompute
from sanxiang.core.doc_numbers import register_number_holders
from sanxiang.core.jobs import register_job
from sanxiang.core.metrics import register_gauge
from sanxiang.core.todo import register_todo_provider


class PublicityConfig(AppConfig):
    name = "sanxiang.publicity"
    label = "publicity"
    verbose_name = _("Publicity of enforcement decisions")

    def ready(self):
        from . import tasks

        register_job("publicity.expire", tasks.expire_publicity_job)

        # Loading a year's holiday schedule recomputes the provisional
        # publication due dates (core.calendar registry).
        from . import services

        register_provisional_recompute(services.recompute_provisional_deadlines)

        # Decisions to check, overdue publications and early-end applications
        # on the to-do list (core/todo.py).
        from . import todo

        register_todo_provider(todo.todo_items)

        # A decided case reaches publicity by itself (公示-14, issue 11): the
        # case-changed hook derives the decision record through the intake;
        # the case page shows its publicity; the agency's 文号 namespace
        # knows the records' numbers (core.doc_numbers).
        from . import case_sync

        case_registry.register_case_changed(case_sync.on_case_changed)
        case_registry.register_case_panel(case_sync.case_panel)
        register_number_holders(services.number_holders)

        # The publication backlog on the operator's /metrics (core/metrics.py).
        from . import selectors

        register_gauge("sanxiang_publication_backlog",
                       "Decisions not yet published: awaiting (all pending) and overdue (past their due date)",
                       selectors.publication_backlog,
                       labels=("state",))
