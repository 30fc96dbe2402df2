"""Label filters on PostgreSQL: a GIN index on the labels of pods and workloads.

``?label=app=web`` is ``labels @> '{"app": "web"}'`` there (see KubeFilterSet), which the
index answers without reading every row of the namespace. Only on PostgreSQL (SQLite has
no GIN indexes; its label filter reads the rows), so not in the models' Meta.
"""

from django.db import migrations

TABLES = ("workloads_pod", "workloads_workload")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {table}_labels ON {table} USING gin (labels)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {table}_labels")


class Migration(migrations.Migration):
    dependencies = [("workloads", "0006_list_indexes")]

    operations = [migrations.RunPython(create, drop)]
