"""Quantities parse and print exactly as Kubernetes' resource.Quantity does."""

from decimal import Decimal

import pytest

from kubesim.storage.quantity import (
    FORMAT_ERROR,
    bytes_,
    canonical,
    cpu_millicores,
    format_quantity,
    parse,
    parse_quantity,
    quantity_format,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("100m", Decimal("0.1")),
        ("0.5", Decimal("0.5")),
        ("1Gi", Decimal(2**30)),
        ("512Mi", Decimal(512 * 2**20)),
        ("1G", Decimal(10**9)),
        ("1e3", Decimal(1000)),
        ("2k", Decimal(2000)),
        ("1.5Gi", Decimal(3 * 2**29)),
        ("1E", Decimal(10**18)),
        (".5", Decimal("0.5")),
        (2, Decimal(2)),
        (0.25, Decimal("0.25")),
    ],
)
def test_parse(text, value):
    assert parse_quantity(text) == value


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("0.5", "500m"),
        ("1000m", "1"),
        ("1500m", "1500m"),
        ("1.5", "1500m"),
        ("2000", "2k"),
        ("1500", "1500"),
        ("1024Mi", "1Gi"),
        ("1.5Gi", "1536Mi"),
        ("0.5Gi", "512Mi"),
        ("1000Ki", "1000Ki"),
        ("1e3", "1e3"),
        ("10e3", "10e3"),
        ("0.1n", "1n"),  # finer than nano rounds up
        (1, "1"),
        ("0", "0"),
    ],
)
def test_canonical_form(text, printed):
    assert canonical(text) == printed


def test_format_family_follows_the_suffix():
    assert quantity_format("1Gi") == "BinarySI"
    assert quantity_format("1G") == "DecimalSI"
    assert quantity_format("1e9") == "DecimalExponent"


def test_format_quantity_with_hints():
    assert format_quantity(Decimal("1.5")) == "1500m"
    assert format_quantity(Decimal(2**30), "memory") == "1Gi"
    assert format_quantity(Decimal(2**30), "requests.storage") == "1Gi"
    assert format_quantity(Decimal(2**30), "1Mi") == "1Gi"
    assert format_quantity(Decimal(2**30), "cpu") == "1073741824"
    # binary values below 1Ki print as decimal
    assert format_quantity(Decimal(512), "BinarySI") == "512"


def test_sums_keep_the_first_non_zero_format():
    total = parse(0) + parse("512Mi") + parse("512Mi")
    assert str(total) == "1Gi"


def test_helpers_round_up():
    assert cpu_millicores("0.1") == 100
    assert cpu_millicores("1") == 1000
    assert cpu_millicores("1n") == 1
    assert bytes_("1Gi") == 1073741824
    assert bytes_("1k") == 1000


@pytest.mark.parametrize("bad", ["abc", "1Gb", "", "1.2.3", "Mi", "1 Gi", " 1", True, None])
def test_invalid_quantities(bad):
    with pytest.raises(ValueError, match="quantities must match the regular expression"):
        parse_quantity(bad)
    assert "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$" in FORMAT_ERROR


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("1e100", "10e99"),  # beyond int64: Kubernetes keeps it exactly (inf.Dec)
        ("1E100", "10e99"),
        ("1e3k", None),  # not a quantity: an exponent and a suffix
        ("99999999999999999999999999999Ei", "9223372036854775807"),  # binary: capped at int64
        ("1e-100", "1e-9"),  # rounded up to the smallest, in the family it was written in
    ],
)
def test_huge_and_tiny_quantities_do_not_crash(text, printed):
    if printed is None:
        with pytest.raises(ValueError, match="quantities must match"):
            parse(text)
    else:
        assert canonical(text) == printed


def test_absurd_exponents_are_a_format_error_not_a_crash():
    for text in ("1e1000000", "1e99999999999999999999", "1" * 2000):
        with pytest.raises(ValueError, match="quantities must match"):
            parse(text)


def test_a_huge_quota_and_claim_are_answered_not_500(core, kubesim_cluster):
    quota = core.create_namespaced_resource_quota(
        "default",
        {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": "huge"},
            "spec": {"hard": {"requests.storage": "1e100", "pods": "1e100"}},
        },
    )
    assert quota.spec.hard["requests.storage"] == "10e99"
    claim = core.create_namespaced_persistent_volume_claim(
        "default",
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "huge"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1e100"}},
            },
        },
    )
    assert claim.spec.resources.requests["storage"] == "10e99"
