from django.core.management.base import BaseCommand

from .seed_demo import DEMO_PASSWORD, USERS

ROLES = {
    "admin": "cloud admin (staff): everything, and the admin site",
    "deptadmin": "department admin of Engineering (projects web-shop and data-lab)",
    "projadmin": "project admin of web-shop",
    "member": "member of web-shop",
    "outsider": "member of data-lab only (shows tenant isolation)",
}


class Command(BaseCommand):
    help = "Print the demo's address and logins."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, url, **options):
        lines = [
            "",
            "KCS Portal demo",
            f"  Portal:     {url}",
            f"  Admin site: {url}admin/",
            f"  API docs:   {url}api/docs/",
            "",
            f"  Logins (password for all: {DEMO_PASSWORD}):",
        ]
        lines += [f"    {name:<10} {ROLES[name]}" for name in USERS]
        lines += ["", "  Stop with Ctrl-C.", ""]
        self.stdout.write("\n".join(lines))
