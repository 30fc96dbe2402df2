"""What every operation of the API may answer besides its success, written into the
OpenAPI schema once (drf-spectacular post-processing hook), so that clients and
schema checkers (schemathesis, in the test suite) know every status code they get."""

# Paths whose operations stay in the portal's database; the others may reach Kubernetes.
DATABASE_ONLY = (
    "/api/v1/audit-events/",
    "/api/v1/department-admins/",
    "/api/v1/departments/",
    "/api/v1/memberships/",
    "/api/v1/operations/",
    "/api/v1/projects/",
    "/api/v1/tokens/",
)
ERROR = {
    "type": "object",
    "description": "What was wrong: `detail`, or the messages of each field at fault.",
    "additionalProperties": True,
}
METHODS = ("get", "put", "post", "patch", "delete")


def _answer(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def document_errors(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            errors = {
                "400": "The request is not valid (what is wrong is in the answer).",
                "401": "No valid credentials (an `Authorization: Token <key>` header).",
                "403": "The user's role does not allow this.",
            }
            if "{" in path:
                errors["404"] = "No such object, or one the user may not see."
            if not path.startswith(DATABASE_ONLY):
                errors["503"] = "Kubernetes did not answer; try again (see `Retry-After`)."
            for code, description in errors.items():
                responses.setdefault(code, _answer(description))
    return result
