"""Seed a demo organisation. Idempotent: running it again changes nothing."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.core.authz import Role
from apps.tenancy import services
from apps.tenancy.models import Department, DepartmentAdmin, Membership, Project

User = get_user_model()

DEMO_PASSWORD = "kcs-demo-2026"  # noqa: S105  (printed by `make demo`; demo data only)

USERS = {
    "admin": {"is_staff": True, "is_superuser": True, "first_name": "Cloud", "last_name": "Admin"},
    "deptadmin": {"first_name": "Dana", "last_name": "Department"},
    "projadmin": {"first_name": "Pat", "last_name": "Project"},
    "member": {"first_name": "Max", "last_name": "Member"},
    "outsider": {"first_name": "Olga", "last_name": "Outsider"},
}


class Command(BaseCommand):
    help = "Create the demo users, department and projects (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=DEMO_PASSWORD)

    @transaction.atomic
    def handle(self, password, **options):
        users = {}
        for username, fields in USERS.items():
            user, created = User.objects.get_or_create(username=username, defaults=fields)
            if created:
                user.set_password(password)
                user.save()
            users[username] = user
        admin = users["admin"]
        services.ensure_admin_project()

        department = Department.objects.filter(name="engineering").first()
        if department is None:
            department = services.create_department(
                admin,
                name="engineering",
                display_name="Engineering",
                description="Demo department with two projects.",
            )
        if not DepartmentAdmin.objects.filter(
            department=department, user=users["deptadmin"]
        ).exists():
            services.add_department_admin(admin, department, users["deptadmin"])

        projects = {}
        for name, display in (("web-shop", "Web shop"), ("data-lab", "Data lab")):
            project = Project.objects.filter(name=name).first()
            if project is None:
                project = services.create_project(
                    admin, department, name=name, display_name=display
                )
            projects[name] = project

        for username, project, role in (
            ("projadmin", "web-shop", Role.ADMIN),
            ("member", "web-shop", Role.MEMBER),
            ("outsider", "data-lab", Role.MEMBER),
        ):
            if not Membership.objects.filter(
                project=projects[project], user=users[username]
            ).exists():
                services.add_member(admin, projects[project], users[username], role)

        self.stdout.write(self.style.SUCCESS("Demo organisation ready."))
