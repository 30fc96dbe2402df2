"""Clients for clusters' API servers. The only place the portal builds one.

Everything that talks to Kubernetes goes through ``Kube``: calls get a timeout,
transient failures (5xx, 429, connection errors) are retried with backoff that
honours Retry-After, and every failure comes out as a ``KubeError``.
"""

import copy
import hashlib
import logging
import os
import random
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property

import urllib3
import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from .errors import KubeError, translate

log = logging.getLogger("kcsportal.kube")

# Seconds; KUBE_CONNECT_TIMEOUT / KUBE_READ_TIMEOUT in the environment change them.
CONNECT_TIMEOUT = float(os.environ.get("KUBE_CONNECT_TIMEOUT") or 5)
READ_TIMEOUT = float(os.environ.get("KUBE_READ_TIMEOUT") or 30)
MAX_CLIENTS = 64


class InvalidKubeconfig(ValueError):
    pass


def parse_kubeconfig(text: str) -> dict:
    """A kubeconfig (YAML or JSON text) as a dict; InvalidKubeconfig when it is not one."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise InvalidKubeconfig(f"not valid YAML{where}") from exc
    except RecursionError:
        raise InvalidKubeconfig("its values nest too deeply") from None
    if not isinstance(data, dict) or not isinstance(data.get("clusters", []), list):
        raise InvalidKubeconfig("it is not a kubeconfig (no clusters, users and contexts)")
    if not data.get("clusters"):
        raise InvalidKubeconfig("it has no clusters")
    if not data.get("contexts"):
        raise InvalidKubeconfig("it has no contexts")
    _refuse_local_access(data)
    return data


# What would make the client run a command or read a file on the portal's own machine
# (and, for a token file, send its content to whatever server the kubeconfig names).
# Credentials and certificates must be given inline (token, *-data).
RUNS_COMMANDS = ("exec", "auth-provider")
READS_FILES = {
    "clusters": ("cluster", ("certificate-authority",)),
    "users": ("user", ("client-certificate", "client-key", "tokenFile", "token-file")),
}


def _refuse_local_access(data: dict) -> None:
    for section, (inner, keys) in READS_FILES.items():
        for entry in data.get(section) or []:
            body = (entry.get(inner) if isinstance(entry, dict) else None) or {}
            if not isinstance(body, dict):
                continue
            commands = [k for k in RUNS_COMMANDS if section == "users" and body.get(k)]
            if commands:
                raise InvalidKubeconfig(
                    f"its user {entry.get('name', '')!r} runs a command ({commands[0]}); "
                    "give the credentials inline (token or client-certificate-data)"
                )
            files = [k for k in keys if body.get(k)]
            if files:
                raise InvalidKubeconfig(
                    f"it names a local file ({files[0]}); give the content inline "
                    "(the -data fields, or token)"
                )


# Kube.call is the one retry policy. urllib3's own default (3 retries, sleeping whatever
# a 503/429's Retry-After says, uncapped) would multiply it and make "retries=1" a lie.
NO_URLLIB3_RETRIES = urllib3.Retry(
    total=None,
    connect=0,
    read=0,
    status=0,
    other=0,
    redirect=5,
    respect_retry_after_header=False,
)


def new_api_client(
    kubeconfig: dict, context: str | None = None, *, connections: int | None = None
) -> k8s.ApiClient:
    """A client of its own; ``connections`` is how many may be open at once (watches each
    hold one for as long as they run)."""
    configuration = type.__call__(k8s.Configuration)  # not a copy of the global default
    configuration.retries = NO_URLLIB3_RETRIES
    if connections:
        configuration.connection_pool_maxsize = connections
    try:
        return k8s_config.new_client_from_config_dict(
            kubeconfig, context=context, client_configuration=configuration
        )
    except Exception as exc:
        raise translate(exc) from exc


class _ClientCache:
    """API clients per kubeconfig, so connections are reused between requests."""

    def __init__(self):
        self._clients: OrderedDict[str, k8s.ApiClient] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, kubeconfig_text: str, context: str | None) -> k8s.ApiClient:
        key = hashlib.sha256(f"{context}\0{kubeconfig_text}".encode()).hexdigest()
        with self._lock:
            client = self._clients.get(key)
            if client is not None:
                self._clients.move_to_end(key)
                return client
        client = new_api_client(parse_kubeconfig(kubeconfig_text), context)
        with self._lock:
            self._clients[key] = client
            while len(self._clients) > MAX_CLIENTS:
                self._clients.popitem(last=False)[1].close()
        return client


clients = _ClientCache()

IMPERSONATE_USER = "Impersonate-User"
IMPERSONATE_GROUP = "Impersonate-Group"


@dataclass(frozen=True)
class Impersonation:
    """Whom a client acts as: a Kubernetes user and the groups asserted for them (the API
    server adds system:authenticated). The requester needs ``impersonate`` on both."""

    user: str
    groups: tuple[str, ...] = ()

    def headers(self) -> list[tuple[str, str]]:
        """The request headers, one ``Impersonate-Group`` line per group."""
        return [(IMPERSONATE_USER, self.user), *((IMPERSONATE_GROUP, g) for g in self.groups)]


class _GroupHeaders:
    """The client's REST layer, sending one ``Impersonate-Group`` line per group.

    The generated ApiClient keeps headers in a dict (one value per name), and the API
    server takes each Impersonate-Group line as one group (a comma-joined value would be
    one group named "a,b"): the lines are added here, where the request leaves for
    urllib3, which sends every value of an HTTPHeaderDict as a line of its own.
    """

    def __init__(self, rest, groups: tuple[str, ...]):
        self._rest = rest
        self._groups = groups

    def __getattr__(self, name):
        return getattr(self._rest, name)

    def request(self, method, url, *args, headers=None, **kwargs):
        lines = urllib3.HTTPHeaderDict(headers or {})
        for group in self._groups:
            lines.add(IMPERSONATE_GROUP, group)
        return self._rest.request(method, url, *args, headers=lines, **kwargs)


def impersonating(api_client: k8s.ApiClient, who: Impersonation) -> k8s.ApiClient:
    """A client that acts as ``who`` over the same connections as ``api_client``."""
    client = copy.copy(api_client)
    client.default_headers = {**api_client.default_headers, IMPERSONATE_USER: who.user}
    if who.groups:
        client.rest_client = _GroupHeaders(api_client.rest_client, who.groups)
    return client


class Kube:
    """One cluster's API, as the portal uses it."""

    def __init__(
        self,
        api_client: k8s.ApiClient,
        *,
        retries: int = 3,
        backoff: float = 0.5,
        impersonate: Impersonation | None = None,
    ):
        # ``impersonate``: whom every call acts as (None: the client's own identity)
        self.api_client = impersonating(api_client, impersonate) if impersonate else api_client
        self.impersonate = impersonate
        self.retries = retries
        self.backoff = backoff

    @classmethod
    def for_kubeconfig(cls, kubeconfig_text: str, context: str | None = None, **options):
        return cls(clients.get(kubeconfig_text, context), **options)

    @cached_property
    def core(self):
        return k8s.CoreV1Api(self.api_client)

    @cached_property
    def storage(self):
        return k8s.StorageV1Api(self.api_client)

    @cached_property
    def apps(self):
        return k8s.AppsV1Api(self.api_client)

    @cached_property
    def batch(self):
        return k8s.BatchV1Api(self.api_client)

    @cached_property
    def autoscaling(self):
        return k8s.AutoscalingV2Api(self.api_client)

    @cached_property
    def networking(self):
        return k8s.NetworkingV1Api(self.api_client)

    @cached_property
    def discovery(self):
        return k8s.DiscoveryV1Api(self.api_client)

    @cached_property
    def rbac(self):
        return k8s.RbacAuthorizationV1Api(self.api_client)

    @cached_property
    def custom(self):
        return k8s.CustomObjectsApi(self.api_client)

    @cached_property
    def extensions(self):
        return k8s.ApiextensionsV1Api(self.api_client)

    @cached_property
    def version_api(self):
        return k8s.VersionApi(self.api_client)

    def call(self, fn, *args, retry: bool = True, **kwargs):
        """Call a client method with a timeout; retry transient failures with backoff."""
        kwargs.setdefault("_request_timeout", (CONNECT_TIMEOUT, READ_TIMEOUT))
        attempts = self.retries if retry else 1
        for attempt in range(1, attempts + 1):
            try:
                return fn(*args, **kwargs)
            except Exception as exc:  # every client failure is translated below
                error = translate(exc)
                if not error.transient or attempt == attempts:
                    raise error from exc
                delay = error.retry_after or self.backoff * 2 ** (attempt - 1)
                delay = min(delay, 10) * random.uniform(0.8, 1.2)  # noqa: S311 (jitter)
                log.info("retrying %s after %s (%.1fs)", fn.__name__, error.message, delay)
                time.sleep(delay)
        raise AssertionError("unreachable")

    # --- reads used across apps ------------------------------------------------------

    def version(self) -> str:
        return self.call(self.version_api.get_code).git_version

    def sanitize(self, obj) -> dict:
        """A client model object as the JSON dict Kubernetes would send."""
        return self.api_client.sanitize_for_serialization(obj)


__all__ = ["Impersonation", "InvalidKubeconfig", "Kube", "KubeError", "parse_kubeconfig"]
