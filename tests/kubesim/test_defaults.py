"""Defaulting fills in what a 1.32 API server returns for the same manifest."""

import base64
import itertools

from kubesim.apiserver.defaults import apply_defaults, image_pull_policy


class Ctx:
    def __init__(self):
        self.ips = (f"10.96.0.{i}" for i in itertools.count(10))
        self.ports = itertools.count(30080)

    def allocate_cluster_ip(self):
        return next(self.ips)

    def allocate_node_port(self):
        return next(self.ports)

    def now(self):
        return "2025-01-01T12:00:00Z"


def defaulted(obj, old=None, ctx=None):
    apply_defaults(obj, ctx or Ctx(), old)
    return obj


def nginx(**extra):
    return {"name": "nginx", "image": "nginx:1.27", **extra}


def deployment(**spec):
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [nginx(ports=[{"containerPort": 80}])]},
            },
            **spec,
        },
    }


def test_image_pull_policy():
    assert image_pull_policy("nginx") == "Always"
    assert image_pull_policy("nginx:latest") == "Always"
    assert image_pull_policy("nginx:1.27") == "IfNotPresent"
    assert image_pull_policy("registry:5000/team/app") == "Always"
    assert image_pull_policy("registry:5000/team/app:v2") == "IfNotPresent"
    assert image_pull_policy("nginx@sha256:" + "a" * 64) == "IfNotPresent"


def test_deployment_defaults():
    spec = defaulted(deployment())["spec"]
    assert spec["replicas"] == 1
    assert spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
    }
    template = spec["template"]
    assert template["metadata"]["creationTimestamp"] is None
    pod = template["spec"]
    assert pod["restartPolicy"] == "Always"
    assert pod["dnsPolicy"] == "ClusterFirst"
    assert pod["schedulerName"] == "default-scheduler"
    assert pod["terminationGracePeriodSeconds"] == 30
    assert pod["securityContext"] == {}
    # templates are not pods: no service account, service links or token volume
    assert "serviceAccountName" not in pod
    assert "enableServiceLinks" not in pod
    assert "volumes" not in pod
    container = pod["containers"][0]
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["terminationMessagePath"] == "/dev/termination-log"
    assert container["terminationMessagePolicy"] == "File"
    assert container["resources"] == {}
    assert container["ports"] == [{"containerPort": 80, "protocol": "TCP"}]


def test_recreate_strategy_gets_no_rolling_update():
    spec = defaulted(deployment(strategy={"type": "Recreate"}))["spec"]
    assert spec["strategy"] == {"type": "Recreate"}


def test_probes_and_quantities():
    dep = deployment()
    container = dep["spec"]["template"]["spec"]["containers"][0]
    container["livenessProbe"] = {"httpGet": {"port": 80}}
    container["resources"] = {"limits": {"cpu": 0.5, "memory": "1024Mi"}}
    container["env"] = [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}]
    container = defaulted(dep)["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"] == {
        "httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
        "timeoutSeconds": 1,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
    }
    # the API server re-encodes quantities canonically; templates keep requests unset
    assert container["resources"] == {"limits": {"cpu": "500m", "memory": "1Gi"}}
    assert container["env"][0]["valueFrom"]["fieldRef"]["apiVersion"] == "v1"


def pod(**spec):
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web-1", "namespace": "shop", "uid": "7c3a"},
        "spec": {"containers": [nginx()], **spec},
    }


def test_pod_defaults_include_admission_additions():
    obj = defaulted(pod(volumes=[{"name": "cfg", "configMap": {"name": "web"}}]))
    spec = obj["spec"]
    assert spec["serviceAccountName"] == "default"
    assert spec["serviceAccount"] == "default"
    assert spec["enableServiceLinks"] is True
    assert "priority" not in spec  # the Priority admission plugin's (test_admission)
    assert spec["tolerations"] == [
        {
            "key": "node.kubernetes.io/not-ready",
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 300,
        },
        {
            "key": "node.kubernetes.io/unreachable",
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 300,
        },
    ]
    assert spec["volumes"][0] == {"name": "cfg", "configMap": {"name": "web", "defaultMode": 420}}
    token = spec["volumes"][1]
    assert token["name"].startswith("kube-api-access-") and len(token["name"]) == 21
    assert token["projected"]["defaultMode"] == 420
    assert spec["containers"][0]["volumeMounts"] == [
        {
            "name": token["name"],
            "readOnly": True,
            "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
        }
    ]
    assert obj["status"] == {"phase": "Pending", "qosClass": "BestEffort"}
    # the same pod defaulted again keeps the same token volume name
    assert defaulted(pod())["spec"]["volumes"][0]["name"] == token["name"]


def test_pod_requests_default_to_limits_and_qos():
    obj = defaulted(pod(containers=[nginx(resources={"limits": {"cpu": "1", "memory": "1Gi"}})]))
    resources = obj["spec"]["containers"][0]["resources"]
    assert resources["requests"] == {"cpu": "1", "memory": "1Gi"}
    assert obj["status"]["qosClass"] == "Guaranteed"
    burstable = defaulted(pod(containers=[nginx(resources={"requests": {"cpu": "100m"}})]))
    assert burstable["status"]["qosClass"] == "Burstable"


def test_pod_without_token_automount():
    obj = defaulted(pod(automountServiceAccountToken=False))
    assert "volumes" not in obj["spec"]
    assert "volumeMounts" not in obj["spec"]["containers"][0]


def test_existing_tolerations_are_respected():
    own = {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"}
    spec = defaulted(pod(tolerations=[own]))["spec"]
    assert [t["key"] for t in spec["tolerations"]] == [
        "node.kubernetes.io/unreachable",
        "node.kubernetes.io/not-ready",
    ]


def test_statefulset_defaults():
    obj = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": {
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [nginx()]}},
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "1024Mi"}},
                    },
                }
            ],
        },
    }
    spec = defaulted(obj)["spec"]
    assert spec["replicas"] == 1
    assert spec["podManagementPolicy"] == "OrderedReady"
    assert spec["revisionHistoryLimit"] == 10
    assert spec["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
    assert spec["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Retain",
        "whenScaled": "Retain",
    }
    claim = spec["volumeClaimTemplates"][0]
    assert claim["apiVersion"] == "v1" and claim["kind"] == "PersistentVolumeClaim"
    assert claim["spec"]["volumeMode"] == "Filesystem"
    assert claim["spec"]["resources"]["requests"]["storage"] == "1Gi"
    assert claim["status"] == {"phase": "Pending"}


def test_daemonset_defaults():
    obj = deployment()
    obj["kind"] = "DaemonSet"
    spec = defaulted(obj)["spec"]
    assert spec["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
    }
    assert spec["revisionHistoryLimit"] == 10
    assert "replicas" not in spec


def job(**spec):
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "pi", "namespace": "shop", "uid": "0f9c-uid"},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "pi", "image": "perl:5.34"}],
                }
            },
            **spec,
        },
    }


def test_job_defaults_and_generated_selector():
    obj = defaulted(job())
    spec = obj["spec"]
    assert spec["backoffLimit"] == 6
    assert spec["completions"] == 1
    assert spec["parallelism"] == 1
    assert spec["completionMode"] == "NonIndexed"
    assert spec["suspend"] is False
    assert spec["manualSelector"] is False
    assert spec["podReplacementPolicy"] == "TerminatingOrFailed"
    assert spec["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": "0f9c-uid"}}
    labels = {
        "batch.kubernetes.io/controller-uid": "0f9c-uid",
        "batch.kubernetes.io/job-name": "pi",
        "controller-uid": "0f9c-uid",
        "job-name": "pi",
    }
    assert spec["template"]["metadata"]["labels"] == labels
    assert obj["metadata"]["labels"] == labels


def test_job_parallelism_only():
    spec = defaulted(job(parallelism=3))["spec"]
    assert spec["parallelism"] == 3
    assert "completions" not in spec


def test_job_manual_selector_is_left_alone():
    obj = job(manualSelector=True, selector={"matchLabels": {"app": "pi"}})
    obj["spec"]["template"]["metadata"] = {"labels": {"app": "pi"}}
    spec = defaulted(obj)["spec"]
    assert spec["selector"] == {"matchLabels": {"app": "pi"}}
    assert spec["template"]["metadata"]["labels"] == {"app": "pi"}


def test_cronjob_defaults():
    obj = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly"},
        "spec": {
            "schedule": "0 3 * * *",
            "jobTemplate": {"spec": job()["spec"]},
        },
    }
    spec = defaulted(obj)["spec"]
    assert spec["concurrencyPolicy"] == "Allow"
    assert spec["suspend"] is False
    assert spec["successfulJobsHistoryLimit"] == 3
    assert spec["failedJobsHistoryLimit"] == 1
    # a job template is not a Job: no backoffLimit or generated selector
    assert "backoffLimit" not in spec["jobTemplate"]["spec"]
    assert spec["jobTemplate"]["spec"]["template"]["spec"]["dnsPolicy"] == "ClusterFirst"


def service(**spec):
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}], **spec},
    }


def test_cluster_ip_service():
    spec = defaulted(service())["spec"]
    assert spec["type"] == "ClusterIP"
    assert spec["clusterIP"] == "10.96.0.10"
    assert spec["clusterIPs"] == ["10.96.0.10"]
    assert spec["ipFamilies"] == ["IPv4"]
    assert spec["ipFamilyPolicy"] == "SingleStack"
    assert spec["sessionAffinity"] == "None"
    assert spec["internalTrafficPolicy"] == "Cluster"
    assert "externalTrafficPolicy" not in spec
    assert spec["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 80}]


def test_node_port_and_load_balancer_services():
    spec = defaulted(service(type="NodePort"))["spec"]
    assert spec["ports"][0]["nodePort"] == 30080
    assert spec["externalTrafficPolicy"] == "Cluster"
    lb = defaulted(service(type="LoadBalancer", externalTrafficPolicy="Local"))
    assert lb["spec"]["allocateLoadBalancerNodePorts"] is True
    assert lb["spec"]["healthCheckNodePort"] == 30081
    assert lb["status"] == {"loadBalancer": {}}


def test_headless_services():
    spec = defaulted(service(clusterIP="None"))["spec"]
    assert spec["clusterIPs"] == ["None"]
    assert spec["ipFamilyPolicy"] == "SingleStack"
    selectorless = service(clusterIP="None")
    del selectorless["spec"]["selector"]
    assert defaulted(selectorless)["spec"]["ipFamilyPolicy"] == "RequireDualStack"


def test_session_affinity_client_ip():
    spec = defaulted(service(sessionAffinity="ClientIP"))["spec"]
    assert spec["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}


def test_service_update_keeps_allocations():
    ctx = Ctx()
    old = defaulted(service(type="NodePort", ports=[{"name": "http", "port": 80}]), ctx=ctx)
    new = defaulted(service(type="NodePort", ports=[{"name": "http", "port": 8080}]), old, ctx)
    assert new["spec"]["clusterIP"] == old["spec"]["clusterIP"]
    assert new["spec"]["ports"][0]["nodePort"] == old["spec"]["ports"][0]["nodePort"]
    # back to ClusterIP: the untouched node port is dropped, the IP stays
    back = dict(new, spec=dict(new["spec"], type="ClusterIP"))
    back["spec"]["ports"] = [dict(p) for p in new["spec"]["ports"]]
    back = defaulted(back, new, ctx)
    assert "nodePort" not in back["spec"]["ports"][0]
    assert "externalTrafficPolicy" not in back["spec"]
    assert back["spec"]["clusterIP"] == old["spec"]["clusterIP"]


def test_external_name_service():
    spec = defaulted(service(type="ExternalName", externalName="db.example.com"))["spec"]
    assert "clusterIP" not in spec
    assert "internalTrafficPolicy" not in spec


def test_namespace_defaults():
    obj = defaulted({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    assert obj["metadata"]["labels"] == {"kubernetes.io/metadata.name": "shop"}
    assert obj["spec"] == {"finalizers": ["kubernetes"]}
    assert obj["status"] == {"phase": "Active"}


def test_secret_string_data_becomes_data():
    obj = defaulted(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "db"},
            "data": {"user": base64.b64encode(b"app").decode()},
            "stringData": {"password": "s3cret"},
        }
    )
    assert obj["type"] == "Opaque"
    assert "stringData" not in obj
    assert base64.b64decode(obj["data"]["password"]) == b"s3cret"
    assert base64.b64decode(obj["data"]["user"]) == b"app"


def test_storage_defaults():
    pvc = defaulted(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": 1e9}}},
        }
    )
    assert pvc["spec"]["volumeMode"] == "Filesystem"
    assert pvc["spec"]["resources"]["requests"]["storage"] == "1G"
    assert pvc["status"] == {"phase": "Pending"}
    pv = defaulted(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": "pv1"},
            "spec": {"capacity": {"storage": "10Gi"}, "hostPath": {"path": "/data"}},
        }
    )
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert pv["status"]["phase"] == "Pending"
    sc = defaulted(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "standard"},
            "provisioner": "kubesim.io/hostpath",
        }
    )
    assert sc["reclaimPolicy"] == "Delete"
    assert sc["volumeBindingMode"] == "Immediate"


def test_config_map_and_ingress_are_left_alone():
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "b"}}
    assert defaulted(dict(cm)) == cm


def test_hpa_defaults():
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "maxReplicas": 5,
        },
    }
    spec = defaulted(hpa)["spec"]
    assert spec["minReplicas"] == 1
    assert spec["metrics"] == [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 80},
            },
        }
    ]
    assert "behavior" not in spec  # only an explicit behavior is filled in
    hpa["spec"]["behavior"] = {"scaleDown": {"stabilizationWindowSeconds": 60}}
    behavior = defaulted(hpa)["spec"]["behavior"]
    assert behavior["scaleDown"] == {
        "stabilizationWindowSeconds": 60,
        "selectPolicy": "Max",
        "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
    }
    assert behavior["scaleUp"]["policies"][0] == {"type": "Pods", "value": 4, "periodSeconds": 15}
    assert behavior["scaleUp"]["stabilizationWindowSeconds"] == 0


def test_limit_range_defaults():
    lr = defaulted(
        {
            "apiVersion": "v1",
            "kind": "LimitRange",
            "metadata": {"name": "limits"},
            "spec": {
                "limits": [{"type": "Container", "max": {"cpu": "2"}, "min": {"memory": "64Mi"}}]
            },
        }
    )
    item = lr["spec"]["limits"][0]
    assert item["default"] == {"cpu": "2"}
    assert item["defaultRequest"] == {"cpu": "2", "memory": "64Mi"}
