"""The OpenAPI documents kubesim serves: shape, real schemas, and what kubectl needs."""

import json

import jsonschema
import pytest

from kubesim.apiserver import openapi

CRONTAB_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "crontabs.stable.example.com"},
    "spec": {
        "group": "stable.example.com",
        "scope": "Namespaced",
        "names": {"plural": "crontabs", "singular": "crontab", "kind": "CronTab"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "properties": {
                                    "cronSpec": {"type": "string"},
                                    "replicas": {"type": "integer"},
                                },
                            }
                        },
                    }
                },
                "subresources": {"status": {}},
            }
        ],
    },
}

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "labels": {"app": "web"}},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "containers": [
                    {
                        "name": "web",
                        "image": "nginx:1.27",
                        "ports": [{"containerPort": 80}],
                        "resources": {"requests": {"cpu": "100m", "memory": 64}},
                    }
                ]
            },
        },
    },
}


def _validator(doc: dict, name: str) -> jsonschema.Draft4Validator:
    root = {"components": doc["components"], "$ref": f"#/components/schemas/{name}"}
    return jsonschema.Draft4Validator(root)


def _all_refs(node, found):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.add(value)
            else:
                _all_refs(value, found)
    elif isinstance(node, list):
        for item in node:
            _all_refs(item, found)


def test_index_lists_every_served_group_version_with_prefix_and_hash():
    index = openapi.openapi_v3_index("/clusters/demo", [CRONTAB_CRD])
    paths = index["paths"]
    for gv in [
        "api/v1",
        "apis/apps/v1",
        "apis/batch/v1",
        "apis/networking.k8s.io/v1",
        "apis/storage.k8s.io/v1",
        "apis/autoscaling/v2",
        "apis/autoscaling/v1",
        "apis/rbac.authorization.k8s.io/v1",
        "apis/apiextensions.k8s.io/v1",
        "apis/policy/v1",
        "apis/stable.example.com/v1",
        "api",
        "apis",
    ]:
        url = paths[gv]["serverRelativeURL"]
        assert url.startswith(f"/clusters/demo/openapi/v3/{gv}?hash=")
        assert len(url.split("hash=")[1]) == 128
    # The hash follows the content, so kubectl's cache notices a changed CRD.
    other = openapi.openapi_v3_index("/clusters/demo", [])
    assert "apis/stable.example.com/v1" not in other["paths"]
    assert other["paths"]["apis/apps/v1"] == paths["apis/apps/v1"]


def test_apps_document_has_real_schemas_with_gvk_and_patch_operations():
    doc = openapi.openapi_v3_document("apis/apps/v1", [])
    json.dumps(doc)  # plain JSON
    assert doc["openapi"] == "3.0.0"
    schemas = doc["components"]["schemas"]
    deployment = schemas["io.k8s.api.apps.v1.Deployment"]
    assert deployment["x-kubernetes-group-version-kind"] == [
        {"group": "apps", "kind": "Deployment", "version": "v1"}
    ]
    containers = schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["format"] == "int-or-string"
    # kubectl leaves validation to the server when the PATCH operation has fieldValidation.
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"]["kind"] == "Deployment"
    assert any(p["name"] == "fieldValidation" and p["in"] == "query" for p in patch["parameters"])
    assert "application/strategic-merge-patch+json" in patch["requestBody"]["content"]
    refs: set[str] = set()
    _all_refs(doc, refs)
    missing = {r for r in refs if r.removeprefix("#/components/schemas/") not in schemas}
    assert not missing


def test_known_deployment_validates_and_a_broken_one_does_not():
    doc = openapi.openapi_v3_document("apis/apps/v1", [])
    validator = _validator(doc, "io.k8s.api.apps.v1.Deployment")
    assert list(validator.iter_errors(DEPLOYMENT)) == []
    broken = json.loads(json.dumps(DEPLOYMENT))
    broken["spec"]["replicas"] = "two"
    broken["spec"]["template"]["spec"]["containers"][0]["ports"] = "80"
    assert len(list(validator.iter_errors(broken))) == 2


def test_core_document_and_unknown_group_version():
    doc = openapi.openapi_v3_document("api/v1", [])
    assert "io.k8s.api.core.v1.Pod" in doc["components"]["schemas"]
    assert "/api/v1/namespaces/{namespace}/pods/{name}/status" in doc["paths"]
    assert openapi.openapi_v3_document("apis/nope.example.com/v1", []) is None
    assert openapi.openapi_v3_document("apis/stable.example.com/v1", []) is None


def test_crd_document_uses_the_crd_schema():
    doc = openapi.openapi_v3_document("apis/stable.example.com/v1", [CRONTAB_CRD])
    schema = doc["components"]["schemas"]["com.example.stable.v1.CronTab"]
    assert schema["x-kubernetes-group-version-kind"] == [
        {"group": "stable.example.com", "kind": "CronTab", "version": "v1"}
    ]
    assert schema["properties"]["spec"]["properties"]["cronSpec"] == {"type": "string"}
    validator = _validator(doc, "com.example.stable.v1.CronTab")
    good = {
        "apiVersion": "stable.example.com/v1",
        "kind": "CronTab",
        "metadata": {"name": "x"},
        "spec": {"cronSpec": "* * * * *", "replicas": 1},
    }
    assert list(validator.iter_errors(good)) == []
    assert list(validator.iter_errors({**good, "spec": {"replicas": "1"}}))
    item = doc["paths"]["/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}"]
    # No strategic merge patch for custom resources: kubectl apply then sends a merge patch.
    assert set(item["patch"]["requestBody"]["content"]) == {
        "application/apply-patch+yaml",
        "application/json-patch+json",
        "application/merge-patch+json",
    }


def _read_fields(data: bytes):
    """Walk one level of a protobuf message: yields (field number, bytes or int)."""
    pos = 0

    def varint():
        nonlocal pos
        shift = value = 0
        while True:
            b = data[pos]
            pos += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return value

    while pos < len(data):
        key = varint()
        num, wire = key >> 3, key & 7
        if wire == 0:
            yield num, varint()
        elif wire == 1:
            yield num, data[pos : pos + 8]
            pos += 8
        elif wire == 2:
            n = varint()
            yield num, data[pos : pos + n]
            pos += n
        else:
            pytest.fail(f"unexpected wire type {wire}")


def test_v2_protobuf_is_a_gnostic_document_with_the_definitions():
    data = openapi.openapi_v2_protobuf([CRONTAB_CRD])
    top = dict(_read_fields(data))
    assert top[1] == b"2.0"
    names = set()
    for num, named in _read_fields(top[9]):
        assert num == 1
        names.add(dict(_read_fields(named))[1].decode())
    assert {"io.k8s.api.apps.v1.Deployment", "com.example.stable.v1.CronTab"} <= names
    doc = openapi.openapi_v2_document([])
    assert doc["swagger"] == "2.0"
    assert doc["definitions"]["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["type"] == (
        "string"
    )
    json.dumps(doc)


def test_unknown_fields_for_strict_field_validation():
    assert openapi.unknown_fields("apps/v1", "Deployment", DEPLOYMENT) == []
    typo = json.loads(json.dumps(DEPLOYMENT))
    typo["spec"]["replica"] = 2
    typo["spec"]["template"]["spec"]["containers"][0]["bogus"] = 1
    typo["metadata"]["labels"]["fine"] = "labels are a map"
    fields = openapi.unknown_fields("apps/v1", "Deployment", typo)
    assert sorted(fields) == ["spec.replica", "spec.template.spec.containers[0].bogus"]
    assert openapi.strict_decoding_message("apps/v1", "Deployment", ["spec.replica"]) == (
        'Deployment in version "v1" cannot be handled as a Deployment: '
        'strict decoding error: unknown field "spec.replica"'
    )
    cr = {
        "apiVersion": "stable.example.com/v1",
        "kind": "CronTab",
        "metadata": {"name": "x"},
        "spec": {"cronSpec": "*", "image": "nope"},
    }
    assert openapi.unknown_fields(cr["apiVersion"], "CronTab", cr, [CRONTAB_CRD]) == ["spec.image"]
    assert openapi.unknown_fields("example.com/v1", "Unknown", {"anything": 1}) == []
