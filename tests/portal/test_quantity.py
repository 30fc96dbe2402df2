from decimal import Decimal

import pytest

from apps.kube import quantity


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500m", "0.5"),
        ("2", "2"),
        ("1Gi", str(2**30)),
        ("1.5G", "1500000000"),
        ("0", "0"),
        ("152391876n", "0.152391876"),
    ],
)
def test_parse(text, value):
    assert quantity.parse(text) == Decimal(value)


def test_bad_quantity_names_the_value():
    with pytest.raises(ValueError, match="'two cores' is not a quantity"):
        quantity.parse("two cores")


def test_percent_for_bars():
    assert quantity.percent("512Mi", "1Gi") == 50
    assert quantity.percent("3", "2") == 100
    assert quantity.percent("1", "0") == 0
