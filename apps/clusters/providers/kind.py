"""Local clusters with kind (Kubernetes in Docker), when Docker and kind are present."""

import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml
from django.utils.translation import gettext_lazy as _

from .base import Capabilities, ClusterSpec, Provider, ProviderError, Provisioned

TIMEOUT = 900  # creating a kind cluster pulls node images; it can take minutes
DOCKER_TIMEOUT = 10  # `docker info` answers at once when the daemon runs


class KindProvider(Provider):
    name = "kind"
    label = _("kind (local Docker)")
    capabilities = Capabilities(create=True, scale_out=False, remove_node=False, delete=True)
    versions = ("1.32.0", "1.31.4", "1.30.8")

    @staticmethod
    def config(spec: ClusterSpec) -> dict:
        """The kind cluster configuration for a spec."""
        nodes = [{"role": "control-plane"} for _ in range(spec.control_plane_nodes)]
        nodes += [{"role": "worker"} for _ in range(spec.workers)]
        if spec.version:
            for node in nodes:
                node["image"] = f"kindest/node:v{spec.version}"
        return {"kind": "Cluster", "apiVersion": "kind.x-k8s.io/v1alpha4", "nodes": nodes}

    def available(self) -> tuple[bool, str]:
        """kind needs its CLI and a running Docker daemon (checked where the portal runs)."""
        if shutil.which("kind") is None:
            return False, str(_("kind is not installed."))
        docker = shutil.which("docker")
        if docker is None:
            return False, str(_("Docker is not installed."))
        try:
            result = subprocess.run(  # noqa: S603 (fixed program and arguments)
                [docker, "info", "--format", "{{.ServerVersion}}"],
                capture_output=True,
                timeout=DOCKER_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return False, str(_("Docker is not running."))
        if result.returncode != 0:
            return False, str(_("Docker is not running."))
        return True, ""

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        kind = shutil.which("kind")
        if kind is None:
            raise ProviderError(_("The kind command is not installed on the worker."))
        result = subprocess.run(  # noqa: S603 (fixed program, arguments from a validated spec)
            [kind, *args], capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
        if result.returncode != 0:
            raise ProviderError(
                _("kind failed: %(error)s") % {"error": (result.stderr or result.stdout).strip()}
            )
        return result

    def create(self, spec: ClusterSpec, log) -> Provisioned:
        existing = self._run("get", "clusters").stdout.split()
        with tempfile.TemporaryDirectory() as tmp:
            kubeconfig = Path(tmp) / "kubeconfig"
            if spec.name in existing:
                log(_("kind cluster %(name)s already exists; reusing it"), name=spec.name)
                text = self._run("get", "kubeconfig", "--name", spec.name).stdout
            else:
                config = Path(tmp) / "kind.yaml"
                config.write_text(yaml.safe_dump(self.config(spec)))
                log(_("running %(command)s"), command=f"kind create cluster --name {spec.name}")
                self._run(
                    "create",
                    "cluster",
                    "--name",
                    spec.name,
                    "--config",
                    str(config),
                    "--kubeconfig",
                    str(kubeconfig),
                    "--wait",
                    "5m",
                )
                text = kubeconfig.read_text()
        data = yaml.safe_load(text)
        return Provisioned(
            kubeconfig=text,
            context=data.get("current-context", f"kind-{spec.name}"),
            api_server=data["clusters"][0]["cluster"]["server"],
        )

    def delete(self, cluster, log) -> None:
        self._run("delete", "cluster", "--name", cluster.name)
        log(_("kind cluster %(name)s deleted"), name=cluster.name)
