"""Legal parameters (time limits, thresholds, ratios) as dated, scoped data.

A plain package, not a Django app: it needs no database. See docs/rules.md.

    from sanxiang.rules import get_rule
    limit = get_rule("publicity.penalty_publication_limit", on=decided_on, agency=agency)
    limit.value, limit.unit  # 7, "working_days"
"""

from .loader import (
    PERMANENT,
    UNITS,
    Rule,
    RuleError,
    RuleFileError,
    RuleNotFound,
    RuleSet,
    RuleValue,
    all_rules,
    get_rule,
    load_rules,
    reload_rules,
    rule_definition,
)

__all__ = [
    "PERMANENT",
    "UNITS",
    "Rule",
    "RuleError",
    "RuleFileError",
    "RuleNotFound",
    "RuleSet",
    "RuleValue",
    "all_rules",
    "get_rule",
    "load_rules",
    "reload_rules",
    "rule_definition",
]
