"""Legal parameters (time limits, thresholds, ratios) as dated, scoped data.

A plain package, not a Django app: it needs no database. See docs/rules.md.

    from sanxiang.rules import get_rule
    limit = get_rule("publicity.penalty_publication_limit", on=decided_on, agency=agency)
    limit.value, limit.unit  # 7, "working_days"
"""

# The package's names are the loader's public names (loader.__all__), listed once.
from .loader import *  # noqa: F403
from .loader import __all__  # noqa: F401
