"""The kind provider, with a fake `kind` on PATH (and the real one when Docker is here)."""

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest
import yaml
from django.core.exceptions import ValidationError

from apps.clusters import providers, services, tasks
from apps.clusters.models import Cluster, Node
from apps.core.models import Operation
from apps.core.operations import log_lines
from tests.clusters.helpers import unique_name

FAKE_KIND = textwrap.dedent(
    """\
    #!{python}
    # A stand-in for the kind CLI: records its arguments, keeps the cluster names in a
    # file, writes the kubeconfig it is given when asked to create a cluster.
    import json, os, shutil, sys
    from pathlib import Path

    here = Path(os.environ["FAKE_KIND_DIR"])
    args = sys.argv[1:]
    with open(here / "calls.jsonl", "a") as calls:
        calls.write(json.dumps(args) + "\\n")
    state = here / "clusters.json"
    clusters = json.loads(state.read_text()) if state.exists() else []

    def option(name):
        return args[args.index(name) + 1]

    if args[:2] == ["get", "clusters"]:
        print("\\n".join(clusters) if clusters else "No kind clusters found.")
    elif args[:2] == ["create", "cluster"]:
        if os.environ.get("FAKE_KIND_FAIL"):
            print(os.environ["FAKE_KIND_FAIL"], file=sys.stderr)
            sys.exit(1)
        shutil.copy(option("--config"), here / "kind-config.yaml")
        shutil.copy(here / "kubeconfig", option("--kubeconfig"))
        state.write_text(json.dumps([*clusters, option("--name")]))
    elif args[:2] == ["get", "kubeconfig"]:
        print((here / "kubeconfig").read_text())
    elif args[:2] == ["delete", "cluster"]:
        state.write_text(json.dumps([c for c in clusters if c != option("--name")]))
    else:
        print(f"unknown command {{args}}", file=sys.stderr)
        sys.exit(2)
    """
)


FAKE_DOCKER = textwrap.dedent(
    """\
    #!{python}
    # A stand-in for the docker CLI: `docker info` answers as a running (or stopped) daemon.
    import os, sys

    if sys.argv[1:2] == ["info"]:
        if os.environ.get("FAKE_DOCKER_STOPPED"):
            print("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
                  "Is the docker daemon running?", file=sys.stderr)
            sys.exit(1)
        print("27.3.1")
        sys.exit(0)
    print(f"unknown command {{sys.argv[1:]}}", file=sys.stderr)
    sys.exit(2)
    """
)


def _install(bin_dir, name: str, script: str) -> None:
    path = bin_dir / name
    path.write_text(script.format(python=sys.executable))
    path.chmod(0o755)


@pytest.fixture(autouse=True)
def _fast_poll(monkeypatch):
    monkeypatch.setattr(tasks, "POLL", 0.05)


@pytest.fixture
def fake_kind(tmp_path, monkeypatch, kubesim):
    """fake_kind(masters, workers) -> the folder where the fake kind records its calls.

    Its kubeconfig points at a fresh kubesim cluster of that shape, so everything after
    `kind create cluster` (API, nodes, prepare, sync) really happens.
    """
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _install(bin_dir, "kind", FAKE_KIND)
    _install(bin_dir, "docker", FAKE_DOCKER)  # kind is offered only with Docker running
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("FAKE_KIND_DIR", str(tmp_path))
    created = []

    def make(masters=1, workers=0):
        answer = kubesim.create_cluster(unique_name("kind"), masters=masters, workers=workers)
        created.append(answer["name"])
        kubeconfig = dict(answer["kubeconfig"], **{"current-context": answer["name"]})
        (tmp_path / "kubeconfig").write_text(yaml.safe_dump(kubeconfig))
        return tmp_path

    yield make
    for name in created:
        kubesim.admin("DELETE", f"/clusters/{name}")


def _calls(folder) -> list[list[str]]:
    return [json.loads(line) for line in (folder / "calls.jsonl").read_text().splitlines()]


def test_create_runs_kind_with_the_config_then_delete(org, run_tasks, fake_kind, monkeypatch):
    folder = fake_kind(masters=3, workers=2)
    cluster, operation = run_tasks(
        services.create_cluster,
        org.admin,
        name="local",
        provider="kind",
        version="1.31.4",
        control_plane_nodes=3,
        workers=2,
    )
    operation.refresh_from_db()
    cluster.refresh_from_db()
    assert operation.status == "succeeded", (operation.error, operation.log)
    assert cluster.status == "running"
    assert cluster.nodes_total == cluster.nodes_ready == 5
    assert Node.objects.filter(cluster=cluster, role="master").count() == 3
    assert any("kind create cluster --name local" in line for line in log_lines(operation))

    config = yaml.safe_load((folder / "kind-config.yaml").read_text())
    assert config["kind"] == "Cluster"
    assert config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    assert [n["role"] for n in config["nodes"]] == ["control-plane"] * 3 + ["worker"] * 2
    assert {n["image"] for n in config["nodes"]} == {"kindest/node:v1.31.4"}

    calls = _calls(folder)
    assert calls[0] == ["get", "clusters"]
    create = calls[1]
    assert create[:4] == ["create", "cluster", "--name", "local"]
    assert "--kubeconfig" in create and "--config" in create

    # Scale-out is not something kind can do: refused before anything starts.
    with pytest.raises(ValidationError, match="cannot be scaled out"):
        services.scale_out(org.admin, cluster, workers=1)
    assert len(_calls(folder)) == 2

    operation = run_tasks(services.delete_cluster, org.admin, cluster)
    operation.refresh_from_db()
    cluster.refresh_from_db()
    assert operation.status == "succeeded", (operation.error, operation.log)
    assert cluster.status == "deleted"
    assert _calls(folder)[-1] == ["delete", "cluster", "--name", "local"]
    assert json.loads((folder / "clusters.json").read_text()) == []


def test_create_is_idempotent(fake_kind):
    folder = fake_kind(masters=1, workers=1)
    spec = providers.ClusterSpec(name="again", version="1.32.0", workers=1)
    kind = providers.get("kind")
    lines = []

    def log(message, **params):  # as Progress.log, shown in English
        lines.append(str(message) % params if params else str(message))

    first = kind.create(spec, log)
    # A redelivered task runs create again: kind already has the cluster, so it is reused.
    second = kind.create(spec, log)
    assert yaml.safe_load(first.kubeconfig) == yaml.safe_load(second.kubeconfig)
    assert (first.context, first.api_server) == (second.context, second.api_server)
    assert first.api_server.startswith("https://")
    assert [c[:2] for c in _calls(folder)] == [
        ["get", "clusters"],
        ["create", "cluster"],
        ["get", "clusters"],
        ["get", "kubeconfig"],
    ]
    assert _calls(folder)[-1] == ["get", "kubeconfig", "--name", "again"]
    assert "kind cluster again already exists; reusing it" in lines


def test_config_without_version_uses_kinds_default_image():
    config = providers.get("kind").config(providers.ClusterSpec(name="x", workers=1))
    assert config["nodes"] == [{"role": "control-plane"}, {"role": "worker"}]


def test_failing_kind_leaves_the_cluster_in_error(org, run_tasks, fake_kind, monkeypatch):
    fake_kind()
    monkeypatch.setenv(
        "FAKE_KIND_FAIL", "ERROR: failed to create cluster: failed to pull image kindest/node"
    )
    cluster, operation = run_tasks(
        services.create_cluster, org.admin, name="broken", provider="kind"
    )
    operation.refresh_from_db()
    cluster.refresh_from_db()
    assert operation.status == "failed"
    assert cluster.status == "error"
    assert cluster.status_message == (
        "kind failed: ERROR: failed to create cluster: failed to pull image kindest/node"
    )
    assert "failed to pull image" in operation.error


def test_kind_missing_on_the_worker_is_a_clear_error(monkeypatch, tmp_path):
    # The portal offers kind where it runs; a worker without kind still says so clearly.
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(providers.ProviderError) as info:
        providers.get("kind").create(providers.ClusterSpec(name="nokind"), print)
    assert info.value.message == "The kind command is not installed on the worker."


@pytest.fixture
def tools(tmp_path, monkeypatch):
    """tools(*names) -> a PATH with only these fakes ("kind", "docker"), nothing else."""

    def make(*names, docker_stopped=False):
        bin_dir = tmp_path / "only"
        bin_dir.mkdir(exist_ok=True)
        for name in names:
            _install(bin_dir, name, {"kind": FAKE_KIND, "docker": FAKE_DOCKER}[name])
        monkeypatch.setenv("PATH", str(bin_dir))
        monkeypatch.setenv("FAKE_KIND_DIR", str(tmp_path))
        if docker_stopped:
            monkeypatch.setenv("FAKE_DOCKER_STOPPED", "1")

    return make


@pytest.mark.parametrize(
    ("names", "stopped", "reason"),
    [
        ((), False, "kind is not installed."),
        (("docker",), False, "kind is not installed."),
        (("kind",), False, "Docker is not installed."),
        (("kind", "docker"), True, "Docker is not running."),
    ],
)
def test_kind_is_offered_only_when_kind_and_docker_are_there(
    org, portal, api, tools, names, stopped, reason
):
    """Issue 9 (8): kind was offered without kind/Docker and failed after the submit."""
    tools(*names, docker_stopped=stopped)
    assert providers.get("kind").available() == (False, reason)

    admin = portal("admin")
    page = admin.get("/clusters/add/").content.decode()
    card = re.search(r'<(\w+)[^>]*data-testid="provider-kind"[^>]*>.*?</\1>', page, re.S)
    assert card and card.group(1) != "a", "not a link"
    assert 'aria-disabled="true"' in card.group() and f"Not available: {reason}" in card.group()
    assert 'href="/clusters/add/kind/"' not in page
    assert 'href="/clusters/add/sandbox/"' in page and 'href="/clusters/add/kubeconfig/"' in page
    # The form itself is not offered either; submitting anyway is refused with the reason.
    response = admin.get("/clusters/add/kind/", follow=True)
    assert response.redirect_chain == [("/clusters/add/", 302)]
    assert reason in response.content.decode()
    response = admin.post("/clusters/add/kind/", {"name": "local", "workers": "1"}, follow=True)
    assert reason in response.content.decode()
    response = api("admin").post(
        "/api/v1/clusters/", {"name": "local", "provider": "kind"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"provider": [reason]}
    with pytest.raises(ValidationError) as info:
        services.create_cluster(org.admin, name="local", provider="kind")
    assert info.value.message_dict == {"provider": [reason]}
    assert not Cluster.objects.exists() and not Operation.objects.exists()


def test_kind_is_offered_with_kind_and_a_running_docker(org, portal, tools):
    tools("kind", "docker")
    assert providers.get("kind").available() == (True, "")
    page = portal("admin").get("/clusters/add/").content.decode()
    assert 'href="/clusters/add/kind/"' in page
    form = portal("admin").get("/clusters/add/kind/")
    assert form.status_code == 200 and 'name="workers"' in form.content.decode()


def _docker_and_kind() -> str:
    """Why the real kind test cannot run here, or "" when it can."""
    if shutil.which("kind") is None:
        return "the kind command is not on PATH"
    if shutil.which("docker") is None:
        return "the docker command is not on PATH"
    try:
        result = subprocess.run(["docker", "info"], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"docker info failed: {exc}"
    if result.returncode != 0:
        return "docker info failed: " + result.stderr.decode(errors="replace").strip()[:200]
    return ""


def test_real_kind(org, run_tasks, monkeypatch):
    reason = _docker_and_kind()
    if reason:
        pytest.skip(f"needs Docker and kind: {reason}")
    monkeypatch.setattr(tasks, "POLL", 2.0)
    name = unique_name("kcs")
    cluster, operation = run_tasks(
        services.create_cluster, org.admin, name=name, provider="kind", workers=1
    )
    try:
        operation.refresh_from_db()
        cluster.refresh_from_db()
        assert operation.status == "succeeded", (operation.error, operation.log)
        assert cluster.status == "running"
        assert cluster.nodes_total == 2
    finally:
        run_tasks(services.delete_cluster, org.admin, cluster)
    cluster.refresh_from_db()
    assert cluster.status == "deleted"
