"""Offline validation of STAC documents: the STAC 1.0 and extension schemas from ../shared/schemas,
the GeoJSON schemas from npm's geojson-schema (tests/tools), PROJJSON from Debian's PROJ."""
import json
import os

ITEM = "https://schemas.stacspec.org/v1.0.0/item-spec/json-schema/item.json"
COLLECTION = "https://schemas.stacspec.org/v1.0.0/collection-spec/json-schema/collection.json"
CATALOG = "https://schemas.stacspec.org/v1.0.0/catalog-spec/json-schema/catalog.json"


class StacSchemas:
    def __init__(self, source_dir):
        self.root = os.path.join(os.path.dirname(source_dir), "shared", "schemas")
        self.available = os.path.isdir(self.root)
        if not self.available:
            return
        import jsonschema  # Debian's python3-jsonschema

        self.jsonschema = jsonschema
        store = {}
        for root, _, files in os.walk(self.root):
            for f in files:
                if f.endswith(".json"):
                    s = json.load(open(os.path.join(root, f)))
                    if "$id" in s:
                        store[s["$id"].rstrip("#")] = s
        geojson = os.path.join(source_dir, "tests", "tools", "node_modules", "geojson-schema")
        for f in os.listdir(geojson):
            if f.endswith(".json"):
                store["https://geojson.org/schema/" + f] = json.load(open(os.path.join(geojson, f)))
        store["https://proj.org/schemas/v0.5/projjson.schema.json"] = json.load(open("/usr/share/proj/projjson.schema.json"))
        for spec in ("item-spec", "collection-spec", "catalog-spec"):
            d = os.path.join(self.root, "stac", "v1.0.0", spec)
            for f in os.listdir(d):
                if f.endswith(".json"):
                    store[f"https://schemas.stacspec.org/v1.0.0/{spec}/json-schema/{f}"] = json.load(open(os.path.join(d, f)))
        self.store = store

    def errors(self, doc, schema_id):
        """Up to three validation errors of `doc` against the schema `schema_id` (and, for items and
        collections, every extension it declares)."""
        if not self.available:
            return []
        out = []
        ids = [schema_id] + (doc.get("stac_extensions", []) if schema_id == ITEM else [])
        for sid in ids:
            schema = self.store[sid]
            resolver = self.jsonschema.RefResolver(sid, schema, store=self.store)
            for e in sorted(self.jsonschema.Draft7Validator(schema, resolver=resolver).iter_errors(doc), key=str)[:3]:
                out.append(f"{sid.split('/')[-3] if 'extensions' in sid else sid.split('/')[-1]}: {'/'.join(map(str, e.path))}: {e.message}")
        return out
