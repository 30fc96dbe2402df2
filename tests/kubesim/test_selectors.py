"""Label and field selector parsing, as the apiserver reads them."""

from __future__ import annotations

import pytest

from kubesim.storage.errors import ApiError
from kubesim.storage.selectors import (
    parse_field_selector,
    parse_label_selector,
    selector_from_object,
    selector_to_string,
)

LABELS = {"app": "web", "tier": "front", "replicas": "3"}


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ("", True),
        ("app=web", True),
        ("app==web", True),
        ("app!=web", False),
        ("app in (web, db)", True),
        ("app notin (web,db)", False),
        ("tier,app", True),
        ("!tier", False),
        ("!missing", True),
        ("missing!=x", True),
        ("replicas>2", True),
        ("replicas<2", False),
        ("app=web,tier in (back)", False),
        ("example.com/role=x", False),
    ],
)
def test_label_selector(selector, matches):
    assert parse_label_selector(selector).matches(LABELS) is matches


@pytest.mark.parametrize("selector", ["app in ()", "a b", "app=we b", "-x=y", "app in (a", "x>y"])
def test_invalid_label_selectors_are_bad_requests(selector):
    with pytest.raises(ApiError) as info:
        parse_label_selector(selector)
    assert info.value.code == 400


def test_field_selectors_and_unsupported_labels():
    pod = {"metadata": {"name": "p", "namespace": "ns"}, "spec": {"nodeName": "n1"}}
    allowed = {"metadata.name", "metadata.namespace", "spec.nodeName", "status.phase"}.__contains__
    assert parse_field_selector("spec.nodeName=n1,metadata.name==p", allowed).matches(pod)
    assert parse_field_selector("status.phase=", allowed).matches(pod)
    assert not parse_field_selector("metadata.namespace!=ns", allowed).matches(pod)
    with pytest.raises(ApiError) as info:
        parse_field_selector("spec.other=1", allowed)
    assert info.value.status["message"] == "field label not supported: spec.other"


def test_label_selector_objects_round_trip_to_strings():
    selector = {
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["front", "back"]},
            {"key": "canary", "operator": "DoesNotExist"},
        ],
    }
    text = selector_to_string(selector)
    assert text == "app=web,tier in (back,front),!canary"
    assert selector_from_object(selector).matches({"app": "web", "tier": "front"})
    assert parse_label_selector(text).matches({"app": "web", "tier": "back"})
