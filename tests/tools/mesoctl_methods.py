#!/usr/bin/python3
"""mesoctl_methods.py -- every method of every service has a mesoctl command.

The methods are read from the method tables (services/*/handlers.c, the
meso_method_t entries the bus servers dispatch on, as roles_table.py reads
them), so a method added to a table without a command fails this check.
The commands are read from mesoctl itself: "mesoctl --help" lists the
commands, "mesoctl <command> --help" their subcommands, and each
subcommand's --help says which methods it calls ("Calls: a.B,c.D", from
mesoctl_sub_t.calls). A subcommand naming a method no table has fails too
(a renamed method, a typo).

  tests/tools/mesoctl_methods.py BUILD/bin/mesoctl     exit 1 on a gap
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import roles_table  # noqa: E402  (the method tables' reader)


def methods():
    out = []
    for svc in roles_table.SERVICES:
        text = open(os.path.join(roles_table.ROOT, "services", svc, "handlers.c")).read()
        out += [m.group(1) for m in roles_table.ENTRY.finditer(text)]
    return out


def run(mesoctl, *args):
    p = subprocess.run([mesoctl, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, env=dict(os.environ, MESO_KEYS="/nonexistent"))
    return p.stdout


def section(text, title):
    """The indented lines under a heading line ("Commands:")."""
    lines, inside = [], False
    for line in text.splitlines():
        if line.strip() == title:
            inside = True
            continue
        if inside:
            if not line.startswith("  "):
                break
            lines.append(line)
    return lines


def commands(mesoctl):
    """(command words, methods it calls) for every subcommand."""
    out = []
    for line in section(run(mesoctl, "--help"), "Commands:"):
        cmd = line.split()[0]
        top = run(mesoctl, cmd, "--help")
        subs = section(top, "Subcommands:")
        if not subs:
            # a command without subcommands ("agenda") says what it calls itself
            m = re.search(r"^Calls: (.*)$", top, re.M)
            if m:
                out.append((cmd, m.group(1).split(",")))
            continue
        for sub in subs:
            # two-word subcommands ("prices set") are listed whole
            words = re.split(r"\s{2,}", sub.strip())[0].split()
            help_text = run(mesoctl, cmd, *words, "--help")
            m = re.search(r"^Calls: (.*)$", help_text, re.M)
            out.append((" ".join([cmd] + words), m.group(1).split(",") if m else []))
    return out


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: mesoctl_methods.py PATH/TO/mesoctl")
    mesoctl = sys.argv[1]
    table = methods()
    cmds = commands(mesoctl)
    called = {}
    for cmd, ms in cmds:
        for m in ms:
            called.setdefault(m, []).append(cmd)
    missing = [m for m in table if m not in called]
    unknown = sorted(m for m in called if m not in table)
    for m in table:
        print("%-32s %s" % (m, ", ".join("mesoctl " + c for c in called.get(m, [])) or "-"))
    for m in missing:
        print("FAIL: %s has no mesoctl command" % m, file=sys.stderr)
    for m in unknown:
        print("FAIL: %s (called by %s) is in no method table" % (m, ", ".join(called[m])),
              file=sys.stderr)
    print("%d methods, %d subcommands, %d without a command" % (len(table), len(cmds), len(missing)))
    return 1 if missing or unknown else 0


if __name__ == "__main__":
    sys.exit(main())
