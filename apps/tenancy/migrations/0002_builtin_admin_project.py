"""The built-in Default department and its admin project, which owns clusters."""

from django.db import migrations


def create(apps, schema_editor):
    Department = apps.get_model("tenancy", "Department")
    Project = apps.get_model("tenancy", "Project")
    department, _ = Department.objects.get_or_create(
        name="default", defaults={"display_name": "Default"}
    )
    if not Project.objects.filter(is_admin_project=True).exists():
        Project.objects.create(
            department=department,
            name="admin",
            display_name="admin",
            description="Built-in project of the cloud administrators; it owns the clusters.",
            is_admin_project=True,
        )


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
