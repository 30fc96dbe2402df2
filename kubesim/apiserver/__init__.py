"""The API server: HTTP routing and handlers, watch, codecs, OpenAPI, authn and RBAC,
and the rules a write passes (defaulting, validation, admission, patch and apply).

See kubesim/README.md ("Packages").
"""
