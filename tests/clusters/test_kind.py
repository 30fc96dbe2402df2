"""The kind provider, with a fake `kind` on PATH (and the real one when Docker is here)."""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest
import yaml
from django.core.exceptions import ValidationError

from apps.clusters import providers, services, tasks
from apps.clusters.models import Node
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
    script = bin_dir / "kind"
    script.write_text(FAKE_KIND.format(python=sys.executable))
    script.chmod(0o755)
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
    assert any("kind create cluster --name local" in line for line in operation.log)

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
    first = kind.create(spec, lines.append)
    # A redelivered task runs create again: kind already has the cluster, so it is reused.
    second = kind.create(spec, lines.append)
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


def test_kind_missing_is_a_clear_error(org, run_tasks, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    cluster, _operation = run_tasks(
        services.create_cluster, org.admin, name="nokind", provider="kind"
    )
    cluster.refresh_from_db()
    assert cluster.status == "error"
    assert cluster.status_message == "The kind command is not installed on the worker."


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
