"""What schemathesis found wrong with the API's answers against its schema (hole 8), pinned
one by one so that a regression names itself."""

import yaml


def _schema(client):
    return yaml.safe_load(client.get("/api/schema/").content)


def test_create_and_update_answers_carry_the_counts(org, api):
    client = api("admin")
    created = client.post("/api/v1/departments/", {"name": "finance"}, format="json")
    assert created.status_code == 201 and created.json()["project_count"] == 0
    department = created.json()["id"]
    project = client.post(
        "/api/v1/projects/", {"name": "ledger", "department": department}, format="json"
    )
    assert project.status_code == 201 and project.json()["member_count"] == 0
    changed = client.patch(
        f"/api/v1/projects/{project.json()['id']}/", {"description": "books"}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["member_count"] == 0


def test_a_project_with_namespaces_is_refused_not_a_500(org, api):
    from apps.clusters.models import Cluster
    from apps.namespaces.models import Namespace

    cluster = Cluster.objects.create(name="c1", provider="sandbox", project=org.admin_project)
    Namespace.objects.create(cluster=cluster, name="kept", project=org.data)
    answer = api("admin").delete(f"/api/v1/projects/{org.data.pk}/")
    assert answer.status_code == 400 and "namespaces" in str(answer.json())
    assert Namespace.objects.filter(name="kept", project=org.data).exists()


def test_a_path_no_endpoint_has_is_a_json_404(org, api):
    answer = api("member").get("/api/v1/pods/1.5/")
    assert answer.status_code == 404 and answer["Content-Type"] == "application/json"
    assert answer.json() == {"detail": "Not found."}


def test_limit_and_offset_are_checked(org, api):
    client = api("member")
    for query in ("limit=0", "limit=x", "offset=-1", "offset=99999999999999", "limit=1&limit=2"):
        answer = client.get(f"/api/v1/projects/?{query}")
        assert answer.status_code == 400, query
    assert client.get("/api/v1/projects/?limit=1&offset=0").status_code == 200
    assert client.get("/api/v1/namespaces/?limit=1001").status_code == 400


def test_the_schema_says_what_is_answered(org, api):
    schema = _schema(api("member"))
    components = schema["components"]["schemas"]
    assert components["Namespace"]["properties"]["project"]["nullable"] is True
    assert "nullable" not in components["NamespaceRequest"]["properties"]["project"]
    for path in ("/api/v1/clusters/{id}/kubeconfig/", "/api/v1/namespaces/{id}/yaml/"):
        answer = schema["paths"][path]["get"]["responses"]["200"]["content"]
        assert answer["application/yaml"]["schema"]["type"] == "object"
    responses = schema["paths"]["/api/v1/namespaces/{id}/"]["patch"]["responses"]
    assert {"200", "400", "401", "403", "404", "503"} <= set(responses)
    responses = schema["paths"]["/api/v1/projects/"]["get"]["responses"]
    assert "404" not in responses and "503" not in responses
    secrets = schema["paths"]["/api/v1/secrets/"]["get"]["parameters"]
    assert "enum" not in next(p for p in secrets if p["name"] == "type")["schema"]
    projects = schema["paths"]["/api/v1/projects/"]["get"]["parameters"]
    offset = next(p for p in projects if p["name"] == "offset")["schema"]
    assert offset["minimum"] == 0 and offset["maximum"] == 2**31 - 1


def test_revisions_document_no_list_parameters(org, api):
    """They are all answered at once: a limit or a filter there would be ignored."""
    schema = _schema(api("member"))
    parameters = schema["paths"]["/api/v1/workloads/{id}/revisions/"]["get"]["parameters"]
    assert [p["name"] for p in parameters] == ["id"]


def test_a_null_character_in_a_query_is_one_clear_400_in_every_surface(org, api, portal):
    # PostgreSQL cannot hold NUL in text: the log centre's filters answered 500, and
    # DRF's search filter a bare list where the schema promises an object.
    for path in ("/api/v1/logs/tail/?workload=a%00b", "/api/v1/audit-events/?search=a%00b"):
        answer = api("member").get(path)
        assert answer.status_code == 400, path
        assert answer.json() == {"detail": "Null characters are not allowed."}
    assert portal("member").get("/logs/?q=a%00b").status_code == 400


def test_an_id_is_digits_only(org, api):
    assert api("admin").get(f"/api/v1/projects/{org.web.pk}/").status_code == 200
    for raw in (f"+{org.web.pk}", f"%20{org.web.pk}", f"{org.web.pk}%0A"):
        answer = api("admin").get(f"/api/v1/projects/{raw}/")
        assert answer.status_code == 404, raw


def test_a_blank_form_field_is_a_value_not_a_missing_one(org, api):
    """In a multipart body ``arch=`` was read as "not sent" and became amd64; the schema
    says arch is never empty, so it is refused as in JSON, and nothing is created."""
    from apps.clusters.models import Cluster

    client = api("admin")
    blank = client.post("/api/v1/clusters/", {"name": "blank", "arch": ""}, format="multipart")
    assert blank.status_code == 400 and "arch" in blank.json()
    assert not Cluster.objects.filter(name="blank").exists()
    # Left out of the form, it still takes its default.
    left_out = client.post("/api/v1/clusters/", {"name": "plain"}, format="multipart")
    assert left_out.status_code == 202 and left_out.json()["architectures"] == ["amd64"]
    # A blank that the schema allows (a display name) is still fine.
    named = client.post(
        "/api/v1/clusters/", {"name": "named", "display_name": ""}, format="multipart"
    )
    assert named.status_code == 202
