from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "sanxiang.core"
    label = "core"
    verbose_name = _("Core: regions, agencies, officers, users, audit")

    def ready(self):
        from django.urls import register_converter

        from .parsing import IdConverter, YearConverter

        register_converter(IdConverter, "id")  # <id:pk>: ids in range only (core/parsing.py)
        register_converter(YearConverter, "year")  # <year:year>: four digits

        from . import jobs, tasks

        jobs.register_job("security.log_purge", tasks.purge_security_log_job)

        # Background tasks that failed every attempt, on the system
        # administrators' to-do list (core/queue.py, the failed-tasks page).
        from . import selectors
        from .todo import register_todo_provider

        register_todo_provider(selectors.failed_tasks_todo)

        # /readyz (core/health.py) and /metrics (core/metrics.py): the
        # database and the job queue; other apps add theirs in their ready().
        from . import health, metrics, queue

        health.register_check("database", health.check_database)
        health.register_check("queue", health.check_queue)
        metrics.register_gauge("sanxiang_queue_pending", "Tasks waiting in the job queue (due now or scheduled retries)",
                               queue.pending_count)
        metrics.register_gauge("sanxiang_queue_in_flight",
                               "Tasks taken by a consumer and not yet acknowledged (a dead consumer's come back)",
                               queue.inflight_count)
        metrics.register_gauge("sanxiang_queue_failed_tasks",
                               "Tasks whose attempts are spent and that nobody retried yet (失败任务 page)",
                               queue.failed_count)
