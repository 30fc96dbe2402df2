"""What an editor showed, to tell someone else's change from a moved resourceVersion.

An edit is sent with the resourceVersion the user loaded, so a change made meanwhile is
a 409 rather than lost. But every status update moves the resourceVersion too (a pod
turning ready is enough), and a workload mid-rollout changes status every few seconds:
the user would be told "changed by someone else" when nobody changed a thing they saw.
So each editor remembers a fingerprint of what it showed at that resourceVersion; an edit
whose version is stale goes on the current one when what it would show now is the same.
"""

import json

from django.core.cache import cache
from django.utils.crypto import salted_hmac

# How long an opened editor is remembered: an edit left open longer is checked strictly.
SECONDS = 24 * 3600


def _key(editor: str, obj: dict, resource_version: str) -> str:
    return f"kcs:seen:{editor}:{obj['metadata'].get('uid', '')}:{resource_version}"


def _fingerprint(shown) -> str:
    # Keyed, not a bare hash: what a Secret's editor shows must not be guessable from it.
    text = json.dumps(shown, sort_keys=True, default=str)
    return salted_hmac("kcs.kube.seen", text, algorithm="sha256").hexdigest()


def remember(editor: str, obj: dict, shown) -> None:
    """``editor`` (a name for what it shows) showed ``shown`` of ``obj`` at its version."""
    version = obj["metadata"].get("resourceVersion", "")
    cache.set(_key(editor, obj, version), _fingerprint(shown), SECONDS)


def version_for(editor: str, live: dict, resource_version: str, shown) -> str:
    """The resourceVersion to send an edit loaded at ``resource_version`` with.

    The current one when ``shown`` (what the editor would show of ``live`` now) is what it
    showed then; the loaded one otherwise, so Kubernetes refuses it with a conflict. The
    rest of the edit comes from the current object, so nobody's change is lost.
    """
    current = live["metadata"].get("resourceVersion", "")
    if not resource_version or resource_version == current:
        return current
    if cache.get(_key(editor, live, resource_version)) == _fingerprint(shown):
        return current
    return resource_version
