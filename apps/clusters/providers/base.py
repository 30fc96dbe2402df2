from dataclasses import dataclass, field


class ProviderError(Exception):
    """A provider could not do what was asked; the message is for the user."""

    def __init__(self, message: str, *, transient: bool = False):
        super().__init__(message)
        self.message = message
        self.transient = transient


@dataclass(frozen=True)
class Capabilities:
    create: bool = True
    scale_out: bool = False
    remove_node: bool = False
    delete: bool = True  # tear the cluster down (for imports: only forget it)


@dataclass(frozen=True)
class ClusterSpec:
    name: str
    version: str = ""
    control_plane_nodes: int = 1
    workers: int = 0
    zones: list[str] = field(default_factory=list)
    arch: str = "amd64"
    kubeconfig: str = ""  # imports only
    context: str = ""

    @classmethod
    def from_dict(cls, data: dict) -> "ClusterSpec":
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class Provisioned:
    kubeconfig: str  # YAML or JSON text
    context: str = ""
    api_server: str = ""


class Provider:
    """The interface every provider implements. Every method is idempotent."""

    name: str = ""
    label: str = ""
    capabilities = Capabilities()
    versions: tuple[str, ...] = ()

    def available(self) -> tuple[bool, str]:
        """Whether the provider can work here now; if not, why, for the user to read.

        Only available providers are offered and accepted (portal, API, service).
        """
        return True, ""

    def create(self, spec: ClusterSpec, log) -> Provisioned:
        """Provision (or find the already provisioned) cluster; ``log(message, **params)``
        reports (a gettext_lazy message with ``%(name)s`` params, see ``Progress.log``)."""
        raise NotImplementedError

    def scale_out(self, cluster, *, count: int, zone: str, arch: str) -> list[str]:
        raise ProviderError(f"The {self.label} provider cannot add nodes.")

    def remove_node(self, cluster, node_name: str) -> None:
        raise ProviderError(f"The {self.label} provider cannot remove nodes.")

    def delete(self, cluster, log) -> None:
        raise NotImplementedError
