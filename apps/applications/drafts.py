"""An application being put together in the portal, before it is created: its name and
namespace, and the workloads the workload wizard described (each maybe with the Service
form's fields). Kept in the user's session; nothing is in the cluster until
``services.create_with_workloads`` runs on it."""

import json
import secrets

from django.http import Http404

KEY = "application_drafts"
MAX_DRAFTS = 5


def _drafts(request) -> dict:
    return request.session.get(KEY) or {}


def start(request, *, namespace, name: str, description: str, version: str) -> str:
    drafts = _drafts(request)
    while len(drafts) >= MAX_DRAFTS:  # the oldest goes
        drafts.pop(next(iter(drafts)))
    key = secrets.token_urlsafe(8)
    drafts[key] = {
        "namespace": namespace.pk,
        "name": name,
        "description": description,
        "version": version,
        "workloads": [],
    }
    request.session[KEY] = drafts
    return key


def get(request, key: str) -> dict:
    draft = _drafts(request).get(key)
    if draft is None:
        raise Http404
    return draft


def save(request, key: str, draft: dict) -> None:
    drafts = _drafts(request)
    # As JSON (the session's format): the wizard's data is plain values.
    drafts[key] = json.loads(json.dumps(draft, default=str))
    request.session[KEY] = drafts


def drop(request, key: str) -> None:
    drafts = _drafts(request)
    drafts.pop(key, None)
    request.session[KEY] = drafts
