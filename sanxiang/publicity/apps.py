from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from sanxiang.core.calendar_hooks import register_provisional_recompute
from sanxiang.core.jobs import register_job
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
