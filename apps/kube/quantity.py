"""Kubernetes resource quantities ("500m", "2Gi", "1.5") as exact decimals."""

import re
from decimal import Decimal, InvalidOperation

_SUFFIXES = {
    "": Decimal(1),
    "n": Decimal("1e-9"),  # the metrics API reports CPU in nanocores
    "u": Decimal("1e-6"),
    "m": Decimal("0.001"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}
_QUANTITY = re.compile(
    r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$"
)


def parse(value) -> Decimal:
    """A quantity as a Decimal; ValueError with a readable message when it is not one."""
    text = str(value).strip()
    match = _QUANTITY.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a quantity (examples: 500m, 2, 512Mi, 10Gi)")
    try:
        number = Decimal(match.group(1))
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a quantity") from None
    return number * _SUFFIXES[match.group(2) or ""]


def percent(used, hard) -> int:
    """How much of ``hard`` is ``used``, 0 to 100 (for bars)."""
    try:
        hard_value = parse(hard)
        return 0 if hard_value == 0 else min(100, int(parse(used) * 100 / hard_value))
    except ValueError:
        return 0
