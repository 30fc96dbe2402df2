"""Portal figures: list pages and list endpoints with many rows (time and SQL queries).

    python bench/portal_bench.py [--projects 2000]

Runs against a throwaway SQLite database in a temporary folder.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=2000)
    args, _unknown = parser.parse_known_args()

    workdir = tempfile.mkdtemp(prefix="kcs-bench-")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="kcsportal.settings",
        KCS_VAR_DIR=workdir,
        DATABASE_URL=f"sqlite:///{workdir}/bench.sqlite3",
        LOG_LEVEL="WARNING",
    )
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)

    from django.contrib.auth import get_user_model

    from apps.tenancy.models import Department, Project
    from apps.tenancy.services import sync_grants

    dept = Department.objects.get(name="engineering")
    Project.objects.bulk_create(
        Project(name=f"bench-{i}", department=dept) for i in range(args.projects)
    )
    started = time.perf_counter()
    sync_grants()
    print(f"grants for {args.projects} projects: {time.perf_counter() - started:.2f} s")

    users = get_user_model().objects
    for username in ("admin", "deptadmin"):
        client = Client()
        client.force_login(users.get(username=username))
        for url in ("/projects/", "/api/v1/projects/?limit=1000"):
            client.get(url)  # warm up
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                response = client.get(url)
                elapsed = time.perf_counter() - started
            assert response.status_code == 200
            print(
                f"{username:<10} {url:<30} {elapsed * 1000:7.1f} ms "
                f"{len(ctx.captured_queries):3d} queries"
            )


if __name__ == "__main__":
    main()
