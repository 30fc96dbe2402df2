"""ServiceAccount tokens: the `serviceaccounts/token` subresource (TokenRequest) and their
authentication, as kube-apiserver's token issuer and service-account authenticator do.

`POST /api/v1/namespaces/{ns}/serviceaccounts/{name}/token` (what `kubectl create token`
sends) answers 201 with a TokenRequest whose `status.token` is a JWT with the apiserver's
claims: `iss` https://kubernetes.default.svc.cluster.local, `sub`
system:serviceaccount:NS:NAME, `aud` (the request's audiences, else the issuer), `iat`,
`nbf`, `exp` (`spec.expirationSeconds`, 3600 by default, at least 600) and the
`kubernetes.io` claim naming the namespace, the ServiceAccount (and its uid) and the pod
or secret it is bound to (`spec.boundObjectRef`). Time is the cluster's simulated clock.

The token is signed (HS256) with a key derived from the cluster's own token, so it is
accepted as a bearer token by that cluster only, and only while it has not expired and
its ServiceAccount (and bound object) still exist with the same uid — deleting the
ServiceAccount revokes its tokens, as on a real cluster. `authenticate` answers the
user it stands for (name, uid, groups) or None.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta

from kubesim.storage import errors

ISSUER = "https://kubernetes.default.svc.cluster.local"
DEFAULT_SECONDS = 3600
MIN_SECONDS = 600
MAX_SECONDS = 2**32
BOUND_KINDS = {"Pod": ("", "pods"), "Secret": ("", "secrets"), "Node": ("", "nodes")}


def _now(cluster) -> datetime:
    return cluster.clock.now()


def _stamp(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(cluster) -> bytes:
    return hashlib.sha256(f"kubesim-serviceaccount:{cluster.token}".encode()).digest()


def _sign(cluster, signing_input: str) -> str:
    return _b64(hmac.new(_key(cluster), signing_input.encode(), hashlib.sha256).digest())


def _invalid(name: str, field: str, value, detail: str) -> errors.ApiError:
    return errors.invalid(
        "TokenRequest",
        "authentication.k8s.io",
        name,
        [
            {
                "reason": "FieldValueInvalid",
                "message": f"Invalid value: {value}: {detail}",
                "field": field,
            }
        ],
    )


def token_request(cluster, namespace: str, name: str, body: dict) -> dict:
    """Issue a token for the ServiceAccount `namespace/name`; the TokenRequest answer."""
    sa = cluster.get("v1", "ServiceAccount", name, namespace)  # 404 as the apiserver
    spec = dict(body.get("spec") or {})
    seconds = spec.get("expirationSeconds")
    if seconds is None:
        seconds = DEFAULT_SECONDS
    if not isinstance(seconds, int) or isinstance(seconds, bool):
        raise errors.bad_request(f"invalid expirationSeconds: {seconds!r}")
    if seconds < MIN_SECONDS:
        detail = "may not specify a duration less than 10 minutes"
        raise _invalid(name, "spec.expirationSeconds", seconds, detail)
    if seconds > MAX_SECONDS:
        detail = "may not specify a duration larger than 2^32 seconds"
        raise _invalid(name, "spec.expirationSeconds", seconds, detail)
    audiences = list(spec.get("audiences") or [ISSUER])
    claim: dict = {
        "namespace": namespace,
        "serviceaccount": {"name": name, "uid": sa["metadata"]["uid"]},
    }
    ref = spec.get("boundObjectRef")
    if ref:
        kind = ref.get("kind", "")
        if kind not in BOUND_KINDS:
            raise _invalid(
                name,
                "spec.boundObjectRef.kind",
                json.dumps(kind),
                'supported values: "Node", "Pod", "Secret"',
            )
        bound = cluster.get("v1", kind, ref.get("name", ""), "" if kind == "Node" else namespace)
        uid = bound["metadata"]["uid"]
        if ref.get("uid") and ref["uid"] != uid:
            raise errors.conflict(
                BOUND_KINDS[kind][1],
                "",
                ref.get("name", ""),
                f"the UID in the bound object reference ({ref['uid']}) does not match the UID "
                f"in record. The object might have been deleted and then recreated",
            )
        claim[kind.lower()] = {"name": ref.get("name", ""), "uid": uid}
        spec["boundObjectRef"] = {**ref, "uid": uid}
    now = _now(cluster)
    expires = now + timedelta(seconds=seconds)
    payload = {
        "aud": audiences,
        "exp": int(expires.timestamp()),
        "iat": int(now.timestamp()),
        "iss": ISSUER,
        "jti": str(uuid.uuid4()),
        "kubernetes.io": claim,
        "nbf": int(now.timestamp()),
        "sub": f"system:serviceaccount:{namespace}:{name}",
    }
    header = _b64(json.dumps({"alg": "HS256", "kid": "kubesim", "typ": "JWT"}).encode())
    signing_input = f"{header}.{_b64(json.dumps(payload, separators=(',', ':')).encode())}"
    token = f"{signing_input}.{_sign(cluster, signing_input)}"
    return {
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": name, "namespace": namespace, "creationTimestamp": None},
        "spec": {**spec, "audiences": audiences, "expirationSeconds": seconds},
        "status": {"token": token, "expirationTimestamp": _stamp(expires)},
    }


def authenticate(cluster, token: str) -> dict | None:
    """The user a ServiceAccount token issued by this cluster stands for, or None."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        return None
    expected = _sign(cluster, f"{parts[0]}.{parts[1]}")
    if not hmac.compare_digest(expected.encode(), parts[2].encode(errors="replace")):
        return None
    try:
        claims = json.loads(_unb64(parts[1]))
    except ValueError:
        return None
    if not isinstance(claims, dict) or claims.get("iss") != ISSUER:
        return None
    now = _now(cluster).timestamp()
    if not claims.get("nbf", 0) - 60 <= now < claims.get("exp", 0):
        return None
    claim = claims.get("kubernetes.io") or {}
    ns = claim.get("namespace", "")
    sa_claim = claim.get("serviceaccount") or {}
    sa = cluster.store.get(("", "serviceaccounts"), ns, sa_claim.get("name", ""))
    if sa is None or sa["metadata"].get("uid") != sa_claim.get("uid"):
        return None  # the ServiceAccount is gone: its tokens are revoked
    for kind, key in BOUND_KINDS.items():
        bound = claim.get(kind.lower())
        if bound:
            obj = cluster.store.get(key, "" if kind == "Node" else ns, bound.get("name", ""))
            if obj is None or obj["metadata"].get("uid") != bound.get("uid"):
                return None
    return {
        "username": f"system:serviceaccount:{ns}:{sa_claim.get('name', '')}",
        "uid": sa_claim.get("uid", ""),
        "groups": [
            "system:serviceaccounts",
            f"system:serviceaccounts:{ns}",
            "system:authenticated",
        ],
    }
