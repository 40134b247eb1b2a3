"""The emulator's catalog: every LINE operation is emulated or deliberately left out, every route
names a real LINE operation, and a LINE path the emulator does not serve says so (501)."""

import re

import pytest
from werkzeug.test import Client

from line_emulator import Emulator, catalog, contract


@pytest.fixture(scope="module")
def spec():
    if not contract.specs_available():
        pytest.skip(f"LINE OpenAPI specs not found at {contract.specs_dir()}; "
                    "conformance not checked")
    return contract.default_contract()


@pytest.fixture(scope="module")
def routes():
    return catalog.build_routes()


def _catalog_operations(spec):
    return [op for op in spec.operations if op.spec in catalog.CATALOG_SPECS]


def _shape(path):
    """A path with every parameter blanked, to compare templates whatever the names."""
    return re.sub(r"\{[^}]+\}", "{}", catalog.line_path(path)).rstrip("/")


def test_every_line_operation_is_emulated_or_listed_as_not_emulated(spec, routes):
    routed = {r.endpoint for r in routes}
    missing = [f"{op.method} {op.path} {op.operation_id} ({op.spec})"
               for op in _catalog_operations(spec)
               if op.operation_id not in routed and op.operation_id not in catalog.NOT_EMULATED]
    assert not missing, ("operations neither routed nor in catalog.NOT_EMULATED:\n  "
                         + "\n  ".join(missing))


def test_not_emulated_lists_only_real_unrouted_operations_with_a_reason(spec, routes):
    known = {op.operation_id for op in _catalog_operations(spec)}
    routed = {r.endpoint for r in routes}
    unknown = sorted(set(catalog.NOT_EMULATED) - known)
    now_routed = sorted(set(catalog.NOT_EMULATED) & routed)
    assert not unknown, f"not operationIds of {catalog.CATALOG_SPECS}: {unknown}"
    assert not now_routed, f"emulated now, remove from catalog.NOT_EMULATED: {now_routed}"
    assert all(reason.strip() for reason in catalog.NOT_EMULATED.values())


def test_every_route_names_a_line_operation_or_a_listed_extra(spec, routes):
    wrong = []
    for r in routes:
        if r.auth == "control":
            if not r.path.startswith("/__emulator__/"):
                wrong.append(f"control route outside /__emulator__/: {r.method} {r.path}")
        elif r.endpoint not in spec.by_id and r.endpoint not in catalog.EXTRA_ENDPOINTS:
            wrong.append(f"{r.method} {r.path}: endpoint {r.endpoint!r} is neither an "
                         "operationId of the specs nor in catalog.EXTRA_ENDPOINTS")
    assert not wrong, "\n".join(wrong)
    clash = sorted(set(catalog.EXTRA_ENDPOINTS) & set(spec.by_id))
    assert not clash, f"EXTRA_ENDPOINTS entries that are spec operationIds: {clash}"
    stale = sorted(set(catalog.EXTRA_ENDPOINTS) - {r.endpoint for r in routes})
    assert not stale, f"EXTRA_ENDPOINTS entries no route serves: {stale}"


def test_routes_serve_their_operation_at_its_method_path_and_host(spec, routes):
    wrong = []
    for r in routes:
        op = spec.by_id.get(r.endpoint)
        if op is None or r.auth == "control":
            continue
        if r.method != op.method or _shape(r.path) != _shape(op.path):
            wrong.append(f"{r.endpoint}: routed as {r.method} {r.path}, "
                         f"the spec says {op.method} {op.path}")
        if r.host != op.host:
            wrong.append(f"{r.endpoint}: host {r.host!r}, the spec says {op.host!r}")
    assert not wrong, "\n".join(wrong)


def test_each_route_is_registered_once(routes):
    seen, twice = set(), []
    for r in routes:
        key = (r.method, _shape(r.path))
        if key in seen:
            twice.append(f"{r.method} {r.path} ({r.endpoint})")
        seen.add(key)
    assert not twice, f"registered twice: {twice}"


def _client():
    emu = Emulator(seed=3)
    return emu, Client(emu.app)


def test_an_unknown_line_path_answers_501_not_emulated():
    emu, client = _client()
    auth = {"Authorization": f"Bearer {emu.config.access_token}"}
    response = client.get("/v2/bot/no/such/endpoint", headers=auth)
    assert response.status_code == 501
    message = response.get_json()["message"]
    assert message.startswith("Not emulated")
    assert "GET /v2/bot/no/such/endpoint" in message
    assert response.headers["x-line-request-id"]


def test_an_unknown_path_outside_line_answers_404():
    _, client = _client()
    assert client.get("/favicon.ico").status_code == 404


def test_every_not_emulated_operation_answers_501(spec):
    emu, client = _client()
    auth = {"Authorization": f"Bearer {emu.config.access_token}"}
    wrong = []
    for op in _catalog_operations(spec):
        if op.operation_id not in catalog.NOT_EMULATED:
            continue
        path = re.sub(r"\{[^}]+\}", "1", op.path)  # "1" fits string and integer ids
        response = client.open(path, method=op.method, headers=auth, json={})
        body = response.get_json(silent=True) or {}
        if response.status_code != 501 or "Not emulated" not in body.get("message", ""):
            wrong.append(f"{op.method} {path} ({op.operation_id}): {response.status_code} "
                         f"{body}")
    assert not wrong, "\n".join(wrong)


def test_emulated_endpoints_rows_for_the_readme():
    rows = catalog.emulated_endpoints()
    assert ("POST", "/v2/bot/message/push", "pushMessage", "api.line.me") in rows
    for method, path, endpoint, host in rows:
        assert method in {"GET", "POST", "PUT", "DELETE"}
        assert path.startswith("/") and "<" not in path, path
        assert not path.startswith("/__emulator__"), path
        assert host.endswith((".line.me", ".line.biz")), host
    assert rows == sorted(rows, key=lambda row: (row[3], row[1], row[0]))


def test_contract_modules_import_without_the_test_extras():
    """jsonschema, referencing and PyYAML are test extras: importing the modules must not need
    them (they are imported when a contract is loaded)."""
    import subprocess
    import sys

    code = ("import sys; import line_emulator.contract, line_emulator.catalog, "
            "line_emulator.contract_middleware; "
            "print(sorted(m for m in ('jsonschema', 'referencing', 'yaml') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_an_emulated_operation_never_answers_not_emulated(spec, routes):
    """A bad or unknown id in the path of an emulated endpoint is the caller's error (400/404),
    not "Not emulated": that would send the user looking for a missing feature."""
    emu, client = _client()
    auth = {"Authorization": f"Bearer {emu.config.access_token}"}
    wrong = []
    for r in routes:
        op = spec.by_id.get(r.endpoint)
        if op is None or r.auth == "control" or "{" not in op.path:
            continue
        for value in ("abc", "-1", "U" + "0" * 32):
            path = re.sub(r"\{[^}]+\}", value, op.path)
            response = client.open(path, method=op.method, headers=auth, json={})
            message = (response.get_json(silent=True) or {}).get("message", "")
            if response.status_code in (405, 501) or "Not emulated" in message:
                wrong.append(f"{op.method} {path} ({op.operation_id}): {response.status_code} "
                             f"{response.get_data(as_text=True)[:120]}")
    assert not wrong, "\n".join(wrong)
