"""OpenAPI 3.0 schemas as JSON Schema draft 4, and a check for undeclared properties.

Used by :mod:`.contract` (see its docstring for the rules); imports jsonschema only when a
validator class is built.
"""

import copy


def prepare(document):
    """Make an OpenAPI 3.0 document checkable as draft 4 (see the module docstring)."""
    document.pop("servers", None)
    schemas = document.get("components", {}).get("schemas", {})
    bases = [name for name, schema in schemas.items() if "discriminator" in schema]
    # A subtype `allOf`s its base; if the base kept its discriminator, validating a subtype
    # would dispatch back to the subtype forever. Subtypes get a discriminator-free copy.
    for name in bases:
        base = copy.deepcopy(schemas[name])
        base.pop("discriminator")
        schemas[name + "__base"] = base
    base_refs = {f"#/components/schemas/{name}": f"#/components/schemas/{name}__base"
                 for name in bases}
    _walk(document, base_refs)
    return document


def _walk(node, base_refs):
    if isinstance(node, dict):
        if node.get("nullable") is True:
            if "type" in node:
                node["type"] = [node["type"], "null"]
            if "enum" in node and None not in node["enum"]:
                node["enum"] = list(node["enum"]) + [None]
        for item in node.get("allOf", []) if isinstance(node.get("allOf"), list) else []:
            if isinstance(item, dict) and item.get("$ref") in base_refs:
                item["$ref"] = base_refs[item["$ref"]]
        for key, value in node.items():
            if key not in ("example", "examples"):
                _walk(value, base_refs)
    elif isinstance(node, list):
        for value in node:
            _walk(value, base_refs)


def validator_class():
    from jsonschema import Draft4Validator, ValidationError, validators

    def discriminator(validator, spec, instance, schema):
        if not validator.is_type(instance, "object"):
            return
        prop = spec.get("propertyName")
        if prop not in instance:
            return  # the base schema's `required` reports it
        value = instance[prop]
        mapping = spec.get("mapping")
        if mapping is not None:
            target = mapping.get(value) if isinstance(value, str) else None
            if target is None:
                yield ValidationError(f"{value!r} is not a known {prop!r}; expected one of "
                                      f"{sorted(mapping)}")
                return
        else:
            target = f"#/components/schemas/{value}"
            try:
                validator._resolver.lookup(target)
            except Exception:  # referencing.exceptions.Unresolvable and friends
                yield ValidationError(f"{value!r} is not a known {prop!r}")
                return
        if not target.startswith("#"):
            target = f"#/components/schemas/{target}"
        yield from validator.descend(instance, {"$ref": target})

    return validators.extend(Draft4Validator, {"discriminator": discriminator})


def undeclared_properties(instance, schema, deref, path="", known=None):
    """Paths of object members no applicable schema declares (a misspelt optional field passes
    plain validation; clients then silently miss it). ``deref(schema)`` follows ``$ref``s.

    Objects whose schemas declare no properties, or allow ``additionalProperties``, are open.
    ``known`` maps a component schema name to extra member names accepted in it.
    """
    known = known or {}
    if isinstance(instance, list):
        items = deref(schema).get("items")
        found = []
        for index, item in enumerate(instance):
            if items:
                found += undeclared_properties(item, items, deref, f"{path}[{index}]", known)
        return found
    if not isinstance(instance, dict):
        return []
    declared, open_map = {}, [False]
    _collect(schema, instance, deref, declared, open_map, known)
    if not declared and not open_map[0]:
        return []  # a free-form object
    found = []
    for key, value in instance.items():
        if key in declared:
            for sub in declared[key]:
                found += undeclared_properties(value, sub, deref, f"{path}.{key}", known)
        elif open_map[0] is False:
            found.append(f"{path}.{key}" if path else f".{key}")
        elif isinstance(open_map[0], dict):
            found += undeclared_properties(value, open_map[0], deref, f"{path}.{key}", known)
    return found


def _collect(schema, instance, deref, declared, open_map, known):
    ref = schema.get("$ref", "") if isinstance(schema, dict) else ""
    for name in known.get(ref.rpartition("/")[2], ()):
        declared.setdefault(name, []).append({})
    schema = deref(schema)
    for name, sub in (schema.get("properties") or {}).items():
        declared.setdefault(name, []).append(sub)
    extra = schema.get("additionalProperties")
    if extra is not None and extra is not False:
        open_map[0] = extra if isinstance(extra, dict) and extra else True
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key) or []:
            _collect(sub, instance, deref, declared, open_map, known)
    disc = schema.get("discriminator")
    if disc:
        value = instance.get(disc.get("propertyName"))
        target = (disc.get("mapping") or {}).get(value) if isinstance(value, str) else None
        if target is None and disc.get("mapping") is None and isinstance(value, str):
            target = f"#/components/schemas/{value}"
        if target:
            _collect({"$ref": target}, instance, deref, declared, open_map, known)
