"""The YAML service's guards: what a user pasting YAML is protected from, and told."""

import pytest
from django.core.exceptions import ValidationError

from apps.core import yaml as kyaml

CONFIGMAP = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: fast
"""


def test_valid_object_gets_its_namespace_filled_in():
    obj = kyaml.check(kyaml.load(CONFIGMAP), api_version="v1", kind="ConfigMap", namespace="shop")
    assert obj["metadata"]["namespace"] == "shop"


def test_malformed_yaml_says_where():
    with pytest.raises(ValidationError, match="line 2, column 11: mapping values are not allowed"):
        kyaml.load("kind: ConfigMap\nmetadata: :\n  name: x\n")


def test_oversized_yaml_is_refused():
    with pytest.raises(ValidationError, match="too large"):
        kyaml.load("a: " + "x" * (kyaml.MAX_BYTES + 1))


def test_alias_bomb_is_refused_quickly():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n"
    for i, name in enumerate("bcdefghij"):
        prev = "abcdefghij"[i]
        refs = ", ".join([f"*{prev}"] * 9)
        bomb += f"{name}: &{name} [{refs}]\n"
    with pytest.raises(ValidationError, match="alias"):
        kyaml.load(bomb)


def test_python_tags_are_not_executed():
    with pytest.raises(ValidationError, match="not valid"):
        kyaml.load("!!python/object/apply:os.system ['echo hacked']")


def test_wrong_namespace_kind_or_name_is_refused():
    other = CONFIGMAP.replace("name: settings", "name: settings\n  namespace: other-project")
    with pytest.raises(ValidationError, match="must stay in namespace shop"):
        kyaml.check(kyaml.load(other), api_version="v1", kind="ConfigMap", namespace="shop")
    with pytest.raises(ValidationError, match="kind must be Secret"):
        kyaml.check(kyaml.load(CONFIGMAP), api_version="v1", kind="Secret", namespace="shop")
    with pytest.raises(ValidationError, match="name cannot change"):
        kyaml.check(
            kyaml.load(CONFIGMAP), api_version="v1", kind="ConfigMap", namespace="shop", name="old"
        )


def test_export_drops_server_fields_and_edit_keeps_the_version():
    live = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "s",
            "namespace": "shop",
            "uid": "u",
            "resourceVersion": "42",
            "managedFields": [{}],
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "annotations": {kyaml.LAST_APPLIED: "{}"},
        },
        "data": {"a": "1"},
        "status": {"x": 1},
    }
    exported = kyaml.for_export(live)
    assert exported == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "s", "namespace": "shop"},
        "data": {"a": "1"},
    }
    assert kyaml.for_edit(live)["metadata"]["resourceVersion"] == "42"
    assert "uid" in live["metadata"]  # the input is untouched
