"""Kubernetes resource quantities (`100m`, `1Gi`, `1e3` ...) as Kubernetes parses and prints them.

A quantity remembers the family of suffix it was written in (binary `Ki/Mi/Gi`, decimal
`m/k/M/G`, or an `e` exponent) and prints back in that family in canonical form, the way
`resource.Quantity.String()` does: `0.5` becomes `500m`, `1024Mi` becomes `1Gi`, `1.5Gi`
becomes `1536Mi`. Values are rounded up to nano precision, as Kubernetes does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_UP, Decimal, InvalidOperation, localcontext

DECIMAL_SI = "DecimalSI"
BINARY_SI = "BinarySI"
DECIMAL_EXPONENT = "DecimalExponent"

# The message Kubernetes returns for an unparseable quantity.
FORMAT_ERROR = (
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)

BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
DECIMAL_SUFFIXES = {
    "n": -9,
    "u": -6,
    "m": -3,
    "": 0,
    "k": 3,
    "M": 6,
    "G": 9,
    "T": 12,
    "P": 15,
    "E": 18,
}
DECIMAL_BY_EXPONENT = {exp: suffix for suffix, exp in DECIMAL_SUFFIXES.items()}
BINARY_BY_EXPONENT = {exp // 10: suffix for suffix, exp in BINARY_SUFFIXES.items()}

_NUMBER = re.compile(r"^([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))(.*)$")
_EXPONENT = re.compile(r"^[eE]([+-]?[0-9]+)$")
_NANO = Decimal("1e-9")
# The largest binary quantity (Go's maxAllowed, 2^63-1) and the most digits kubesim keeps.
MAX_ALLOWED = Decimal(2**63 - 1)
MAX_DIGITS = 1000

# Resource names whose zero-knowledge default rendering is binary (memory-like).
_BINARY_RESOURCES = ("memory", "storage", "ephemeral-storage")


@dataclass(frozen=True)
class Quantity:
    """A parsed quantity: its exact value and the suffix family it prints in."""

    value: Decimal
    format: str = DECIMAL_SI

    def __str__(self) -> str:
        return _canonical(self.value, self.format)

    def __add__(self, other: Quantity) -> Quantity:
        # Quantity.Add: a zero accumulator adopts the other side's format.
        fmt = other.format if self.value == 0 else self.format
        return Quantity(self.value + other.value, fmt)

    def __sub__(self, other: Quantity) -> Quantity:
        fmt = other.format if self.value == 0 else self.format
        return Quantity(self.value - other.value, fmt)


def parse(s: str | int | float | Decimal | Quantity) -> Quantity:
    """Parse a quantity keeping its format; invalid input raises ValueError(FORMAT_ERROR)."""
    if isinstance(s, Quantity):
        return s
    if isinstance(s, bool):
        raise ValueError(FORMAT_ERROR)
    if isinstance(s, int):
        return Quantity(Decimal(s), DECIMAL_SI)
    if isinstance(s, float | Decimal):
        # JSON numbers reach the API server as text; repr keeps what the user wrote.
        s = repr(s) if isinstance(s, float) else str(s)
        if "e" in s or "E" in s:
            mantissa, _, exp = s.lower().partition("e")
            s = f"{mantissa}e{int(exp)}"
    if not isinstance(s, str):
        raise ValueError(FORMAT_ERROR)
    text = s
    match = _NUMBER.match(text)
    if not text or not match:
        raise ValueError(FORMAT_ERROR)
    number, suffix = match.groups()
    try:
        base = Decimal(number)
    except InvalidOperation:
        raise ValueError(FORMAT_ERROR) from None
    if len(number) > MAX_DIGITS:
        raise ValueError(FORMAT_ERROR)
    with localcontext() as ctx:
        # Exact arithmetic: Kubernetes keeps arbitrary precision (inf.Dec) for what
        # does not fit an int64, so 1e100 is a quantity, not an error.
        ctx.prec, ctx.Emax, ctx.Emin = 2 * MAX_DIGITS, 2 * MAX_DIGITS, -2 * MAX_DIGITS
        if suffix in BINARY_SUFFIXES:
            value, fmt = base * (Decimal(2) ** BINARY_SUFFIXES[suffix]), BINARY_SI
            # Go caps binary quantities at the largest int64.
            value = max(min(value, MAX_ALLOWED), -MAX_ALLOWED)
        elif suffix in DECIMAL_SUFFIXES:
            value, fmt = base.scaleb(DECIMAL_SUFFIXES[suffix]), DECIMAL_SI
        elif exp := _EXPONENT.match(suffix):
            exponent = int(exp.group(1)) if len(exp.group(1)) < 12 else MAX_DIGITS + 1
            if abs(exponent) > MAX_DIGITS:
                # Go takes any int32 exponent; kubesim stops where printing the value
                # would cost more than the test is worth.
                raise ValueError(FORMAT_ERROR)
            value, fmt = base.scaleb(exponent), DECIMAL_EXPONENT
        else:
            raise ValueError(FORMAT_ERROR)
    return Quantity(_round_nano(value), fmt)


def parse_quantity(s: str | int | float) -> Decimal:
    """The exact value of a quantity (`"100m"` → `Decimal("0.1")`); invalid → ValueError."""
    return parse(s).value


def quantity_format(s: str | int | float) -> str:
    """`DecimalSI`, `BinarySI` or `DecimalExponent`: the family `s` was written in."""
    return parse(s).format


def format_quantity(value: Decimal | int | float | str, like: str = "") -> str:
    """Print `value` in canonical Kubernetes form.

    `like` picks the suffix family: a format name (`"BinarySI"`), a quantity written in the
    wanted family (`"1Gi"`), or a resource name (`"memory"`, `"requests.storage"`: binary;
    anything else decimal).
    """
    if not isinstance(value, Decimal):
        value = parse_quantity(value) if isinstance(value, str) else Decimal(str(value))
    return _canonical(_round_nano(value), _format_for(like))


def canonical(s: str | int | float) -> str:
    """The form the API server stores and returns: `"0.5"` → `"500m"`, `"1024Mi"` → `"1Gi"`."""
    return str(parse(s))


def cpu_millicores(s: str | int | float) -> int:
    """Quantity in thousandths, rounded up like `Quantity.MilliValue()` (`"0.1"` → 100)."""
    return int((parse_quantity(s) * 1000).to_integral_value(ROUND_CEILING))


def bytes_(s: str | int | float) -> int:
    """Quantity as an integer, rounded up like `Quantity.Value()` (`"1Gi"` → 1073741824)."""
    return int(parse_quantity(s).to_integral_value(ROUND_CEILING))


def _format_for(like: str) -> str:
    if like in (DECIMAL_SI, BINARY_SI, DECIMAL_EXPONENT):
        return like
    if not like:
        return DECIMAL_SI
    try:
        return parse(like).format
    except ValueError:
        pass
    name = like.rsplit("/", 1)[-1].rsplit(".", 1)[-1]
    return BINARY_SI if name in _BINARY_RESOURCES else DECIMAL_SI


def _round_nano(value: Decimal) -> Decimal:
    # Kubernetes keeps nine decimal places and rounds anything finer away from zero.
    if not value.is_finite() or value.as_tuple().exponent >= -9:
        return value  # no finer than nano already
    with localcontext() as ctx:
        ctx.prec = max(60, value.adjusted() + 20)
        ctx.Emax, ctx.Emin = 4 * MAX_DIGITS, -4 * MAX_DIGITS
        return value.quantize(_NANO, rounding=ROUND_UP)


def _decimal_parts(value: Decimal) -> tuple[int, int]:
    """(mantissa, exponent) with the exponent a multiple of 3 and no needless trailing zeros."""
    sign, digits, exp = value.normalize().as_tuple()
    mantissa = int("".join(map(str, digits))) if digits else 0
    if sign:
        mantissa = -mantissa
    # normalize() strips trailing zeros into the exponent; pull it down to a multiple of 3
    shift = exp % 3
    return mantissa * 10**shift, exp - shift


def _canonical(value: Decimal, fmt: str) -> str:
    if value == 0:
        return "0"
    if fmt == BINARY_SI:
        # Small or fractional binary values print as decimal rather than lose precision.
        if -1024 < value < 1024 or value != value.to_integral_value():
            fmt = DECIMAL_SI
        else:
            number, power = int(value), 0
            while number % 1024 == 0 and power < max(BINARY_BY_EXPONENT):
                number //= 1024
                power += 1
            return f"{number}{BINARY_BY_EXPONENT.get(power, '')}"
    mantissa, exp = _decimal_parts(value)
    if fmt == DECIMAL_EXPONENT:
        return f"{mantissa}e{exp}" if exp else str(mantissa)
    # DecimalSI: suffixes stop at E; larger exponents stay in the mantissa.
    while exp > max(DECIMAL_BY_EXPONENT):
        mantissa, exp = mantissa * 1000, exp - 3
    return f"{mantissa}{DECIMAL_BY_EXPONENT[exp]}"
