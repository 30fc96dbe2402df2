"""Impersonation: the user a request acts as after its Impersonate-* headers.

`Impersonate-User`, `Impersonate-Group` (repeatable), `Impersonate-Uid` and
`Impersonate-Extra-*` are allowed only to a requester holding the `impersonate` verb on
users / groups / uids / userextras (RBAC decides, see rbac.py), each checked on its own
as kube-apiserver's impersonation filter does; the first refused one is the 403.
"""

from __future__ import annotations

from aiohttp import web

from kubesim.apiserver import rbac
from kubesim.apiserver.authn import SA_PREFIX, UserInfo, service_account_user, with_authenticated
from kubesim.storage import errors


def impersonate(request: web.Request, cluster, user: UserInfo) -> UserInfo:
    """The user the request acts as after its Impersonate-* headers (each one authorized)."""
    headers = request.headers
    target = headers.get("Impersonate-User")
    groups = headers.getall("Impersonate-Group", [])
    uid = headers.get("Impersonate-Uid", "")
    extra = {
        name[len("Impersonate-Extra-") :].lower(): headers.getall(name)
        for name in {h for h in headers if h.lower().startswith("impersonate-extra-")}
    }
    if target is None:
        if groups or uid or extra:
            raise errors.ApiError(
                errors.status_body(
                    500,
                    "InternalError",
                    "Internal error occurred: requested "
                    f"{[*groups, uid] if uid else groups} without impersonating a user",
                )
            )
        return user
    checks: list[tuple[str, str, str, str]] = []  # (group, resource, name, namespace)
    if target.startswith(SA_PREFIX) and target.count(":") == 3:
        namespace, name = target[len(SA_PREFIX) :].split(":")
        checks.append(("", "serviceaccounts", name, namespace))
    else:
        checks.append(("", "users", target, ""))
    checks += [("", "groups", g, "") for g in groups]
    if uid:
        checks.append(("authentication.k8s.io", "uids", uid, ""))
    for key, values in extra.items():
        checks += [("authentication.k8s.io", f"userextras/{key}", v, "") for v in values]
    for group, resource, name, namespace in checks:
        attrs = rbac.Attributes(
            verb="impersonate",
            api_group=group,
            resource=resource.split("/")[0],
            subresource=resource.split("/")[1] if "/" in resource else "",
            name=name,
            namespace=namespace,
        )
        if not rbac.allowed(cluster, user, attrs):
            raise rbac.forbidden(user, attrs)
    if target.startswith(SA_PREFIX) and target.count(":") == 3 and not groups:
        namespace, name = target[len(SA_PREFIX) :].split(":")
        return service_account_user(namespace, name, uid)
    return with_authenticated(UserInfo(target, tuple(groups), uid, extra))
