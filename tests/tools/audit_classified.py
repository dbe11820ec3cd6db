#!/usr/bin/python3
"""audit_classified.py -- every method says whether it touches patient data.

Reads the method tables (services/*/handlers.c, the entries roles_table.py
reads) and fails, naming the method, when an entry:
  - has neither MESO_METHOD_PATIENT nor MESO_METHOD_NO_PATIENT in its
    flags, or both (a method added without a decision);
  - is a patient method without a patient location (the field path after
    the flags, or MESO_PATIENT_HANDLER);
  - names a path that is not a string field of its input message
    (proto/meso/v1/*.proto), which would leave its audit rows without a
    patient.

tests/unit/test_audit_classified.sh runs it, so CI fails on an
unclassified method. See common/include/meso/audit.h.
"""
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVICES = ["screening", "scheduling", "inventory", "billing", "events", "webhooks"]
ENTRY = re.compile(r'\{\s*"([a-z]+\.[A-Za-z]+)"\s*,([^{}]*?)\}', re.S)
MESSAGE = re.compile(r'^message\s+(\w+)\s*\{', re.M)
FIELD = re.compile(r'^\s*(?:repeated\s+|optional\s+)?([\w.]+)\s+(\w+)\s*=\s*\d+', re.M)


def messages():
    """{message name: {field: type}} of every proto file (top-level messages)."""
    out = {}
    for path in glob.glob(os.path.join(ROOT, "proto", "meso", "v1", "*.proto")):
        text = re.sub(r'//[^\n]*', '', open(path).read())
        for m in MESSAGE.finditer(text):
            depth, i = 1, m.end()
            while depth and i < len(text):
                depth += {"{": 1, "}": -1}.get(text[i], 0)
                i += 1
            body = text[m.end():i - 1]
            out[m.group(1)] = {f.group(2): f.group(1) for f in FIELD.finditer(body)
                               if f.group(1) not in ("message", "enum", "oneof", "reserved")}
    return out


def message_of(descriptor):
    """meso__v1__book_course_request__descriptor -> BookCourseRequest."""
    m = re.match(r'&?meso__v1__(\w+?)__descriptor$', descriptor)
    if not m:
        return None
    return "".join(p.capitalize() for p in m.group(1).split("_"))


def path_ok(msgs, name, path):
    for i, part in enumerate(path.split(".")):
        fields = msgs.get(name)
        if fields is None or part not in fields:
            return False
        t = fields[part].split(".")[-1]
        if i == len(path.split(".")) - 1:
            return t == "string"
        name = t
    return False


def main():
    msgs = messages()
    bad, count = [], 0
    for svc in SERVICES:
        text = open(os.path.join(ROOT, "services", svc, "handlers.c")).read()
        for m in ENTRY.finditer(text):
            count += 1
            method = m.group(1)
            fields = [f.strip() for f in m.group(2).split(",")]
            flags = [f.strip() for f in fields[5].split("|")] if len(fields) > 5 else []
            patient = "MESO_METHOD_PATIENT" in flags
            none = "MESO_METHOD_NO_PATIENT" in flags
            if patient == none:
                bad.append("%s: flags must hold exactly one of MESO_METHOD_PATIENT and "
                           "MESO_METHOD_NO_PATIENT (does it read or change a patient's data?)" % method)
                continue
            if not patient:
                continue
            where = fields[6] if len(fields) > 6 else ""
            if where == "MESO_PATIENT_HANDLER":
                continue
            if not (where.startswith('"') and where.endswith('"')):
                bad.append("%s: a patient method needs its patient's field path or "
                           "MESO_PATIENT_HANDLER after the flags" % method)
                continue
            msg = message_of(fields[2])
            if not msg or not path_ok(msgs, msg, where.strip('"')):
                bad.append("%s: %s is not a string field of %s" % (method, where, msg or fields[2]))
    for line in bad:
        print("audit_classified: " + line, file=sys.stderr)
    if bad:
        return 1
    print("audit classification: %d methods, each classified" % count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
