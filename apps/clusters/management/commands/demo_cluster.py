"""Give the demo a running sandbox cluster, then stay up.

Run by `make demo` next to kubesim and the worker: it waits for kubesim,
creates the cluster through the same service as the portal (the worker
provisions it), follows the operation and then keeps running, because the
Procfile runner stops every process as soon as one exits.
"""

import signal
import time

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apps.clusters import services
from apps.clusters.models import Cluster
from apps.core.models import Operation
from apps.core.operations import log_lines
from apps.kube import objects
from apps.kube.errors import KubeError
from apps.kube.namespaces import ensure_namespace
from apps.kube.sync import sync_cluster
from apps.namespaces import access
from apps.namespaces.models import Namespace
from apps.tenancy.models import Project

NAME = "demo"
NGINX = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "nginx", "namespace": "web-shop", "labels": {"app": "nginx"}},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "nginx"}},
        "template": {
            "metadata": {"labels": {"app": "nginx"}},
            "spec": {
                "containers": [
                    {
                        "name": "nginx",
                        "image": "nginx:1.27",
                        "ports": [{"name": "http", "containerPort": 80}],
                    }
                ]
            },
        },
    },
}


class Command(BaseCommand):
    help = "Create the demo sandbox cluster (1 master, 3 workers, 2 zones) and stay up."

    def add_arguments(self, parser):
        parser.add_argument("--exit", action="store_true", help="Exit once the cluster runs.")
        parser.add_argument("--timeout", type=int, default=120)

    def handle(self, exit, timeout, **options):
        self._wait_for_kubesim(timeout)
        cluster = Cluster.objects.filter(name=NAME).exclude(status="deleted").first()
        if cluster is None:
            admin = get_user_model().objects.filter(username="admin").first()
            if admin is None:
                raise CommandError("Run `manage.py seed_demo` first.")
            cluster, operation = services.create_cluster(
                admin,
                name=NAME,
                display_name="Demo",
                control_plane_nodes=1,
                workers=3,
                zones=["zone-a", "zone-b"],
                description="Sandbox cluster of the demo.",
            )
            self.stdout.write(f"Creating the demo cluster (operation {operation.pk}) …")
            self._follow(operation, timeout)
        cluster.refresh_from_db()
        if cluster.status == Cluster.Status.RUNNING:
            self._project_namespaces(cluster)
        self.stdout.write(self.style.SUCCESS(f"Demo cluster {NAME!r} is {cluster.status}."))
        if not exit:
            signal.sigwait({signal.SIGINT, signal.SIGTERM})

    def _project_namespaces(self, cluster):
        # A namespace per demo project makes the cluster visible to their admins.
        kube = cluster.kube()
        projects = Project.objects.filter(name__in=["web-shop", "data-lab"])
        for project in projects:
            ensure_namespace(kube, project.name, {"kcs.io/project": project.name})
        sync_cluster(cluster, kube)
        for project in projects:
            Namespace.objects.filter(cluster=cluster, name=project.name).update(project=project)
        access.sync_cluster(cluster, kube)  # their RoleBindings, at once rather than by beat
        self._nginx(kube, cluster)

    def _nginx(self, kube, cluster):
        """web-shop runs nginx: the Deployment members expose (Networking in the README)."""
        try:
            objects.create(kube, NGINX)
        except KubeError as exc:
            if exc.status != 409:
                raise
        sync_cluster(cluster, kube)

    def _wait_for_kubesim(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                requests.get(f"{settings.KUBESIM_URL}/kubesim/v1/clusters", timeout=2)
                return
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise CommandError(
                        f"kubesim did not answer at {settings.KUBESIM_URL}."
                    ) from None
                time.sleep(0.5)

    def _follow(self, operation, timeout):
        deadline, shown = time.monotonic() + timeout, 0
        while time.monotonic() < deadline:
            operation.refresh_from_db()
            for line in log_lines(operation)[shown:]:
                self.stdout.write(f"  {line}")
            shown = len(operation.log)
            if operation.is_finished:
                if operation.status != Operation.Status.SUCCEEDED:
                    self.stderr.write(f"The demo cluster failed: {operation.error}")
                return
            time.sleep(0.5)
        self.stderr.write("The demo cluster is still being created; see Operations.")
