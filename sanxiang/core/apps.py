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

        # /readyz (core/health.py): the database; the queue's storage is
        # registered with it below. Other apps add theirs in their ready().
        from . import health

        health.register_check("database", health.check_database)
