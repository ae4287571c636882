from decimal import Decimal

from django import template

from sanxiang.publicity import search

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


@register.filter
def highlight(text, q):
    """The text escaped, each word of the search `q` in <mark> (公示-16)."""
    return search.highlight(text, q or "")


@register.filter
def snippet(public, q):
    """An excerpt of the decision around the first matched word, highlighted."""
    return search.snippet(public, q or "")
