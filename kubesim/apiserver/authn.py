"""Authentication: who sent a request to a virtual cluster.

As kube-apiserver does it, in order:

- a client certificate the cluster's CA signed (over TLS): the user its CN names, in the
  groups its O values name (`tls.verified_client`); one from another CA authenticates
  nobody (then the token decides, and without one it is a 401);
- a bearer token: the cluster's admin token (user `kubesim-admin`, group `system:masters`),
  a user token made through the admin API (`POST /kubesim/v1/clusters/{name}/users`, the
  static token file of a real server), or a ServiceAccount token kubesim issued
  (serviceaccounts/token, checked by `serviceaccounts.authenticate`);
- then impersonation (impersonation.py, after authentication as in kube-apiserver's
  filter chain).

Every authenticated user is in `system:authenticated`; no token is a 401 (anonymous
requests are off, as on a hardened cluster).
"""

from __future__ import annotations

import hmac
import secrets
from contextvars import ContextVar
from dataclasses import dataclass, field

from aiohttp import web

from kubesim.apiserver import serviceaccounts, tls

AUTHENTICATED = "system:authenticated"
MASTERS = "system:masters"
ADMIN_NAME = "kubesim-admin"
SA_PREFIX = "system:serviceaccount:"
ISSUER = "https://kubernetes.default.svc.cluster.local"


@dataclass(frozen=True)
class UserInfo:
    username: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def is_master(self) -> bool:
        return MASTERS in self.groups

    def to_dict(self) -> dict:
        out: dict = {"username": self.username, "groups": list(self.groups)}
        if self.uid:
            out["uid"] = self.uid
        if self.extra:
            out["extra"] = self.extra
        return out


ADMIN = UserInfo(ADMIN_NAME, (MASTERS, AUTHENTICATED))
USER_KEY: web.RequestKey[UserInfo] = web.RequestKey("kubesim_user", UserInfo)  # the request's user
# The user of the request being served, for the checks made where the request is not at
# hand (the RBAC registry's escalation check, as kube-apiserver reads it from the
# request's context); None outside a request: kubesim's own controllers.
REQUESTER: ContextVar[UserInfo | None] = ContextVar("kubesim_requester", default=None)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(errors="replace"), expected.encode())


def bearer(request: web.Request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


# -- user tokens (the admin API's "static token file") ------------------------------------


def add_user(cluster, username: str, groups: list[str] | None = None) -> str:
    """A new bearer token for `username` in `groups`; kept with the cluster's spec."""
    token = secrets.token_urlsafe(24)
    users = cluster.spec.setdefault("users", {})
    users[token] = {"username": username, "groups": list(groups or [])}
    return token


def _user_token(cluster, token: str) -> UserInfo | None:
    for known, entry in (cluster.spec.get("users") or {}).items():
        if _same(token, known):
            return with_authenticated(UserInfo(entry["username"], tuple(entry.get("groups", ()))))
    return None


# -- ServiceAccount tokens (issued and checked by serviceaccounts.py) ---------------------


def _service_account_token(cluster, token: str) -> UserInfo | None:
    user = serviceaccounts.authenticate(cluster, token)
    if user is None:
        return None
    return UserInfo(user["username"], tuple(user["groups"]), user.get("uid", ""))


def service_account_user(namespace: str, name: str, uid: str = "") -> UserInfo:
    return UserInfo(
        f"{SA_PREFIX}{namespace}:{name}",
        ("system:serviceaccounts", f"system:serviceaccounts:{namespace}", AUTHENTICATED),
        uid,
    )


def authenticate_token(cluster, token: str) -> UserInfo | None:
    """The user a bearer token stands for in `cluster`, or None."""
    if not token:
        return None
    if _same(token, cluster.token):
        return ADMIN
    return _user_token(cluster, token) or _service_account_token(cluster, token)


def with_authenticated(user: UserInfo) -> UserInfo:
    if AUTHENTICATED in user.groups:
        return user
    return UserInfo(user.username, (*user.groups, AUTHENTICATED), user.uid, user.extra)


def authenticate_certificate(request: web.Request, cluster) -> UserInfo | None:
    """The user of the request's client certificate, when the cluster's CA signed it."""
    ssl_object = request.transport.get_extra_info("ssl_object") if request.transport else None
    if ssl_object is None:
        return None
    verified = tls.verified_client(
        ssl_object.getpeercert(binary_form=True), tls.client_ca_pem(cluster)
    )
    if verified is None:
        return None
    username, groups = verified
    return with_authenticated(UserInfo(username, groups))


def authenticate(request: web.Request, cluster) -> UserInfo | None:
    """Who sent the request (before impersonation, see impersonation.py); None is a 401."""
    return authenticate_certificate(request, cluster) or authenticate_token(
        cluster, bearer(request)
    )


def remember(request: web.Request, user: UserInfo) -> None:
    """`user` is who the request acts as, for the handlers and the RBAC registry."""
    request[USER_KEY] = user
    REQUESTER.set(user)  # each request is served in a task of its own: its own context


def user_of(request: web.Request) -> UserInfo:
    return request.get(USER_KEY) or ADMIN
