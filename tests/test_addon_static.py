"""Static checks of every Odoo addon of the repository (each top-level folder with a
``__manifest__.py``) that run without Odoo: manifest and license, Community-only dependencies,
bridges auto-installed, one model per file, ACL lines for every new model, data files listed and
well-formed, ``selection_add`` with ``ondelete``, ``_()`` (never ``env._``) for user strings and a
complete Japanese translation (``i18n/ja.po`` and the ``.pot``).

Set ODOO_SRC (``eval "$(scripts/odoo-cached)"``) to also check the allow-list against Odoo's own
manifests.
"""

import ast
import csv
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BASE = "line_idlink_addon"
ADDONS = sorted(p.parent.name for p in ROOT.glob("*/__manifest__.py"))

# The LGPL-3 Community modules our addons may depend on (checked against Odoo's manifests when
# ODOO_SRC is set). A new dependency is added here on purpose, after checking its license.
COMMUNITY = {
    "base", "web", "bus", "mail", "portal", "auth_signup", "auth_oauth", "phone_validation", "sms",
    "link_tracker", "utm", "mass_mailing", "mass_mailing_sms", "product", "sales_team", "sale",
    "sale_management", "account", "payment", "stock", "sale_stock", "delivery", "stock_delivery",
    "website", "website_sale", "website_sale_stock", "loyalty", "sale_loyalty",
    "website_sale_loyalty", "website_links", "website_mass_mailing",
}
# Odoo Enterprise (OEEL-1) modules that come close to what we do: never a dependency.
ENTERPRISE = {
    "web_enterprise", "mail_enterprise", "whatsapp", "whatsapp_mass_mailing",
    "whatsapp_website_sale", "whatsapp_sale", "marketing_automation", "marketing_automation_sms",
    "marketing_automation_whatsapp", "social", "social_push_notifications", "sms_enterprise",
    "sale_subscription", "website_sale_subscription", "account_accountant", "account_reports",
    "stock_barcode", "web_studio", "documents", "sign", "helpdesk", "voip",
}
# Folders whose XML/CSV files are data files Odoo loads only when the manifest lists them.
DATA_DIRS = ("data", "views", "security", "wizard", "report", "demo")


def _manifest(addon):
    return ast.literal_eval((ROOT / addon / "__manifest__.py").read_text(encoding="utf-8"))


def _python_files(addon, tests=True):
    for path in sorted((ROOT / addon).rglob("*.py")):
        relative = path.relative_to(ROOT / addon).parts
        if "static" in relative or (not tests and relative[0] == "tests"):
            continue
        yield path


def _parse(path):
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_every_addon_is_found():
    assert BASE in ADDONS
    assert len(ADDONS) >= 2, ADDONS


# ---------------------------------------------------------------- the base addon only


def test_base_manifest():
    manifest = _manifest(BASE)
    assert manifest["name"] == "LINE ID Link"
    assert manifest["version"] == "18.0.1.0.0"
    assert {"mail", "portal", "auth_signup"} <= set(manifest["depends"])
    assert set(manifest["external_dependencies"]["python"]) >= {"line-idlink", "line-bot-sdk", "PyJWT"}
    assert manifest.get("application") is True


def test_base_models_exist():
    assert {"line.channel", "line.identity", "line.link.nonce", "line.link.token",
            "line.webhook.event", "line.message"} <= set(_new_models(BASE))


def test_base_secrets_are_system_only():
    addon = ROOT / BASE
    source = (addon / "models" / "line_channel.py").read_text(encoding="utf-8")
    for field in ("channel_secret", "access_token", "login_channel_secret"):
        line = next(l for l in source.splitlines() if l.strip().startswith(field + " ="))
        block = source[source.index(line):source.index(line) + 200]
        assert 'groups="base.group_system"' in block, field
    neutralize = (addon / "data" / "neutralize.sql").read_text(encoding="utf-8")
    for column in ("channel_secret", "access_token", "login_channel_secret", "active = false"):
        assert column in neutralize


def test_base_ja_po_is_substantial():
    messages = [e for e in _po_entries((ROOT / BASE / "i18n" / "ja.po").read_text(encoding="utf-8"))
                if e.msgid]
    assert len(messages) > 50


# ---------------------------------------------------------------- every addon


@pytest.mark.parametrize("addon", ADDONS)
def test_manifest_license_and_version(addon):
    manifest = _manifest(addon)
    assert manifest["license"] == "LGPL-3", "our addons are LGPL-3 (never OEEL-1)"
    assert manifest.get("installable", True) is True
    assert re.fullmatch(r"18\.0\.\d+\.\d+\.\d+", manifest["version"]), manifest["version"]
    assert manifest.get("author") and manifest.get("name")


@pytest.mark.parametrize("addon", ADDONS)
def test_depends_only_on_community_modules(addon):
    deps = set(_manifest(addon)["depends"])
    assert not deps & ENTERPRISE, f"depends on Enterprise (OEEL-1) modules {deps & ENTERPRISE}"
    unknown = deps - COMMUNITY - set(ADDONS)
    assert not unknown, f"dependencies outside the Community allow-list: {sorted(unknown)}"


@pytest.mark.parametrize("addon", [a for a in ADDONS if a != BASE])
def test_bridge_is_auto_installed(addon):
    manifest = _manifest(addon)
    assert manifest.get("auto_install") is True, "a bridge installs itself with its dependencies"
    assert BASE in _all_depends(addon), "a bridge builds on the base addon"


def _all_depends(addon, seen=None):
    seen = set() if seen is None else seen
    for dep in _manifest(addon)["depends"]:
        if dep not in seen:
            seen.add(dep)
            if dep in ADDONS:
                _all_depends(dep, seen)
    return seen


def test_community_allow_list_is_lgpl():
    src = os.environ.get("ODOO_SRC")
    if not src:
        pytest.skip("ODOO_SRC not set (eval \"$(scripts/odoo-cached)\")")
    used = set().union(*(_manifest(a)["depends"] for a in ADDONS)) - set(ADDONS)
    for module in sorted(used):
        for folder in (Path(src) / "addons", Path(src) / "odoo" / "addons"):
            if (folder / module / "__manifest__.py").exists():
                manifest = ast.literal_eval((folder / module / "__manifest__.py").read_text())
                assert manifest.get("license", "LGPL-3") == "LGPL-3", module
                break
        else:
            raise AssertionError(f"{module} is not an Odoo Community module")


# ---- models


def _model_classes(path):
    """[(class name, {attribute: ast value}, base names)] of the Odoo model classes of a file."""
    found = []
    for node in ast.walk(_parse(path)):
        if not isinstance(node, ast.ClassDef):
            continue
        attrs = {t.id: s.value for s in node.body if isinstance(s, ast.Assign)
                 for t in s.targets if isinstance(t, ast.Name)}
        if "_name" in attrs or "_inherit" in attrs:
            bases = [ast.unparse(b) for b in node.bases]
            found.append((node.name, attrs, bases))
    return found


def _literal(node):
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError):
        return None


def _new_models(addon):
    """{model name: file} of the models an addon creates (``_name`` not one of its ``_inherit``),
    abstract models excepted (they have no table and no ACL)."""
    names = {}
    for path in _python_files(addon, tests=False):
        for _cls, attrs, bases in _model_classes(path):
            name = _literal(attrs["_name"]) if "_name" in attrs else None
            inherit = _literal(attrs.get("_inherit")) if "_inherit" in attrs else None
            inherits = {inherit} if isinstance(inherit, str) else set(inherit or ())
            if not isinstance(name, str) or name in inherits:
                continue
            if any(b.endswith("AbstractModel") for b in bases):
                continue
            names[name] = path.relative_to(ROOT / addon).as_posix()
    return names


@pytest.mark.parametrize("addon", ADDONS)
def test_one_model_per_file(addon):
    crowded = {}
    for path in _python_files(addon, tests=False):
        classes = _model_classes(path)
        if len(classes) > 1:
            crowded[path.relative_to(ROOT / addon).as_posix()] = [c[0] for c in classes]
    assert not crowded, f"one model class per file (Odoo style): {crowded}"


@pytest.mark.parametrize("addon", ADDONS)
def test_every_new_model_has_acl_lines(addon):
    models = _new_models(addon)
    acl = ROOT / addon / "security" / "ir.model.access.csv"
    if not models:
        return
    assert acl.exists(), f"models {sorted(models)} but no security/ir.model.access.csv"
    with open(acl, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    covered = {row["model_id:id"].split(".")[-1] for row in rows}
    missing = [m for m in models if "model_" + m.replace(".", "_") not in covered]
    assert not missing, f"no ACL line for {missing}"
    assert len({row["id"] for row in rows}) == len(rows), "ACL ids are unique"


PACKAGES = ("models", "wizard", "report", "controllers")


def _imported(init):
    names = set()
    for node in ast.walk(_parse(init)):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            names |= {node.module.split(".")[0]} if node.module else {a.name for a in node.names}
    return names


@pytest.mark.parametrize("addon", ADDONS)
def test_python_modules_are_imported(addon):
    """A model, wizard, controller or test file that no __init__.py imports is dead: its model is
    never registered, its routes never exist, its tests never run."""
    folder = ROOT / addon
    orphans = [package for package in PACKAGES
               if (folder / package / "__init__.py").exists()
               and package not in _imported(folder / "__init__.py")]
    for package, prefix in [(p, "") for p in PACKAGES] + [("tests", "test_")]:
        if not (folder / package / "__init__.py").exists():
            continue
        imported = _imported(folder / package / "__init__.py")
        orphans += [path.relative_to(folder).as_posix()
                    for path in sorted((folder / package).glob(prefix + "*.py"))
                    if path.name != "__init__.py" and path.stem not in imported]
    assert not orphans, f"not imported by their package's __init__.py: {orphans}"


@pytest.mark.parametrize("addon", ADDONS)
def test_selection_add_has_ondelete(addon):
    """``fields.Selection(selection_add=...)`` on a stored field needs an ``ondelete`` policy for
    every added value, else uninstalling the addon leaves rows with an unknown value."""
    problems = []
    for path in _python_files(addon, tests=False):
        for node in ast.walk(_parse(path)):
            if not (isinstance(node, ast.Call) and ast.unparse(node.func).endswith("Selection")):
                continue
            keywords = {k.arg: k.value for k in node.keywords}
            if "selection_add" not in keywords or _literal(keywords.get("store")) is False:
                continue
            where = f"{path.relative_to(ROOT / addon).as_posix()}:{node.lineno}"
            if "ondelete" not in keywords:
                problems.append(f"{where} has no ondelete")
                continue
            added = _literal(keywords["selection_add"]) or []
            policies = _literal(keywords["ondelete"])
            values = [item[0] for item in added if isinstance(item, tuple) and len(item) == 2]
            if isinstance(policies, dict):
                lacking = [v for v in values if v not in policies]
                if lacking:
                    problems.append(f"{where} has no ondelete for {lacking}")
    assert not problems, problems


@pytest.mark.parametrize("addon", ADDONS)
def test_no_env_underscore_translation(addon):
    """User strings use ``from odoo import _`` and ``_()``, as the base standardised on."""
    hits = [f"{path.relative_to(ROOT / addon).as_posix()}:{number}"
            for path in _python_files(addon)
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if re.search(r"\benv\._\(", line)]
    assert not hits, f"env._( used at {hits}"


# ---- data files


@pytest.mark.parametrize("addon", ADDONS)
def test_data_files_exist_parse_and_are_listed(addon):
    manifest = _manifest(addon)
    listed = list(manifest.get("data", [])) + list(manifest.get("demo", []))
    assert len(listed) == len(set(listed)), "a file listed twice in the manifest"
    missing = [name for name in listed if not (ROOT / addon / name).exists()]
    assert not missing, f"the manifest lists missing files {missing}"
    unlisted = []
    for path in sorted((ROOT / addon).rglob("*")):
        relative = path.relative_to(ROOT / addon).as_posix()
        if path.suffix == ".xml" and not relative.startswith("tests/"):
            ET.parse(path)  # raises on malformed XML (static/ QWeb templates included)
        if path.suffix in (".xml", ".csv") and relative.split("/")[0] in DATA_DIRS \
                and relative not in listed:
            unlisted.append(relative)
    assert not unlisted, f"data files that the manifest does not list: {unlisted}"


# ---- translations


class _Entry:
    __slots__ = ("msgid", "msgstrs", "flags", "plural")

    def __init__(self):
        self.msgid, self.msgstrs, self.flags, self.plural = None, {}, set(), False


def _po_entries(text):
    """The entries of a .po file; a tiny parser (no polib/babel dependency)."""
    entries, current, key = [], _Entry(), None
    for raw in text.splitlines() + [""]:
        line = raw.strip()
        if not line or (line.startswith("#") and current.msgid is not None):
            if current.msgid is not None:
                entries.append(current)
                current, key = _Entry(), None
        if not line:
            continue
        if line.startswith("#,"):
            current.flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        match = re.match(r'^(msgid|msgstr|msgctxt|msgid_plural|msgstr\[\d+\])\s+"(.*)"$', line)
        if match:
            key = match.group(1)
            _store(current, key, _unquote(match.group(2)))
        elif line.startswith('"') and line.endswith('"') and key:
            _store(current, key, _unquote(line[1:-1]), append=True)
        else:
            raise AssertionError(f"unparsable .po line: {raw!r}")
    return entries


def _store(entry, key, value, append=False):
    if key == "msgid":
        entry.msgid = (entry.msgid or "") + value if append else value
    elif key.startswith("msgstr"):
        entry.msgstrs[key] = entry.msgstrs.get(key, "") + value if append else value
    elif key == "msgid_plural":
        entry.plural = True


def _unquote(value):
    return value.replace('\\"', '"').replace("\\n", "\n").replace("\\t", "\t").replace("\\\\", "\\")


def _python_terms(addon):
    """{msgid: place} of the string literals passed to ``_()`` / ``_lt()`` outside the tests."""
    terms = {}
    for path in _python_files(addon, tests=False):
        for node in ast.walk(_parse(path)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in ("_", "_lt") and node.args \
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                terms.setdefault(node.args[0].value,
                                 f"{path.relative_to(ROOT / addon).as_posix()}:{node.lineno}")
    return terms


@pytest.mark.parametrize("addon", ADDONS)
def test_ja_po_complete(addon):
    i18n = ROOT / addon / "i18n"
    assert (i18n / "ja.po").exists(), "i18n/ja.po is missing"
    assert (i18n / f"{addon}.pot").exists(), f"i18n/{addon}.pot is missing"
    entries = _po_entries((i18n / "ja.po").read_text(encoding="utf-8"))
    header = [e for e in entries if e.msgid == ""]
    assert header and "charset=utf-8" in header[0].msgstrs.get("msgstr", "").lower(), "ja.po header"
    messages = [e for e in entries if e.msgid]
    assert messages, "ja.po has no message"
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    assert not fuzzy, f"fuzzy (unused by Odoo) entries: {fuzzy[:5]}"
    missing = [e.msgid for e in messages
               if not e.msgstrs or any(not s.strip() for s in e.msgstrs.values())]
    assert not missing, f"untranslated: {missing[:5]} ({len(missing)} in all)"
    translated = {e.msgid for e in messages}
    template = {e.msgid for e in _po_entries((i18n / f"{addon}.pot").read_text(encoding="utf-8"))
                if e.msgid}
    assert not template - translated, f"ja.po lacks strings of the .pot: {sorted(template - translated)[:5]}"
    code = _python_terms(addon)
    stale = {term: place for term, place in code.items() if term not in translated}
    assert not stale, f"_() strings missing from ja.po (re-export the .pot): {list(stale.items())[:5]}"
