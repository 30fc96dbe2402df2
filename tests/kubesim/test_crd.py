"""CustomResourceDefinitions: serving custom resources through discovery and the dynamic client."""

from __future__ import annotations

import pytest
from kubernetes.client import ApiException, ApiextensionsV1Api
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import ResourceNotFoundError

from tests.kubesim.conftest import kubectl_json


def crd(plural: str, kind: str, scope: str = "Namespaced", group: str = "example.com") -> dict:
    schema = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": scope,
            "names": {
                "plural": plural,
                "singular": kind.lower(),
                "kind": kind,
                "shortNames": [plural[:2]],
            },
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                    "subresources": {
                        "status": {},
                        "scale": {
                            "specReplicasPath": ".spec.size",
                            "statusReplicasPath": ".status.size",
                        },
                    },
                }
            ],
        },
    }


def test_crd_is_established_and_serves_namespaced_resources(api):
    created = ApiextensionsV1Api(api).create_custom_resource_definition(crd("widgets", "Widget"))
    conditions = {c.type: c.status for c in created.status.conditions}
    assert conditions == {"NamesAccepted": "True", "Established": "True"}
    assert created.status.accepted_names.kind == "Widget"

    dynamic = DynamicClient(api)  # discovery after the CRD exists
    widgets = dynamic.resources.get(api_version="example.com/v1", kind="Widget")
    assert widgets.namespaced and widgets.name == "widgets"
    obj = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w1"},
        "spec": {"size": 2, "color": "red"},
    }
    made = widgets.create(body=obj, namespace="default")
    assert made.metadata.generation == 1
    assert widgets.get(name="w1", namespace="default").spec.color == "red"
    widgets.patch(
        name="w1",
        namespace="default",
        body={"spec": {"color": "blue"}},
        content_type="application/merge-patch+json",
    )
    patched = widgets.get(name="w1", namespace="default")
    assert patched.spec.color == "blue" and patched.metadata.generation == 2
    assert [w.metadata.name for w in widgets.get(namespace="default").items] == ["w1"]

    widgets.delete(name="w1", namespace="default")
    assert widgets.get(namespace="default").items == []


def test_cluster_scoped_custom_resource_and_status(api):
    ApiextensionsV1Api(api).create_custom_resource_definition(crd("gadgets", "Gadget", "Cluster"))
    gadgets = DynamicClient(api).resources.get(api_version="example.com/v1", kind="Gadget")
    assert not gadgets.namespaced
    gadgets.create(
        body={
            "apiVersion": "example.com/v1",
            "kind": "Gadget",
            "metadata": {"name": "g"},
            "spec": {"size": 1},
        }
    )
    status = DynamicClient(api).resources.get(api_version="example.com/v1", kind="Gadget").status
    status.patch(
        name="g",
        body={"status": {"size": 1, "ready": True}},
        content_type="application/merge-patch+json",
    )
    got = gadgets.get(name="g")
    assert got.status.ready is True and got.metadata.generation == 1


def test_deleting_the_crd_removes_its_resources(api):
    ext = ApiextensionsV1Api(api)
    ext.create_custom_resource_definition(crd("things", "Thing"))
    things = DynamicClient(api).resources.get(api_version="example.com/v1", kind="Thing")
    things.create(
        body={"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "t"}},
        namespace="default",
    )
    ext.delete_custom_resource_definition("things.example.com")
    dynamic = DynamicClient(api)
    dynamic.resources.invalidate_cache()  # the client caches discovery on disk
    with pytest.raises(ResourceNotFoundError):
        dynamic.resources.get(api_version="example.com/v1", kind="Thing")


def test_invalid_crd_name_is_rejected(api):
    bad = crd("widgets", "Widget")
    bad["metadata"]["name"] = "wrong.example.com"
    with pytest.raises(ApiException) as info:
        ApiextensionsV1Api(api).create_custom_resource_definition(bad)
    assert info.value.status == 422


def test_kubectl_with_custom_resources(kubectl):
    import yaml

    kubectl("create", "-f", "-", stdin=yaml.safe_dump(crd("widgets", "Widget")))
    widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 3}\n"
    assert kubectl("apply", "-f", "-", stdin=widget).stdout == "widget.example.com/w created\n"
    listed = kubectl("get", "wi").stdout.splitlines()
    assert listed[0].split() == ["NAME", "AGE"] and listed[1].split()[0] == "w"
    assert kubectl("scale", "widget", "w", "--replicas=5").stdout == "widget.example.com/w scaled\n"
    assert kubectl_json(kubectl, "get", "widget", "w")["spec"]["size"] == 5
    kubectl("patch", "widget", "w", "--type", "merge", "-p", '{"spec":{"color":"green"}}')
    strategic = kubectl("patch", "widget", "w", "-p", '{"spec":{"color":"x"}}', check=False)
    assert strategic.returncode == 1
    assert (
        "application/strategic-merge-patch+json is not supported by example.com/v1, Kind=Widget"
        in strategic.stderr
    )
    assert kubectl("delete", "widget", "w").stdout == 'widget.example.com "w" deleted\n'
