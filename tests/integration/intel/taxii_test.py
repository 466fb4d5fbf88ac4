#!/usr/bin/env python3
"""Security events shared between nodes, with the real peers of the standards (issue 23):
  - node A derives STIX 2.1 from its audit log: a burst of refused tokens and a rate-limit flood from
    two addresses (X-Forwarded-For behind --trust-proxy) are in A's TAXII collections within seconds;
  - taxii2-client (OASIS TC) reads A: discovery, API root, collections, paging with `next`, added_after;
  - every object A serves passes stix2-validator, and the STIX 2.1 JSON schemas (../shared/schemas);
  - every signature verifies with PyNaCl over the `rfc8785` package's canonical JSON (independent of sco);
  - access: anonymous 401, reader 403, wrong Accept 406, wrong Content-Type 415;
  - a bundle made by the `stix2` library, signed by node B's key, is posted to A's inbound collection by
    taxii2-client (202, status complete) and its indicator denies the address at A; an unsigned one, one
    failing the schemas, an unparsable pattern, malformed and oversized envelopes are refused (4xx TAXII
    error) with nothing stored, the server up;
  - node B pulls A's green collection from medallion (the OASIS TC's reference TAXII 2.1 server, seeded
    through its own API): signatures checked, the indicator a deny rule at B (403 for that address,
    never for the allow-list), a second pull adds nothing (added_after); an unsigned object in medallion
    makes the pull fail naming it, nothing stored; revocation works.

Usage: taxii_test.py SCO SOURCE_DIR   (runs itself again under .venv-intel; exits 77 without it)
"""
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SCO, SOURCE = sys.argv[1], sys.argv[2]
VENV = os.path.join(SOURCE, ".venv-intel", "bin", "python")
if os.path.realpath(sys.prefix) != os.path.realpath(os.path.join(SOURCE, ".venv-intel")):
    if not os.path.exists(VENV):
        print("SKIP: .venv-intel is missing (scripts/install-deps.sh makes it)")
        sys.exit(77)
    os.execv(VENV, [VENV] + sys.argv)

import nacl.signing  # noqa: E402
import rfc8785  # noqa: E402
import stix2  # noqa: E402
from stix2validator import ValidationOptions, validate_instance  # noqa: E402
from taxii2client.v21 import Server, Collection, as_pages  # noqa: E402
import requests  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from checks import Checks  # noqa: E402
from pg import free_port  # noqa: E402


check = Checks()
TMP = tempfile.mkdtemp(prefix="sco-taxii-")
A, B = os.path.join(TMP, "node_a"), os.path.join(TMP, "node_b")
TAXII = "application/taxii+json;version=2.1"
SIG_EXT = None  # the signature extension's id, read from A's extension-definition


def sco(node, *args, ok=True, stdin=None):
    r = subprocess.run([SCO, "--catalog", node] + list(args), capture_output=True, text=True, input=stdin)
    if ok and r.returncode != 0:
        raise SystemExit(f"sco {args} failed: {r.stderr}")
    return r


def serve(node, *extra):
    p = subprocess.Popen([SCO, "--catalog", node, "serve", "--port", "0", "--trust-proxy"] + list(extra),
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    port = int(re.search(r":(\d+)/", p.stdout.readline()).group(1))
    return p, f"http://127.0.0.1:{port}"


def http(method, url, token=None, body=None, accept=TAXII, content_type=TAXII, forwarded=None):
    headers = {}
    if accept:
        headers["Accept"] = accept
    if token:
        headers["Authorization"] = "Bearer " + token
    if forwarded:
        headers["X-Forwarded-For"] = forwarded
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = content_type
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


class BearerAuth(requests.auth.AuthBase):
    def __init__(self, token):
        self.token = token

    def __call__(self, r):
        r.headers["Authorization"] = "Bearer " + self.token
        return r


def public_key(node):
    line = sco(node, "keys", "export").stdout.split()
    return nacl.signing.VerifyKey(base64.b64decode(line[1]))


def signed_by(obj, key):
    """Verifies sco's signature extension with PyNaCl over rfc8785's canonical JSON."""
    ext = obj.get("extensions", {}).get(SIG_EXT)
    if not ext:
        return False
    rest = json.loads(json.dumps(obj))
    del rest["extensions"][SIG_EXT]
    if not rest["extensions"]:
        del rest["extensions"]
    try:
        key.verify(rfc8785.dumps(rest), base64.b64decode(ext["value"]))
        return True
    except Exception:
        return False


def sign_with(obj, node, signer_key):
    """Signs a STIX object as sco does, with node's secret key, independently of sco."""
    secret = base64.b64decode(open(os.path.join(node, "keys", "node.key")).read().strip())
    sk = nacl.signing.SigningKey(secret[:32])
    pub = sco(node, "keys", "export").stdout.split()
    import hashlib
    key_id = hashlib.sha256(base64.b64decode(pub[1])).hexdigest()[:16]
    obj = json.loads(json.dumps(obj))
    obj.setdefault("extensions", {})
    sig = sk.sign(rfc8785.dumps({k: v for k, v in obj.items() if k != "extensions" or v})).signature
    obj["extensions"][SIG_EXT] = {"extension_type": "property-extension", "alg": "Ed25519", "key_id": key_id,
                                  "signer": signer_key, "value": base64.b64encode(sig).decode()}
    return obj


def schema_validator():
    """The STIX 2.1 JSON schemas of ../shared/schemas, with their $ids mapped to the local files."""
    root = os.path.join(SOURCE, "..", "shared", "schemas", "stix2.1", "schemas")
    if not os.path.isdir(root):
        return None
    import jsonschema
    from referencing import Registry, Resource
    resources, by_type = [], {}
    for folder in ("common", "sdos", "sros", "observables"):
        for f in os.listdir(os.path.join(root, folder)):
            doc = json.load(open(os.path.join(root, folder, f)))
            resources.append((doc["$id"], Resource.from_contents(doc)))
            by_type[f[:-5]] = doc
    registry = Registry().with_resources(resources)

    def validate(obj):
        schema = by_type.get(obj["type"])
        if schema is None:
            return f"no schema for {obj['type']}"
        cls = jsonschema.validators.validator_for(schema)
        errors = list(cls(schema, registry=registry).iter_errors(obj))
        return "; ".join(e.message for e in errors[:3])
    return validate


# A TAXII server that pages forever: every objects page says "more" and gives the same objects.
LOOP_SERVER = r"""
import http.server, json, sys
port, objs = int(sys.argv[1]), json.loads(sys.argv[2])
root = f"http://127.0.0.1:{port}/r/"
docs = {"/taxii2/": {"title": "loop", "api_roots": [root]}, "/r/": {"title": "r", "versions": ["application/taxii+json;version=2.1"]},
        "/r/collections/": {"collections": [{"id": "c", "title": "loop", "can_read": True, "can_write": False}]}}
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?")[0]
        doc = docs.get(path, {"more": True, "next": "again", "objects": objs})
        body = json.dumps(doc).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/taxii+json;version=2.1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", port), H)
print("ready", flush=True)
s.serve_forever()
"""

procs = []
try:
    # ---------------------------------------------------------------- node A and its events
    for node, name in ((A, "agency-a"), (B, "agency-b")):
        sco(node, "keys", "show")
    key_a, key_b = os.path.join(TMP, "a.pub"), os.path.join(TMP, "b.pub")
    sco(A, "keys", "export", "-o", key_a)
    sco(B, "keys", "export", "-o", key_b)
    sco(A, "-q", "trust", "add", "agency-b", key_b)
    sco(B, "-q", "trust", "add", "agency-a", key_a)
    partner_a = sco(A, "token", "create", "--owner", "agency-b", "--role", "partner").stdout.strip().split()[-1]
    reader_a = sco(A, "token", "create", "--owner", "someone", "--role", "reader").stdout.strip().split()[-1]
    server_a, url_a = serve(A, "--intel-burst", "5", "--intel-indicator", "10", "--rate-limit", "20")
    procs.append(server_a)

    t0 = time.time()
    for i in range(12):  # a burst of guessed tokens from one address
        s, _, _ = http("GET", url_a + "/stac", token=f"sco_guess{i:07d}_x", accept="application/json", forwarded="198.51.100.9")
        check(s == 401, f"guessed token refused: {s}")
    for i in range(120):  # a flood from another address: beyond 20/s (bursts of 40) the limit refuses
        http("GET", url_a + "/stac", accept="application/json", forwarded="198.51.100.20")
    server = Server(url_a + "/taxii2/", auth=BearerAuth(partner_a))
    check(server.title and len(server.api_roots) == 1 and server.default.url == url_a + "/taxii2/sco/", f"discovery: {server.api_roots}")
    root = server.default
    check(TAXII in root.versions and root.max_content_length > 0, f"api root: {root.versions}")
    by_alias = {c._raw.get("alias"): c for c in root.collections}
    check(set(by_alias) == {"white", "green", "amber", "inbound"}, f"collections: {list(by_alias)}")
    check(by_alias["amber"].can_read and not by_alias["amber"].can_write and by_alias["inbound"].can_write and not by_alias["inbound"].can_read,
          "partner rights: read the levels, write inbound")
    amber, green = by_alias["amber"], by_alias["green"]
    seen = None
    while time.time() - t0 < 15:
        objs = amber.get_objects(limit=10000).get("objects", [])
        types = {o["type"] for o in objs}
        sightings = [o for o in objs if o["type"] == "sighting"]
        if "indicator" in types and len(sightings) >= 2:
            seen = time.time() - t0
            break
        time.sleep(0.3)
    check(seen is not None and seen < 10, f"the bursts are shared within seconds: {seen}")
    print(f"bursts visible after {seen:.1f} s" if seen else "bursts never visible")
    SIG_EXT = next(o["id"] for o in objs if o["type"] == "extension-definition")
    by_type = {}
    for o in objs:
        by_type.setdefault(o["type"], []).append(o)
    ind = [o for o in by_type.get("indicator", []) if "198.51.100.9" in o["pattern"]]
    check(len(ind) == 1 and ind[0]["pattern"] == "[ipv4-addr:value = '198.51.100.9']" and ind[0]["valid_until"] > ind[0]["valid_from"],
          f"indicator of the guessing address: {ind}")
    aps = {o["id"]: o for o in by_type.get("attack-pattern", [])}
    capec_of = {s["description"].split(" from ")[1].split(" ")[0]: aps[s["sighting_of_ref"]]["external_references"][0]["external_id"]
                for s in by_type.get("sighting", [])}
    check(capec_of.get("198.51.100.9") == "CAPEC-112" and capec_of.get("198.51.100.20") == "CAPEC-125", f"sightings' attack patterns: {capec_of}")
    od = [o for o in by_type.get("observed-data", [])]
    check(any(o["number_observed"] >= 10 for o in od), f"observed-data counts: {[o['number_observed'] for o in od]}")
    check(len(by_type.get("user-account", [])) >= 1 and all(len(u["user_id"]) == 16 for u in by_type["user-account"]),
          "presented tokens appear as hashed user-accounts")
    check(all("sco_guess" not in json.dumps(o) for o in objs), "no presented token text is shared")
    audit = [json.loads(l) for l in open(os.path.join(A, "audit.log"))]
    hashes = {e["hash"] for e in audit}
    derived = [o for o in objs if o["type"] in ("sighting", "observed-data", "indicator", "relationship")]
    check(derived and all(any(r.get("source_name") == "sco-audit" and r["hashes"]["SHA-256"] in hashes for r in o["external_references"])
                          for o in derived), "every derived object points to its audit entry's hash")
    identity = [o for o in by_type["identity"] if o.get("identity_class") == "system"]
    check(len(identity) == 1 and all(o.get("created_by_ref") == identity[0]["id"] for o in derived), "the node's identity made them")
    check({o["id"] for o in by_type["marking-definition"]} == {stix2.TLP_WHITE.id, stix2.TLP_GREEN.id, stix2.TLP_AMBER.id}
          and all(json.loads(m.serialize()) == next(x for x in objs if x["id"] == m.id) for m in (stix2.TLP_WHITE, stix2.TLP_GREEN, stix2.TLP_AMBER)),
          "TLP markings exactly as stix2 predefines them")
    # Deterministic ids: deriving again from the same log gives the same objects.
    green_ids = {o["id"] for o in green.get_objects(limit=10000).get("objects", [])}
    check(green_ids < {o["id"] for o in objs} and not any(o["type"] == "sighting" for o in green.get_objects(limit=10000)["objects"]),
          "green holds the indicators and references, not the amber sightings")

    # Every object: stix2-validator, the JSON schemas, and its signature checked independently.
    pub_a = public_key(A)
    opts = ValidationOptions(version="2.1", strict=False)
    bad = [(o["id"], [e.message for e in r.errors]) for o in objs for r in [validate_instance(o, opts)] if not r.is_valid]
    check(not bad, f"stix2-validator: {bad[:3]}")
    validate = schema_validator()
    if validate:
        bad = [(o["id"], err) for o in objs for err in [validate(o)] if err]
        check(not bad, f"STIX 2.1 JSON schemas: {bad[:3]}")
    else:
        check.skip("../shared/schemas/stix2.1 missing")
    predefined = {stix2.TLP_WHITE.id, stix2.TLP_GREEN.id, stix2.TLP_AMBER.id, SIG_EXT}
    unsigned = [o["id"] for o in objs if o["id"] not in predefined and o.get("identity_class") != "organization" and not signed_by(o, pub_a)]
    check(not unsigned, f"signatures verified by PyNaCl + rfc8785: {unsigned[:3]}")
    tampered = dict(ind[0], pattern="[ipv4-addr:value = '198.51.100.10']")
    check(not signed_by(tampered, pub_a), "a changed object no longer verifies")

    # Paging and added_after through taxii2-client.
    pages = list(as_pages(amber.get_objects, per_request=7))
    paged = [o["id"] + o.get("modified", "") for p in pages for o in p.get("objects", [])]
    whole = [o["id"] + o.get("modified", "") for o in objs]
    check(len(pages) > 3 and paged == whole, f"paging by 7: {len(pages)} pages, {len(paged)} objects of {len(whole)}")
    manifest = amber.get_manifest(limit=10000)["objects"]
    mid = manifest[len(manifest) // 2]["date_added"]
    after = amber.get_objects(added_after=mid, limit=10000).get("objects", [])
    check(len(after) == len(manifest) - len(manifest) // 2 - 1, f"added_after: {len(after)} of {len(manifest)}")
    all_versions = amber.get_objects(limit=10000, version="all")["objects"]
    sid = next(o["id"] for o in objs if o["type"] == "sighting" and "198.51.100.9" in o["description"])
    versions = amber.get_object(sid, version="all")["objects"]
    check(len(versions) >= 2 and len(all_versions) > len(objs), f"versions of a growing burst: {len(versions)}")
    vlist = http("GET", f"{url_a}/taxii2/sco/collections/{amber.id}/objects/{sid}/versions/", token=partner_a)
    check(vlist[0] == 200 and len(json.loads(vlist[2])["versions"]) == len(versions), "versions endpoint")
    s, h, body = http("GET", f"{url_a}/taxii2/sco/collections/{amber.id}/objects/?limit=3", token=partner_a)
    env = json.loads(body)
    check(s == 200 and env["more"] and len(env["objects"]) == 3 and h["X-TAXII-Date-Added-First"] and h["Content-Type"] == TAXII, "envelope and headers")

    # Access and media types.
    coll = f"{url_a}/taxii2/sco/collections/{amber.id}/objects/"
    check(http("GET", coll)[0] == 401, "anonymous: 401")
    check(http("GET", coll, token=reader_a)[0] == 403, "reader: 403")
    s, _, body = http("GET", coll, token=partner_a, accept="application/json")
    check(s == 406 and json.loads(body)["http_status"] == "406", f"Accept: application/json: {s} {body[:100]}")
    inbound = f"{url_a}/taxii2/sco/collections/{by_alias['inbound'].id}/objects/"
    check(http("POST", inbound, token=partner_a, body={"objects": []}, content_type="application/json")[0] == 415, "Content-Type json: 415")
    check(http("GET", inbound, token=partner_a)[0] == 403, "partners cannot read the inbound collection")
    check(http("GET", f"{url_a}/taxii2/sco/collections/{amber.id}/objects/?limit=0", token=partner_a)[0] == 400, "limit=0: 400")
    check(http("GET", f"{url_a}/taxii2/sco/collections/{amber.id}/objects/?added_after=yesterday", token=partner_a)[0] == 400, "bad added_after: 400")
    check(http("GET", f"{url_a}/taxii2/sco/collections/{amber.id}/objects/?next=x", token=partner_a)[0] == 400, "bad next: 400")

    # ---------------------------------------------------------------- posts to A's inbound collection
    ind_b = stix2.Indicator(name="scanner seen at B", pattern="[ipv4-addr:value = '203.0.113.50']", pattern_type="stix",
                            valid_from="2026-01-01T00:00:00Z", valid_until="2099-01-01T00:00:00Z", object_marking_refs=[stix2.TLP_GREEN])
    ip_b = stix2.IPv4Address(value="203.0.113.50")
    bundle = stix2.Bundle(ind_b, ip_b, stix2.TLP_GREEN)
    plain = json.loads(bundle.serialize())
    signed = dict(plain, objects=[o if o["type"] == "marking-definition" else sign_with(o, B, "agency-b") for o in plain["objects"]])
    inbound_coll = Collection(inbound[: -len("objects/")], auth=BearerAuth(partner_a))
    count_before = lambda: len(json.loads(http("GET", inbound.replace("/objects/", "/manifest/"), token=sco(A, "token", "create", "--owner", "op", "--role", "admin").stdout.split()[-1])[2]).get("objects", []))  # noqa: E731
    base_count = count_before()
    s, _, body = http("POST", inbound, token=partner_a, body=plain)
    check(s == 422 and b"is not signed" in body, f"an unsigned stix2 bundle: {s} {body[:200]}")
    bad_schema = json.loads(json.dumps(signed))
    del bad_schema["objects"][0]["valid_from"]
    s, _, body = http("POST", inbound, token=partner_a, body=bad_schema)
    check(s == 422 and b"'valid_from' is missing" in body, f"a failing object: {s} {body[:200]}")
    bad_pattern = json.loads(json.dumps(plain))
    bad_pattern["objects"][0]["pattern"] = "[ipv4-addr:value = '203.0.113.50'"
    bad_pattern["objects"][0] = sign_with(bad_pattern["objects"][0], B, "agency-b")
    s, _, body = http("POST", inbound, token=partner_a, body=bad_pattern)
    check(s == 422 and b"pattern: ']' expected" in body, f"an unparsable pattern: {s} {body[:200]}")
    C = os.path.join(TMP, "node_c")  # a key A does not trust
    sco(C, "keys", "show")
    untrusted = dict(plain, objects=[o if o["type"] == "marking-definition" else sign_with(o, C, "agency-c") for o in plain["objects"]])
    s, _, body = http("POST", inbound, token=partner_a, body=untrusted)
    check(s == 422 and b"which this node does not trust" in body, f"an untrusted signer: {s} {body[:200]}")
    s, _, body = http("POST", inbound, token=partner_a, body=b"{\"objects\": [")
    check(s == 400 and json.loads(body)["http_status"] == "400", f"malformed envelope: {s}")
    s, _, body = http("POST", inbound, token=partner_a, body=b"{\"objects\": [" + b"{}," * 400000 + b"{}]}")
    check(s == 413 and json.loads(body)["http_status"] == "413", f"oversized envelope: {s} {body[:120]}")
    check(count_before() == base_count, "nothing stored by refused posts")
    check(http("GET", url_a + "/healthz", accept="application/json")[0] == 200, "the server is up")
    status = inbound_coll.add_objects(json.dumps(signed))
    check(status.status == "complete" and status.success_count == 3 and status.failure_count == 0, f"signed stix2 bundle accepted: {status.status}")
    check(count_before() == base_count + 3, "three objects stored")
    status.refresh()  # GET /taxii2/sco/status/ID/
    check(status.status == "complete" and {x["id"] for x in status.successes} == {o["id"] for o in signed["objects"]},
          f"status resource: {status.successes}")
    time.sleep(1.5)  # the deny rules are reloaded every second
    check(http("GET", url_a + "/stac", accept="application/json", forwarded="203.0.113.50")[0] == 403, "B's indicator denies its address at A")
    check(http("GET", url_a + "/stac", accept="application/json", forwarded="203.0.113.51")[0] == 200, "other addresses pass")

    # ---------------------------------------------------------------- B pulls A's events from medallion
    mport = free_port()
    coll_id = "3cb4d2ab-4a4e-4a5c-9e8a-5a8f41a9b8d1"
    data = {"/discovery": {"title": "medallion", "default": f"http://127.0.0.1:{mport}/api1/", "api_roots": [f"http://127.0.0.1:{mport}/api1/"]},
            "api1": {"information": {"title": "api1", "versions": [TAXII], "max_content_length": 100000000},
                     "status": [], "collections": [{"id": coll_id, "title": "partner events", "can_read": True, "can_write": True,
                                                    "media_types": ["application/stix+json;version=2.1"], "objects": [], "manifest": []}]}}
    json.dump(data, open(os.path.join(TMP, "medallion-data.json"), "w"))
    json.dump({"backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend", "filename": os.path.join(TMP, "medallion-data.json")},
               "users": {"sco": "s3cret"}, "taxii": {"max_page_size": 100}}, open(os.path.join(TMP, "medallion.json"), "w"))
    med = subprocess.Popen([os.path.join(os.path.dirname(VENV), "medallion"), "--port", str(mport), os.path.join(TMP, "medallion.json")],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(med)
    med_url = f"http://127.0.0.1:{mport}/taxii2/"
    for _ in range(100):
        try:
            requests.get(med_url, auth=("sco", "s3cret"), headers={"Accept": TAXII}, timeout=1)
            break
        except requests.exceptions.ConnectionError:
            time.sleep(0.1)
    green_bundle = json.loads(sco(A, "intel", "export", "--collection", "green").stdout)
    # medallion 3.0.0 sorts objects by a property named "version" when there is one, read as a time:
    # the extension-definition's (required) "version": "1.0.0" makes its GET objects fail with a 500.
    # The definition is a constant every sco node holds; it is left out of what medallion serves.
    green_bundle["objects"] = [o for o in green_bundle["objects"] if o["type"] != "extension-definition"]
    med_coll = Collection(f"http://127.0.0.1:{mport}/api1/collections/{coll_id}/", user="sco", password="s3cret")
    st = med_coll.add_objects(json.dumps(green_bundle))
    check(st.status == "complete" and st.success_count == len(green_bundle["objects"]), f"medallion seeded: {st.status}")
    r = sco(B, "--json", "intel", "pull", "--from", med_url, "--user", "sco", "--password-stdin", "--page", "4", stdin="s3cret\n", ok=False)
    check(r.returncode == 0, f"pull from medallion: {r.stderr}")
    rep = json.loads(r.stdout or "{}")
    c0 = (rep.get("collections") or [{}])[0]
    check(c0.get("objects") == len(green_bundle["objects"]) and c0.get("pages", 0) >= 2, f"pulled with paging: {c0}")
    ranges = {x["range"] for x in c0.get("rules", [])}
    check("198.51.100.9" in ranges, f"A's indicator a deny rule at B: {ranges}")
    rules = json.loads(sco(B, "--json", "intel", "list").stdout)
    check(any(x["range"] == "198.51.100.9" and x["state"] == "active" and x["signer"] == "agency-a" for x in rules), f"sco intel list: {rules}")
    r2 = json.loads(sco(B, "--json", "intel", "pull", "--from", med_url, "--user", "sco", "--password-stdin", stdin="s3cret\n").stdout)
    check(r2["collections"][0]["objects"] == 0, f"a second pull reads nothing new (added_after): {r2['collections'][0]}")
    server_b, url_b = serve(B)
    procs.append(server_b)
    time.sleep(0.3)
    check(http("GET", url_b + "/stac", accept="application/json", forwarded="198.51.100.9")[0] == 403, "the pulled rule denies at B")
    check(http("GET", url_b + "/stac", accept="application/json", forwarded="127.0.0.1")[0] == 200, "loopback is never denied")
    # A partner indicator covering loopback or a partner's node never becomes a rule.
    wide = sign_with(json.loads(stix2.Indicator(pattern="[ipv4-addr:value ISSUBSET '127.0.0.0/8']", pattern_type="stix",
                                                valid_from="2026-01-01T00:00:00Z").serialize()), A, "agency-a")
    med_coll.add_objects(json.dumps({"objects": [wide]}))
    r3 = json.loads(sco(B, "--json", "intel", "pull", "--from", med_url, "--user", "sco", "--password-stdin", stdin="s3cret\n").stdout)
    check(not r3["collections"][0]["rules"] and "allow-list" in " ".join(r3["collections"][0]["refused_rules"]), f"allow-list kept: {r3}")
    # An unsigned object in the partner's collection: the pull fails naming it; nothing of it stored.
    med_coll.add_objects(json.dumps({"objects": [json.loads(stix2.Indicator(pattern="[ipv4-addr:value = '192.0.2.66']", pattern_type="stix",
                                                                            valid_from="2026-01-01T00:00:00Z").serialize())]}))
    r4 = sco(B, "intel", "pull", "--from", med_url, "--user", "sco", "--password-stdin", stdin="s3cret\n", ok=False)
    check(r4.returncode == 2 and "is not signed" in r4.stderr and "nothing stored" in r4.stderr, f"unsigned object refused: {r4.stderr}")
    rules = json.loads(sco(B, "--json", "intel", "list").stdout)
    check(not any(x["range"] == "192.0.2.66" for x in rules), "no rule from the unsigned indicator")
    # A server whose paging never ends (the same page with "more" again and again) is refused.
    loop_port = free_port()
    loop = subprocess.Popen([sys.executable, "-c", LOOP_SERVER, str(loop_port), json.dumps(green_bundle["objects"][:3])],
                            stdout=subprocess.PIPE, text=True)
    procs.append(loop)
    loop.stdout.readline()
    r5 = sco(B, "intel", "pull", "--from", f"http://127.0.0.1:{loop_port}/taxii2/", "--token", "x", ok=False)
    check(r5.returncode == 2 and "paging does not advance" in r5.stderr, f"a paging loop: {r5.returncode} {r5.stderr}")
    # Revocation: the address passes again.
    rid = next(x["id"] for x in rules if x["range"] == "198.51.100.9")
    sco(B, "intel", "revoke", rid)
    time.sleep(1.5)
    check(http("GET", url_b + "/stac", accept="application/json", forwarded="198.51.100.9")[0] == 200, "revoked rule no longer denies")
    events = [json.loads(l)["event"] for l in open(os.path.join(B, "audit.log"))]
    check({"intel.pull", "intel.pull.rejected", "intel.denied", "intel.rule.revoke"} <= set(events), f"B's audit: {set(events)}")
    check(sco(B, "audit", "verify", ok=False).returncode == 0, "B's audit chain intact")
finally:
    for p in procs:
        p.terminate()
        p.wait()
    shutil.rmtree(TMP, ignore_errors=True)
check.finish()
