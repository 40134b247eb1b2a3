"""Static checks of the Odoo addon line_idlink_addon that run without Odoo: manifest, license,
Community-only dependencies, ACL lines for every model, XML well-formed and listed, ja.po complete.
"""

import ast
import csv
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ADDON = Path(__file__).resolve().parent.parent / "line_idlink_addon"
COMMUNITY = {"base", "web", "mail", "portal", "auth_signup", "auth_oauth", "phone_validation",
             "sms", "mass_mailing", "link_tracker", "utm", "website", "bus"}
ENTERPRISE = {"whatsapp", "marketing_automation", "web_enterprise", "mail_enterprise",
              "whatsapp_website_sale", "marketing_automation_sms"}


@pytest.fixture(scope="module")
def manifest():
    return ast.literal_eval((ADDON / "__manifest__.py").read_text(encoding="utf-8"))


def test_manifest(manifest):
    assert manifest["name"] == "LINE ID Link"
    assert manifest["version"] == "18.0.1.0.0"
    assert manifest["license"] == "LGPL-3"
    assert {"mail", "portal", "auth_signup"} <= set(manifest["depends"])
    assert set(manifest["external_dependencies"]["python"]) >= {"line-idlink", "line-bot-sdk", "PyJWT"}


def test_depends_only_on_community_modules(manifest):
    deps = set(manifest["depends"])
    assert not deps & ENTERPRISE, "never depend on an OEEL-1 module"
    assert deps <= COMMUNITY, f"unexpected dependencies: {deps - COMMUNITY}"


def _model_names():
    names = {}
    for path in sorted((ADDON / "models").glob("*.py")) + sorted((ADDON / "wizard").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            attrs = {t.id: s.value for s in node.body if isinstance(s, ast.Assign)
                     for t in s.targets if isinstance(t, ast.Name)}
            name = attrs.get("_name")
            if isinstance(name, ast.Constant):
                names[name.value] = path.name
    return names


def test_every_model_has_acl_lines():
    models = _model_names()
    assert {"line.channel", "line.identity", "line.link.nonce", "line.link.token",
            "line.webhook.event"} <= set(models)
    with open(ADDON / "security" / "ir.model.access.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    covered = {row["model_id:id"] for row in rows}
    for model in models:
        assert "model_" + model.replace(".", "_") in covered, f"no ACL line for {model}"
    assert len({row["id"] for row in rows}) == len(rows), "ACL ids are unique"


def test_secrets_are_system_only():
    source = (ADDON / "models" / "line_channel.py").read_text(encoding="utf-8")
    for field in ("channel_secret", "access_token", "login_channel_secret"):
        line = next(l for l in source.splitlines() if l.strip().startswith(field + " ="))
        block = source[source.index(line):source.index(line) + 200]
        assert 'groups="base.group_system"' in block, field
    neutralize = (ADDON / "data" / "neutralize.sql").read_text(encoding="utf-8")
    for column in ("channel_secret", "access_token", "login_channel_secret", "active = false"):
        assert column in neutralize


def test_xml_files_parse_and_are_listed(manifest):
    listed = set(manifest["data"]) | set(manifest.get("demo", []))
    files = sorted(p for p in ADDON.rglob("*.xml"))
    assert files
    for path in files:
        ET.parse(path)  # raises on malformed XML
        relative = path.relative_to(ADDON).as_posix()
        if not relative.startswith("static/"):
            assert relative in listed, f"{relative} is not in the manifest"
    for name in listed:
        assert (ADDON / name).exists(), f"manifest lists a missing file {name}"


def _po_entries(text):
    """(msgid, msgstr) pairs of a .po file; a tiny parser (no polib/babel dependency)."""
    entries, current, key = [], {}, None
    for raw in text.splitlines() + [""]:
        line = raw.strip()
        if not line or line.startswith("#"):
            if "msgid" in current:
                entries.append((current.get("msgid", ""), current.get("msgstr", "")))
                current, key = {}, None
            continue
        match = re.match(r'^(msgid|msgstr|msgctxt|msgid_plural|msgstr\[\d+\])\s+"(.*)"$', line)
        if match:
            key = match.group(1)
            current[key] = _unquote(match.group(2))
        elif line.startswith('"') and line.endswith('"') and key:
            current[key] += _unquote(line[1:-1])
        else:
            raise AssertionError(f"unparsable .po line: {raw!r}")
    return entries


def _unquote(value):
    return value.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def test_ja_po_complete():
    po = ADDON / "i18n" / "ja.po"
    entries = _po_entries(po.read_text(encoding="utf-8"))
    header = [e for e in entries if e[0] == ""]
    assert header and "charset=UTF-8" in header[0][1]
    messages = [e for e in entries if e[0]]
    assert len(messages) > 50
    missing = [msgid for msgid, msgstr in messages if not msgstr.strip()]
    assert not missing, f"untranslated: {missing[:5]}"
    pot = ADDON / "i18n" / "line_idlink_addon.pot"
    if pot.exists():
        template_ids = {m for m, _ in _po_entries(pot.read_text(encoding="utf-8")) if m}
        assert template_ids <= {m for m, _ in messages}, "ja.po lacks strings of the .pot"
