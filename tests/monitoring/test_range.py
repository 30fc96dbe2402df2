"""A chart's range is one of the offered ones: absent is the default, empty is refused."""

import pytest

from apps.clusters.models import Cluster


@pytest.fixture
def cluster(org):
    return Cluster.objects.create(name="c1", provider="sandbox", project=org.admin_project)


@pytest.mark.parametrize("query", ["?range=", "?range=2y", "?range=1H"])
def test_an_empty_or_unknown_range_is_a_400_naming_it(org, api, portal, cluster, query):
    answer = api("admin").get(f"/api/v1/clusters/{cluster.pk}/metrics/{query}")
    assert answer.status_code == 400 and list(answer.json()) == ["range"]
    assert "use one of 1h, 6h, 24h, 7d" in answer.json()["range"][0]
    chart = portal("admin").get(f"/monitoring/clusters/{cluster.pk}/{query}")
    assert chart.status_code == 400 and "use one of" in chart.json()["error"]


def test_no_range_is_the_last_hour(org, api, cluster):
    answer = api("admin").get(f"/api/v1/clusters/{cluster.pk}/metrics/")
    assert answer.status_code == 200 and answer.json()["range"] == "1h"
