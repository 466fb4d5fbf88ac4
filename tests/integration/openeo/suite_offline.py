"""A pytest plugin for the openEO test suite's run here (openeo_test_suite_test.py): the suite checks
collections with stac-validator, which downloads the STAC schemas from schemas.stacspec.org; no
machine here reaches the web, so the schemas are taken from ../shared/schemas (the same STAC 1.0.0
files under the same URLs) and validated with a registry of them instead. Nothing else is changed:
the documents the suite validates, and its verdicts, are its own.

Loaded with `-p suite_offline` (this folder on PYTHONPATH, SCO_SHARED_SCHEMAS naming the folder)."""
import json
import os

import jsonschema
import referencing
import stac_validator.validate as stac_validate


def _schemas(root):
    store = {}
    for folder, _, files in os.walk(root):
        for f in files:
            if not f.endswith(".json"):
                continue
            with open(os.path.join(folder, f)) as fh:
                schema = json.load(fh)
            if isinstance(schema, dict) and "$id" in schema:
                store[schema["$id"].rstrip("#")] = schema
    spec_root = os.path.join(root, "stac", "v1.0.0")
    for spec in ("item-spec", "collection-spec", "catalog-spec"):
        d = os.path.join(spec_root, spec)
        for f in os.listdir(d):
            if f.endswith(".json"):
                with open(os.path.join(d, f)) as fh:
                    store[f"https://schemas.stacspec.org/v1.0.0/{spec}/json-schema/{f}"] = json.load(fh)
    return store


class _OfflineJsonschema:
    """What stac_validator.validate uses of the jsonschema module, resolving references locally."""

    exceptions = jsonschema.exceptions

    def __init__(self, store):
        self.registry = referencing.Registry().with_resources(
            (uri, referencing.Resource.from_contents(s, default_specification=referencing.jsonschema.DRAFT7)) for uri, s in store.items())

    def validate(self, instance, schema):
        uri = schema.get("$id", "").rstrip("#")
        cls = jsonschema.validators.validator_for(schema)
        resolver_registry = self.registry
        if uri and uri not in self.registry:
            resolver_registry = self.registry.with_resource(uri, referencing.Resource.from_contents(schema))
        cls(schema, registry=resolver_registry).validate(instance)


def pytest_configure(config):
    root = os.environ.get("SCO_SHARED_SCHEMAS", "")
    if not os.path.isdir(root):
        raise RuntimeError(f"SCO_SHARED_SCHEMAS='{root}' is not the shared schemas folder")
    store = _schemas(root)

    def fetch(url):
        key = url.rstrip("#")
        if key not in store:
            raise ValueError(f"schema {url} is not among the offline schemas of {root}")
        return store[key]

    stac_validate.fetch_and_parse_schema = fetch
    stac_validate.jsonschema = _OfflineJsonschema(store)
