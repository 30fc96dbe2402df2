"""Patch and apply semantics of kubesim, checked against what Kubernetes does."""

from __future__ import annotations

import copy
import json
from importlib import resources

import pytest

from kubesim.apiserver.patch import (
    ApplyConflict,
    PatchError,
    fields_set,
    json_patch,
    merge_patch,
    record_update,
    server_side_apply,
    strategic_merge_patch,
    supports_strategic,
)


def deployment():
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "nginx",
                            "image": "nginx:1.25",
                            "args": ["--a", "--b"],
                            "ports": [{"containerPort": 80, "protocol": "TCP"}],
                            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                            "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                        },
                        {"name": "sidecar", "image": "busybox"},
                    ],
                    "volumes": [{"name": "data", "emptyDir": {}}],
                    "tolerations": [
                        {"key": "a", "operator": "Exists", "effect": "NoSchedule"},
                        {"key": "b", "operator": "Exists", "effect": "NoSchedule"},
                    ],
                },
            },
        },
    }


def pod_spec(obj):
    return obj["spec"]["template"]["spec"]


def smp(obj, patch):
    return strategic_merge_patch(obj, patch, obj["apiVersion"], obj["kind"])


def template_patch(spec):
    return {"spec": {"template": {"spec": spec}}}


# --- JSON merge patch -----------------------------------------------------------


def test_merge_patch_merges_maps_deletes_nulls_replaces_lists():
    obj = deployment()
    before = copy.deepcopy(obj)
    patch = {
        "metadata": {"labels": {"tier": "front", "app": None}},
        "spec": {"template": {"spec": {"containers": [{"name": "only", "image": "x"}]}}},
    }
    out = merge_patch(obj, patch)
    assert out["metadata"]["labels"] == {"tier": "front"}
    assert pod_spec(out)["containers"] == [{"name": "only", "image": "x"}]
    assert pod_spec(out)["volumes"] == pod_spec(obj)["volumes"]
    assert obj == before  # inputs untouched


def test_merge_patch_rfc7386_examples():
    assert merge_patch({"a": "b"}, {"a": "c"}) == {"a": "c"}
    assert merge_patch({"a": "b"}, {"b": "c"}) == {"a": "b", "b": "c"}
    assert merge_patch({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}) == {"a": {"b": "d"}}
    assert merge_patch({"a": [{"b": "c"}]}, {"a": [1]}) == {"a": [1]}
    assert merge_patch({"e": None}, {"a": 1}) == {"e": None, "a": 1}
    assert merge_patch({}, {"a": {"bb": {"ccc": None}}}) == {"a": {"bb": {}}}
    assert merge_patch({"a": "foo"}, {"a": {"b": 1}}) == {"a": {"b": 1}}


# --- JSON patch -----------------------------------------------------------------


def test_json_patch_operations():
    obj = deployment()
    ops = [
        {"op": "replace", "path": "/spec/replicas", "value": 5},
        {"op": "add", "path": "/metadata/labels/app.kubernetes.io~1name", "value": "web"},
        {"op": "add", "path": "/metadata/annotations", "value": {"a~b": "1"}},
        {"op": "test", "path": "/metadata/annotations/a~0b", "value": "1"},
        {"op": "add", "path": "/spec/template/spec/containers/0/env/-", "value": {"name": "C"}},
        {"op": "add", "path": "/spec/template/spec/containers/0/args/0", "value": "--first"},
        {"op": "remove", "path": "/spec/template/spec/containers/1"},
        {"op": "copy", "from": "/metadata/labels", "path": "/spec/template/metadata/copied"},
        {"op": "move", "from": "/spec/template/spec/tolerations", "path": "/spec/moved"},
        {"op": "test", "path": "/spec/replicas", "value": 5},
    ]
    out = json_patch(obj, ops)
    assert out["spec"]["replicas"] == 5
    assert out["metadata"]["labels"]["app.kubernetes.io/name"] == "web"
    container = pod_spec(out)["containers"]
    assert [c["name"] for c in container] == ["nginx"]
    assert container[0]["env"][-1] == {"name": "C"}
    assert container[0]["args"] == ["--first", "--a", "--b"]
    assert out["spec"]["template"]["metadata"]["copied"] == out["metadata"]["labels"]
    assert "tolerations" not in pod_spec(out)
    assert len(out["spec"]["moved"]) == 2
    assert obj["spec"]["replicas"] == 2


@pytest.mark.parametrize(
    ("ops", "message"),
    [
        (
            [{"op": "test", "path": "/spec/replicas", "value": 3}],
            "testing value /spec/replicas failed: test failed",
        ),
        (
            [{"op": "test", "path": "/spec/replicas", "value": True}],
            "testing value /spec/replicas failed: test failed",
        ),
        (
            [{"op": "remove", "path": "/metadata/labels/missing"}],
            "error in remove for path: '/metadata/labels/missing': "
            "Unable to remove nonexistent key: missing: missing value",
        ),
        (
            [{"op": "replace", "path": "/spec/paused", "value": True}],
            "replace operation does not apply: doc is missing key: /spec/paused: missing value",
        ),
        (
            [{"op": "add", "path": "/status/conditions/0", "value": {}}],
            'add operation does not apply: doc is missing path: "/status/conditions/0": '
            "missing value",
        ),
        (
            [{"op": "add", "path": "/spec/template/spec/containers/5", "value": {}}],
            "Unable to access invalid index: 5: invalid index referenced",
        ),
        (
            [{"op": "move", "from": "/spec/nothing", "path": "/spec/x"}],
            "move operation does not apply: doc is missing from path: /spec/nothing: missing value",
        ),
        ([{"op": "frobnicate", "path": "/spec"}], "Unexpected kind: frobnicate"),
    ],
)
def test_json_patch_errors(ops, message):
    with pytest.raises(PatchError) as caught:
        json_patch(deployment(), ops)
    assert caught.value.message == message
    assert caught.value.code == 422


def test_json_patch_is_all_or_nothing_and_test_of_absent_null_passes():
    obj = deployment()
    with pytest.raises(PatchError):
        json_patch(
            obj,
            [
                {"op": "replace", "path": "/spec/replicas", "value": 9},
                {"op": "test", "path": "/spec/replicas", "value": 2},
            ],
        )
    assert obj["spec"]["replicas"] == 2
    assert json_patch(obj, [{"op": "test", "path": "/spec/paused", "value": None}]) == obj
    assert json_patch(obj, [{"op": "replace", "path": "", "value": {"a": 1}}]) == {"a": 1}


# --- strategic merge patch ------------------------------------------------------


def test_smp_merges_containers_by_name_and_env_by_name():
    obj = deployment()
    patch = template_patch(
        {"containers": [{"name": "nginx", "image": "nginx:1.26", "env": [{"name": "C"}]}]}
    )
    out = smp(obj, patch)
    nginx, sidecar = pod_spec(out)["containers"]
    assert nginx["image"] == "nginx:1.26"
    assert nginx["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    # New patch items come first, then the untouched ones (as on a real apiserver).
    assert [e["name"] for e in nginx["env"]] == ["C", "A", "B"]
    assert sidecar == {"name": "sidecar", "image": "busybox"}


def test_smp_new_container_goes_first_like_kubectl_patch_docs():
    out = smp(deployment(), template_patch({"containers": [{"name": "log", "image": "fluent"}]}))
    assert [c["name"] for c in pod_spec(out)["containers"]] == ["log", "nginx", "sidecar"]


def test_smp_ports_volumes_volume_mounts_merge_by_key():
    obj = deployment()
    patch = template_patch(
        {
            "containers": [
                {
                    "name": "nginx",
                    "ports": [{"containerPort": 443, "protocol": "TCP"}],
                    "volumeMounts": [{"name": "data", "mountPath": "/data", "readOnly": True}],
                }
            ],
            "volumes": [{"name": "cache", "emptyDir": {}}],
        }
    )
    out = smp(obj, patch)
    nginx = pod_spec(out)["containers"][0]
    assert [p["containerPort"] for p in nginx["ports"]] == [443, 80]
    assert nginx["volumeMounts"] == [{"name": "data", "mountPath": "/data", "readOnly": True}]
    assert [v["name"] for v in pod_spec(out)["volumes"]] == ["cache", "data"]


def test_smp_tolerations_args_and_taints_are_replaced_as_in_kubernetes():
    # Kubernetes declares no merge key for tolerations, taints or args: the patch's
    # list replaces the live one (see the kubectl patch tutorial on kubernetes.io).
    obj = deployment()
    patch = template_patch(
        {
            "tolerations": [{"key": "c", "operator": "Exists"}],
            "containers": [{"name": "nginx", "args": ["--c"]}],
        }
    )
    out = smp(obj, patch)
    assert pod_spec(out)["tolerations"] == [{"key": "c", "operator": "Exists"}]
    assert pod_spec(out)["containers"][0]["args"] == ["--c"]
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "n1"},
        "spec": {"taints": [{"key": "a", "effect": "NoSchedule"}]},
    }
    out = smp(node, {"spec": {"taints": [{"key": "b", "effect": "NoExecute"}]}})
    assert out["spec"]["taints"] == [{"key": "b", "effect": "NoExecute"}]


def test_smp_service_ports_merge_by_port():
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"app": "web"},
            "ports": [
                {"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"},
                {"name": "https", "port": 443, "targetPort": 8443, "protocol": "TCP"},
            ],
        },
    }
    out = smp(svc, {"spec": {"ports": [{"port": 80, "targetPort": 9090}]}})
    assert out["spec"]["ports"][0] == {
        "name": "http",
        "port": 80,
        "targetPort": 9090,
        "protocol": "TCP",
    }
    assert len(out["spec"]["ports"]) == 2
    out = smp(svc, {"spec": {"ports": [{"port": 443, "$patch": "delete"}]}})
    assert [p["port"] for p in out["spec"]["ports"]] == [80]


def test_smp_delete_directive_in_list_and_in_map():
    obj = deployment()
    patch = template_patch(
        {
            "containers": [
                {"name": "sidecar", "$patch": "delete"},
                {"name": "nginx", "env": [{"name": "A", "$patch": "delete"}]},
            ]
        }
    )
    out = smp(obj, patch)
    assert [c["name"] for c in pod_spec(out)["containers"]] == ["nginx"]
    assert [e["name"] for e in pod_spec(out)["containers"][0]["env"]] == ["B"]
    out = smp(obj, {"metadata": {"labels": {"$patch": "delete"}}})
    assert out["metadata"]["labels"] == {}


def test_smp_replace_directive_in_list_and_in_map():
    obj = deployment()
    patch = template_patch({"containers": [{"$patch": "replace"}, {"name": "solo", "image": "x"}]})
    out = smp(obj, patch)
    assert pod_spec(out)["containers"] == [{"name": "solo", "image": "x"}]
    out = smp(obj, {"metadata": {"labels": {"$patch": "replace", "new": "1"}}})
    assert out["metadata"]["labels"] == {"new": "1"}


def test_smp_merge_directive_is_refused_like_kubernetes():
    with pytest.raises(PatchError) as caught:
        smp(deployment(), {"metadata": {"labels": {"$patch": "merge", "x": "1"}}})
    assert caught.value.message.startswith("Unknown patch type: merge in map:")
    with pytest.raises(PatchError, match="merging lists cannot yet be specified"):
        smp(deployment(), template_patch({"containers": [{"$patch": "merge"}]}))


def test_smp_retain_keys_clears_other_volume_sources():
    obj = deployment()
    patch = template_patch(
        {
            "volumes": [
                {
                    "name": "data",
                    "$retainKeys": ["name", "persistentVolumeClaim"],
                    "persistentVolumeClaim": {"claimName": "pvc"},
                }
            ]
        }
    )
    out = smp(obj, patch)
    assert pod_spec(out)["volumes"] == [
        {"name": "data", "persistentVolumeClaim": {"claimName": "pvc"}}
    ]
    bad = template_patch({"volumes": [{"name": "data", "$retainKeys": ["name"], "hostPath": {}}]})
    with pytest.raises(PatchError) as caught:
        smp(obj, bad)
    assert caught.value.message == "invalid patch format of retainKeys"
    assert caught.value.code == 400


def test_smp_finalizers_merge_as_a_set_and_delete_from_primitive_list():
    obj = deployment()
    obj["metadata"]["finalizers"] = ["a.io/x", "b.io/y"]
    out = smp(obj, {"metadata": {"finalizers": ["c.io/z", "a.io/x"]}})
    assert out["metadata"]["finalizers"] == ["c.io/z", "a.io/x", "b.io/y"]
    out = smp(obj, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a.io/x"]}})
    assert out["metadata"]["finalizers"] == ["b.io/y"]


def test_smp_set_element_order():
    obj = deployment()
    patch = template_patch(
        {
            "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "nginx"}],
            "containers": [{"name": "nginx", "image": "nginx:2"}],
        }
    )
    out = smp(obj, patch)
    assert [c["name"] for c in pod_spec(out)["containers"]] == ["sidecar", "nginx"]
    assert pod_spec(out)["containers"][1]["image"] == "nginx:2"


def test_smp_pod_template_keys_apply_inside_cronjob_and_to_pods():
    cron = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "c"},
        "spec": {
            "schedule": "* * * * *",
            "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "a"}]}}}},
        },
    }
    patch = {"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [
        {"name": "b", "image": "x"}
    ]}}}}}}  # fmt: skip
    out = smp(cron, patch)
    containers = out["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["b", "a"]
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {}}
    pod["spec"]["containers"] = [{"name": "a", "image": "1"}]
    out = smp(pod, {"spec": {"containers": [{"name": "a", "image": "2"}]}})
    assert out["spec"]["containers"] == [{"name": "a", "image": "2"}]


def test_smp_null_deletes_and_missing_merge_key_fails():
    out = smp(deployment(), {"spec": {"replicas": None}, "metadata": {"labels": {"app": None}}})
    assert "replicas" not in out["spec"]
    assert out["metadata"]["labels"] == {}
    with pytest.raises(PatchError, match="does not contain declared merge key: name"):
        smp(deployment(), template_patch({"containers": [{"image": "x"}]}))


def test_strategic_merge_is_refused_for_custom_resources():
    assert supports_strategic("apps/v1", "Deployment")
    assert supports_strategic("v1", "ConfigMap")
    assert supports_strategic("apiextensions.k8s.io/v1", "CustomResourceDefinition")
    assert not supports_strategic("example.com/v1", "Widget")


# --- managedFields for updates --------------------------------------------------


def entry(obj, manager, operation=None):
    for item in obj["metadata"].get("managedFields", []):
        if item["manager"] == manager and operation in (None, item["operation"]):
            return item
    return None


def test_record_update_on_create_owns_every_field_set():
    obj = deployment()
    record_update(None, obj, "kubectl-create")
    owned = entry(obj, "kubectl-create")
    assert owned["operation"] == "Update"
    assert owned["apiVersion"] == "apps/v1"
    assert owned["fieldsType"] == "FieldsV1"
    assert owned["time"].endswith("Z")
    fields = owned["fieldsV1"]
    assert fields["f:spec"]["f:replicas"] == {}
    assert fields["f:spec"]["f:selector"] == {}  # LabelSelector is atomic
    assert fields["f:metadata"]["f:labels"] == {".": {}, "f:app": {}}
    assert "f:name" not in fields["f:metadata"]
    containers = fields["f:spec"]["f:template"]["f:spec"]["f:containers"]
    nginx = containers['k:{"name":"nginx"}']
    assert nginx["."] == {}
    assert nginx["f:args"] == {}
    assert 'k:{"containerPort":80,"protocol":"TCP"}' in nginx["f:ports"]
    assert "f:tolerations" in fields["f:spec"]["f:template"]["f:spec"]


def test_record_update_moves_changed_fields_to_the_new_manager():
    old = deployment()
    record_update(None, old, "kubectl-create")
    new = copy.deepcopy(old)
    new["spec"]["replicas"] = 4
    new["metadata"]["labels"]["team"] = "a"
    record_update(old, new, "kubectl-scale", subresource="scale")
    scale = entry(new, "kubectl-scale")
    assert scale["subresource"] == "scale"
    assert scale["fieldsV1"]["f:spec"] == {"f:replicas": {}}
    assert scale["fieldsV1"]["f:metadata"] == {"f:labels": {"f:team": {}}}
    create = entry(new, "kubectl-create")
    assert "f:replicas" not in create["fieldsV1"]["f:spec"]
    # Removing a field takes it away from its owner.
    newer = copy.deepcopy(new)
    del newer["spec"]["replicas"]
    record_update(new, newer, "kubectl-edit")
    assert entry(newer, "kubectl-scale")["fieldsV1"].get("f:spec") is None
    assert entry(newer, "kubectl-edit") is None  # removing only owns nothing


def test_record_update_ignores_status_on_the_main_resource():
    old = deployment()
    new = copy.deepcopy(old)
    new["status"] = {"replicas": 2}
    record_update(old, new, "controller", subresource="status")
    assert entry(new, "controller")["fieldsV1"] == {"f:status": {"f:replicas": {}}}
    newer = copy.deepcopy(new)
    newer["status"]["replicas"] = 3
    newer["spec"]["paused"] = True
    record_update(new, newer, "kubectl")
    assert entry(newer, "kubectl")["fieldsV1"] == {"f:spec": {"f:paused": {}}}
    assert entry(newer, "controller")["fieldsV1"] == {"f:status": {"f:replicas": {}}}


def test_record_update_after_apply_keeps_the_apply_bookkeeping():
    applied = ssa(None, applied_deployment())
    stored = copy.deepcopy(applied)
    stored["spec"]["revisionHistoryLimit"] = 10  # defaulting after the apply
    record_update(None, stored, "kubectl", "Apply")
    assert stored["metadata"]["managedFields"] == applied["metadata"]["managedFields"]


def test_fields_set_of_an_object():
    fields = fields_set(deployment())
    assert fields["f:spec"]["f:replicas"] == {}
    assert "f:apiVersion" not in fields


# --- server-side apply ----------------------------------------------------------


def applied_deployment(replicas=2, env=None, labels=None):
    container = {"name": "nginx", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}
    if env is not None:
        container["env"] = env
    obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [container]},
            },
        },
    }
    if labels:
        obj["metadata"]["labels"] = labels
    return obj


def ssa(live, applied, manager="kubectl", force=False):
    return server_side_apply(live, applied, manager, force, "apps/v1", "Deployment")


def test_apply_creates_and_records_the_applier():
    out = ssa(None, applied_deployment(env=[{"name": "A", "value": "1"}]))
    assert out["spec"]["replicas"] == 2
    owned = entry(out, "kubectl")
    assert owned["operation"] == "Apply"
    assert owned["apiVersion"] == "apps/v1"
    nginx = owned["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"][
        'k:{"name":"nginx"}'
    ]
    assert nginx["."] == {}
    # The port's key takes the defaulted protocol, as Kubernetes does.
    assert nginx["f:ports"] == {
        'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}
    }
    assert nginx["f:env"]['k:{"name":"A"}'] == {".": {}, "f:name": {}, "f:value": {}}
    assert "f:labels" not in owned["fieldsV1"].get("f:metadata", {})


def test_reapply_without_a_field_removes_it():
    live = ssa(None, applied_deployment(env=[{"name": "A", "value": "1"}], labels={"x": "1"}))
    out = ssa(live, applied_deployment(env=[]))
    nginx = pod_spec(out)["containers"][0]
    assert "env" not in nginx  # the emptied list goes with its last owned item
    assert "labels" not in out["metadata"]
    out = ssa(live, applied_deployment(env=[{"name": "B", "value": "2"}]))
    assert pod_spec(out)["containers"][0]["env"] == [{"name": "B", "value": "2"}]


def test_apply_keeps_fields_it_never_owned_and_co_owned_fields():
    live = ssa(None, applied_deployment())
    edited = copy.deepcopy(live)
    pod_spec(edited)["containers"][0]["imagePullPolicy"] = "Always"
    edited["spec"]["paused"] = False
    record_update(live, edited, "kubectl-edit")
    out = ssa(edited, applied_deployment(replicas=2))
    assert pod_spec(out)["containers"][0]["imagePullPolicy"] == "Always"
    assert out["spec"]["paused"] is False


def test_apply_conflict_with_an_updater_has_kubernetes_message():
    live = deployment()
    record_update(None, live, "kubectl-client-side-apply")
    with pytest.raises(ApplyConflict) as caught:
        ssa(live, applied_deployment(replicas=3))
    error = caught.value
    assert error.message == (
        'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" '
        "using apps/v1: .spec.replicas"
    )
    assert error.conflicts == [(".spec.replicas", "kubectl-client-side-apply")]
    assert error.causes == [
        {
            "type": "FieldManagerConflict",
            "message": 'conflict with "kubectl-client-side-apply" using apps/v1',
            "field": ".spec.replicas",
        }
    ]


def test_apply_conflicts_listed_per_manager():
    live = ssa(None, applied_deployment(), manager="ci")
    changed = applied_deployment(replicas=5)
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2"
    with pytest.raises(ApplyConflict) as caught:
        ssa(live, changed, manager="dev")
    assert caught.value.message == (
        'Apply failed with 2 conflicts: conflicts with "ci":\n'
        "- .spec.replicas\n"
        '- .spec.template.spec.containers[name="nginx"].image'
    )


def test_apply_force_takes_ownership():
    live = deployment()
    record_update(None, live, "kubectl-client-side-apply")
    out = ssa(live, applied_deployment(replicas=3), force=True)
    assert out["spec"]["replicas"] == 3
    assert entry(out, "kubectl")["fieldsV1"]["f:spec"]["f:replicas"] == {}
    old_owner = entry(out, "kubectl-client-side-apply")["fieldsV1"]["f:spec"]
    assert "f:replicas" not in old_owner


def test_apply_same_value_is_shared_ownership():
    live = deployment()
    record_update(None, live, "kubectl-client-side-apply")
    out = ssa(live, applied_deployment(replicas=2))
    assert entry(out, "kubectl")["fieldsV1"]["f:spec"]["f:replicas"] == {}
    assert entry(out, "kubectl-client-side-apply")["fieldsV1"]["f:spec"]["f:replicas"] == {}
    # The co-owned field survives when the applier drops it.
    smaller = applied_deployment()
    del smaller["spec"]["replicas"]
    out = ssa(out, smaller)
    assert out["spec"]["replicas"] == 2


def test_apply_merges_keyed_lists_with_other_managers_items():
    live = ssa(None, applied_deployment(env=[{"name": "A", "value": "1"}]), manager="a")
    other = applied_deployment(env=[{"name": "B", "value": "2"}])
    out = ssa(live, other, manager="b")
    assert [e["name"] for e in pod_spec(out)["containers"][0]["env"]] == ["A", "B"]


def test_apply_refuses_managed_fields_and_duplicate_keys():
    config = applied_deployment()
    config["metadata"]["managedFields"] = [{"manager": "x"}]
    with pytest.raises(PatchError) as caught:
        ssa(None, config)
    assert caught.value.code == 400
    config = applied_deployment(env=[{"name": "A"}, {"name": "A"}])
    with pytest.raises(PatchError, match="duplicate entries for key"):
        ssa(None, config)


def test_apply_to_custom_resource_is_schemaless():
    applied = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"size": 1, "items": ["a"]},
    }
    live = server_side_apply(None, applied, "m", False, "example.com/v1", "Widget")
    owned = entry(live, "m")["fieldsV1"]
    assert owned == {"f:spec": {"f:items": {}, "f:size": {}}}


def test_noop_reapply_keeps_the_entry_time():
    live = ssa(None, applied_deployment())
    entry(live, "kubectl")["time"] = "2020-01-01T00:00:00Z"
    out = ssa(live, applied_deployment())
    assert entry(out, "kubectl")["time"] == "2020-01-01T00:00:00Z"
    assert out == live


def test_a_reapply_that_changes_a_value_stamps_the_entry_anew():
    live = ssa(None, applied_deployment(replicas=2))
    entry(live, "kubectl")["time"] = "2020-01-01T00:00:00Z"
    out = ssa(live, applied_deployment(replicas=3))  # same fields, another value
    assert out["spec"]["replicas"] == 3
    assert entry(out, "kubectl")["time"] != "2020-01-01T00:00:00Z"


def test_an_update_that_changes_a_value_stamps_the_entry_anew():
    old = deployment()
    record_update(None, old, "kubectl-edit")
    entry(old, "kubectl-edit")["time"] = "2020-01-01T00:00:00Z"
    same = copy.deepcopy(old)
    record_update(old, same, "kubectl-edit")  # a no-op write keeps the time
    assert entry(same, "kubectl-edit")["time"] == "2020-01-01T00:00:00Z"
    new = copy.deepcopy(old)
    new["spec"]["replicas"] = 5
    record_update(old, new, "kubectl-edit", now="2026-12-02T10:00:00Z")
    assert entry(new, "kubectl-edit")["time"] == "2026-12-02T10:00:00Z"


# --- the merge key table against the definitions Kubernetes publishes -----------


def _definitions():
    try:
        root = resources.files("kubernetes_validate") / "kubernetes-json-schema"
        text = (root / "v1.32.0-local" / "_definitions.json").read_text()
    except (ModuleNotFoundError, FileNotFoundError):
        pytest.skip("kubernetes_validate definitions not installed")
    return json.loads(text)["$defs"]


def _ref(prop):
    for candidate in (prop, *prop.get("allOf", []), *prop.get("anyOf", [])):
        if "$ref" in candidate:
            return candidate["$ref"].rsplit("/", 1)[-1]
    return None


def _expected(defs, name, spath, out, seen):
    """Walk a kind's schema the way apply and strategic merge would, stopping at
    atomic lists and maps: what lies under them is never merged."""
    if name in seen:
        return
    schema = defs[name]
    if schema.get("x-kubernetes-map-type") == "atomic" and spath:
        out[spath] = "atomic"
        return
    for field, prop in schema.get("properties", {}).items():
        path = f"{spath}.{field}" if spath else field
        kind = prop.get("type")
        kind = next(k for k in kind if k != "null") if isinstance(kind, list) else kind
        if kind == "array":
            strategy = prop.get("x-kubernetes-patch-strategy", "")
            list_type = prop.get("x-kubernetes-list-type", "atomic")
            out[path] = (
                "merge" if "merge" in strategy.split(",") else "replace",
                prop.get("x-kubernetes-patch-merge-key"),
                "retainKeys" in strategy,
                list_type,
                tuple(prop.get("x-kubernetes-list-map-keys", ())),
            )
            item = _ref(prop.get("items", {}))
            if item and list_type == "map":
                _expected(defs, item, path + "[]", out, seen | {name})
        elif kind == "object" and "additionalProperties" in prop:
            if prop.get("x-kubernetes-map-type") == "atomic":
                out[path] = "atomic"
        elif _ref(prop):
            _expected(defs, _ref(prop), path, out, seen | {name})


def test_merge_key_table_matches_kubernetes_definitions():
    from kubesim.apiserver.mergekeys import schema_for
    from kubesim.apiserver.openapi import BUILTIN_RESOURCES

    defs = _definitions()
    by_gvk = {}
    for name, schema in defs.items():
        for gvk in schema.get("x-kubernetes-group-version-kind", []):
            by_gvk[(gvk["group"], gvk["version"], gvk["kind"])] = name
    mismatches = []
    for group, version, kind, *_ in BUILTIN_RESOURCES:
        api_version = f"{group}/{version}" if group else version
        table = schema_for(api_version, kind)
        expected: dict = {}
        _expected(defs, by_gvk[(group, version, kind)], "", expected, set())
        for path, want in expected.items():
            if want == "atomic":
                got = "atomic" if table.atomic_map(path) else "granular"
            else:
                rule = table.list_rule(path)
                got = (rule.smp, rule.smp_key, rule.retain_keys, rule.ssa, rule.keys)
            if got != want:
                mismatches.append(f"{kind} {path}: table {got}, Kubernetes {want}")
    assert mismatches == []
