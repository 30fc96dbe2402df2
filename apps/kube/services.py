"""The write path every mirrored kind shares: authorize → call Kubernetes → mirror → audit.

An app declares its kind once (``ObjectService(MIRROR, noun="configmap")``) and its
service functions are thin: they validate what is special about the kind, build the
manifest, and hand it to ``create`` / ``replace`` / ``patch`` / ``delete`` here, or
pass a user's YAML to ``create_from_yaml`` / ``replace_from_yaml``. Each of those:

- checks the actor may act (namespaced kinds: whoever may work in the namespace;
  cluster-scoped kinds: cloud admins), a 404 for what they may not see;
- refuses, before Kubernetes sees it, what this actor may not set (``guard``);
- turns Kubernetes' refusals into field errors (a 409 on a stale resourceVersion
  into "changed by someone else, reload"; the user's YAML is kept by the form), but
  only when someone did change what the editor showed (``seen``), not its status;
- mirrors Kubernetes' answer, so the portal shows the change at once;
- records the success, or the refusal with its reason, in the audit trail.
"""

from collections.abc import Callable

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext as _

from apps.core import audit, authz
from apps.core import yaml as kyaml

from . import objects, schema, seen
from .errors import KubeError
from .mirror import Mirror

YAML = "yaml"


def as_validation_error(exc: KubeError, field: str = NON_FIELD_ERRORS) -> ValidationError:
    """A Kubernetes refusal as errors on ``field``: conflicts, 422 causes, quota, outages."""
    if exc.status == 409 and exc.reason == "AlreadyExists":
        message = _("An object with this name already exists here.")
        return ValidationError({"name" if field == NON_FIELD_ERRORS else field: message})
    if exc.conflict:
        return ValidationError({field: exc.message})
    if exc.status == 422 and exc.causes:
        return ValidationError(
            {
                field: [
                    f"{name}: {'; '.join(messages)}" if name else "; ".join(messages)
                    for name, messages in exc.field_errors().items()
                ]
            }
        )
    if exc.transient:
        return Unavailable(
            {
                field: _("Kubernetes is unavailable (%(error)s); try again in a moment.")
                % {"error": exc.message}
            },
            retry_after=exc.retry_after,
        )
    return ValidationError({field: exc.message})


class Unavailable(ValidationError):
    """Kubernetes did not answer (refused, timed out, 5xx, 429): a form shows it like any
    refusal; the API answers 503 with Retry-After, since the same request may work later."""

    def __init__(self, message, *, retry_after=None):
        super().__init__(message)
        self.retry_after = retry_after


def _no_guard(actor, obj: dict, target) -> None:
    return None


# Every declared ObjectService by (apiVersion, kind): an import checks each of its
# objects with the guard of the kind's own service.
by_kind: dict[tuple[str, str], "ObjectService"] = {}


def service_for(api_version: str, kind: str) -> "ObjectService | None":
    return by_kind.get((api_version, kind))


class ObjectService:
    """The generic operations on one mirrored kind, as its app's services use them."""

    def __init__(
        self,
        mirror: Mirror,
        *,
        noun: str,
        detail: Callable[..., dict] = lambda row: {},
        guard: Callable[..., None] = _no_guard,
        dump: Callable[[dict], dict] = kyaml.for_edit,
    ):
        self.mirror = mirror
        self.model = mirror.model
        self.noun = noun  # the audit actions' prefix: "configmap.create", ...
        self.detail = detail  # audit detail of a row: names and sizes, never values
        # (actor, obj, target) -> raise what this actor may not set; the target is the row
        # of an edit, or the namespace (cluster) of a create.
        self.guard = guard
        self.dump = dump  # the live object as shown in the YAML editor
        by_kind[(mirror.api_version, mirror.kind)] = self

    @property
    def api_version(self) -> str:
        return self.mirror.api_version

    @property
    def kind(self) -> str:
        return self.mirror.kind

    # --- authorization -------------------------------------------------------------

    def authorize_create(self, actor, scope) -> None:
        """``scope`` is the Namespace (namespaced kinds) or the Cluster the object goes in."""
        if self.mirror.namespaced:
            authz.require(actor, "work", scope)
            if scope.is_terminating:
                raise ValidationError({"namespace": _("The namespace is being deleted.")})
        else:
            authz.require_cloud_admin(actor)

    def authorize(self, actor, action: str, row) -> None:
        authz.require(actor, "view", row)
        if self.mirror.namespaced:
            authz.require(actor, action, row)
        else:
            authz.require_cloud_admin(actor)

    # --- operations ----------------------------------------------------------------

    def create(self, actor, scope, body: dict, *, source: str = "form", field=NON_FIELD_ERRORS):
        """Create ``body`` in ``scope``; returns the new row."""
        name = (body.get("metadata") or {}).get("name", "")
        with audit.attempt(actor, f"{self.noun}.create", scope, model=self.model, name=name):
            self.authorize_create(actor, scope)
            self.guard(actor, body, scope)
            cluster = _cluster(scope)
            created = self._call(lambda kube: objects.create(kube, body), cluster, field)
            row = self.mirror.store(cluster, created)
            self._record(actor, "create", row, source)
            return row

    def create_from_yaml(self, actor, scope, text: str):
        with audit.attempt(actor, f"{self.noun}.create", scope, model=self.model):
            self.authorize_create(actor, scope)
            obj = self.load(text, namespace=scope.name if self.mirror.namespaced else None)
            return self.create(actor, scope, obj, source=YAML, field=YAML)

    def replace(self, actor, row, body: dict, *, field=NON_FIELD_ERRORS, source="form", **detail):
        """Replace the object with ``body``, whose resourceVersion is the one the user saw."""
        with audit.attempt(actor, f"{self.noun}.update", row):
            self.authorize(actor, "change", row)
            self.guard(actor, body, row)
            editor = YAML if source == YAML else None
            replaced = self._call(self._replace_call(body, editor), row.cluster, field)
            self._store(row, replaced)
            self._record(actor, "update", row, source, **detail)
            return row

    def replace_from_yaml(self, actor, row, text: str, **detail):
        with audit.attempt(actor, f"{self.noun}.update", row):
            self.authorize(actor, "change", row)
            obj = self.load(text, namespace=row.namespace_name or None, name=row.name)
            if not obj["metadata"].get("resourceVersion"):
                raise ValidationError(
                    {
                        YAML: _(
                            "Keep metadata.resourceVersion: it shows whether someone else "
                            "changed it."
                        )
                    }
                )
            return self.replace(actor, row, obj, field=YAML, source=YAML, **detail)

    def patch(self, actor, row, body, *, verb: str, field=NON_FIELD_ERRORS, record=True, **detail):
        """Merge ``body`` into the object (its resourceVersion, if given, is a precondition);
        a list is a JSON patch. ``record`` False leaves the audit event to the caller."""
        with audit.attempt(actor, f"{self.noun}.{verb}", row):
            self.authorize(actor, "change", row)
            patched = self._call(
                lambda kube: objects.patch(
                    kube, self.api_version, self.kind, row.name, body, row.namespace_name or None
                ),
                row.cluster,
                field,
            )
            self._store(row, patched)
            if record:
                self._record(actor, verb, row, None, **detail)
            return row

    def delete(self, actor, row, **detail):
        """Delete; the row goes at once, or shows Terminating while Kubernetes finishes."""
        with audit.attempt(actor, f"{self.noun}.delete", row):
            self.authorize(actor, "delete", row)
            try:
                answer = self._call(self._delete_call(row), row.cluster)
            except _Gone:
                answer = {}
            self._record(actor, "delete", row, None, **detail)
            if not objects.is_gone(answer):
                answer = self._after_delete(row, answer)
            if objects.is_gone(answer):
                self.mirror.forget(row)
            else:
                self._store(row, answer)
            return row

    def yaml(self, actor, row) -> str:
        """The live object as YAML for the editor (the last one seen if the cluster is away)."""
        authz.require(actor, "view", row)
        live = self.read(row)
        if live is not None:
            seen.remember(YAML, live, kyaml.for_export(live))
        return kyaml.dump(self.dump(live if live is not None else row.manifest))

    def read(self, row) -> dict | None:
        try:
            return objects.read(
                row.cluster.kube(retries=1),
                self.api_version,
                self.kind,
                row.name,
                row.namespace_name or None,
            )
        except KubeError:
            return None

    def refresh(self, actor, row) -> bool:
        """Re-read the object for its page; False (the row as it was) when the cluster is away.

        The informer keeps rows live; this is for a page opened right after a change.
        """
        authz.require(actor, "view", row)
        live = self.read(row)
        if live is None:
            return False
        if live["metadata"].get("resourceVersion") != row.resource_version:
            self._store(row, live)
        return True

    # --- pieces ----------------------------------------------------------------------

    def _store(self, row, obj: dict) -> None:
        """Mirror ``obj`` and bring the caller's ``row`` up to date with it."""
        fresh = self.mirror.store(row.cluster, obj)
        for field in type(row)._meta.concrete_fields:
            setattr(row, field.attname, getattr(fresh, field.attname))

    def _after_delete(self, row, answer: dict) -> dict:
        """The object kept while its finalizers run: often gone by the time we look again."""
        try:
            return objects.read(
                row.cluster.kube(retries=1),
                self.api_version,
                self.kind,
                row.name,
                row.namespace_name or None,
            )
        except KubeError as exc:
            return {} if exc.not_found else answer

    def load(self, text: str, *, namespace=None, name=None) -> dict:
        """One object of this kind from YAML, checked for where it may go and for types."""
        try:
            obj = kyaml.check(
                kyaml.load(text),
                api_version=self.api_version,
                kind=self.kind,
                namespace=namespace,
                name=name,
            )
            schema.check(obj)
        except ValidationError as exc:
            raise ValidationError({YAML: exc.messages}) from None
        return obj

    @staticmethod
    def _replace_call(body: dict, editor: str | None):
        """The replace; a 409 from a status update alone is retried on the current version."""

        def call(kube):
            try:
                return objects.replace(kube, body)
            except KubeError as exc:
                if not (exc.conflict and editor):
                    raise
                metadata = body["metadata"]
                live = objects.read(
                    kube,
                    body["apiVersion"],
                    body["kind"],
                    metadata["name"],
                    metadata.get("namespace"),
                )
                stale = metadata.get("resourceVersion", "")
                version = seen.version_for(editor, live, stale, kyaml.for_export(live))
                if version == stale:
                    raise
                retry = {**body, "metadata": {**metadata, "resourceVersion": version}}
                return objects.replace(kube, retry)

        return call

    def _delete_call(self, row):
        def call(kube):
            try:
                return objects.delete(
                    kube, self.api_version, self.kind, row.name, row.namespace_name or None
                )
            except KubeError as exc:
                if exc.not_found:
                    raise _Gone from None
                raise

        return call

    @staticmethod
    def _call(fn, cluster, field=NON_FIELD_ERRORS):
        try:
            return fn(cluster.kube())
        except KubeError as exc:
            raise as_validation_error(exc, field) from exc

    def _record(self, actor, verb: str, row, source, **detail):
        details = {**self.detail(row), **detail}
        if source:
            details["source"] = source
        audit.record(actor, f"{self.noun}.{verb}", row, detail=details)


class _Gone(Exception):
    """The object was already gone from Kubernetes."""


def _cluster(scope):
    return scope if not hasattr(scope, "cluster") else scope.cluster
