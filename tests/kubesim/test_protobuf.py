"""The protobuf encoding kubectl 1.32 sends for built-in kinds, and kubesim's answers in it.

Three kinds of evidence: bodies captured from kubectl 1.32 itself (Go's encoder) decode to
the JSON the same command would send with `-o json`; an object of every built-in kind kubesim
serves survives encoding and decoding unchanged; and the everyday generator commands work
against a kubesim cluster, with kubesim answering in protobuf.
"""

from __future__ import annotations

import base64
import json

import pytest
import requests

from kubesim.apiserver import protobuf
from kubesim.storage import resources
from tests.kubesim.conftest import kubectl_json
from tests.kubesim.protobuf_samples import SAMPLES
from tests.kubesim.runtime_support import rt, runtime_server  # noqa: F401 (fixtures)

PROTOBUF = "application/vnd.kubernetes.protobuf"
KUBECTL_ACCEPT = "application/vnd.kubernetes.protobuf,application/json"

# -- golden bytes from kubectl 1.32 ---------------------------------------------------------
# Captured from the bodies `kubectl create ...` POSTed to kubesim; Go writes every
# non-pointer field, so these carry the empty strings and zeros the JSON form omits.
KUBECTL_BODIES = {
    "create namespace team-a": (
        "azhzAAoPCgJ2MRIJTmFtZXNwYWNlEh4KFgoGdGVhbS1hEgAaACIAKgAyADgAQgASABoCCgAaACIA",
        {"metadata": {"name": "team-a"}, "spec": {}, "status": {}},
    ),
    "create configmap cfg --from-literal=a=1 --from-literal=b=": (
        "azhzAAoPCgJ2MRIJQ29uZmlnTWFwEiQKEwoDY2ZnEgAaACIAKgAyADgAQgASBgoBYRIBMRIFCgFiEgAaACIA",
        {"metadata": {"name": "cfg"}, "data": {"a": "1", "b": ""}},
    ),
    "create secret generic s1 --from-literal=password=p@ss": (
        "azhzAAoMCgJ2MRIGU2VjcmV0EigKEgoCczESABoAIgAqADIAOABCABIQCghwYXNzd29yZBIEcEBzcxoAGgAiAA==",
        {"metadata": {"name": "s1"}, "data": {"password": base64.b64encode(b"p@ss").decode()}},
    ),
    "create deployment web --image=nginx --replicas=0": (
        "azhzAAoVCgdhcHBzL3YxEgpEZXBsb3ltZW50EqsBCh8KA3dlYhIAGgAiACoAMgA4AEIAWgoKA2FwcBIDd2ViEnoI"
        "ABIMCgoKA2FwcBIDd2ViGmAKHAoAEgAaACIAKgAyADgAQgBaCgoDYXBwEgN3ZWISQBIiCgVuZ2lueBIFbmdpbngq"
        "AEIAagByAIABAIgBAJABAKIBABoAMgBCAEoAUgBYAGAAaACCAQCKAQCaAQDCAQAiAgoAKAA4ABoMCAAQABgAIAAo"
        "ADgAGgAiAA==",
        {
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "nginx", "image": "nginx", "resources": {}}]},
                },
                "strategy": {},
            },
            "status": {},
        },
    ),
    "create job once --image=busybox -- echo hi": (
        "azhzAAoPCghiYXRjaC92MRIDSm9iEogBChQKBG9uY2USABoAIgAqADIAOABCABJmMmQKEAoAEgAaACIAKgAyADgA"
        "QgASUBItCgRvbmNlEgdidXN5Ym94GgRlY2hvGgJoaSoAQgBqAHIAgAEAiAEAkAEAogEAGgVOZXZlcjIAQgBKAFIA"
        "WABgAGgAggEAigEAmgEAwgEAGgggACgAMAA6ABoAIgA=",
        {
            "metadata": {"name": "once"},
            "spec": {
                "template": {
                    "metadata": {},
                    "spec": {
                        "containers": [
                            {
                                "name": "once",
                                "image": "busybox",
                                "command": ["echo", "hi"],
                                "resources": {},
                            }
                        ],
                        "restartPolicy": "Never",
                    },
                }
            },
            "status": {},
        },
    ),
    "create quota q --hard=cpu=1,memory=1Gi,pods=4": (
        "azhzAAoTCgJ2MRINUmVzb3VyY2VRdW90YRJBChEKAXESABoAIgAqADIAOABCABIqCgoKA2NwdRIDCgExCg8KBm1l"
        "bW9yeRIFCgMxR2kKCwoEcG9kcxIDCgE0GgAaACIA",
        {
            "metadata": {"name": "q"},
            "spec": {"hard": {"cpu": "1", "memory": "1Gi", "pods": "4"}},
            "status": {},
        },
    ),
    "auth can-i create pods": (
        "azhzAAoyChdhdXRob3JpemF0aW9uLms4cy5pby92MRIXU2VsZlN1YmplY3RBY2Nlc3NSZXZpZXcSPwoQCgASABoA"
        "IgAqADIAOABCABIhCh8KB2RlZmF1bHQSBmNyZWF0ZRoAIgAqBHBvZHMyADoAGggIABIAGgAgABoAIgA=",
        {
            "metadata": {},
            "spec": {
                "resourceAttributes": {"namespace": "default", "verb": "create", "resource": "pods"}
            },
            "status": {},
        },
    ),
    "create serviceaccount sa1": (
        "azhzAAoUCgJ2MRIOU2VydmljZUFjY291bnQSFQoTCgNzYTESABoAIgAqADIAOABCABoAIgA=",
        {"metadata": {"name": "sa1"}},
    ),
    "create role r1 --verb=get --resource=pods": (
        "azhzAAokChxyYmFjLmF1dGhvcml6YXRpb24uazhzLmlvL3YxEgRSb2xlEiMKEgoCcjESABoAIgAqADIAOABCABIN"
        "CgNnZXQSABoEcG9kcxoAIgA=",
        {
            "metadata": {"name": "r1"},
            "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}],
        },
    ),
    "create rolebinding rb1 --role=r1 --serviceaccount=default:sa1": (
        "azhzAAorChxyYmFjLmF1dGhvcml6YXRpb24uazhzLmlvL3YxEgtSb2xlQmluZGluZxJeChMKA3JiMRIAGgAiACoA"
        "MgA4AEIAEiAKDlNlcnZpY2VBY2NvdW50EgAaA3NhMSIHZGVmYXVsdBolChlyYmFjLmF1dGhvcml6YXRpb24uazhz"
        "LmlvEgRSb2xlGgJyMRoAIgA=",
        {
            "metadata": {"name": "rb1"},
            "subjects": [{"kind": "ServiceAccount", "name": "sa1", "namespace": "default"}],
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r1"},
        },
    ),
    "create cronjob cj --image=busybox --schedule=*/5 * * * *": (
        "azhzAAoTCghiYXRjaC92MRIHQ3JvbkpvYhKeAQoSCgJjahIAGgAiACoAMgA4AEIAEoUBCgsqLzUgKiAqICogKhoA"
        "KnQKEgoCY2oSABoAIgAqADIAOABCABJeMlwKEAoAEgAaACIAKgAyADgAQgASSBIhCgJjahIHYnVzeWJveCoAQgBq"
        "AHIAgAEAiAEAkAEAogEAGglPbkZhaWx1cmUyAEIASgBSAFgAYABoAIIBAIoBAJoBAMIBABoAGgAiAA==",
        {
            "metadata": {"name": "cj"},
            "spec": {
                "schedule": "*/5 * * * *",
                "jobTemplate": {
                    "metadata": {"name": "cj"},
                    "spec": {
                        "template": {
                            "metadata": {},
                            "spec": {
                                "containers": [{"name": "cj", "image": "busybox", "resources": {}}],
                                "restartPolicy": "OnFailure",
                            },
                        }
                    },
                },
            },
            "status": {},
        },
    ),
    "create ingress ing --rule=foo.com/bar=svc1:8080": (
        "azhzAAofChRuZXR3b3JraW5nLms4cy5pby92MRIHSW5ncmVzcxJKChMKA2luZxIAGgAiACoAMgA4AEIAEi8aLQoH"
        "Zm9vLmNvbRIiCiAKHgoEL2JhchIPIg0KBHN2YzESBQoAEJA/GgVFeGFjdBoCCgAaACIA",
        {
            "metadata": {"name": "ing"},
            "spec": {
                "rules": [
                    {
                        "host": "foo.com",
                        "http": {
                            "paths": [
                                {
                                    "path": "/bar",
                                    "pathType": "Exact",
                                    "backend": {
                                        "service": {"name": "svc1", "port": {"number": 8080}}
                                    },
                                }
                            ]
                        },
                    }
                ]
            },
            "status": {"loadBalancer": {}},
        },
    ),
    "create pdb pdb1 --selector=app=p1 --min-available=1": (
        "azhzAAogCglwb2xpY3kvdjESE1BvZERpc3J1cHRpb25CdWRnZXQSOQoUCgRwZGIxEgAaACIAKgAyADgAQgASFQoG"
        "CAAQARoAEgsKCQoDYXBwEgJwMRoKCAAYACAAKAAwABoAIgA=",
        {
            "metadata": {"name": "pdb1"},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "p1"}}},
            "status": {},
        },
    ),
    "create pdb pdb2 --selector=app=web --max-unavailable=30%": (
        "azhzAAogCglwb2xpY3kvdjESE1BvZERpc3J1cHRpb25CdWRnZXQSPQoUCgRwZGIyEgAaACIAKgAyADgAQgASGRIM"
        "CgoKA2FwcBIDd2ViGgkIARAAGgMzMCUaCggAGAAgACgAMAAaACIA",
        {
            "metadata": {"name": "pdb2"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "maxUnavailable": "30%"},
            "status": {},
        },
    ),
}


@pytest.mark.parametrize("command", sorted(KUBECTL_BODIES))
def test_bodies_kubectl_sends_decode_to_their_json_form(command):
    body, expected = KUBECTL_BODIES[command]
    decoded = protobuf.decode_object(base64.b64decode(body))
    assert {k: v for k, v in decoded.items() if k not in ("apiVersion", "kind")} == expected


def test_the_envelope_by_hand():
    # k8s\0, then Unknown{typeMeta{apiVersion "v1", kind "ConfigMap"}, raw, "", ""}
    raw = bytes.fromhex("0a030a016112060a016b120176")  # metadata{name "a"}, data{k: v}
    body = protobuf.wrap("v1", "ConfigMap", raw)
    assert body == (
        b"k8s\x00"
        + bytes.fromhex("0a0f0a0276311209")
        + b"ConfigMap"
        + bytes.fromhex("120d")
        + raw
        + bytes.fromhex("1a002200")
    )
    assert (
        protobuf.encode(
            "k8s.io.api.core.v1.ConfigMap", {"metadata": {"name": "a"}, "data": {"k": "v"}}
        )
        == raw
    )
    assert protobuf.decode_object(body) == {
        "kind": "ConfigMap",
        "apiVersion": "v1",
        "metadata": {"name": "a"},
        "data": {"k": "v"},
    }


@pytest.mark.parametrize(
    ("message", "value", "wire"),
    [
        # Time: seconds (1) and nanos (2); MicroTime keeps microseconds
        (protobuf.TIME, "2026-01-02T03:04:05Z", "08a5ebdcca06"),
        (protobuf.MICRO_TIME, "2026-01-02T03:04:05.123456Z", "08a5ebdcca06108094ef3a"),
        # Quantity: its canonical string in field 1
        (protobuf.QUANTITY, "500m", "0a04" + b"500m".hex()),
        # IntOrString: type (0 int, 1 string), intVal, strVal, all written as Go writes them
        (protobuf.INT_OR_STRING, 8080, "080010903f1a00"),
        (protobuf.INT_OR_STRING, "http", "080110001a04" + b"http".hex()),
        # Duration: nanoseconds
        (protobuf.DURATION, "1h0m30s", "088098f1e6d269"),
        # RawExtension: the object's JSON as bytes
        (protobuf.RAW_EXTENSION, {"a": 1}, "0a07" + b'{"a":1}'.hex()),
    ],
)
def test_well_known_types_by_hand(message, value, wire):
    assert protobuf.encode(message, value).hex() == wire
    assert protobuf.decode(message, bytes.fromhex(wire)) == value


def test_negative_int32_and_int64_and_bytes_by_hand():
    # a negative int32 is a ten-byte varint; Secret data values are raw bytes on the wire
    pod_spec = protobuf.encode("k8s.io.api.core.v1.PodSpec", {"priority": -5})
    assert pod_spec.hex() == "c801" + "fbffffffffffffffff01"
    assert protobuf.decode("k8s.io.api.core.v1.PodSpec", pod_spec) == {"priority": -5}
    secret = protobuf.encode("k8s.io.api.core.v1.Secret", {"data": {"k": "AP8="}})
    assert secret.hex() == "12070a016b120200ff"
    job = {"activeDeadlineSeconds": 2**40}
    assert (
        protobuf.decode(
            "k8s.io.api.batch.v1.JobSpec", protobuf.encode("k8s.io.api.batch.v1.JobSpec", job)
        )
        == job
    )


def test_go_zero_values_are_dropped_but_set_pointers_kept():
    # Go writes `name: ""`, `hostNetwork: false`; `replicas: 0` and
    # `automountServiceAccountToken: false` were set on purpose
    spec = protobuf.encode(
        "k8s.io.api.core.v1.PodSpec",
        {
            "hostNetwork": False,
            "automountServiceAccountToken": False,
            "nodeName": "",
            "priority": 0,
        },
    )
    assert protobuf.decode("k8s.io.api.core.v1.PodSpec", spec) == {
        "automountServiceAccountToken": False,
        "priority": 0,
    }


# -- every built-in kind, both ways ---------------------------------------------------------

JSON_ONLY = {
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),  # not in kubernetes/api's schema
    ("metrics.k8s.io/v1beta1", "NodeMetrics"),  # k8s.io/metrics, not kubernetes/api
    ("metrics.k8s.io/v1beta1", "PodMetrics"),
}


def test_every_served_kind_but_the_json_only_ones_has_a_message_and_a_sample():
    for rtype in resources.BUILTIN:
        key = (rtype.api_version, rtype.kind)
        has_message = protobuf.message_name(*key) is not None
        assert has_message == (key not in JSON_ONLY), key
        if has_message:
            assert key in SAMPLES, f"no protobuf sample for {key}"
            if not rtype.review:
                assert protobuf.message_name(rtype.api_version, rtype.list_kind) is not None


@pytest.mark.parametrize("key", sorted(SAMPLES), ids=lambda k: f"{k[0]}:{k[1]}")
def test_every_kind_round_trips(key):
    api_version, kind = key
    obj = {"apiVersion": api_version, "kind": kind, **SAMPLES[key]}
    body = protobuf.encode_object(obj)
    assert body is not None and body.startswith(b"k8s\x00")
    assert protobuf.decode_object(body) == obj


def test_lists_round_trip():
    items = [
        {"apiVersion": "v1", "kind": "ConfigMap", **SAMPLES[("v1", "ConfigMap")]},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "two"}, "data": {"x": "y"}},
    ]
    listed = {
        "apiVersion": "v1",
        "kind": "ConfigMapList",
        "metadata": {"resourceVersion": "9", "continue": "abc", "remainingItemCount": 0},
        "items": items,
    }
    decoded = protobuf.decode_object(protobuf.encode_object(listed))
    # items carry no apiVersion/kind of their own in protobuf, as from a real apiserver
    strip = [{k: v for k, v in i.items() if k not in ("apiVersion", "kind")} for i in items]
    assert decoded == {
        **listed,
        "metadata": {"resourceVersion": "9", "continue": "abc"},
        "items": strip,
    }


def test_custom_resources_have_no_message():
    assert protobuf.message_name("stable.example.com/v1", "CronTab") is None
    assert (
        protobuf.encode_object({"apiVersion": "stable.example.com/v1", "kind": "CronTab"}) is None
    )


def test_garbage_is_a_protobuf_error():
    with pytest.raises(protobuf.ProtobufError):
        protobuf.decode_object(b'{"kind": "ConfigMap"}')
    with pytest.raises(protobuf.ProtobufError):
        protobuf.decode_object(protobuf.MAGIC + b"\x0a\xff")


# -- over HTTP ------------------------------------------------------------------------------


@pytest.fixture
def http(kubesim_server, kubesim_cluster):
    token = kubesim_cluster["kubeconfig"]["users"][0]["user"]["token"]
    base = f"{kubesim_server.url}/clusters/{kubesim_cluster['name']}"
    return base, {"Authorization": f"Bearer {token}"}


def _post(http, path: str, obj: dict, accept: str = KUBECTL_ACCEPT) -> requests.Response:
    base, auth = http
    headers = {**auth, "Content-Type": PROTOBUF, "Accept": accept}
    return requests.post(
        f"{base}{path}", data=protobuf.encode_object(obj), headers=headers, timeout=10
    )


def _get(http, path: str, accept: str) -> requests.Response:
    base, auth = http
    return requests.get(f"{base}{path}", headers={**auth, "Accept": accept}, timeout=10)


def _plain(obj: dict) -> dict:
    """Without the zero scalars and empty collections Go's JSON may keep and protobuf drops."""
    if isinstance(obj, dict):
        out = {k: _plain(v) for k, v in obj.items()}
        return {k: v for k, v in out.items() if v not in (None, "", 0, False, [], {}) or v is True}
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    return obj


def test_create_in_protobuf_answers_in_protobuf_what_json_answers(http):
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        **SAMPLES[("apps/v1", "Deployment")],
    }
    deployment["metadata"] = {"name": "web", "labels": {"app": "web"}}
    deployment.pop("status")
    created = _post(http, "/apis/apps/v1/namespaces/default/deployments", deployment)
    assert created.status_code == 201, created.content
    assert created.headers["Content-Type"] == PROTOBUF
    answer = protobuf.decode_object(created.content)
    as_json = _get(http, "/apis/apps/v1/namespaces/default/deployments/web", "application/json")
    assert as_json.headers["Content-Type"].startswith("application/json")
    assert _plain(answer) == _plain(as_json.json())
    assert answer["spec"]["replicas"] == 0
    assert answer["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"] == {
        "cpu": "500m",
        "memory": "128Mi",
    }


def test_lists_and_errors_in_protobuf_json_by_default(http):
    for name in ("a", "b"):
        cm = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name},
            "data": {"k": name},
        }
        assert _post(http, "/api/v1/namespaces/default/configmaps", cm).status_code == 201
    listed = _get(http, "/api/v1/namespaces/default/configmaps?limit=1", KUBECTL_ACCEPT)
    assert listed.headers["Content-Type"] == PROTOBUF
    decoded = protobuf.decode_object(listed.content)
    assert decoded["kind"] == "ConfigMapList"
    assert [i["metadata"]["name"] for i in decoded["items"]] == ["a"]
    assert decoded["metadata"]["continue"]
    missing = _get(http, "/api/v1/namespaces/default/configmaps/nope", KUBECTL_ACCEPT)
    assert missing.status_code == 404 and missing.headers["Content-Type"] == PROTOBUF
    status = protobuf.decode_object(missing.content)
    assert status["kind"] == "Status" and status["reason"] == "NotFound" and status["code"] == 404
    assert status["message"] == 'configmaps "nope" not found'
    # JSON stays the default, and for clients that list JSON first
    for accept in ("", "*/*", "application/json", "application/json," + PROTOBUF):
        response = _get(http, "/api/v1/namespaces/default/configmaps/a", accept)
        assert response.headers["Content-Type"].startswith("application/json"), accept
        assert response.json()["data"] == {"k": "a"}
    # a Table is JSON even for a client that also takes protobuf
    table_accept = "application/json;as=Table;v=v1;g=meta.k8s.io," + KUBECTL_ACCEPT
    assert (
        _get(http, "/api/v1/namespaces/default/configmaps", table_accept).json()["kind"] == "Table"
    )


def test_secret_bytes_survive_protobuf(http):
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "bin"},
        "data": {"b": "AP8Q"},
    }
    assert _post(http, "/api/v1/namespaces/default/secrets", secret).status_code == 201
    stored = _get(http, "/api/v1/namespaces/default/secrets/bin", "application/json").json()
    assert stored["data"] == {"b": "AP8Q"}


def test_custom_resources_stay_json_only(http, kubesim_server, kubesim_cluster):
    base, auth = http
    crd = {
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
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    }
    created = requests.post(
        f"{base}/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        json=crd,
        headers={**auth, "Accept": KUBECTL_ACCEPT},
        timeout=10,
    )
    assert created.status_code == 201 and created.headers["Content-Type"].startswith(
        "application/json"
    )
    body = protobuf.wrap("stable.example.com/v1", "CronTab", b"\x0a\x03\x0a\x01x")
    refused = requests.post(
        f"{base}/apis/stable.example.com/v1/namespaces/default/crontabs",
        data=body,
        headers={**auth, "Content-Type": PROTOBUF},
        timeout=10,
    )
    assert refused.status_code == 415 and refused.json()["reason"] == "UnsupportedMediaType"
    listed = _get(http, "/apis/stable.example.com/v1/namespaces/default/crontabs", KUBECTL_ACCEPT)
    assert listed.status_code == 200 and listed.json()["kind"] == "CronTabList"


def test_delete_options_in_protobuf(http):
    base, auth = http
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "held", "finalizers": ["x/y"]},
    }
    assert _post(http, "/api/v1/namespaces/default/configmaps", cm).status_code == 201
    options = {
        "apiVersion": "v1",
        "kind": "DeleteOptions",
        "preconditions": {"resourceVersion": "1"},
    }
    response = requests.delete(
        f"{base}/api/v1/namespaces/default/configmaps/held",
        data=protobuf.encode_object(options),
        headers={**auth, "Content-Type": PROTOBUF, "Accept": KUBECTL_ACCEPT},
        timeout=10,
    )
    # the precondition was decoded: the stale resourceVersion is a conflict
    assert response.status_code == 409, response.content
    assert protobuf.decode_object(response.content)["reason"] == "Conflict"


def test_an_undecodable_protobuf_body_is_400(http):
    base, auth = http
    response = requests.post(
        f"{base}/api/v1/namespaces/default/configmaps",
        data=b"k8s\x00\x0a\xff",
        headers={**auth, "Content-Type": PROTOBUF},
        timeout=10,
    )
    assert response.status_code == 400 and response.json()["reason"] == "BadRequest"


# -- kubectl, unchanged ---------------------------------------------------------------------


def test_everyday_kubectl_generator_commands(kubectl):
    assert kubectl("create", "namespace", "team-a").stdout == "namespace/team-a created\n"
    assert kubectl_json(kubectl, "get", "namespace", "team-a")["status"]["phase"] == "Active"

    kubectl("create", "configmap", "cfg", "--from-literal=a=1", "--from-literal=empty=")
    assert kubectl_json(kubectl, "get", "cm", "cfg")["data"] == {"a": "1", "empty": ""}

    kubectl("create", "secret", "generic", "creds", "--from-literal=password=p@ss")
    secret = kubectl_json(kubectl, "get", "secret", "creds")
    assert base64.b64decode(secret["data"]["password"]) == b"p@ss" and secret["type"] == "Opaque"

    out = kubectl("create", "deployment", "web", "--image=nginx:1.27", "--replicas=0", "--port=80")
    assert out.stdout == "deployment.apps/web created\n"
    deployment = kubectl_json(kubectl, "get", "deploy", "web")
    assert deployment["spec"]["replicas"] == 0
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "nginx:1.27" and container["ports"] == [
        {"containerPort": 80, "protocol": "TCP"}
    ]

    kubectl("create", "job", "once", "--image=busybox", "--", "echo", "hi")
    job = kubectl_json(kubectl, "get", "job", "once")
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["echo", "hi"]

    kubectl("run", "pod1", "--image=nginx", "--port=8080", "--labels=app=p1", "--env=A=1")
    pod = kubectl_json(kubectl, "get", "pod", "pod1")
    assert pod["spec"]["containers"][0]["env"] == [{"name": "A", "value": "1"}]

    out = kubectl("expose", "pod", "pod1", "--port=80", "--target-port=8080", "--name=p1svc")
    assert out.stdout == "service/p1svc exposed\n"
    service = kubectl_json(kubectl, "get", "svc", "p1svc")
    assert service["spec"]["ports"][0]["port"] == 80
    assert service["spec"]["ports"][0]["targetPort"] == 8080
    assert service["spec"]["selector"] == {"app": "p1"}
    kubectl("expose", "deployment", "web", "--port=80", "--name=websvc")

    kubectl("create", "quota", "q", "--hard=cpu=1,memory=1Gi,pods=4")
    assert kubectl_json(kubectl, "get", "quota", "q")["spec"]["hard"] == {
        "cpu": "1",
        "memory": "1Gi",
        "pods": "4",
    }

    kubectl("create", "serviceaccount", "sa1")
    kubectl("create", "role", "r1", "--verb=get", "--resource=pods")
    kubectl("create", "rolebinding", "rb1", "--role=r1", "--serviceaccount=default:sa1")
    kubectl("create", "cronjob", "cj", "--image=busybox", "--schedule=*/5 * * * *")
    kubectl("create", "ingress", "ing", "--rule=foo.com/bar=svc1:8080")
    rule = kubectl_json(kubectl, "get", "ingress", "ing")["spec"]["rules"][0]
    assert rule["http"]["paths"][0]["backend"]["service"] == {
        "name": "svc1",
        "port": {"number": 8080},
    }
    kubectl("create", "pdb", "pdb1", "--selector=app=p1", "--max-unavailable=30%")
    assert kubectl_json(kubectl, "get", "pdb", "pdb1")["spec"]["maxUnavailable"] == "30%"

    assert kubectl("auth", "can-i", "create", "pods").stdout == "yes\n"
    kubectl("scale", "deployment", "web", "--replicas=3")
    assert kubectl_json(kubectl, "get", "deploy", "web")["spec"]["replicas"] == 3
    names = kubectl("get", "all", "-o", "name").stdout.split()
    assert {"pod/pod1", "service/p1svc", "deployment.apps/web", "job.batch/once"} <= set(names)


def test_kubectl_reads_protobuf_answers_and_errors(kubectl):
    # kubectl's create prints what the server answered: a protobuf object here, and
    # reads the protobuf Status of an error
    out = kubectl("create", "configmap", "x", "--from-literal=a=1", "-o", "json").stdout
    assert json.loads(out)["metadata"]["uid"]
    again = kubectl("create", "configmap", "x", "--from-literal=a=1", check=False)
    assert again.returncode == 1
    assert 'configmaps "x" already exists' in again.stderr
    bad = kubectl("create", "deployment", "Bad_Name", "--image=nginx", check=False)
    assert 'Deployment.apps "Bad_Name" is invalid: metadata.name: Invalid value' in bad.stderr


# -- what kubesim's own controllers write, listed in protobuf -------------------------------

WORKLOADS = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports: [{containerPort: 80}]
        resources: {requests: {cpu: 100m, memory: 64Mi}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: once, image: busybox, command: [echo, hi]}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
"""


def test_objects_kubesim_writes_read_the_same_in_protobuf(rt):  # noqa: F811
    rt.kubectl("apply", "-f", "-", stdin=WORKLOADS)
    for _ in range(10):
        rt.advance(5)
    token = rt.kubeconfig["users"][0]["user"]["token"]
    base = f"{rt.server.url}/clusters/{rt.name}"
    registry = rt.cluster.registry
    seen = 0
    for rtype in registry.all():
        if (
            rtype.custom
            or "list" not in rtype.verbs
            or protobuf.message_name(rtype.api_version, rtype.kind) is None
        ):
            continue
        prefix = "/api/v1" if not rtype.group else f"/apis/{rtype.api_version}"
        url = f"{base}{prefix}/{rtype.plural}"
        auth = {"Authorization": f"Bearer {token}"}
        as_json = requests.get(
            url, headers={**auth, "Accept": "application/json"}, timeout=10
        ).json()
        answer = requests.get(url, headers={**auth, "Accept": KUBECTL_ACCEPT}, timeout=10)
        assert answer.headers["Content-Type"] == PROTOBUF, rtype.kind
        decoded = protobuf.decode_object(answer.content)
        assert decoded["kind"] == rtype.list_kind
        items = [
            {k: v for k, v in i.items() if k not in ("apiVersion", "kind")}
            for i in as_json["items"]
        ]
        assert _plain(decoded.get("items", [])) == _plain(items), rtype.kind
        seen += len(items)
    assert seen > 20  # nodes, pods, events, leases, endpoints, replica sets...
