"""The admin API under /kubesim/v1/: clusters, nodes, users, faults, the simulated clock,
load and probe answers.

See kubesim/README.md ("Packages").
"""
