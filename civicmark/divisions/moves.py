"""Whether a division may move: the apps that hang work on the tree say why not.

The tree (layer 1) imports no app above it (ADR 19), yet a move can break what those apps keep:
a campaign's communities all lie under the division that runs it, which every whole-campaign
figure relies on (ADR 29, ADR 30: a viewer who sees the campaign's division sees them all). So an
app registers a check here (`@refuses_move`, at import of its `moves` module from its AppConfig),
and the one writer of a division's parent (`accounts.places.services.division_update`) asks
`refusals` before it moves anything.
"""

from __future__ import annotations

from collections.abc import Callable

Check = Callable[[str, str], list[str]]
_CHECKS: list[Check] = []


def refuses_move(check: Check) -> Check:
    """Register `check(old_path, new_path)`: the reasons (translated text) a division at
    `old_path`, with everything below it, may not move to `new_path`; empty when it may."""
    _CHECKS.append(check)
    return check


def refusals(old_path: str, new_path: str) -> list[str]:
    return [reason for check in _CHECKS for reason in check(old_path, new_path)]
