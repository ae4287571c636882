"""Who already holds a 文号 in an agency's namespace (公示-14, 公示-19).

An agency's document numbers (冀石市监罚〔2026〕1号) are one namespace,
whatever issued them: the platform's own numbering (the documents app), a
case system pushing its decisions, a 双公示 file imported by hand. No number
may stand for two decisions. core imports no app, so each app that holds
numbers registers, in its ``AppConfig.ready``, a provider
``provider(*, agency, numbers) -> iterable[NumberHolder]`` naming the
holders it knows among ``numbers``:

- the documents app: numbered documents issued in the platform's cases;
- the publicity app: decision records (pushed, imported or derived from a
  case).

Asked by the documents app's number sequence (``numbering.take_number``
skips a number already held) and by the publicity intake
(``services.receive_records`` refuses a number held by another decision,
code ``number_taken``). This module imports no model, so that an AppConfig
module can import it at its top.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

_PROVIDERS: dict[str, Callable] = {}


@dataclass(frozen=True)
class NumberHolder:
    """One holder of a number: what it is (a Chinese description naming
    the record, shown in refusals), the case it belongs to (None when not a
    platform case), the publicity record (None when it is not one) and the
    party it names, so two records about the same decision can be told from
    two different decisions."""

    number: str
    label: str
    source: str  # "document" | "publicity"
    case_id: int | None = None
    record_id: int | None = None
    external_id: str = ""
    party_name: str = ""
    party_codes: tuple[str, ...] = ()


def register_number_holders(provider: Callable) -> Callable:
    """Register ``provider(*, agency, numbers) -> iterable[NumberHolder]``
    (keyed by its module and name: a second ready() replaces it)."""
    _PROVIDERS[f"{provider.__module__}.{provider.__qualname__}"] = provider
    return provider


def holders_of(*, agency, numbers: Iterable[str]) -> dict[str, list[NumberHolder]]:
    """{number: [holders]} for the numbers of ``numbers`` someone holds in
    ``agency``'s namespace (numbers nobody holds are absent)."""
    wanted = sorted({n for n in numbers if n})
    found: dict[str, list[NumberHolder]] = {}
    if not wanted:
        return found
    for _name, provider in sorted(_PROVIDERS.items()):
        for holder in provider(agency=agency, numbers=wanted):
            found.setdefault(holder.number, []).append(holder)
    return found


def is_held(*, agency, number: str) -> bool:
    return bool(holders_of(agency=agency, numbers=[number]))


def same_party(holder: NumberHolder, *, party_name: str, party_codes: Iterable[str]) -> bool:
    """Whether ``holder`` names the same party: the same name and, where
    both give a credit code or ID number, one in common."""
    if not holder.party_name or holder.party_name.strip() != (party_name or "").strip():
        return False
    mine = {c.strip().upper() for c in party_codes if c and c.strip()}
    theirs = {c.strip().upper() for c in holder.party_codes if c and c.strip()}
    return not mine or not theirs or bool(mine & theirs)
