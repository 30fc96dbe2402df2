"""The API's rules for every write, as `kubesim.storage.cluster.Rules` asks for them.

Defaulting (defaults.py), validation (validation.py), admission (admission.py),
managedFields, patch and server-side apply (patch.py), and the RBAC roles a new cluster
starts with (rbac.py). The hub gives `RULES` to every cluster it makes.
"""

from __future__ import annotations

from kubesim.apiserver import admission, defaults, rbac, validation
from kubesim.apiserver import patch as patching
from kubesim.storage import errors
from kubesim.storage.cluster import MERGE_PATCH, SECRET_KEY, STRATEGIC_PATCH, Cluster
from kubesim.storage.resources import ResourceType


class ApiRules:
    def prepare(self, cluster: Cluster, rt: ResourceType, obj: dict, old: dict | None) -> None:
        if rt.key == SECRET_KEY:
            problem = validation.secret_decode_error(obj)
            if problem:
                raise errors.bad_request(problem)
        defaults.apply_defaults(obj, cluster)
        causes = validation.validate(obj, old)
        if causes:
            raise errors.ApiError(validation.invalid_status(obj, causes))

    def admit(self, cluster: Cluster, obj: dict, old: dict | None) -> None:
        rbac.admit(cluster, obj, old)  # no escalation through RBAC objects (the RBAC registry's)
        try:
            admission.admit(obj, old, cluster, cluster.clock.now())
        except admission.Forbidden as exc:
            raise errors.ApiError(exc.status()) from exc

    def record(self, old: dict | None, new: dict, manager: str, operation: str, now: str) -> None:
        patching.record_update(old, new, manager, operation, now=now)

    def patch(self, content_type: str, current: dict, patch, rt: ResourceType):
        try:
            if content_type == MERGE_PATCH:
                return patching.merge_patch(current, patch)
            if content_type == STRATEGIC_PATCH:
                return patching.strategic_merge_patch(current, patch, rt.api_version, rt.kind)
            return patching.json_patch(current, patch)
        except patching.PatchError as exc:
            raise errors.ApiError(errors.status_body(422, "Invalid", str(exc))) from exc

    def apply(
        self,
        live: dict | None,
        applied: dict,
        manager: str,
        force: bool,
        rt: ResourceType,
        now: str,
    ) -> dict:
        try:
            return patching.server_side_apply(
                live, applied, manager, force, rt.api_version, rt.kind, now=now
            )
        except patching.ApplyConflict as exc:
            raise errors.apply_conflict(exc.message, exc.conflicts, rt.api_version) from exc
        except patching.PatchError as exc:
            raise errors.ApiError(errors.status_body(422, "Invalid", str(exc))) from exc

    def quota_usage(self, cluster: Cluster, quota: dict) -> dict:
        return admission.quota_usage(quota, cluster, cluster.clock.now())

    def bootstrap(self, cluster: Cluster) -> None:
        rbac.bootstrap(cluster)


RULES = ApiRules()
