"""kubesim: a sandbox Kubernetes API server hosting many virtual clusters.

Start it with `python -m kubesim`, or in-process with `kubesim.testing.KubesimServer`.
See kubesim/README.md.
"""

__version__ = "0.1.0"
