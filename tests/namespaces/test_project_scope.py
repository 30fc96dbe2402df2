"""The project switcher scopes the portal's lists to the chosen project."""

from apps.configs import services as config_services
from apps.namespaces import services


def test_lists_follow_the_chosen_project_and_all_projects_shows_everything(org, portal, cluster):
    shop = services.create_namespace(
        org.admin, cluster=cluster, project=org.web, name="shop", quota={}
    )
    lab = services.create_namespace(
        org.admin, cluster=cluster, project=org.data, name="lab", quota={}
    )
    config_services.create_configmap(org.admin, namespace=shop, name="shop-settings", data={})
    config_services.create_configmap(org.admin, namespace=lab, name="lab-settings", data={})
    client = portal("admin")
    everything = client.get("/configmaps/").content.decode()
    assert "shop-settings" in everything and "lab-settings" in everything
    assert 'data-testid="scoped"' not in everything

    response = client.post("/projects/switch/", {"project": org.web.pk, "next": "/configmaps/"})
    assert response.status_code == 302
    scoped = client.get("/configmaps/").content.decode()
    assert "shop-settings" in scoped and "lab-settings" not in scoped
    assert "Showing Web shop only" in scoped
    namespaces = client.get("/namespaces/").content.decode()
    assert ">shop<" in namespaces and ">lab<" not in namespaces
    audit = client.get("/audit/").content.decode()
    assert "shop-settings" in audit and "lab-settings" not in audit
    # Infrastructure: the clusters the project has namespaces in.
    assert cluster.name in client.get("/clusters/").content.decode()
    # The project list itself is what one chooses from: never scoped.
    projects = client.get("/projects/").content.decode()
    assert "Web shop" in projects and "Data lab" in projects

    client.post("/projects/switch/", {"project": "", "next": "/configmaps/"})
    assert "lab-settings" in client.get("/configmaps/").content.decode()


def test_a_project_no_longer_visible_is_forgotten(org, portal, cluster):
    client = portal("outsider")
    client.post("/projects/switch/", {"project": org.data.pk})
    org.data.memberships.filter(user=org.outsider).delete()
    from apps.tenancy.services import sync_grants

    sync_grants(users=[org.outsider])
    page = client.get("/configmaps/").content.decode()
    assert 'data-testid="scoped"' not in page
