"""Storage: the virtual clusters, the object store, the resource registry, selectors,
the state file, and the small types everything shares (errors, quantities, the clock).

See kubesim/README.md ("Packages").
"""
