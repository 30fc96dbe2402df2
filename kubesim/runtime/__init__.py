"""The simulated runtime: controllers, scheduler, kubelet, shell, logs, volumes, cron,
metrics, and what a running cluster serves (pod log/exec/attach/eviction, metrics.k8s.io).

See kubesim/README.md ("Packages").
"""
