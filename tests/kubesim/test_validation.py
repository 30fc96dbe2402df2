"""Validation answers with the causes and messages of a 1.32 API server."""

import copy

import pytest

from kubesim.apiserver.defaults import apply_defaults
from kubesim.apiserver.validation import (
    decode_error,
    group_of,
    invalid_status,
    resource_of,
    secret_decode_error,
    validate,
)

SUBDOMAIN = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
    r"used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1035 = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)


class Ctx:
    def allocate_cluster_ip(self):
        return "10.96.0.42"

    def allocate_node_port(self):
        return 30080


def check(obj, old=None):
    """Default like the API server, then validate; (field, message) pairs."""
    obj = copy.deepcopy(obj)
    apply_defaults(obj, Ctx(), old)
    return [(c["field"], c["message"]) for c in validate(obj, old)], obj


def deployment(name="web", labels=None, selector=None, **container):
    labels = {"app": "web"} if labels is None else labels
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}} if selector is None else selector,
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27", **container}]},
            },
        },
    }


def test_valid_deployment():
    assert check(deployment())[0] == []


def test_missing_selector_full_status():
    obj = deployment()
    del obj["spec"]["selector"]
    errors, defaulted = check(obj)
    assert errors == [
        ("spec.selector", "Required value"),
        (
            "spec.template.metadata.labels",
            'Invalid value: map[string]string{"app":"web"}: `selector` does not match template '
            "`labels`",
        ),
    ]
    status = invalid_status(defaulted, validate(defaulted, None))
    assert status == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'Deployment.apps "web" is invalid: [spec.selector: Required value, '
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: '
        "`selector` does not match template `labels`]",
        "reason": "Invalid",
        "details": {
            "name": "web",
            "group": "apps",
            "kind": "Deployment",
            "causes": [
                {
                    "reason": "FieldValueRequired",
                    "message": "Required value",
                    "field": "spec.selector",
                },
                {
                    "reason": "FieldValueInvalid",
                    "message": 'Invalid value: map[string]string{"app":"web"}: `selector` does '
                    "not match template `labels`",
                    "field": "spec.template.metadata.labels",
                },
            ],
        },
        "code": 422,
    }


def test_single_cause_has_no_brackets_and_core_kinds_no_group():
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Web_Config"}}
    errors, defaulted = check(obj)
    assert errors == [("metadata.name", f'Invalid value: "Web_Config": {SUBDOMAIN}')]
    status = invalid_status(defaulted, validate(defaulted, None))
    assert status["message"] == (
        f'ConfigMap "Web_Config" is invalid: metadata.name: Invalid value: "Web_Config": '
        f"{SUBDOMAIN}"
    )
    assert "group" not in status["details"]


def test_name_rules_per_kind():
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team.a"}}
    assert check(ns)[0] == [("metadata.name", f'Invalid value: "team.a": {LABEL}')]
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "1web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
    }
    assert check(svc)[0] == [("metadata.name", f'Invalid value: "1web": {DNS1035}')]
    assert check(deployment(name="x" * 254))[0] == [
        ("metadata.name", f'Invalid value: "{"x" * 254}": must be no more than 253 characters')
    ]
    nameless = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}
    assert check(nameless)[0] == [
        ("metadata.name", "Required value: name or generateName is required")
    ]


def test_label_keys_and_values():
    obj = deployment()
    obj["metadata"]["labels"] = {"bad key": "ok", "tier": "-front"}
    errors = check(obj)[0]
    assert errors[0] == (
        "metadata.labels",
        "Invalid value: \"bad key\": name part must consist of alphanumeric characters, '-', "
        "'_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or "
        "'my.name',  or '123-abc', regex used for validation is "
        "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    )
    assert errors[1] == (
        "metadata.labels",
        'Invalid value: "-front": a valid label must be an empty string or consist of '
        "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
        "character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    )


def test_container_errors():
    obj = deployment(image="")
    obj["spec"]["template"]["spec"]["containers"].append(
        {
            "name": "nginx",
            "image": "busybox",
            "imagePullPolicy": "Sometimes",
            "ports": [{"containerPort": 70000, "protocol": "HTTP", "name": "web_http"}],
            "env": [{"name": "1BAD"}],
            "volumeMounts": [{"name": "config", "mountPath": "/etc/config"}],
        }
    )
    errors = dict(check(obj)[0])
    assert errors["spec.template.spec.containers[0].image"] == "Required value"
    assert errors["spec.template.spec.containers[1].name"] == 'Duplicate value: "nginx"'
    assert errors["spec.template.spec.containers[1].imagePullPolicy"] == (
        'Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"'
    )
    assert errors["spec.template.spec.containers[1].ports[0].containerPort"] == (
        "Invalid value: 70000: must be between 1 and 65535, inclusive"
    )
    assert errors["spec.template.spec.containers[1].ports[0].protocol"] == (
        'Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"'
    )
    assert errors["spec.template.spec.containers[1].ports[0].name"] == (
        'Invalid value: "web_http": must contain only alpha-numeric characters (a-z, 0-9), and '
        "hyphens (-)"
    )
    assert errors["spec.template.spec.containers[1].env[0].name"] == (
        'Invalid value: "1BAD": a valid environment variable name must consist of alphabetic '
        "characters, digits, '_', '-', or '.', and must not start with a digit (e.g. "
        "'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is "
        "'[-._a-zA-Z][-._a-zA-Z0-9]*')"
    )
    assert errors["spec.template.spec.containers[1].volumeMounts[0].name"] == (
        'Not found: "config"'
    )


def test_requests_above_limits():
    obj = deployment(resources={"requests": {"cpu": "1"}, "limits": {"cpu": "500m"}})
    assert check(obj)[0] == [
        (
            "spec.template.spec.containers[0].resources.requests",
            'Invalid value: "1": must be less than or equal to cpu limit of 500m',
        )
    ]


def test_negative_and_unknown_resources():
    obj = deployment(resources={"requests": {"memory": "-1Gi", "gpu": "1"}})
    assert check(obj)[0] == [
        (
            "spec.template.spec.containers[0].resources.requests[gpu]",
            'Invalid value: "gpu": must be a standard resource for containers',
        ),
        (
            "spec.template.spec.containers[0].resources.requests[memory]",
            'Invalid value: "-1Gi": must be greater than or equal to 0',
        ),
    ]


def test_unparseable_quantity_is_a_decode_error():
    obj = deployment(resources={"limits": {"cpu": "two"}})
    message = decode_error(obj)
    assert message == (
        'Deployment in version "v1" cannot be handled as a Deployment: quantities must match the '
        "regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    )
    assert check(obj)[0][0][0] == "spec.template.spec.containers[0].resources.limits[cpu]"
    assert decode_error(deployment()) is None


def test_pod_template_must_restart_always():
    obj = deployment()
    obj["spec"]["template"]["spec"]["restartPolicy"] = "OnFailure"
    assert check(obj)[0] == [
        (
            "spec.template.spec.restartPolicy",
            'Unsupported value: "OnFailure": supported values: "Always"',
        )
    ]


def test_selector_is_immutable():
    old = check(deployment())[1]
    new = deployment(labels={"app": "web2"}, selector={"matchLabels": {"app": "web2"}})
    assert check(new, old)[0] == [
        (
            "spec.selector",
            'Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web2"}, '
            "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable",
        )
    ]


def test_empty_selector_and_strategy_rules():
    obj = deployment(selector={})
    obj["spec"]["strategy"] = {"type": "Recreate", "rollingUpdate": {"maxSurge": 1}}
    assert check(obj)[0] == [
        (
            "spec.selector",
            "Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
            "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for "
            "deployment",
        ),
        (
            "spec.strategy.rollingUpdate",
            "Forbidden: may not be specified when strategy `type` is 'Recreate'",
        ),
    ]
    obj = deployment()
    obj["spec"]["strategy"] = {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}}
    assert check(obj)[0] == [
        (
            "spec.strategy.rollingUpdate.maxUnavailable",
            'Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: may not be 0 when '
            "`maxSurge` is 0",
        )
    ]


def job():
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "pi", "namespace": "shop", "uid": "u-1"},
        "spec": {"template": {"spec": {"containers": [{"name": "pi", "image": "perl"}]}}},
    }


def test_job_needs_on_failure_or_never():
    assert check(job())[0] == [
        (
            "spec.template.spec.restartPolicy",
            'Unsupported value: "Always": supported values: "OnFailure", "Never"',
        )
    ]


def test_job_template_is_immutable():
    obj = job()
    obj["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    old = check(obj)[1]
    changed = copy.deepcopy(old)
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "perl:5.40"
    errors = check(changed, old)[0]
    assert errors == [
        ("spec.template", "Invalid value: core.PodTemplateSpec{...}: field is immutable")
    ]


def service(**spec):
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}], **spec},
    }


def test_service_errors():
    errors = dict(
        check(service(type="Public", ports=[{"port": 0}, {"port": 80, "nodePort": 80}]))[0]
    )
    assert errors["spec.type"] == (
        'Unsupported value: "Public": supported values: "ClusterIP", "ExternalName", '
        '"LoadBalancer", "NodePort"'
    )
    assert errors["spec.ports[0].name"] == "Required value"
    assert (
        errors["spec.ports[0].port"] == "Invalid value: 0: must be between 1 and 65535, inclusive"
    )
    assert errors["spec.ports[1].nodePort"] == "Forbidden: may not be used when `type` is 'Public'"
    node_port = check(service(type="NodePort", ports=[{"port": 80, "nodePort": 80}]))[0]
    assert node_port == [
        (
            "spec.ports[0].nodePort",
            "Invalid value: 80: provided port is not in the valid range. The range of valid "
            "ports is 30000-32767",
        )
    ]
    assert check(service(ports=[]))[0] == [("spec.ports", "Required value")]
    assert check(service(ports=[], clusterIP="None"))[0] == []


def test_cluster_ip_cannot_change():
    old = check(service())[1]
    new = service(clusterIP="10.96.0.99")
    assert check(new, old)[0] == [
        ("spec.clusterIPs[0]", 'Invalid value: []string{"10.96.0.99"}: may not change once set')
    ]
    # leaving clusterIP out of an update keeps it
    assert check(service(), old)[0] == []


def pvc(storage="10Gi", **spec):
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "shop"},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": "standard",
            "resources": {"requests": {"storage": storage}},
            **spec,
        },
    }


def test_pvc_create_errors():
    errors = check(pvc(accessModes=["ReadWrite"], resources={}))[0]
    assert errors == [
        (
            "spec.accessModes",
            'Unsupported value: "ReadWrite": supported values: "ReadOnlyMany", "ReadWriteMany", '
            '"ReadWriteOnce", "ReadWriteOncePod"',
        ),
        ("spec.resources[storage]", "Required value"),
    ]


def bound(obj, capacity):
    obj = check(obj)[1]
    obj["spec"]["volumeName"] = "pvc-1"
    obj["status"] = {"phase": "Bound", "capacity": {"storage": capacity}}
    return obj


def test_pvc_may_grow_but_not_shrink_below_capacity():
    old = bound(pvc("10Gi"), "10Gi")
    assert check(pvc("20Gi", volumeName="pvc-1"), old)[0] == []
    assert check(pvc("5Gi", volumeName="pvc-1"), old)[0] == [
        (
            "spec.resources.requests.storage",
            "Forbidden: field can not be less than status.capacity",
        )
    ]


def test_pvc_spec_is_otherwise_immutable():
    old = bound(pvc("10Gi"), "10Gi")
    errors = check(pvc("10Gi", volumeName="pvc-1", storageClassName="fast"), old)[0]
    assert errors[0][0] == "spec"
    assert errors[0][1].startswith(
        "Forbidden: spec is immutable after creation except resources.requests for bound claims\n"
    )


def test_immutable_config_map_and_secret():
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c"},
        "data": {"a": "1"},
        "immutable": True,
    }
    changed = dict(cm, data={"a": "2"})
    assert check(changed, cm)[0] == [
        ("data", "Forbidden: field is immutable when `immutable` is set")
    ]
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "type": "Opaque",
        "data": {"a": "MQ=="},
        "immutable": True,
    }
    assert check(dict(secret, immutable=False), secret)[0] == [
        ("immutable", "Forbidden: field is immutable when `immutable` is set")
    ]
    tls = dict(secret, type="kubernetes.io/tls", immutable=False)
    assert check(tls, dict(secret, immutable=False))[0] == [
        ("data[tls.crt]", "Required value"),
        ("data[tls.key]", "Required value"),
        ("type", 'Invalid value: "kubernetes.io/tls": field is immutable'),
    ]


def test_config_map_keys():
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a b": ""}}
    assert check(cm)[0] == [
        (
            "data[a b]",
            'Invalid value: "a b": a valid config key must consist of alphanumeric characters, '
            "'-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for "
            "validation is '[-._a-zA-Z0-9]+')",
        )
    ]


def test_storage_class_updates():
    sc = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": "fast"},
        "provisioner": "kubesim.io/ssd",
        "parameters": {"type": "ssd"},
    }
    old = check(sc)[1]
    new = dict(sc, provisioner="kubesim.io/hdd", parameters={"type": "hdd"})
    assert check(new, old)[0] == [
        ("parameters", "Forbidden: updates to parameters are forbidden."),
        ("provisioner", "Forbidden: updates to provisioner are forbidden."),
    ]


def test_statefulset_update_rules():
    sts = deployment(name="db")
    sts["kind"] = "StatefulSet"
    sts["spec"]["serviceName"] = "db"
    old = check(sts)[1]
    new = copy.deepcopy(sts)
    new["spec"]["serviceName"] = "db2"
    assert check(new, old)[0] == [
        (
            "spec",
            "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', "
            "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
            "'minReadySeconds' are forbidden",
        )
    ]
    new["spec"]["serviceName"] = "db"
    new["spec"]["replicas"] = 3
    assert check(new, old)[0] == []


def test_pod_update_may_only_change_images():
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web-1", "namespace": "shop"},
        "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]},
    }
    old = check(pod)[1]
    new = copy.deepcopy(old)
    new["spec"]["containers"][0]["image"] = "nginx:1.28"
    assert check(new, old)[0] == []
    new["spec"]["restartPolicy"] = "Never"
    (field, message), *_ = check(new, old)[0]
    assert field == "spec"
    assert message.startswith(
        "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
        "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
        "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be "
        "set to 1 if it was previously negative)\n  core.PodSpec{"
    )


def test_ingress_paths():
    ing = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web"},
        "spec": {
            "rules": [
                {
                    "host": "shop.example.com",
                    "http": {
                        "paths": [
                            {"path": "/", "backend": {"service": {"name": "web"}}},
                            {
                                "path": "api",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "api", "port": {"number": 80}}},
                            },
                        ]
                    },
                }
            ]
        },
    }
    assert check(ing)[0] == [
        ("spec.rules[0].http.paths[0].pathType", "Required value: pathType must be specified"),
        ("spec.rules[0].http.paths[1].path", 'Invalid value: "api": must be an absolute path'),
    ]


def test_hpa_replica_bounds():
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 3,
            "maxReplicas": 2,
        },
    }
    assert check(hpa)[0] == [
        ("spec.maxReplicas", "Invalid value: 2: must be greater than or equal to `minReplicas`")
    ]


def test_limit_range_consistency():
    lr = {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": "lr"},
        "spec": {"limits": [{"type": "Container", "min": {"cpu": "2"}, "max": {"cpu": "1"}}]},
    }
    messages = [m for _f, m in check(lr)[0]]
    assert any(m.endswith(": min value 2 is greater than max value 1") for m in messages)


@pytest.mark.parametrize(
    ("api_version", "group"),
    [("v1", ""), ("apps/v1", "apps"), ("networking.k8s.io/v1", "networking.k8s.io")],
)
def test_group_of(api_version, group):
    assert group_of(api_version) == group


def test_resource_names():
    assert resource_of("Ingress") == "ingresses"
    assert resource_of("NetworkPolicy") == "networkpolicies"
    assert resource_of("Widget") == "widgets"


@pytest.mark.parametrize(
    ("value", "byte"),
    [
        ("aGVsbG8", 4),  # padding missing: Go counts from the last full quantum
        ("not base64!", 3),
        ("hello world", 5),
        ("a", 0),
        ("ab=", 3),
        ("a===", 1),
        ("aGVsbG8=x", 8),  # trailing garbage
        ("aGVsbG8=\n", None),
        ("aGVs\r\nbG8=", None),  # newlines are skipped
        ("", None),
    ],
)
def test_secret_data_must_be_base64_as_go_decodes_it(value, byte):
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"k": value}}
    expected = None
    if byte is not None:
        expected = (
            'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input '
            f"byte {byte}"
        )
    assert secret_decode_error(secret) == expected


def test_secret_data_of_the_wrong_json_type():
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"k": 1}}
    assert secret_decode_error(secret) == (
        'Secret in version "v1" cannot be handled as a Secret: json: cannot unmarshal number '
        "into Go struct field Secret.data of type []uint8"
    )
