#!/usr/bin/env python3
"""fhir_validate.py -- checks a FHIR R4 Bundle against HL7's JSON schema.

    tests/tools/fhir_validate.py SCHEMA BUNDLE

SCHEMA is fhir.schema.json (tests/tools/fhir_schema.sh installs it),
BUNDLE the output of `mesoctl fhir export`. Validates every entry's
resource against its own definition (#/definitions/<resourceType>), then
the whole Bundle against the schema's root (python3-jsonschema, draft-06),
and checks the Bundle's links: every fullUrl once, every resource id once
per type, every "reference" inside a resource resolving to an entry's
fullUrl (relative references against the fullUrl's base, as FHIR resolves
them in a Bundle). Prints one JSON object on stdout:

    {"entries": N, "types": {"Patient": 1, ...}, "invalid": [...],
     "bundle_valid": true, "unresolved": [...], "duplicates": [...]}

and exits 0 when everything holds, 1 otherwise (each problem named)."""
import json
import sys

import jsonschema


def references(node, out):
    """Every value of a "reference" key under node."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "reference" and isinstance(v, str):
                out.append(v)
            else:
                references(v, out)
    elif isinstance(node, list):
        for v in node:
            references(v, out)
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        schema = json.load(f)
    with open(sys.argv[2]) as f:
        bundle = json.load(f)
    report = {"entries": 0, "types": {}, "invalid": [], "bundle_valid": False,
              "unresolved": [], "duplicates": []}
    validators = {}
    full_urls = set()
    ids = set()
    for n, entry in enumerate(bundle.get("entry", [])):
        report["entries"] += 1
        res = entry.get("resource", {})
        rtype = res.get("resourceType", "?")
        report["types"][rtype] = report["types"].get(rtype, 0) + 1
        if rtype not in schema["definitions"]:
            report["invalid"].append(f"entry {n}: no definition for {rtype}")
            continue
        if rtype not in validators:
            validators[rtype] = jsonschema.Draft6Validator(
                {"$ref": f"#/definitions/{rtype}", "definitions": schema["definitions"]})
        for err in validators[rtype].iter_errors(res):
            path = "/".join(str(p) for p in err.absolute_path)
            report["invalid"].append(f"{rtype}/{res.get('id')} at {path}: {err.message[:300]}")
        url = entry.get("fullUrl")
        if not url or url in full_urls:
            report["duplicates"].append(f"entry {n}: fullUrl {url!r}")
        full_urls.add(url)
        key = f"{rtype}/{res.get('id')}"
        if key in ids or not url or not url.endswith("/" + key):
            report["duplicates"].append(f"entry {n}: {key} (fullUrl {url!r})")
        ids.add(key)
    try:
        jsonschema.Draft6Validator(schema).validate(bundle)
        report["bundle_valid"] = True
    except jsonschema.ValidationError as err:
        report["invalid"].append(f"Bundle: {err.message[:300]}")
    for entry in bundle.get("entry", []):
        base = entry.get("fullUrl", "").rsplit("/", 2)[0]
        for ref in references(entry.get("resource", {}), []):
            target = ref if "://" in ref or ref.startswith("urn:") else f"{base}/{ref}"
            if target not in full_urls:
                report["unresolved"].append(f"{entry.get('fullUrl')} -> {ref}")
    print(json.dumps(report, indent=1))
    ok = not report["invalid"] and report["bundle_valid"] and not report["unresolved"] \
        and not report["duplicates"] and report["entries"] > 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
