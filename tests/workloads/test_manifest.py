"""The wizard's manifest builder: structured data -> manifest and back (no cluster)."""

import pytest
from django.core.exceptions import ValidationError

from apps.workloads import cron, manifest, wizard


def web(**extra):
    data = {
        "kind": "Deployment",
        "name": "web",
        "replicas": 3,
        "labels": {"tier": "front"},
        "annotations": {"owner": "shop-team"},
        "image_pull_secrets": ["registry"],
        "containers": [
            {
                "name": "web",
                "image": "nginx:1.27",
                "pull_policy": "IfNotPresent",
                "command": ["nginx"],
                "args": ["-g", "daemon off;"],
                "working_dir": "/srv",
                "requests_cpu": "100m",
                "requests_memory": "64Mi",
                "limits_cpu": "500m",
                "limits_memory": "256Mi",
                "readiness_type": "http",
                "readiness_path": "/healthz",
                "readiness_port": "http",
                "readiness_initial_delay": 2,
                "readiness_period": 5,
                "readiness_failure_threshold": 3,
                "liveness_type": "tcp",
                "liveness_port": "80",
                "startup_type": "exec",
                "startup_command": ["cat", "/tmp/ready"],
                "pre_stop_type": "exec",
                "pre_stop_command": ["sleep", "5"],
            }
        ],
        "ports": [{"container": "", "name": "http", "port": 80, "protocol": "TCP"}],
        "env": [
            {"name": "MODE", "source": "value", "value": "prod"},
            {"name": "COLOUR", "source": "configmap", "ref": "settings", "key": "colour"},
            {"name": "TOKEN", "source": "secret", "ref": "creds", "key": "token"},
        ],
        "env_from": [{"source": "configmap", "ref": "settings", "prefix": "APP_"}],
        "volumes": [
            {"name": "data", "type": "pvc", "ref": "web-data"},
            {"name": "conf", "type": "configmap", "ref": "settings"},
            {"name": "certs", "type": "secret", "ref": "tls"},
            {"name": "scratch", "type": "emptydir", "medium": "Memory", "size_limit": "64Mi"},
        ],
        "mounts": [
            {"volume": "data", "path": "/data"},
            {"volume": "conf", "path": "/etc/web", "read_only": True},
        ],
        "preset": "spread",
        "topology": "hostname",
        "strategy": "RollingUpdate",
        "max_surge": "25%",
        "max_unavailable": "0",
        "min_ready_seconds": 5,
        "revision_history_limit": 4,
        "progress_deadline_seconds": 120,
    }
    data.update(extra)
    return data


def pod(m):
    return m["spec"]["template"]["spec"]


def test_a_deployment_has_every_part_the_wizard_asked_for():
    m = manifest.build(web(), namespace="shop").manifest
    assert (m["apiVersion"], m["kind"], m["metadata"]["namespace"]) == (
        "apps/v1",
        "Deployment",
        "shop",
    )
    assert m["metadata"]["labels"] == {"app": "web", "tier": "front"}
    assert m["metadata"]["annotations"] == {"owner": "shop-team"}
    assert m["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    assert m["spec"]["template"]["metadata"]["labels"]["app"] == "web"
    assert m["spec"]["replicas"] == 3
    assert m["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0},
    }
    assert (m["spec"]["minReadySeconds"], m["spec"]["revisionHistoryLimit"]) == (5, 4)
    assert m["spec"]["progressDeadlineSeconds"] == 120
    spec = pod(m)
    assert spec["imagePullSecrets"] == [{"name": "registry"}]
    c = spec["containers"][0]
    assert (c["image"], c["imagePullPolicy"], c["workingDir"]) == (
        "nginx:1.27",
        "IfNotPresent",
        "/srv",
    )
    assert c["command"] == ["nginx"] and c["args"] == ["-g", "daemon off;"]
    assert c["resources"] == {
        "requests": {"cpu": "100m", "memory": "64Mi"},
        "limits": {"cpu": "500m", "memory": "256Mi"},
    }
    assert c["ports"] == [{"name": "http", "containerPort": 80, "protocol": "TCP"}]
    assert c["readinessProbe"] == {
        "httpGet": {"path": "/healthz", "port": "http"},
        "initialDelaySeconds": 2,
        "periodSeconds": 5,
        "failureThreshold": 3,
    }
    assert c["livenessProbe"] == {"tcpSocket": {"port": 80}}
    assert c["startupProbe"] == {"exec": {"command": ["cat", "/tmp/ready"]}}
    assert c["lifecycle"] == {"preStop": {"exec": {"command": ["sleep", "5"]}}}
    assert c["env"] == [
        {"name": "MODE", "value": "prod"},
        {"name": "COLOUR", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "colour"}}},
        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}}},
    ]
    assert c["envFrom"] == [{"configMapRef": {"name": "settings"}, "prefix": "APP_"}]
    assert c["volumeMounts"] == [
        {"name": "data", "mountPath": "/data"},
        {"name": "conf", "mountPath": "/etc/web", "readOnly": True},
    ]
    assert spec["volumes"] == [
        {"name": "data", "persistentVolumeClaim": {"claimName": "web-data"}},
        {"name": "conf", "configMap": {"name": "settings"}},
        {"name": "certs", "secret": {"secretName": "tls"}},
        {"name": "scratch", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
    ]
    assert spec["affinity"] == {
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 100,
                    "podAffinityTerm": {
                        "labelSelector": {"matchLabels": {"app": "web"}},
                        "topologyKey": "kubernetes.io/hostname",
                    },
                }
            ]
        }
    }


def test_pack_custom_affinity_node_selector_and_tolerations():
    data = web(
        preset="pack",
        topology="zone",
        node_selector={"disk": "ssd"},
        affinity=[
            {
                "type": "node",
                "required": True,
                "key": "arch",
                "operator": "In",
                "values": ["arm64"],
            },
            {
                "type": "anti",
                "required": True,
                "key": "app",
                "operator": "In",
                "values": ["db"],
                "topology": "zone",
            },
            {"type": "node", "required": False, "weight": 10, "key": "gpu", "operator": "Exists"},
        ],
        tolerations=[
            {"key": "dedicated", "operator": "Equal", "value": "shop", "effect": "NoSchedule"},
            {"key": "flaky", "operator": "Exists", "effect": "NoExecute", "seconds": 30},
        ],
    )
    spec = pod(manifest.build(data, namespace="shop").manifest)
    assert spec["nodeSelector"] == {"disk": "ssd"}
    affinity = spec["affinity"]
    term = affinity["podAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
    assert term["podAffinityTerm"]["topologyKey"] == "topology.kubernetes.io/zone"
    assert affinity["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] == {
        "nodeSelectorTerms": [
            {"matchExpressions": [{"key": "arch", "operator": "In", "values": ["arm64"]}]}
        ]
    }
    assert affinity["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"] == [
        {"weight": 10, "preference": {"matchExpressions": [{"key": "gpu", "operator": "Exists"}]}}
    ]
    assert affinity["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] == [
        {
            "labelSelector": {
                "matchExpressions": [{"key": "app", "operator": "In", "values": ["db"]}]
            },
            "topologyKey": "topology.kubernetes.io/zone",
        }
    ]
    assert spec["tolerations"] == [
        {"key": "dedicated", "operator": "Equal", "value": "shop", "effect": "NoSchedule"},
        {"key": "flaky", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30},
    ]


def test_kind_specific_fields():
    stateful = manifest.build(
        web(
            kind="StatefulSet",
            strategy="RollingUpdate",
            partition=1,
            service_name="web-headless",
            claims=[{"name": "data", "size": "2Gi", "storage_class": "standard"}],
            mounts=[{"volume": "data", "path": "/data"}],
            volumes=[],
        ),
        namespace="shop",
    ).manifest
    assert stateful["spec"]["serviceName"] == "web-headless"
    assert stateful["spec"]["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"partition": 1, "maxUnavailable": 0},
    }
    assert stateful["spec"]["volumeClaimTemplates"] == [
        {
            "metadata": {"name": "data"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "standard",
                "resources": {"requests": {"storage": "2Gi"}},
            },
        }
    ]
    # Kubernetes has no progress deadline for them: the portal's annotation carries it.
    assert "progressDeadlineSeconds" not in stateful["spec"]
    assert stateful["metadata"]["annotations"] == {
        "owner": "shop-team",
        "kcs.io/progress-deadline-seconds": "120",
    }
    assert manifest.to_data(stateful)["progress_deadline_seconds"] == 120
    assert manifest.to_data(stateful)["annotations"] == {"owner": "shop-team"}
    cleared = manifest.build(
        {**manifest.to_data(stateful), "progress_deadline_seconds": None},
        namespace="shop",
        base=stateful,
    ).manifest
    assert cleared["metadata"]["annotations"] == {"owner": "shop-team"}  # back to 600
    daemon = manifest.build(
        web(kind="DaemonSet", max_surge="", max_unavailable="2"), namespace="shop"
    ).manifest
    assert daemon["metadata"]["annotations"]["kcs.io/progress-deadline-seconds"] == "120"
    assert "replicas" not in daemon["spec"]
    assert daemon["spec"]["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 2},
    }
    recreate = manifest.build(web(strategy="Recreate"), namespace="shop").manifest
    assert recreate["spec"]["strategy"] == {"type": "Recreate"}
    job = manifest.build(
        web(kind="Job", completions=3, parallelism=2, backoff_limit=1, active_deadline_seconds=60),
        namespace="shop",
    ).manifest
    assert (job["apiVersion"], job["spec"]["completions"], job["spec"]["parallelism"]) == (
        "batch/v1",
        3,
        2,
    )
    assert (job["spec"]["backoffLimit"], job["spec"]["activeDeadlineSeconds"]) == (1, 60)
    assert pod(job)["restartPolicy"] == "Never" and "selector" not in job["spec"]
    cronjob = manifest.build(
        web(
            kind="CronJob",
            schedule="*/5 * * * *",
            time_zone="Asia/Shanghai",
            concurrency_policy="Forbid",
            suspend=True,
            successful_history=2,
            failed_history=1,
            restart_policy="OnFailure",
            backoff_limit=2,
        ),
        namespace="shop",
    ).manifest
    spec = cronjob["spec"]
    assert (spec["schedule"], spec["timeZone"], spec["concurrencyPolicy"]) == (
        "*/5 * * * *",
        "Asia/Shanghai",
        "Forbid",
    )
    assert spec["suspend"] is True
    assert (spec["successfulJobsHistoryLimit"], spec["failedJobsHistoryLimit"]) == (2, 1)
    assert spec["jobTemplate"]["spec"]["backoffLimit"] == 2
    assert spec["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] == "OnFailure"


@pytest.mark.parametrize("kind", manifest.KINDS)
def test_a_built_manifest_reads_back_as_the_same_data(kind):
    extra = {"kind": kind}
    if kind == "CronJob":
        extra.update(schedule="0 3 * * *", concurrency_policy="Forbid")
    if kind in ("Job", "CronJob"):
        extra.update(completions=2, restart_policy="Never")
    built = manifest.build(web(**extra), namespace="shop").manifest
    again = manifest.build(manifest.to_data(built), namespace="shop", base=built).manifest
    assert again == built
    data = manifest.to_data(built)
    assert data["preset"] == "spread" and data["containers"][0]["readiness_path"] == "/healthz"
    assert data["env"][1] == {
        "container": "web",
        "name": "COLOUR",
        "source": "configmap",
        "value": "",
        "ref": "settings",
        "key": "colour",
    }


def test_an_edit_keeps_what_the_wizard_does_not_manage():
    running = manifest.build(web(), namespace="shop").manifest
    running["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "3"
    running["metadata"]["resourceVersion"] = "42"
    running["spec"]["selector"] = {"matchLabels": {"app": "legacy"}}
    running["spec"]["template"]["spec"]["containers"][0]["securityContext"] = {"runAsUser": 101}
    running["spec"]["template"]["spec"]["volumes"].append(
        {"name": "host", "hostPath": {"path": "/x"}}
    )
    data = manifest.to_data(running)
    data["containers"][0]["image"] = "nginx:1.28"
    edited = manifest.build(data, namespace="shop", base=running).manifest
    c = pod(edited)["containers"][0]
    assert c["image"] == "nginx:1.28" and c["securityContext"] == {"runAsUser": 101}
    assert edited["spec"]["selector"] == {"matchLabels": {"app": "legacy"}}
    assert edited["spec"]["template"]["metadata"]["labels"]["app"] == "legacy"
    assert edited["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    assert edited["metadata"]["resourceVersion"] == "42"
    assert {"name": "host", "hostPath": {"path": "/x"}} in pod(edited)["volumes"]


def test_errors_find_their_fields():
    built = manifest.build(web(), namespace="shop")
    assert built.field_for("spec.template.spec.containers[0].image") == "containers.0.image"
    assert built.field_for("spec.template.spec.containers[0].resources.limits.cpu") == (
        "containers.0.limits_cpu"
    )
    assert built.field_for("spec.template.spec.containers[0].readinessProbe.periodSeconds") == (
        "containers.0.readiness_period"
    )
    assert (
        built.field_for("spec.template.spec.containers[0].ports[0].containerPort") == "ports.0.port"
    )
    assert built.field_for("spec.template.spec.containers[0].env[2].valueFrom") == "env.2.name"
    assert built.field_for("spec.template.spec.volumes[1].configMap.name") == "volumes.1.ref"
    assert built.field_for("spec.replicas") == "replicas"
    assert built.field_for("metadata.name") == "name"
    assert built.field_for("spec.paused") == ""


def test_check_refuses_field_by_field():
    bad = web(name="Web_1", replicas=2)
    bad["containers"].append({"name": "web", "image": "two words", "limits_cpu": "lots"})
    bad["ports"].append({"container": "nope", "port": 70000})
    bad["mounts"].append({"volume": "missing", "path": "relative"})
    bad["env"].append({"name": "1 bad", "source": "secret"})
    with pytest.raises(ValidationError) as refused:
        wizard.check(bad)
    errors = refused.value.message_dict
    for key in (
        "name",
        "containers.1.name",
        "containers.1.image",
        "containers.1.limits_cpu",
        "ports.1.container",
        "ports.1.port",
        "mounts.2.volume",
        "mounts.2.path",
        "env.3.name",
        "env.3.ref",
        "env.3.key",
    ):
        assert key in errors, key
    with pytest.raises(ValidationError) as refused:
        wizard.check(web(kind="CronJob", schedule="every day"))
    assert "schedule" in refused.value.message_dict
    wizard.check(web())


def test_cron_preview_lists_the_next_runs_in_the_zone():
    import datetime

    after = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)
    runs, problem = cron.next_runs("30 2 * * 1", "Asia/Shanghai", count=2, after=after)
    assert problem == "" and [r.isoformat() for r in runs] == [
        "2026-03-02T02:30:00+08:00",
        "2026-03-09T02:30:00+08:00",
    ]
    runs, _p = cron.next_runs("@hourly", count=1, after=after)
    assert runs[0].isoformat() == "2026-03-01T13:00:00+00:00"
    assert cron.next_runs("61 * * * *")[1]
    assert cron.next_runs("* * *")[1]
    assert cron.next_runs("* * * * *", "Mars/Base")[1]
