"""Security review: what a tenant must not learn through the API's browsable HTML forms."""

import pytest
from django.contrib.auth import get_user_model


@pytest.mark.parametrize("path", ["/api/v1/memberships/", "/api/v1/department-admins/"])
def test_browsable_api_form_does_not_list_every_user(org, portal, path):
    # Users are picked by username: a tenant may not browse the user directory, so the
    # HTML form the browsable API offers must not be a dropdown of every active user.
    get_user_model().objects.create_user("stranger-ceo", password="x")
    page = portal("outsider").get(path, HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    html = page.content.decode()
    assert "stranger-ceo" not in html
    assert "projadmin" not in html  # a member of another project
