"""Every page of the demo, for every role, reads in Chinese under zh-hans.

The test builds what the demo has (a running sandbox cluster with a namespace per
project, a ConfigMap, a Secret, a volume claim, finished operations, their audit
events), then follows every link of the portal each demo role can reach, as that
role, with ``Accept-Language: zh-hans``. On each page it reads what a person sees:
text, the labels of form fields and options, the placeholders and titles, the
operation log. A piece of it that is, whole, an English text of the catalogue (a
msgid whose Chinese differs), or an English text with placeholders filled in, was
not translated: it was translated too early (in the worker's language, at import),
or never.

Deterministic: the same data and links every run, no timing; one page per URL
shape (``/clusters/<id>/``), so the crawl stays small.
"""

import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation
from django.utils.text import capfirst

from apps.clusters import services as cluster_services
from apps.configs import services as config_services
from apps.core import services as core_services
from apps.namespaces import services as ns_services
from apps.storage import services as storage_services
from tests.clusters.conftest import _sandbox, kubesim, run_tasks  # noqa: F401
from tests.portal.conftest import ROLES
from tests.portal.test_i18n import LOCALE_DIR, parse_po, split_header

# Not pages: the admin site and the API have their own languages; files, sign-out.
SKIP = re.compile(
    r"^/(admin|api|static|i18n|logout|login)/|/kubeconfig/$|/reveal/$|^/(logs|audit)/export/"
)
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")
TIMESTAMP = re.compile(r"^\d\d:\d\d:\d\d ")
MAX_PAGES = 200  # per role: far above what the demo has, a guard against a runaway crawl


def _catalogue():
    """(exact English texts, patterns of English texts with placeholders) that zh-hans
    translates differently."""
    _header, entries = split_header(parse_po(LOCALE_DIR / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    chinese_texts = {entry["msgstr"].get(0, "") for entry in entries}
    exact, patterns = set(), []
    for entry in entries:
        msgid, chinese = entry["msgid"], entry["msgstr"].get(0, "")
        if not chinese or chinese == msgid or not re.search(r"[A-Za-z]{2}", msgid):
            continue
        if PLACEHOLDER.search(msgid):
            literal = PLACEHOLDER.sub("", msgid)
            if len(re.findall(r"[A-Za-z]+", literal)) < 2:
                continue  # too little English of its own to recognise it
            parts = [re.escape(p) for p in PLACEHOLDER.split(msgid)]
            patterns.append((msgid, re.compile("^" + "(.+?)".join(parts) + "$")))
        else:
            exact.update({msgid, capfirst(msgid)})
    return exact - chinese_texts, patterns  # "Pod" is the Chinese of "pod" too


class _Reader(HTMLParser):
    """What a person reads on a page, piece by piece; and where its links go.

    Not read: scripts, styles, textareas (what the user edits: YAML, values), code
    (Kubernetes' own keys and commands), and what is marked as another language
    (``lang="en"``: a language's own name).
    """

    SHOWN_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")
    HIDDEN = ("script", "style", "textarea", "code", "kbd", "samp")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.pieces, self.links, self._hidden = [], [], []

    def feed(self, html):
        super().feed(html.replace("<wbr>", ""))  # a line-break opportunity, inside a word

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        other_language = attrs.get("lang") and not attrs["lang"].startswith("zh")
        if tag in self.HIDDEN or other_language:
            self._hidden.append(tag)
        if tag == "a" and attrs.get("href", "").startswith("/"):
            self.links.append(attrs["href"])
        for name in self.SHOWN_ATTRIBUTES:
            if attrs.get(name):
                self.pieces.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.pieces.append(attrs["value"])

    def handle_endtag(self, tag):
        if self._hidden and self._hidden[-1] == tag:
            self._hidden.pop()

    def handle_data(self, data):
        if self._hidden:
            return
        for line in data.splitlines():
            line = TIMESTAMP.sub("", " ".join(line.split()))
            if line:
                self.pieces.append(line)


def _data_names() -> set[str]:
    """Names of what is in the database: data, shown as it is in every language."""
    from django.apps import apps
    from django.contrib.auth import get_user_model

    names = set(get_user_model().objects.values_list("username", flat=True))
    for label in (
        "tenancy.Department",
        "tenancy.Project",
        "clusters.Cluster",
        "clusters.Node",
        "namespaces.Namespace",
        "configs.ConfigMap",
        "configs.Secret",
        "storage.StorageClass",
        "storage.PersistentVolume",
        "storage.PersistentVolumeClaim",
    ):
        model = apps.get_model(label)
        fields = [f for f in ("name", "display_name") if hasattr(model, f)]
        for row in model.objects.values_list(*fields):
            names.update(value for value in row if value)
    return names


def _untranslated(pieces, exact, patterns, data):
    found = set()
    for piece in pieces:
        text = piece.strip().rstrip(":")
        if text in data:
            continue
        if text in exact:
            found.add(text)
            continue
        for msgid, pattern in patterns:
            if pattern.match(text):
                found.add(f"{text}  (msgid {msgid!r})")
                break
    return found


def _shape(path: str) -> str:
    return re.sub(r"/\d+(?=/)", "/<id>", path)


def _crawl(client):
    """Every page reachable by links from the dashboard: {path: (status, html)}."""
    seen_shapes, pages, queue = set(), {}, ["/"]
    while queue and len(pages) < MAX_PAGES:
        path = queue.pop(0).split("?")[0].split("#")[0]
        if SKIP.search(path) or _shape(path) in seen_shapes:
            continue
        seen_shapes.add(_shape(path))
        response = client.get(path)
        html = response.content.decode() if response.status_code == 200 else ""
        pages[path] = (response.status_code, html)
        reader = _Reader()
        reader.feed(html)
        queue.extend(reader.links)
    return pages


@pytest.fixture
def demo(org, run_tasks):  # noqa: F811
    """What `make demo` shows: a running cluster, a namespace per project, objects in
    web-shop's namespace, and the operations and audit events that made them."""
    cluster, _operation = run_tasks(
        cluster_services.create_cluster,
        org.admin,
        name=f"i18n-{abs(hash(org.web.pk)) % 10**6}",
        display_name="Demo",
        workers=2,
        zones=["zone-a", "zone-b"],
        description="Sandbox cluster of the demo.",
    )
    cluster.refresh_from_db()
    assert cluster.status == "running", cluster.status_message
    shop = ns_services.create_namespace(
        org.admin, cluster=cluster, project=org.web, name="web-shop", quota={"pods": "20"}
    )
    ns_services.set_members(org.projadmin, shop, [org.member])
    ns_services.create_namespace(
        org.admin, cluster=cluster, project=org.data, name="data-lab", quota={}
    )
    config_services.create_configmap(
        org.member, namespace=shop, name="app-config", data={"mode": "blue"}
    )
    config_services.create_secret(org.member, namespace=shop, name="app-secret", data={"a": "1"})
    storage_services.create_claim(org.member, namespace=shop, name="pgdata", size="1Gi")
    run_tasks(core_services.start_diagnostics, org.admin)
    yield cluster
    cluster_services.providers.get("sandbox").delete(cluster, lambda *line, **params: None)


@pytest.fixture
def _restore_language():
    yield
    translation.deactivate()


@pytest.mark.usefixtures("_restore_language")
def test_every_page_of_the_demo_reads_in_chinese_for_every_role(org, demo):
    exact, patterns = _catalogue()
    data = _data_names()
    # The API documentation is part of the demo; serving its schema must not change pages.
    assert Client().get("/api/schema/").status_code in (200, 401, 403)
    admin = Client()
    admin.force_login(org.admin)
    assert admin.get("/api/schema/").status_code == 200

    problems, visited = [], 0
    for username in ROLES:
        client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
        client.force_login(org.users[username])
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
        pages = _crawl(client)
        visited += len(pages)
        assert pages["/"][0] == 200 and 'lang="zh-hans"' in pages["/"][1]
        for path, (status, html) in pages.items():
            if status not in (200, 403):  # links lead somewhere
                problems.append(f"{username} {path}: a link to a {status}")
            reader = _Reader()
            reader.feed(html)
            for text in sorted(_untranslated(reader.pieces, exact, patterns, data)):
                problems.append(f"{username} {path}: {text}")
    assert visited > 60, visited  # the crawl reached the demo's pages
    assert not problems, "untranslated under zh-hans:\n" + "\n".join(problems)


@pytest.mark.usefixtures("_restore_language")
def test_a_cluster_creations_log_reads_in_the_readers_language(org, demo):
    from apps.core.models import Operation

    operation = Operation.objects.get(kind="cluster.create", target_id=str(demo.pk))
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(org.admin)
    page = client.get(operation.get_absolute_url()).content.decode()
    for chinese in ("正在创建集群", "已创建沙箱集群", "所有节点均已就绪", "默认存储类", "完成"):
        assert chinese in page, chinese
    for english in ("Provisioning the cluster", "sandbox cluster", "all nodes are ready", "Done"):
        assert english not in page, english
