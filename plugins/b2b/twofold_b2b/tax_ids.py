"""Russian tax ids: the INN with its check digits, and the KPP.

The core has no hook for a pack's own field checks yet, so these are not wired into the
company's fields; they are here for that hook (and for imports that want to check ids).
"""

from __future__ import annotations

_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_FIRST = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_SECOND = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _check_digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def valid_inn(value: str) -> bool:
    """An organisation's 10-digit or a person's 12-digit INN whose check digits add up."""
    if not value.isascii() or not value.isdigit():
        return False
    if len(value) == 10:
        return _check_digit(value, _INN10) == int(value[9])
    if len(value) == 12:
        return (_check_digit(value, _INN12_FIRST) == int(value[10])
                and _check_digit(value, _INN12_SECOND) == int(value[11]))
    return False


def valid_kpp(value: str) -> bool:
    """Nine characters: four digits (the tax office), two digits or capital letters, three digits."""
    return (
        len(value) == 9 and value.isascii() and value[:4].isdigit() and value[6:].isdigit()
        and all(c.isdigit() or "A" <= c <= "Z" for c in value[4:6])
    )
