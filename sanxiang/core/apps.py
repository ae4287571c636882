from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "sanxiang.core"
    label = "core"
    verbose_name = _("Core: regions, agencies, officers, users, audit")

    def ready(self):
        from django.urls import register_converter

        from .parsing import IdConverter

        register_converter(IdConverter, "id")  # <id:pk>: ids in range only (core/parsing.py)

        from . import jobs, tasks

        jobs.register_job("security.log_purge", tasks.purge_security_log_job)

        # Background tasks that failed every attempt, on the system
        # administrators' to-do list (core/queue.py, the failed-tasks page).
        from . import selectors
        from .todo import register_todo_provider

        register_todo_provider(selectors.failed_tasks_todo)

        # /readyz (core/health.py): the database; the queue's storage is
        # registered with it below. Other apps add theirs in their ready().
        from . import health

        health.register_check("database", health.check_database)
