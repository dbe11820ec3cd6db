#!/usr/bin/python3
"""roles_table.py -- the README's roles table, from the method tables.

Reads services/*/handlers.c (each meso_method_t entry: method name, handler,
kind, input descriptor, roles, scope, flags) and prints a Markdown table:
method, the roles allowed, where the clinic scope comes from, and whether
health data access is needed. The README keeps the table between the
markers <!-- roles:begin --> and <!-- roles:end -->;

  tests/tools/roles_table.py            print the table
  tests/tools/roles_table.py --check    exit 1 when the README's differs
  tests/tools/roles_table.py --write    replace the README's table

tests/unit/test_readme_roles.sh runs --check, so a method table changed
without the README fails the build.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVICES = ["screening", "scheduling", "inventory", "billing", "events", "webhooks"]
ROLES = ["front_desk", "clinician", "stock_keeper", "billing_clerk", "clinic_manager",
         "integration", "service", "operator"]
ENTRY = re.compile(r'\{\s*"([a-z]+\.[A-Za-z]+)"\s*,([^{}]*?)\}', re.S)
BEGIN, END = "<!-- roles:begin -->", "<!-- roles:end -->"


def roles_of(expr):
    expr = expr.strip()
    if expr == "MESO_ROLE_ALL":
        return "every role"
    if expr in ("0", ""):
        return "nobody"
    names = []
    for part in expr.split("|"):
        part = part.strip()
        if not part.startswith("MESO_ROLE_"):
            raise SystemExit("roles_table: cannot read roles %r" % expr)
        names.append(part[len("MESO_ROLE_"):].lower())
    return ", ".join(sorted(names, key=ROLES.index))


def scope_of(expr):
    expr = expr.strip()
    return {"NULL": "none (not about a clinic)",
            "MESO_SCOPE_HANDLER": "resolved by the handler",
            "MESO_SCOPE_CHAIN": "chain (every clinic)"}.get(expr, "`%s`" % expr.strip('"'))


def rows():
    out = []
    for svc in SERVICES:
        text = open(os.path.join(ROOT, "services", svc, "handlers.c")).read()
        for m in ENTRY.finditer(text):
            fields = [f.strip() for f in m.group(2).split(",")]
            # handler, kind, descriptor, roles, scope, flags
            if len(fields) < 6:
                raise SystemExit("roles_table: cannot read the entry of %s" % m.group(1))
            roles, scope, flags = fields[3], fields[4], fields[5]
            health = "yes" if "MESO_METHOD_HEALTH_DATA" in flags else ""
            out.append("| `%s` | %s | %s | %s |" % (m.group(1), roles_of(roles), scope_of(scope), health))
    return out


def table():
    return "\n".join(["| Method | Roles allowed | Clinic scope | Health data |",
                      "|---|---|---|---|"] + rows())


def main():
    t = table()
    if len(sys.argv) == 1:
        print(t)
        return 0
    path = os.path.join(ROOT, "README.md")
    readme = open(path).read()
    if BEGIN not in readme or END not in readme:
        print("roles_table: README.md has no %s ... %s markers" % (BEGIN, END), file=sys.stderr)
        return 1
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    new = head + BEGIN + "\n" + t + "\n" + END + tail
    if sys.argv[1] == "--write":
        open(path, "w").write(new)
        return 0
    if new != readme:
        print("README.md's roles table differs from services/*/handlers.c: run "
              "tests/tools/roles_table.py --write", file=sys.stderr)
        return 1
    print("README roles table: %d methods, in sync" % len(rows()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
