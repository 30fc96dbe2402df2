"""Simulated nodes, scheduler, kubelet and controllers (kubesim part 2).

See `base.py` for the controller interface and `engine.py` for how they run. The hub
(`kubesim.apiserver.hub`) calls each factory in CONTROLLERS once per cluster: `engine.start` builds
the cluster's Simulation and returns its background task.
"""

from kubesim.runtime.controllers import engine

CONTROLLERS = [engine.start]
