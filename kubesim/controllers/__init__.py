"""Simulated nodes, scheduler, kubelet and controllers (kubesim part 2).

See `base.py` for the controller interface and `engine.py` for how they run.
"""
