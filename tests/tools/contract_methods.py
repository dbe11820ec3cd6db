#!/usr/bin/python3
"""contract_methods.py -- the daemons' method tables and the contract's
service blocks list the same methods with the same types.

Reads every method table (services/*/handlers.c, the entries
roles_table.py reads) and the service blocks of proto/meso/v1 (compiled by
protoc --descriptor_set_out, read with python3-protobuf), and fails,
naming the method, when
  - a table entry has no rpc of that name in its daemon's service
    (<Name>Service), or the rpc takes another input type;
  - an rpc has no table entry (the bus's own Health excepted: every
    daemon answers it, common/src/bus_health.c);
  - a daemon has no service block, or an rpc's output is not a message
    of the contract.
The output type is not in the tables: the bus server compares every OK
reply with its rpc's output at run time (common/src/contract.c), and
refuses to start when its table disagrees with the contract, so every
integration test checks the outputs of the methods it calls.

tests/unit/test_contract_methods.sh runs it.
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

from google.protobuf import descriptor_pb2

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENTRY = re.compile(r'\{\s*"([a-z]+)\.([A-Za-z]+)"\s*,\s*\w+\s*,\s*\w+\s*,\s*&?(\w+)\s*,', re.S)


def message_of(descriptor):
    """meso__v1__book_course_request__descriptor -> BookCourseRequest."""
    m = re.match(r'meso__v1__(\w+?)__descriptor$', descriptor)
    if not m:
        return None
    return "".join(p.capitalize() for p in m.group(1).split("_"))


def services():
    """{service name: {rpc: (input, output)}} and the set of message names."""
    protos = sorted(glob.glob(os.path.join(ROOT, "proto", "meso", "v1", "*.proto")))
    with tempfile.NamedTemporaryFile(suffix=".pb") as out:
        subprocess.run(["protoc", "-I", os.path.join(ROOT, "proto"),
                        "--descriptor_set_out=" + out.name, "--include_imports"] + protos,
                       check=True)
        fds = descriptor_pb2.FileDescriptorSet.FromString(open(out.name, "rb").read())
    svcs, msgs = {}, set()
    for f in fds.file:
        for m in f.message_type:
            msgs.add("." + f.package + "." + m.name)
        for s in f.service:
            svcs[s.name] = {r.name: (r.input_type, r.output_type) for r in s.method}
    return svcs, msgs


def main():
    svcs, msgs = services()
    bad = []
    tables = sorted(glob.glob(os.path.join(ROOT, "services", "*", "handlers.c")))
    for path in tables:
        entries = ENTRY.findall(re.sub(r'/\*.*?\*/', '', open(path).read(), flags=re.S))
        if not entries:
            continue
        daemon = entries[0][0]
        name = daemon.capitalize() + "Service"
        rpcs = svcs.get(name)
        if rpcs is None:
            bad.append("%s: no service %s in proto/meso/v1" % (path, name))
            continue
        seen = set()
        for prefix, method, desc in entries:
            full = prefix + "." + method
            seen.add(method)
            if prefix != daemon:
                bad.append("%s: %s is not a %s method" % (path, full, daemon))
            elif method not in rpcs:
                bad.append("%s has no rpc in %s" % (full, name))
            else:
                want = ".meso.v1." + (message_of(desc) or "?")
                if desc == "NULL" or rpcs[method][0] != want:
                    bad.append("%s takes %s in its table, %s in its rpc"
                               % (full, desc, rpcs[method][0]))
        for method, (inp, outp) in sorted(rpcs.items()):
            if method != "Health" and method not in seen:
                bad.append("rpc %s.%s has no entry in %s" % (name, method, path))
            for t in (inp, outp):
                if t not in msgs:
                    bad.append("rpc %s.%s names %s, not a message of the contract"
                               % (name, method, t))
        if "Health" not in rpcs:
            bad.append("%s lacks the built-in rpc Health(HealthRequest) returns (HealthReply)"
                       % name)
        print("%s: %d methods, %d rpcs" % (daemon, len(entries), len(rpcs)))
    for b in bad:
        print("FAIL: " + b, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
