"""LINE's official OpenAPI specs as an executable contract for the emulator.

Loads the line/line-openapi YAML files once, indexes every operation by (method, path template)
and validates request bodies, responses and webhook bodies against them. Used by the conformance
tests (a WSGI middleware validates every request and response); importable without the test
extras: jsonschema, referencing and PyYAML are imported only when a contract is loaded.

The specs live beside the repository, in ``../shared/line/openapi`` (override with the
``LINE_OPENAPI_DIR`` environment variable); they are not vendored into the package.

Validation is JSON Schema draft 4 (what OpenAPI 3.0 builds on) plus the OpenAPI parts draft 4
lacks:

* ``discriminator``: an object carrying the discriminator property is validated against the
  subschema its value maps to (``mapping``, or ``#/components/schemas/<value>`` when the spec
  gives no mapping); an unknown value is an error. Without this, ``{"type": "bogus"}`` would pass
  as a valid message because the base ``Message`` schema only says ``type`` is a string.
* ``nullable: true``: the schema also accepts ``null``.
* ``servers`` are ignored: operations match on the path alone, so one emulator origin serves
  api.line.me and api-data.line.me.

Query and path parameters are checked too (their strings read as the parameter's type);
headers are left to the WSGI pipeline.

Undocumented behaviour chosen here
----------------------------------

* A status the operation does not document: 4xx/5xx bodies must have LINE's common error shape
  ``{"message", "details": [{"message", "property"}]}`` (LINE's reference, "Error responses");
  an undocumented 2xx is a violation (e.g. 200 where the spec says 202).
* A documented status without content: the body must be empty or ``{}`` (LINE answers ``{}``).
* Responses and webhook bodies are checked strictly (``strict=True``, the default): an object
  member that no applicable schema declares is reported, because a misspelt optional field
  (``completeTime`` for ``completedTime``) passes plain JSON Schema and bots then silently miss
  it. Objects whose schemas declare no properties, or allow ``additionalProperties``, are open.
  Requests are checked as JSON Schema says (extra members allowed): the SDK decides what it sends.
* A discriminator with an explicit ``mapping`` accepts only the mapped values (OpenAPI would also
  allow the schema names as implicit values; LINE's API does not).
* :data:`SPEC_DRIFT` lists members LINE sends that this snapshot's schemas lack (they appear in
  the spec's own examples); the strict check accepts them.
"""

import json
import os
import re
from functools import lru_cache
from pathlib import Path

from .contract_schema import prepare, undeclared_properties, validator_class

SPEC_FILES = ("messaging-api.yml", "webhook.yml", "insight.yml", "manage-audience.yml",
              "channel-access-token.yml", "liff.yml")
HTTP_METHODS = ("get", "put", "post", "delete", "patch")
BASE_URI = "https://line-openapi.invalid/"
HOSTS = {"https://api.line.me": "api", "https://api-data.line.me": "api-data",
         "https://manager.line.biz": "manager"}

# Members LINE sends (they are in the spec's own examples and LINE's reference) that the schema of
# this snapshot does not declare: accepted by the strict check. Schema name -> member names.
SPEC_DRIFT = {
    "AudienceGroup": ("expireTimestamp",),
}

# LINE's common error body, for statuses an operation does not document.
ERROR_RESPONSE = {
    "type": "object",
    "required": ["message"],
    "properties": {
        "message": {"type": "string"},
        "details": {"type": "array", "items": {
            "type": "object",
            "properties": {"message": {"type": "string"}, "property": {"type": "string"}},
        }},
        "sentMessages": {"type": "array"},
    },
}


class SpecsNotFound(FileNotFoundError):
    pass


def specs_dir():
    """Where the specs are: ``$LINE_OPENAPI_DIR`` or ``<repo>/../shared/line/openapi``."""
    override = os.environ.get("LINE_OPENAPI_DIR")
    if override:
        return Path(override)
    repo_root = Path(__file__).resolve().parents[2]
    return repo_root.parent / "shared" / "line" / "openapi"


def specs_available(directory=None):
    directory = Path(directory) if directory else specs_dir()
    return all((directory / name).is_file() for name in SPEC_FILES)


class Operation:
    """One OpenAPI operation, with JSON pointers (into its spec) to its schemas."""

    def __init__(self, spec, method, template, op, path_item):
        self.spec = spec
        self.method = method.upper()
        self.path = template
        self.operation_id = op["operationId"]
        servers = op.get("servers") or []
        self.host = HOSTS.get(servers[0]["url"].rstrip("/"), "api") if servers else "api"
        pointer = f"#/paths/{_escape(template)}/{method}"
        # (parameter, JSON pointer to its schema): path-level parameters first, then the op's.
        self.parameters = [
            (param, f"{base}/parameters/{index}/schema")
            for base, params in ((f"#/paths/{_escape(template)}", path_item.get("parameters", [])),
                                 (pointer, op.get("parameters", [])))
            for index, param in enumerate(params)]
        self.request = {media: f"{pointer}/requestBody/content/{_escape(media)}/schema"
                        for media, body in (op.get("requestBody") or {}).get("content", {}).items()
                        if "schema" in body}
        self.request_required = bool((op.get("requestBody") or {}).get("required"))
        self.responses = {}
        for status, response in op.get("responses", {}).items():
            content = response.get("content") or {}
            self.responses[str(status)] = {
                media: f"{pointer}/responses/{status}/content/{_escape(media)}/schema"
                for media, body in content.items() if "schema" in body}
        segments = template.strip("/").split("/")
        pattern = "/".join(f"(?P<{s[1:-1]}>[^/]+)" if s.startswith("{") else re.escape(s)
                           for s in segments)
        self.regex = re.compile(f"^/{pattern}/?$")
        # Literal segments beat templated ones: /richmenu/list before /richmenu/{richMenuId}.
        self.specificity = tuple(0 if s.startswith("{") else 1 for s in segments)

    def __repr__(self):
        return f"<Operation {self.method} {self.path} {self.operation_id} ({self.spec})>"


class Contract:
    """The loaded specs: operation index plus validators."""

    def __init__(self, directory=None):
        import yaml
        from referencing import Registry
        from referencing.jsonschema import DRAFT4

        self.directory = Path(directory) if directory else specs_dir()
        if not specs_available(self.directory):
            raise SpecsNotFound(f"LINE OpenAPI specs not found at {self.directory}")
        self.documents = {}
        for name in SPEC_FILES:
            with open(self.directory / name, encoding="utf-8") as fh:
                document = yaml.safe_load(fh)
            self.documents[name] = prepare(document)
        self.registry = Registry().with_resources(
            (BASE_URI + name, DRAFT4.create_resource(doc)) for name, doc in self.documents.items())
        self.operations = []
        for name, document in self.documents.items():
            for template, item in document.get("paths", {}).items():
                for method in HTTP_METHODS:
                    if method in item:
                        self.operations.append(
                            Operation(name, method, template, item[method], item))
        self.by_id = {}
        for op in self.operations:
            self.by_id.setdefault(op.operation_id, op)
        self._validator_class = validator_class()

    # Lookup -------------------------------------------------------------------------------
    def operation_ids(self, spec):
        return [op.operation_id for op in self.operations if op.spec == spec]

    def match(self, method, path, operation_id=None):
        """``(Operation, path_args)`` for a concrete request path, or ``(None, {})``."""
        if operation_id is not None:
            op = self.by_id.get(operation_id)
            if op is None or op.method != method.upper():
                return None, {}
            found = op.regex.match(path)
            return (op, found.groupdict()) if found else (None, {})
        best = None
        for op in self.operations:
            if op.method != method.upper() or op.spec == "webhook.yml":
                continue
            found = op.regex.match(path)
            if found and (best is None or op.specificity > best[0].specificity):
                best = (op, found.groupdict())
        return best or (None, {})

    def operation_for(self, method, path):
        op, _ = self.match(method, path)
        return op.operation_id if op else None

    # Validation ---------------------------------------------------------------------------
    def validate(self, instance, pointer, spec="messaging-api.yml", where="body", strict=False):
        """Errors of ``instance`` against the schema at ``pointer`` ('#/...') in ``spec``.

        ``strict``: also report object members no schema declares (see the module docstring).
        """
        schema = pointer if isinstance(pointer, dict) else {"$ref": BASE_URI + spec + pointer}
        validator = self._validator_class(schema, registry=self.registry)
        errors = sorted(validator.iter_errors(instance),
                        key=lambda e: [str(part) for part in e.absolute_path])
        found = [f"{where}{_json_path(e.absolute_path)}: {_clip(e.message)}" for e in errors]
        if strict and not found:
            found = [f"{where} at ${member}: not declared in the spec (misspelt or invented?)"
                     for member in undeclared_properties(
                         instance, schema, lambda s: self._resolve(spec, s), known=SPEC_DRIFT)]
        return found

    def validate_schema(self, name, instance, spec="messaging-api.yml"):
        """Errors of ``instance`` against ``#/components/schemas/<name>``."""
        return self.validate(instance, f"#/components/schemas/{name}", spec, where=name)

    def validate_request(self, method, path, json_body=None, *, query=None,
                         content_type="application/json", operation_id=None):
        op, args = self.match(method, path, operation_id)
        label = f"{method.upper()} {path}"
        if op is None:
            return [f"{label}: no such operation in the LINE OpenAPI specs"]
        errors = self._check_parameters(op, args, query, label)
        media = (content_type or "").split(";")[0].strip().lower()
        if not op.request:
            if json_body not in (None, {}, b"", ""):
                errors.append(f"{label} ({op.operation_id}): the spec defines no request body")
            return errors
        if json_body is None:
            if op.request_required:
                errors.append(f"{label} ({op.operation_id}): the request body is required")
            return errors
        pointer = op.request.get(media) or op.request.get("*/*")
        if pointer is None:
            return errors + [f"{label} ({op.operation_id}): content type {media!r} not in "
                             f"{sorted(op.request)}"]
        if media == "multipart/form-data" or op.request.get(media) is None:
            return errors  # file uploads: the parts are checked by the emulator's own tests
        return errors + self.validate(json_body, pointer, op.spec,
                                      where=f"{op.operation_id} request body")

    def validate_response(self, method, path, status, json_body=None, *, content_type=None,
                          operation_id=None, strict=True):
        op, _ = self.match(method, path, operation_id)
        label = f"{method.upper()} {path} -> {status}"
        if op is None:
            return [f"{label}: no such operation in the LINE OpenAPI specs"]
        status = str(status)
        where = f"{op.operation_id} {status} response"
        documented = op.responses.get(status)
        if documented is None:
            if status.startswith("2"):
                return [f"{label} ({op.operation_id}): status {status} is not documented "
                        f"(documented: {sorted(op.responses)})"]
            if json_body is None:
                return [f"{where}: an error response needs LINE's body {{\"message\": ...}}"]
            return self.validate(json_body, ERROR_RESPONSE, where=where, strict=strict)
        if not documented:
            if json_body not in (None, {}):
                return [f"{where}: the spec defines no body, got {_short(json_body)}"]
            return []
        media = (content_type or "application/json").split(";")[0].strip().lower()
        pointer = documented.get(media)
        if pointer is None:
            if "*/*" in documented:
                return []
            return [f"{where}: content type {media!r} not in {sorted(documented)}"]
        if json_body is None:
            return [f"{where}: expected a JSON body"]
        return self.validate(json_body, pointer, op.spec, where=where, strict=strict)

    def validate_webhook(self, body, *, strict=True):
        """Errors of a webhook request body (bytes, str or parsed) against ``CallbackRequest``."""
        if isinstance(body, (bytes, bytearray)):
            body = body.decode("utf-8")
        if isinstance(body, str):
            try:
                body = json.loads(body)
            except ValueError as exc:
                return [f"webhook body is not JSON: {exc}"]
        return self.validate(body, "#/components/schemas/CallbackRequest", "webhook.yml",
                             where="webhook", strict=strict)

    # Parameters ---------------------------------------------------------------------------
    def _check_parameters(self, op, args, query, label):
        errors = []
        for param, pointer in op.parameters:
            name, place = param["name"], param["in"]
            if place == "path":
                present, raw = name in args, [args.get(name)]
            elif place == "query" and query is not None:
                values = _getlist(query, name)
                present, raw = bool(values), values
            else:
                continue  # headers are the WSGI pipeline's business
            if not present:
                if param.get("required"):
                    errors.append(f"{label} ({op.operation_id}): {place} parameter {name!r} "
                                  "is required")
                continue
            value = _coerce(raw, self._resolve(op.spec, param.get("schema", {})))
            errors += self.validate(value, pointer, op.spec,
                                    where=f"{op.operation_id} {place} parameter {name}")
        return errors

    def _resolve(self, spec, schema):
        """Follow ``$ref``s to the schema that says which JSON type a parameter string is."""
        resolver = self.registry.resolver(BASE_URI + spec)
        while isinstance(schema, dict) and "$ref" in schema:
            schema = resolver.lookup(schema["$ref"]).contents
        return schema


# Small helpers ----------------------------------------------------------------------------
def _escape(token):
    return str(token).replace("~", "~0").replace("/", "~1")


def _json_path(path):
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return f" at ${out}" if out else ""


def _clip(message, limit=300):
    """jsonschema quotes the whole instance; a 2,000-character text would drown the report."""
    return message if len(message) <= limit else message[:limit] + "..."


def _short(value, limit=120):
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "..."


def _getlist(query, name):
    if hasattr(query, "getlist"):
        return query.getlist(name)
    value = query.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _coerce(raw, schema):
    """Query/path strings as the JSON values the parameter schema describes."""
    kind = schema.get("type")
    if kind == "array":
        item = schema.get("items", {})
        values = [part for value in raw for part in str(value).split(",")]
        return [_coerce_one(v, item.get("type")) for v in values]
    return _coerce_one(raw[0], kind)


def _coerce_one(value, kind):
    if kind == "integer":
        try:
            return int(value)
        except (TypeError, ValueError):
            return value
    if kind == "number":
        try:
            return float(value)
        except (TypeError, ValueError):
            return value
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    return value


# Module-level API over one cached contract ------------------------------------------------
@lru_cache(maxsize=4)
def load(directory=None):
    """The contract for ``directory`` (default :func:`specs_dir`), loaded once."""
    return Contract(directory)


def default_contract():
    """The contract loaded from :func:`specs_dir`, cached."""
    return load(str(specs_dir()))


def validate_request(method, path, json_body=None, **options):
    """Errors (strings) of a request against the operation its path matches; [] when valid."""
    return default_contract().validate_request(method, path, json_body, **options)


def validate_response(method, path, status, json_body=None, **options):
    """Errors of a response; undocumented 4xx/5xx must have LINE's common error shape."""
    return default_contract().validate_response(method, path, status, json_body, **options)


def validate_webhook(body, **options):
    """Errors of a webhook body against webhook.yml's ``CallbackRequest``."""
    return default_contract().validate_webhook(body, **options)


def operation_for(method, path):
    """LINE's operationId for a concrete request path, or None."""
    return default_contract().operation_for(method, path)

