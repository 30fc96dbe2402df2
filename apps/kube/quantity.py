"""Kubernetes resource quantities ("500m", "2Gi", "1.5") as exact decimals."""

import re
from decimal import Decimal, localcontext

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
# Kubernetes keeps a quantity as an int64 of its base unit, and cpu-like ones in milli-units
# too: above these it overflows (and shows things like "100000E").
INT64_MAX = 2**63 - 1
LARGEST = Decimal(INT64_MAX)
LARGEST_MILLI = Decimal(INT64_MAX) / 1000
# Exponents beyond this are no size anyone means (and cost more to compute than they mean).
MAX_EXPONENT = 1000
_BINARY = ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki")
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
        if abs(number.adjusted()) > MAX_EXPONENT:
            raise ValueError(f"{text!r} is far too large or too small to be a quantity")
        with localcontext() as ctx:
            ctx.prec = 2 * MAX_EXPONENT  # exact, as Kubernetes keeps it
            return number * _SUFFIXES[match.group(2) or ""]
    except ArithmeticError:  # InvalidOperation, Overflow
        raise ValueError(f"{text!r} is not a quantity") from None


def render(number: Decimal, *, binary: bool = False) -> str:
    """A number as Kubernetes writes a quantity: "12", "1500m", with ``binary`` "48Gi"."""
    if binary and number == number.to_integral_value() and number > 0:
        for suffix in _BINARY:
            size = _SUFFIXES[suffix]
            if number % size == 0:
                return f"{int(number / size)}{suffix}"
    if number == number.to_integral_value():
        return f"{int(number)}"
    milli = number * 1000
    if milli == milli.to_integral_value():
        return f"{int(milli)}m"
    return f"{number.normalize():f}"


def percent(used, hard) -> int:
    """How much of ``hard`` is ``used``, 0 to 100 (for bars)."""
    try:
        hard_value = parse(hard)
        return 0 if hard_value == 0 else min(100, int(parse(used) * 100 / hard_value))
    except ValueError:
        return 0
