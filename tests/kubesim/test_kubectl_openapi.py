"""kubectl against kubesim: create/apply validate without --validate=false; get prints columns."""

import shutil
import subprocess

import pytest
import yaml

from kubesim.testing import kubesim_cluster, kubesim_server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")

DEPLOYMENT = """
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
      - {name: web, image: "nginx:1.27", ports: [{containerPort: 80}]}
"""

POD = """
apiVersion: v1
kind: Pod
metadata: {name: solo}
spec:
  containers:
  - {name: app, image: "busybox:1.36"}
"""

# A v1 List is validated by kubectl itself against /openapi/v2 (protobuf).
BAD_LIST = """
apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: bad}
  spec:
    replicas: two
    selector: {matchLabels: {app: x}}
    template:
      metadata: {labels: {app: x}}
      spec:
        containers: [{name: x, image: nginx}]
"""


@pytest.fixture
def kubectl(kubesim_cluster, tmp_path):  # noqa: F811
    config = tmp_path / "kubeconfig"
    config.write_text(yaml.safe_dump(kubesim_cluster["kubeconfig"]))

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        # A fresh HOME keeps kubectl's discovery/OpenAPI cache per test.
        return subprocess.run(
            ["kubectl", "--kubeconfig", str(config), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        )

    return run


def test_create_and_apply_validate_against_served_openapi(kubectl):
    created = kubectl("create", "-f", "-", stdin=DEPLOYMENT)
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "deployment.apps/web created"
    applied = kubectl("apply", "-f", "-", stdin=DEPLOYMENT.replace("replicas: 2", "replicas: 3"))
    assert applied.returncode == 0, applied.stderr
    assert "validate" not in applied.stderr


def test_get_pods_prints_the_apiserver_columns(kubectl):
    assert kubectl("create", "-f", "-", stdin=POD).returncode == 0
    out = kubectl("get", "pods")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert out.stdout.split("\n")[1].split()[:2] == ["solo", "0/1"]
    wide = kubectl("get", "pods", "-o", "wide").stdout.split("\n")[0]
    assert wide.split()[5:] == ["IP", "NODE", "NOMINATED", "NODE", "READINESS", "GATES"]


def test_client_side_validation_of_a_list_uses_openapi_v2(kubectl):
    out = kubectl("create", "-f", "-", stdin=BAD_LIST)
    assert out.returncode == 1
    assert "ValidationError(Deployment.spec.replicas): invalid type" in out.stderr


CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: crontabs.stable.example.com}
spec:
  group: stable.example.com
  scope: Namespaced
  names: {plural: crontabs, singular: crontab, kind: CronTab}
  versions:
  - name: v1
    served: true
    storage: true
    additionalPrinterColumns:
    - {name: Spec, type: string, jsonPath: .spec.cronSpec}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              cronSpec: {type: string}
              replicas: {type: integer}
"""

CRONTAB = """
apiVersion: stable.example.com/v1
kind: CronTab
metadata: {name: nightly}
spec: {cronSpec: "0 3 * * *", replicas: 2}
"""


def test_custom_resources_create_and_apply_with_validation(kubectl):
    assert kubectl("create", "-f", "-", stdin=CRD).returncode == 0
    created = kubectl("create", "-f", "-", stdin=CRONTAB)
    assert created.returncode == 0, created.stderr
    # apply must choose a JSON merge patch: custom resources take no strategic merge patch.
    applied = kubectl("apply", "-f", "-", stdin=CRONTAB.replace("replicas: 2", "replicas: 3"))
    assert applied.returncode == 0, applied.stderr


def test_custom_resources_print_their_printer_columns(kubectl):
    assert kubectl("create", "-f", "-", stdin=CRD).returncode == 0
    assert kubectl("create", "-f", "-", stdin=CRONTAB).returncode == 0
    out = kubectl("get", "crontabs")
    assert out.stdout.split("\n")[0].split() == ["NAME", "SPEC", "AGE"]
    assert out.stdout.split("\n")[1].split()[:6] == ["nightly", "0", "3", "*", "*", "*"]
