"""Cluster providers: turn "a cluster of this shape" into a kubeconfig.

Nothing outside this package knows which provider a cluster came from; the
rest of the portal uses the kubeconfig through apps.kube.
"""

from .base import Capabilities, ClusterSpec, Provider, ProviderError, Provisioned
from .kind import KindProvider
from .kubeconfig import KubeconfigProvider
from .sandbox import SandboxProvider

PROVIDERS: dict[str, Provider] = {
    provider.name: provider
    for provider in (SandboxProvider(), KubeconfigProvider(), KindProvider())
}


def get(name: str) -> Provider:
    try:
        return PROVIDERS[name]
    except KeyError:
        raise ProviderError(f"Unknown provider {name!r}.") from None


__all__ = [
    "PROVIDERS",
    "Capabilities",
    "ClusterSpec",
    "Provider",
    "ProviderError",
    "Provisioned",
    "get",
]
