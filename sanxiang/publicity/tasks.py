"""Work of the publicity domain on the job queue (sanxiang/core/queue.py):
thin wrappers over services and the search index."""

from django.utils.translation import gettext_lazy as _

from sanxiang.core import queue

from . import search, services


@queue.task(name="publicity.rebuild_search_index", label=_("Rebuild the public search index"))
def rebuild_search_index() -> None:
    """The whole portal index again from the published copies (`sanxiang
    search rebuild`, after a restore or a change of tokenisation)."""
    search.rebuild_index()


def expire_publicity_job() -> int:
    """Records leave the portal on their 公示截止期 (issue 3, item 6)."""
    return services.expire_publicity()
