from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def yuan(fen):
    """Integer fen → '12,000.50 元' (exact)."""
    if fen in (None, ""):
        return ""
    value = Decimal(int(fen)) / 100
    return f"{value:,.2f} 元"


@register.filter
def get(mapping, key):
    return (mapping or {}).get(key, "")
