"""Translations: every catalogue is complete, its .mo matches, and the portal speaks Chinese."""

import ast
import gettext
import re
import struct
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import translation

LOCALE_DIR = Path(settings.LOCALE_PATHS[0])
PO_FILES = sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po"))
KEYWORD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(\".*\")\s*$")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def parse_po(path):
    """Entries of a .po file as dicts: flags, msgctxt, msgid, msgid_plural, msgstr {index: text}.

    Small on purpose (no polib): enough for the files makemessages writes. Obsolete
    entries ("#~") are skipped; the header is the entry with an empty msgid.
    """
    entries, entry, field = [], None, None

    def finish():
        if entry is not None and "msgid" in entry:
            entries.append(entry)

    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#"):
            if entry is not None and "msgid" in entry:
                finish()
                entry = None
            entry = entry or {"flags": set(), "msgstr": {}, "line": number}
            if line.startswith("#,"):
                entry["flags"].update(f.strip() for f in line[2:].split(","))
            continue
        if line.startswith('"'):
            assert field is not None, f"{path}:{number}: continuation without a keyword"
            text = ast.literal_eval(line)
            if isinstance(field, int):
                entry["msgstr"][field] += text
            else:
                entry[field] += text
            continue
        match = KEYWORD.match(line)
        assert match, f"{path}:{number}: cannot parse {line!r}"
        keyword, text = match.group(1), ast.literal_eval(match.group(2))
        if keyword in ("msgctxt", "msgid") and entry is not None and "msgid" in entry:
            finish()
            entry = None
        entry = entry or {"flags": set(), "msgstr": {}, "line": number}
        if keyword.startswith("msgstr"):
            index = int(keyword[7:-1]) if "[" in keyword else 0
            entry["msgstr"][index] = text
            field = index
        else:
            entry[keyword] = text
            field = keyword
    finish()
    return entries


def split_header(entries):
    header = next(e for e in entries if e["msgid"] == "" and "msgctxt" not in e)
    return header, [e for e in entries if e is not header]


def test_there_is_a_chinese_catalogue():
    assert LOCALE_DIR / "zh_Hans" / "LC_MESSAGES" / "django.po" in PO_FILES


@pytest.mark.parametrize("po", PO_FILES, ids=lambda p: p.parent.parent.name)
def test_catalogue_is_complete(po):
    header, entries = split_header(parse_po(po))
    assert entries, f"{po} has no messages"
    assert "fuzzy" not in header["flags"], f"{po}: the header is still marked fuzzy"
    meta = dict(line.split(": ", 1) for line in header["msgstr"][0].splitlines() if ": " in line)
    assert "charset=UTF-8" in meta.get("Content-Type", "")
    assert meta.get("Language"), f"{po}: the header has no Language"
    nplurals = int(re.search(r"nplurals=(\d+)", meta["Plural-Forms"]).group(1))

    problems = []
    for e in entries:
        where = f"{po.name}:{e['line']} {e['msgid']!r}"
        if "fuzzy" in e["flags"]:
            problems.append(f"{where}: fuzzy")
        expected = range(nplurals) if "msgid_plural" in e else range(1)
        if sorted(e["msgstr"]) != list(expected):
            problems.append(f"{where}: msgstr forms {sorted(e['msgstr'])}, want {list(expected)}")
        for index, text in e["msgstr"].items():
            if not text.strip():
                problems.append(f"{where}: msgstr[{index}] is empty")
            # Every named placeholder must survive translation, or rendering breaks.
            wanted = set(PLACEHOLDER.findall(e["msgid"] + e.get("msgid_plural", "")))
            if "python-format" in e["flags"] and set(PLACEHOLDER.findall(text)) != wanted:
                problems.append(f"{where}: msgstr[{index}] placeholders differ")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("po", PO_FILES, ids=lambda p: p.parent.parent.name)
def test_compiled_catalogue_matches_po(po):
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run manage.py compilemessages"
    _, entries = split_header(parse_po(po))
    translated = [e for e in entries if all(e["msgstr"].values())]

    data = mo.read_bytes()
    byteorder = "<" if struct.unpack("<I", data[:4])[0] == 0x950412DE else ">"
    count = struct.unpack(byteorder + "I", data[8:12])[0]  # strings in the .mo, header included
    assert count - 1 == len(translated), (
        f"{mo} holds {count - 1} messages but {po.name} has {len(translated)}: "
        "run manage.py compilemessages"
    )

    with mo.open("rb") as fp:
        catalog = gettext.GNUTranslations(fp)
    stale = []
    for e in translated:
        if "msgid_plural" in e:
            if "msgctxt" in e:
                got = catalog.npgettext(e["msgctxt"], e["msgid"], e["msgid_plural"], 1)
            else:
                got = catalog.ngettext(e["msgid"], e["msgid_plural"], 1)
        elif "msgctxt" in e:
            got = catalog.pgettext(e["msgctxt"], e["msgid"])
        else:
            got = catalog.gettext(e["msgid"])
        if got != e["msgstr"][0]:
            stale.append(f"{e['msgid']!r}: .mo has {got!r}, .po has {e['msgstr'][0]!r}")
    assert not stale, "stale .mo, run manage.py compilemessages:\n" + "\n".join(stale)


@pytest.fixture
def _restore_language():
    yield
    translation.deactivate()  # LocaleMiddleware activates per thread; do not leak into other tests


@pytest.mark.usefixtures("_restore_language")
def test_switching_to_chinese_translates_the_dashboard(portal):
    client = portal("member")
    page = client.get("/").content.decode()
    assert '<html lang="en">' in page and "Your projects" in page

    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"

    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="zh-hans">' in page
    for chinese in ("我的项目", "退出登录", "仪表盘", "最近操作", "普通用户", "项目"):
        assert chinese in page, chinese
    for english in ("Your projects", "Sign out", "Recent operations"):
        assert english not in page, english


def _chinese(portal, username):
    client = portal(username)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    return client


def _menu(page):
    nav = re.search(r'<nav class="sidebar".*?</nav>', page, re.S).group(0)
    groups = re.findall(r"<h3>(.*?)</h3>", nav)
    items = re.findall(r"<li><a [^>]*>(.*?)</a></li>", nav)
    return groups, items


@pytest.mark.usefixtures("_restore_language")
def test_the_menu_names_a_group_and_its_items_differently_in_chinese(portal):
    groups, items = _menu(_chinese(portal, "admin").get("/").content.decode())
    assert "运维" in groups and "操作" in items  # running the portal; its operations
    assert not set(groups) & set(items), set(groups) & set(items)


@pytest.mark.usefixtures("_restore_language")
def test_a_clusters_configuration_is_not_the_configuration_centre(org, portal):
    from apps.clusters.models import Cluster

    cluster = Cluster.objects.create(name="demo", provider="sandbox", project=org.admin_project)
    page = _chinese(portal, "admin").get(cluster.get_absolute_url()).content.decode()
    assert "<h2>配置</h2>" in page  # the cluster's own settings
    groups, _items = _menu(page)
    assert "配置中心" in groups  # ConfigMaps and Secrets


@pytest.mark.usefixtures("_restore_language")
def test_an_operation_reads_in_the_language_of_whoever_reads_it(org, portal, api):
    from apps.core.models import Operation
    from apps.core.tasks import run_diagnostics

    operation = Operation.objects.create(kind="diagnostics", actor=org.admin)
    run_diagnostics.apply(args=(operation.pk,))  # the worker speaks no language of its own
    operation.refresh_from_db()
    assert operation.status == "succeeded"
    vendor = connection.vendor  # sqlite by default, postgresql in CI

    chinese = _chinese(portal, "admin").get(operation.get_absolute_url()).content.decode()
    for text in ("完成", "正在检查数据库", f"{vendor} 正常", "缓存", "任务代理"):
        assert text in chinese, text
    for text in ("Done", "Checking the database", f"database: {vendor} ok", "cache: ok"):
        assert text not in chinese, text

    english = portal("admin").get(operation.get_absolute_url()).content.decode()
    for text in ("Done", "Checking the database", f"database: {vendor} ok", "cache: ok"):
        assert text in english, text

    # The API serves the same log as readable lines, in the caller's language.
    url = f"/api/v1/operations/{operation.pk}/"
    body = api("admin").get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert body["step"] == "完成"
    assert all(isinstance(line, str) for line in body["log"])
    assert any(line.endswith(f"{vendor} 正常") for line in body["log"])
    body = api("admin").get(url, HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["step"] == "Done"
    assert any(line.endswith(f"database: {vendor} ok") for line in body["log"])
