from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apps.core import services


class Command(BaseCommand):
    help = "Create a personal API token for USERNAME and print its key (for automation)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="created from the command line")
        parser.add_argument("--expires-in-days", type=int, default=None)

    def handle(self, username, name, expires_in_days, **options):
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"There is no active user named {username!r}.")
        _token, key = services.create_token(user, name=name, expires_in_days=expires_in_days)
        # Only the key on stdout, so scripts can capture it: TOKEN=$(manage.py createapitoken x)
        self.stdout.write(key)
