"""One object in its JSON form for every built-in kind kubesim serves, for the protobuf tests.

Each uses the well-known types its kind has (times, quantities, int-or-strings, raw JSON,
bytes, maps, inlined structs, pointer fields set to zero) so a round trip exercises them.
"""

from __future__ import annotations

META = {
    "name": "sample",
    "namespace": "default",
    "uid": "6b1c9a8e-7f4e-4a55-9d52-0c9a1e7b2f10",
    "resourceVersion": "42",
    "generation": 3,
    "creationTimestamp": "2026-01-02T03:04:05Z",
    "labels": {"app": "web", "tier": ""},
    "annotations": {"note": "ünïcode ✓"},
    "ownerReferences": [
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "name": "web-abc",
            "uid": "0f0f0f0f-0000-4000-8000-000000000001",
            "controller": True,
            "blockOwnerDeletion": False,
        }
    ],
    "finalizers": ["kubesim.io/hold"],
    "managedFields": [
        {
            "manager": "kubectl-create",
            "operation": "Update",
            "apiVersion": "v1",
            "time": "2026-01-02T03:04:05Z",
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}},
        }
    ],
}


def meta(namespaced: bool = True, **extra) -> dict:
    out = {k: v for k, v in META.items() if namespaced or k != "namespace"}
    return {**out, **extra}


CONTAINER = {
    "name": "nginx",
    "image": "nginx:1.27",
    "command": ["nginx", "-g", "daemon off;"],
    "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"}],
    "env": [
        {"name": "A", "value": "1"},
        {"name": "EMPTY"},
        {
            "name": "FROM_CM",
            "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "a", "optional": False}},
        },
        {
            "name": "CPU",
            "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "1m"}},
        },
    ],
    "envFrom": [{"secretRef": {"name": "creds"}}],
    "resources": {
        "limits": {"cpu": "500m", "memory": "128Mi"},
        "requests": {"cpu": "250m", "memory": "64Mi", "ephemeral-storage": "1Gi"},
    },
    "volumeMounts": [{"name": "config", "mountPath": "/etc/config", "readOnly": True}],
    "livenessProbe": {
        "httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
        "initialDelaySeconds": 5,
        "periodSeconds": 10,
    },
    "readinessProbe": {"tcpSocket": {"port": 80}, "failureThreshold": 3},
    "lifecycle": {"preStop": {"exec": {"command": ["sleep", "5"]}}},
    "terminationMessagePath": "/dev/termination-log",
    "imagePullPolicy": "IfNotPresent",
    "securityContext": {
        "runAsUser": 0,
        "runAsNonRoot": False,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
    },
}

POD_SPEC = {
    "containers": [CONTAINER],
    "initContainers": [{"name": "init", "image": "busybox", "resources": {}}],
    "volumes": [
        {"name": "config", "configMap": {"name": "cfg", "defaultMode": 420}},
        {"name": "scratch", "emptyDir": {"sizeLimit": "1Gi"}},
        {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
        {"name": "creds", "secret": {"secretName": "creds", "items": [{"key": "a", "path": "a"}]}},
    ],
    "restartPolicy": "Always",
    "terminationGracePeriodSeconds": 0,
    "dnsPolicy": "ClusterFirst",
    "nodeSelector": {"kubernetes.io/os": "linux"},
    "serviceAccountName": "default",
    "automountServiceAccountToken": False,
    "priority": -5,
    "affinity": {
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 100,
                    "podAffinityTerm": {
                        "labelSelector": {
                            "matchExpressions": [
                                {"key": "app", "operator": "In", "values": ["web"]}
                            ]
                        },
                        "topologyKey": "kubernetes.io/hostname",
                    },
                }
            ]
        }
    },
    "tolerations": [
        {
            "key": "node.kubernetes.io/not-ready",
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 300,
        }
    ],
    "securityContext": {"fsGroup": 2000},
    "schedulerName": "default-scheduler",
}

TEMPLATE = {"metadata": {"labels": {"app": "web"}}, "spec": POD_SPEC}
SELECTOR = {"matchLabels": {"app": "web"}}
CONDITION = {
    "type": "Available",
    "status": "True",
    "lastTransitionTime": "2026-01-02T03:04:06Z",
    "reason": "MinimumReplicasAvailable",
    "message": "Deployment has minimum availability.",
}

SAMPLES: dict[tuple[str, str], dict] = {
    ("v1", "Namespace"): {
        "metadata": meta(False),
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    },
    ("v1", "Node"): {
        "metadata": meta(False),
        "spec": {
            "podCIDR": "10.244.1.0/24",
            "podCIDRs": ["10.244.1.0/24"],
            "unschedulable": True,
            "taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}],
        },
        "status": {
            "capacity": {"cpu": "4", "memory": "16Gi", "pods": "110"},
            "allocatable": {"cpu": "3800m", "memory": "15Gi", "pods": "110"},
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "lastHeartbeatTime": "2026-01-02T03:04:07Z",
                    "lastTransitionTime": "2026-01-02T03:04:05Z",
                    "reason": "KubeletReady",
                }
            ],
            "addresses": [{"type": "InternalIP", "address": "172.18.0.2"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": "m",
                "systemUUID": "s",
                "bootID": "b",
                "kernelVersion": "6.1.0",
                "osImage": "Debian",
                "containerRuntimeVersion": "containerd://1.7",
                "kubeletVersion": "v1.32.0",
                "kubeProxyVersion": "v1.32.0",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
            "images": [{"names": ["nginx:1.27"], "sizeBytes": 70000000000}],
        },
    },
    ("v1", "Pod"): {
        "metadata": meta(),
        "spec": {**POD_SPEC, "nodeName": "worker-1"},
        "status": {
            "phase": "Running",
            "conditions": [
                {"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-02T03:04:06Z"}
            ],
            "hostIP": "172.18.0.2",
            "podIP": "10.244.1.7",
            "podIPs": [{"ip": "10.244.1.7"}],
            "startTime": "2026-01-02T03:04:05Z",
            "containerStatuses": [
                {
                    "name": "nginx",
                    "state": {"running": {"startedAt": "2026-01-02T03:04:06Z"}},
                    "lastState": {
                        "terminated": {
                            "exitCode": 137,
                            "reason": "OOMKilled",
                            "startedAt": "2026-01-02T03:00:00Z",
                            "finishedAt": "2026-01-02T03:04:00Z",
                        }
                    },
                    "ready": True,
                    "restartCount": 2,
                    "image": "nginx:1.27",
                    "imageID": "docker.io/library/nginx@sha256:00",
                    "containerID": "containerd://abc",
                    "started": False,
                }
            ],
            "qosClass": "Burstable",
        },
    },
    ("v1", "Service"): {
        "metadata": meta(),
        "spec": {
            "ports": [
                {"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080},
                {"name": "named", "port": 443, "targetPort": "https", "nodePort": 30443},
            ],
            "selector": {"app": "web"},
            "clusterIP": "10.96.0.10",
            "clusterIPs": ["10.96.0.10"],
            "type": "NodePort",
            "sessionAffinity": "ClientIP",
            "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 10800}},
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "externalTrafficPolicy": "Cluster",
            "allocateLoadBalancerNodePorts": False,
        },
        "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}},
    },
    ("v1", "Endpoints"): {
        "metadata": meta(),
        "subsets": [
            {
                "addresses": [
                    {
                        "ip": "10.244.1.7",
                        "nodeName": "worker-1",
                        "targetRef": {"kind": "Pod", "namespace": "default", "name": "web-1"},
                    }
                ],
                "notReadyAddresses": [{"ip": "10.244.2.3"}],
                "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
            }
        ],
    },
    ("v1", "ConfigMap"): {
        "metadata": meta(),
        "data": {"a": "1", "empty": "", "multi": "line 1\nline 2\n"},
        "binaryData": {"blob": "AAEC/w=="},
        "immutable": False,
    },
    ("v1", "Secret"): {
        "metadata": meta(),
        "type": "Opaque",
        "data": {"password": "cEBzcw==", "binary": "AP8Q", "empty": ""},
        "immutable": True,
    },
    ("v1", "ServiceAccount"): {
        "metadata": meta(),
        "secrets": [{"name": "token"}],
        "imagePullSecrets": [{"name": "registry"}],
        "automountServiceAccountToken": False,
    },
    ("v1", "PersistentVolume"): {
        "metadata": meta(False),
        "spec": {
            "capacity": {"storage": "10Gi"},
            "hostPath": {"path": "/data/pv1", "type": "DirectoryOrCreate"},
            "accessModes": ["ReadWriteOnce"],
            "claimRef": {"kind": "PersistentVolumeClaim", "namespace": "default", "name": "data"},
            "persistentVolumeReclaimPolicy": "Delete",
            "storageClassName": "standard",
            "volumeMode": "Filesystem",
        },
        "status": {"phase": "Bound", "lastPhaseTransitionTime": "2026-01-02T03:04:05Z"},
    },
    ("v1", "PersistentVolumeClaim"): {
        "metadata": meta(),
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
            "storageClassName": "",
            "volumeMode": "Filesystem",
        },
        "status": {"phase": "Pending"},
    },
    ("v1", "ResourceQuota"): {
        "metadata": meta(),
        "spec": {"hard": {"cpu": "1", "memory": "1Gi", "pods": "4"}, "scopes": ["NotTerminating"]},
        "status": {"hard": {"pods": "4"}, "used": {"pods": "0"}},
    },
    ("v1", "LimitRange"): {
        "metadata": meta(),
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    "default": {"cpu": "500m"},
                    "defaultRequest": {"cpu": "100m"},
                    "max": {"memory": "1Gi"},
                }
            ]
        },
    },
    ("v1", "Event"): {
        "metadata": meta(),
        "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web-1", "uid": "u"},
        "reason": "Scheduled",
        "message": "Successfully assigned default/web-1 to worker-1",
        "source": {"component": "default-scheduler"},
        "firstTimestamp": "2026-01-02T03:04:05Z",
        "lastTimestamp": "2026-01-02T03:04:09Z",
        "count": 3,
        "type": "Normal",
        "eventTime": "2026-01-02T03:04:05.123456Z",
        "reportingComponent": "default-scheduler",
        "reportingInstance": "default-scheduler-master-1",
    },
    ("apps/v1", "Deployment"): {
        "metadata": meta(),
        "spec": {
            "replicas": 0,
            "selector": SELECTOR,
            "template": TEMPLATE,
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": 1},
            },
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
            "paused": True,
        },
        "status": {
            "observedGeneration": 3,
            "replicas": 2,
            "updatedReplicas": 2,
            "readyReplicas": 1,
            "availableReplicas": 1,
            "unavailableReplicas": 1,
            "conditions": [{**CONDITION, "lastUpdateTime": "2026-01-02T03:04:06Z"}],
        },
    },
    ("apps/v1", "ReplicaSet"): {
        "metadata": meta(),
        "spec": {"replicas": 2, "minReadySeconds": 5, "selector": SELECTOR, "template": TEMPLATE},
        "status": {
            "replicas": 2,
            "fullyLabeledReplicas": 2,
            "readyReplicas": 2,
            "observedGeneration": 1,
        },
    },
    ("apps/v1", "StatefulSet"): {
        "metadata": meta(),
        "spec": {
            "replicas": 3,
            "selector": SELECTOR,
            "template": TEMPLATE,
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "1Gi"}},
                    },
                }
            ],
            "serviceName": "web",
            "podManagementPolicy": "Parallel",
            "updateStrategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"partition": 1, "maxUnavailable": 1},
            },
            "persistentVolumeClaimRetentionPolicy": {
                "whenDeleted": "Retain",
                "whenScaled": "Delete",
            },
        },
        "status": {"replicas": 3, "currentRevision": "web-7d", "collisionCount": 1},
    },
    ("apps/v1", "DaemonSet"): {
        "metadata": meta(),
        "spec": {
            "selector": SELECTOR,
            "template": TEMPLATE,
            "updateStrategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "0%"},
            },
        },
        "status": {"currentNumberScheduled": 2, "desiredNumberScheduled": 2, "numberReady": 1},
    },
    ("apps/v1", "ControllerRevision"): {
        "metadata": meta(),
        "data": {
            "spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}}
        },
        "revision": 4,
    },
    ("batch/v1", "Job"): {
        "metadata": meta(),
        "spec": {
            "parallelism": 0,
            "completions": 3,
            "activeDeadlineSeconds": 8_000_000_000,
            "backoffLimit": 0,
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u"}},
            "manualSelector": False,
            "template": {**TEMPLATE, "spec": {**POD_SPEC, "restartPolicy": "Never"}},
            "ttlSecondsAfterFinished": 100,
            "completionMode": "Indexed",
            "suspend": False,
            "podFailurePolicy": {
                "rules": [
                    {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42, -1]}}
                ]
            },
        },
        "status": {
            "conditions": [
                {"type": "Complete", "status": "True", "lastProbeTime": "2026-01-02T03:05:00Z"}
            ],
            "startTime": "2026-01-02T03:04:05Z",
            "completionTime": "2026-01-02T03:05:00Z",
            "succeeded": 3,
            "completedIndexes": "0-2",
            "uncountedTerminatedPods": {},
        },
    },
    ("batch/v1", "CronJob"): {
        "metadata": meta(),
        "spec": {
            "schedule": "*/30 * * * *",
            "timeZone": "Etc/UTC",
            "startingDeadlineSeconds": 0,
            "concurrencyPolicy": "Forbid",
            "suspend": True,
            "jobTemplate": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "template": {**TEMPLATE, "spec": {**POD_SPEC, "restartPolicy": "OnFailure"}}
                },
            },
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 1,
        },
        "status": {
            "active": [{"kind": "Job", "namespace": "default", "name": "sample-1"}],
            "lastScheduleTime": "2026-01-02T03:00:00Z",
        },
    },
    ("networking.k8s.io/v1", "Ingress"): {
        "metadata": meta(),
        "spec": {
            "ingressClassName": "nginx",
            "tls": [{"hosts": ["foo.com"], "secretName": "tls"}],
            "rules": [
                {
                    "host": "foo.com",
                    "http": {
                        "paths": [
                            {
                                "path": "/bar",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "svc1", "port": {"number": 8080}}},
                            },
                            {
                                "path": "/named",
                                "pathType": "Exact",
                                "backend": {"service": {"name": "svc2", "port": {"name": "http"}}},
                            },
                        ]
                    },
                }
            ],
        },
        "status": {
            "loadBalancer": {
                "ingress": [{"hostname": "lb.example", "ports": [{"port": 80, "protocol": "TCP"}]}]
            }
        },
    },
    ("networking.k8s.io/v1", "IngressClass"): {
        "metadata": meta(False),
        "spec": {
            "controller": "k8s.io/ingress-nginx",
            "parameters": {"kind": "IngressParameters", "name": "p", "scope": "Cluster"},
        },
    },
    ("storage.k8s.io/v1", "StorageClass"): {
        "metadata": meta(False),
        "provisioner": "kubesim.io/hostpath",
        "parameters": {"type": "ssd"},
        "reclaimPolicy": "Retain",
        "allowVolumeExpansion": False,
        "volumeBindingMode": "WaitForFirstConsumer",
        "mountOptions": ["ro"],
    },
    ("policy/v1", "PodDisruptionBudget"): {
        "metadata": meta(),
        "spec": {
            "minAvailable": "50%",
            "selector": SELECTOR,
            "unhealthyPodEvictionPolicy": "AlwaysAllow",
        },
        "status": {
            "observedGeneration": 1,
            "disruptedPods": {"web-1": "2026-01-02T03:04:05Z"},
            "disruptionsAllowed": 1,
            "currentHealthy": 2,
            "desiredHealthy": 1,
            "expectedPods": 2,
        },
    },
    ("discovery.k8s.io/v1", "EndpointSlice"): {
        "metadata": meta(),
        "addressType": "IPv4",
        "endpoints": [
            {
                "addresses": ["10.244.1.7"],
                "conditions": {"ready": True, "serving": True, "terminating": False},
                "hostname": "web-0",
                "nodeName": "worker-1",
                "zone": "zone-a",
                "targetRef": {"kind": "Pod", "namespace": "shop", "name": "web-0", "uid": "u-1"},
                "hints": {"forZones": [{"name": "zone-a"}]},
            }
        ],
        "ports": [{"name": "http", "protocol": "TCP", "port": 8080, "appProtocol": "http"}],
    },
    ("coordination.k8s.io/v1", "Lease"): {
        "metadata": meta(),
        "spec": {
            "holderIdentity": "worker-1",
            "leaseDurationSeconds": 40,
            "acquireTime": "2026-01-02T03:04:05.000000Z",
            "renewTime": "2026-01-02T03:04:45.654321Z",
            "leaseTransitions": 0,
        },
    },
    ("autoscaling/v2", "HorizontalPodAutoscaler"): {
        "metadata": meta(),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 1,
            "maxReplicas": 10,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 50},
                    },
                },
                {
                    "type": "Resource",
                    "resource": {
                        "name": "memory",
                        "target": {"type": "AverageValue", "averageValue": "200Mi"},
                    },
                },
            ],
            "behavior": {
                "scaleDown": {
                    "stabilizationWindowSeconds": 0,
                    "selectPolicy": "Max",
                    "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
                }
            },
        },
        "status": {
            "currentReplicas": 2,
            "desiredReplicas": 3,
            "lastScaleTime": "2026-01-02T03:04:05Z",
            "currentMetrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "current": {"averageUtilization": 75, "averageValue": "150m"},
                    },
                }
            ],
            "conditions": [
                {
                    "type": "AbleToScale",
                    "status": "True",
                    "lastTransitionTime": "2026-01-02T03:04:05Z",
                }
            ],
        },
    },
    ("rbac.authorization.k8s.io/v1", "Role"): {
        "metadata": meta(),
        "rules": [
            {"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods", "pods/log"]},
            {
                "verbs": ["update"],
                "apiGroups": ["apps"],
                "resources": ["deployments"],
                "resourceNames": ["web"],
            },
        ],
    },
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): {
        "metadata": meta(),
        "subjects": [
            {"kind": "ServiceAccount", "name": "sa1", "namespace": "default"},
            {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"},
        ],
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r1"},
    },
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): {
        "metadata": meta(False),
        "rules": [{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}],
        "aggregationRule": {
            "clusterRoleSelectors": [
                {"matchLabels": {"rbac.example.com/aggregate-to-view": "true"}}
            ]
        },
    },
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): {
        "metadata": meta(False),
        "subjects": [
            {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:masters"}
        ],
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "cluster-admin",
        },
    },
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview"): {
        "metadata": {"creationTimestamp": "2026-01-02T03:04:05Z"},
        "spec": {
            "resourceAttributes": {"namespace": "default", "verb": "create", "resource": "pods"},
        },
        "status": {"allowed": True, "reason": "kubesim: cluster administrator"},
    },
    ("authorization.k8s.io/v1", "SubjectAccessReview"): {
        "metadata": {},
        "spec": {
            "resourceAttributes": {"namespace": "shop", "verb": "list", "resource": "pods"},
            "user": "kcs:user:alice",
            "groups": ["system:authenticated"],
            "extra": {"scopes": ["a"]},
            "uid": "1",
        },
        "status": {"denied": True, "reason": "no", "evaluationError": "x"},
    },
    ("authorization.k8s.io/v1", "LocalSubjectAccessReview"): {
        "metadata": {"namespace": "shop"},
        "spec": {
            "nonResourceAttributes": {"path": "/api", "verb": "get"},
            "user": "bob",
        },
        "status": {"allowed": True, "reason": "RBAC: allowed"},
    },
    ("authorization.k8s.io/v1", "SelfSubjectRulesReview"): {
        "metadata": {},
        "spec": {"namespace": "default"},
        "status": {
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
            "incomplete": True,
        },
    },
    ("authentication.k8s.io/v1", "SelfSubjectReview"): {
        "metadata": {},
        "status": {
            "userInfo": {
                "username": "kubesim-admin",
                "groups": ["system:masters", "system:authenticated"],
                "extra": {"scopes": ["a", "b"], "none": []},
            }
        },
    },
    # subresources and API machinery
    ("autoscaling/v1", "Scale"): {
        "metadata": meta(),
        "spec": {"replicas": 0},
        "status": {"replicas": 2, "selector": "app=web"},
    },
    ("v1", "ReplicationController"): {
        "metadata": meta(),
        "spec": {
            "replicas": 0,
            "minReadySeconds": 5,
            "selector": {"app": "web"},
            "template": TEMPLATE,
        },
        "status": {
            "replicas": 2,
            "fullyLabeledReplicas": 2,
            "readyReplicas": 1,
            "availableReplicas": 1,
            "observedGeneration": 4,
            "conditions": [
                {
                    "type": "ReplicaFailure",
                    "status": "True",
                    "lastTransitionTime": "2026-01-02T03:04:05Z",
                    "reason": "FailedCreate",
                    "message": "pods forbidden",
                }
            ],
        },
    },
    ("scheduling.k8s.io/v1", "PriorityClass"): {
        "metadata": meta(namespaced=False),
        "value": 2000000000,
        "globalDefault": True,
        "description": "Used for system critical pods that must run in the cluster.",
        "preemptionPolicy": "PreemptLowerPriority",
    },
    ("apiregistration.k8s.io/v1", "APIService"): {
        "metadata": meta(namespaced=False),
        "spec": {
            "service": {"namespace": "wardle", "name": "api", "port": 443},
            "group": "wardle.example.com",
            "version": "v1alpha1",
            "insecureSkipTLSVerify": True,
            "caBundle": "Y2EgYnVuZGxl",
            "groupPriorityMinimum": 1000,
            "versionPriority": 15,
        },
        "status": {
            "conditions": [
                {
                    "type": "Available",
                    "status": "False",
                    "lastTransitionTime": "2026-01-02T03:04:05Z",
                    "reason": "ServiceNotFound",
                    "message": 'service/api in "wardle" is not present',
                }
            ]
        },
    },
    ("policy/v1", "Eviction"): {
        "metadata": {"name": "web-1", "namespace": "default"},
        "deleteOptions": {"gracePeriodSeconds": 0, "propagationPolicy": "Background"},
    },
    ("v1", "Binding"): {
        "metadata": {"name": "web-1", "namespace": "default"},
        "target": {"kind": "Node", "name": "worker-1"},
    },
    ("v1", "Status"): {
        "metadata": {},
        "status": "Failure",
        "message": 'configmaps "nope" not found',
        "reason": "NotFound",
        "details": {
            "name": "nope",
            "kind": "configmaps",
            "causes": [{"reason": "FieldValueInvalid", "message": "bad", "field": "spec.x"}],
            "retryAfterSeconds": 3,
        },
        "code": 404,
    },
    ("v1", "DeleteOptions"): {
        "gracePeriodSeconds": 0,
        "preconditions": {"uid": "u", "resourceVersion": "7"},
        "propagationPolicy": "Foreground",
        "dryRun": ["All"],
    },
}
