"""deploy/: the portal on Kubernetes, applied with kubectl's kustomize into a kubesim cluster.

What an operator does, in the README's order: fill in the overlay's secrets, `kubectl
apply -k`, wait for the rollout (the migration Job first), scale the web to three
replicas, upgrade to a new image (migrations first). The simulated clock is frozen and
moved by the test, so nothing here waits on real time.

kubectl applies client-side (the default): it reads and patches JSON, which kubesim
speaks; no --server-side or protobuf is involved.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.test import Client

from kubesim.testing import KubesimServer

ROOT = Path(__file__).resolve().parents[2]
NS = "kcs-portal"
DEPLOYMENTS = ("kcs-portal-web", "kcs-portal-worker", "kcs-portal-beat", "kcs-portal-informer")

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="needs kubectl")


@pytest.fixture(scope="module")
def server():
    with KubesimServer() as running:  # with its controllers: scheduler, kubelet, ...
        yield running


class Operator:
    """kubectl against a frozen cluster, with the deploy/ tree copied to fill in."""

    def __init__(self, server: KubesimServer, home: Path):
        self.server = server
        self.cluster = server.create_cluster("ops", workers=3, zones=["a", "b", "c"])
        self.advance(0, factor=0)
        self.home = home
        self.config = home / "kubeconfig"
        self.config.write_text(yaml.safe_dump(self.cluster["kubeconfig"]))
        self.tree = home / "deploy"
        shutil.copytree(ROOT / "deploy", self.tree)
        self.overlay = self.tree / "overlays" / "external"
        example = (self.overlay / "secrets.env.example").read_text()
        filled = example.replace("SECRET_KEY=\n", "SECRET_KEY=k8s-test-secret-key\n").replace(
            "FIELD_ENCRYPTION_KEY=\n",
            "FIELD_ENCRYPTION_KEY=3Gv1rRjvNBE2n2xP2wS8Yx4bSU3sTLr4yA4QGVhrvLY=\n",
        )
        (self.overlay / "secrets.env").write_text(filled)

    def advance(self, seconds: float, factor: float | None = None) -> None:
        body = {"advance": seconds} | ({"timeFactor": factor} if factor is not None else {})
        status, answer = self.server.admin("POST", "/clusters/ops/clock", body)
        assert status == 200, answer

    def kubectl(self, *args: str) -> str:
        result = subprocess.run(
            ["kubectl", "--kubeconfig", str(self.config), *args],
            capture_output=True,
            text=True,
            timeout=120,
            env={"HOME": str(self.home), "PATH": "/usr/bin:/bin"},
        )
        assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
        return result.stdout

    def get(self, *args: str) -> dict:
        return json.loads(self.kubectl("get", "-n", NS, "-o", "json", *args))

    def apply(self) -> dict[str, str]:
        """`kubectl apply -k` of the overlay: what it said of each object."""
        out = self.kubectl("apply", "-k", str(self.overlay))
        return dict(line.rsplit(" ", 1) for line in out.splitlines() if line.strip())

    def set_overlay(self, edit) -> None:
        path = self.overlay / "kustomization.yaml"
        path.write_text(edit(path.read_text()))

    def settle(self, seconds: int = 60) -> None:
        """Let simulated time pass, a few seconds at a time (as the controllers would)."""
        for _ in range(seconds // 5):
            self.advance(5)

    def rolled_out(self) -> None:
        for name in DEPLOYMENTS:
            out = self.kubectl("rollout", "status", "-n", NS, f"deployment/{name}", "--timeout=5s")
            assert "successfully rolled out" in out, out

    def pods(self, component: str) -> list[dict]:
        selector = f"app.kubernetes.io/name=kcs-portal,app.kubernetes.io/component={component}"
        return self.get("pods", "-l", selector)["items"]


@pytest.fixture
def operator(server, tmp_path):
    op = Operator(server, tmp_path)
    yield op
    server.admin("DELETE", "/clusters/ops")


def _ready(pod: dict) -> bool:
    conditions = {c["type"]: c["status"] for c in pod["status"].get("conditions", [])}
    return pod["metadata"].get("deletionTimestamp") is None and conditions.get("Ready") == "True"


def test_the_manifests_roll_out_scale_and_upgrade_migrations_first(operator, db, settings):
    said = operator.apply()
    assert said["deployment.apps/kcs-portal-web"] == "created"
    assert said["job.batch/kcs-portal-migrate"] == "created"
    assert said["poddisruptionbudget.policy/kcs-portal-web"] == "created"
    assert said["role.rbac.authorization.k8s.io/kcs-informer-leases"] == "created"
    assert any(k.startswith("secret/kcs-portal-secrets-") for k in said)

    operator.settle()
    job = operator.get("job", "kcs-portal-migrate")
    assert job["status"].get("succeeded") == 1
    operator.rolled_out()
    web = operator.pods("web")
    assert len(web) == 2 and all(_ready(p) for p in web)
    assert len(operator.pods("worker")) == 2
    assert len(operator.pods("beat")) == 1
    assert len(operator.pods("informer")) == 2
    # Every process waited for the migrations in an init container, which then ended.
    for pod in web:
        (init,) = pod["status"]["initContainerStatuses"]
        assert init["name"] == "wait-for-migrations"
        assert init["state"]["terminated"]["exitCode"] == 0

    # The probes' contract: the kubelet asks the web pods' port by their address over
    # plain HTTP; with the settings the manifests give the portal, both answer 200.
    deployment = operator.get("deployment", "kcs-portal-web")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"] == {
        "path": "/readyz",
        "port": "http",
        "scheme": "HTTP",
    }
    assert container["livenessProbe"]["httpGet"] == {
        "path": "/healthz",
        "port": "http",
        "scheme": "HTTP",
    }
    assert container["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    (configmap,) = [
        c for c in operator.get("configmaps")["items"] if c["metadata"]["name"].startswith("kcs-")
    ]
    assert configmap["data"]["DEBUG"] == "0"
    settings.ALLOWED_HOSTS = configmap["data"]["ALLOWED_HOSTS"].split(",")
    settings.SECURE_SSL_REDIRECT = True
    for pod in web:
        host = f"{pod['status']['podIP']}:8000"
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            answer = Client().get(container[probe]["httpGet"]["path"], HTTP_HOST=host)
            assert answer.status_code == 200, (probe, answer.content)

    # The Service sends traffic to the ready web pods.
    endpoints = operator.get("endpoints", "kcs-portal-web")
    addresses = [a["ip"] for s in endpoints["subsets"] for a in s.get("addresses", [])]
    assert sorted(addresses) == sorted(p["status"]["podIP"] for p in web)

    # Ready per the probes' contract: kubesim's kubelet runs them as declared. The
    # startup probe passed (the container is started), and readiness is /readyz's: when
    # it answers 503 (a database or Redis down), three failures 10 s apart take the web
    # pods out of the Service without restarting them (/healthz still answers); when it
    # answers 200 again, one success puts them back.
    for pod in web:
        (status,) = pod["status"]["containerStatuses"]
        assert status["started"] is True and status["ready"] is True
    answers = {"namespace": NS, "kind": "Deployment", "name": "kcs-portal-web"}
    code, body = operator.server.admin(
        "PUT", "/clusters/ops/probes", {**answers, "answers": {"/readyz": 503}}
    )
    assert code == 200, body
    operator.settle(15)
    assert all(_ready(p) for p in operator.pods("web"))  # below failureThreshold yet
    operator.settle(20)
    unready = operator.pods("web")
    assert [_ready(p) for p in unready] == [False, False]
    assert all(p["status"]["containerStatuses"][0]["restartCount"] == 0 for p in unready)
    endpoints = operator.get("endpoints", "kcs-portal-web")
    assert not [a for s in endpoints.get("subsets") or [] for a in s.get("addresses", [])]
    events = operator.get("events", "--field-selector", "reason=Unhealthy")["items"]
    assert {e["message"] for e in events} == {
        "Readiness probe failed: HTTP probe failed with statuscode: 503"
    }
    assert operator.get("pdb", "kcs-portal-web")["status"]["currentHealthy"] == 0
    code, body = operator.server.admin("PUT", "/clusters/ops/probes", {**answers, "answers": {}})
    assert code == 200, body
    operator.settle(10)
    web = operator.pods("web")
    assert len(web) == 2 and all(_ready(p) for p in web)

    # Alive is /healthz's: three failures 20 s apart restart the container (the pod stays).
    code, body = operator.server.admin(
        "PUT", "/clusters/ops/probes", {**answers, "answers": {"/healthz": 500}}
    )
    assert code == 200, body
    operator.settle(35)
    assert all(
        p["status"]["containerStatuses"][0]["restartCount"] == 0 for p in operator.pods("web")
    )
    for _ in range(6):  # the third failure is 40 to 60 s after the switch (the period's grid)
        operator.advance(5)
        if all(p["status"]["containerStatuses"][0]["restartCount"] for p in operator.pods("web")):
            break
    code, body = operator.server.admin("PUT", "/clusters/ops/probes", {**answers, "answers": {}})
    assert code == 200, body
    restarted = operator.pods("web")
    assert sorted(p["metadata"]["name"] for p in restarted) == sorted(
        p["metadata"]["name"] for p in web
    )
    assert [p["status"]["containerStatuses"][0]["restartCount"] for p in restarted] == [1, 1]
    killing = operator.get("events", "--field-selector", "reason=Killing")["items"]
    assert "Container web failed liveness probe, will be restarted" in {
        e["message"] for e in killing
    }
    operator.settle(30)
    web = operator.pods("web")
    assert len(web) == 2 and all(_ready(p) for p in web)

    # Applying again changes nothing (PodDisruptionBudgets always say "configured":
    # their selector's patch strategy is "replace", as on a real cluster).
    again = operator.apply()
    changed = {k for k, v in again.items() if v != "unchanged"}
    assert changed <= {
        "poddisruptionbudget.policy/kcs-portal-web",
        "poddisruptionbudget.policy/kcs-portal-worker",
    }, again

    # Scale the web to three replicas, as the README says: in the overlay, then apply.
    operator.set_overlay(
        lambda text: text.replace(
            "  - name: kcs-portal-web\n    count: 2", "  - name: kcs-portal-web\n    count: 3"
        )
    )
    assert operator.apply()["deployment.apps/kcs-portal-web"] == "configured"
    operator.settle(30)
    operator.rolled_out()
    web = operator.pods("web")
    assert len(web) == 3 and all(_ready(p) for p in web)
    assert len({p["spec"]["nodeName"] for p in web}) == 3  # spread over the nodes
    endpoints = operator.get("endpoints", "kcs-portal-web")
    assert sum(len(s.get("addresses", [])) for s in endpoints["subsets"]) == 3
    budget = operator.get("pdb", "kcs-portal-web")
    assert budget["status"]["currentHealthy"] == 3
    assert budget["status"]["disruptionsAllowed"] == 2  # a drain keeps one web pod up

    # Upgrade: a new image. The finished Job is deleted first (its template cannot
    # change), the apply runs it again, and the processes roll to the new image.
    operator.set_overlay(lambda text: re.sub(r"newTag: \S+", "newTag: v2", text))
    operator.kubectl("delete", "job", "-n", NS, "kcs-portal-migrate")
    said = operator.apply()
    assert said["job.batch/kcs-portal-migrate"] == "created"
    assert said["deployment.apps/kcs-portal-web"] == "configured"
    operator.settle(120)
    job = operator.get("job", "kcs-portal-migrate")
    assert job["status"].get("succeeded") == 1
    assert job["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":v2")
    operator.rolled_out()
    web = [p for p in operator.pods("web") if p["metadata"].get("deletionTimestamp") is None]
    assert len(web) == 3
    assert {p["spec"]["containers"][0]["image"] for p in web} == {
        "registry.example.com/kcs-portal:v2"
    }
    beat = operator.get("deployment", "kcs-portal-beat")
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"]["type"] == "Recreate"  # never two beats at once


def _rendered() -> list[dict]:
    out = subprocess.run(
        ["kubectl", "kustomize", str(ROOT / "deploy" / "base")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return list(yaml.safe_load_all(out))


def test_every_process_runs_what_the_image_and_the_procfile_run():
    from django.core.management import get_commands

    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    web_command = yaml.safe_load(re.search(r"^CMD (.+)$", dockerfile, re.M).group(1))
    pod_specs = {
        doc["metadata"]["name"]: doc["spec"]["template"]["spec"]
        for doc in _rendered()
        if doc["kind"] in ("Deployment", "Job")
    }
    assert set(pod_specs) == {*DEPLOYMENTS, "kcs-portal-migrate"}
    assert pod_specs["kcs-portal-web"]["containers"][0]["command"] == web_command
    commands = get_commands()
    for name, spec in pod_specs.items():
        for container in spec.get("initContainers", []) + spec["containers"]:
            command = container["command"]
            assert container["image"] == "kcs-portal", name  # the overlay names the image
            assert container["resources"]["requests"], name
            if command[:2] == ["python", "manage.py"]:
                assert command[2] in commands, (name, command)
            elif command[0] == "sh":
                assert "python manage.py migrate --check" in command[2], name
            elif command[0] == "celery":
                assert command[1:3] == ["-A", "kcsportal"] and command[3] in {"worker", "beat"}
            else:
                assert command == web_command, name
            refs = {e.get("configMapRef", e.get("secretRef"))["name"] for e in container["envFrom"]}
            assert {r.rsplit("-", 1)[0] for r in refs} == {
                "kcs-portal-settings",
                "kcs-portal-secrets",
            }
    informer = pod_specs["kcs-portal-informer"]
    assert informer["serviceAccountName"] == "kcs-informer"  # the one bound to the Lease Role
    env = {e["name"]: e for e in informer["containers"][0]["env"]}
    assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert env["POD_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
