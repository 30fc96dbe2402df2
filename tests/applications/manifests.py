"""A realistic three-tier application, as a team would keep it in one YAML file: the
example the README points users at (a web tier with its ConfigMap, a StatefulSet
database with a claim template and a Secret, Services, an Ingress, a CronJob)."""

from pathlib import Path

SHOP = (Path(__file__).resolve().parents[2] / "examples" / "three-tier.yaml").read_text()
