#!/usr/bin/env python3
"""observability.py -- the alert rules and the dashboard of deploy/ against
the daemons of this build (run by test_observability.sh).

  1. `promtool check rules` on deploy/prometheus/meso.rules.yml, and
     `promtool test rules` on meso.rules.test.yml (each guarding alert fires
     on the series that break its invariant, and only then);
  2. deploy/grafana/meso.json is a dashboard whose every panel queries
     something, and every query parses: they are written, with Grafana's
     variables replaced ($__rate_interval -> 5m, $job -> .*), as recording
     rules into a scratch file that promtool checks;
  3. every meso_* metric the rules and the dashboard query is exported by a
     running daemon: a fresh database in the run's cluster, the five
     daemons with metrics on loopback ports, one Health request each and a
     few stock events (so that request and publication metrics exist),
     then every /metrics scraped; meso-webhooks with one subscription (to a
     port nothing listens on), so that its per-subscription series exist
     (meso_webhook_parked, which an alert reads).

Env from ctest: MESO_TEST_PGHOST, MESO_TEST_PGPORT, MESO_SOURCE_DIR,
MESO_BUILD_DIR."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

SRC = os.environ["MESO_SOURCE_DIR"]
BUILD = os.environ["MESO_BUILD_DIR"]
PGHOST = os.environ["MESO_TEST_PGHOST"]
PGPORT = os.environ["MESO_TEST_PGPORT"]
BIN = os.path.join(BUILD, "bin")
RULES = os.path.join(SRC, "deploy/prometheus/meso.rules.yml")
RULE_TESTS = os.path.join(SRC, "deploy/prometheus/meso.rules.test.yml")
DASHBOARD = os.path.join(SRC, "deploy/grafana/meso.json")
DBNAME = "observability"
# Metrics of daemons that do not exist yet: name -> executable.
COMING = {}

WORK = tempfile.mkdtemp(prefix="mobs-")
procs = []


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    for p, log in procs:
        print("--- last lines of " + log, file=sys.stderr)
        with open(log, errors="replace") as f:
            print("".join(f.readlines()[-15:]), file=sys.stderr)
    sys.exit(1)


def run(argv, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        fail("%s exited %d:\n%s%s" % (" ".join(argv), r.returncode, r.stdout, r.stderr))
    return r.stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def names(expr):
    return set(re.findall(r"\bmeso_[a-z0-9_]+\b", expr))


# ------------------------------------------------------------ 1. the rules
def check_rules():
    promtool = shutil.which("promtool")
    if not promtool:
        fail("promtool not found: deploy/local/setup.sh installs Debian's prometheus package")
    out = run([promtool, "check", "rules", RULES])
    print("# " + out.strip().replace("\n", " "))
    out = run([promtool, "test", "rules", RULE_TESTS])
    print("# promtool test rules: " + out.strip().splitlines()[-1].strip())
    import yaml
    with open(RULES) as f:
        doc = yaml.safe_load(f)
    wanted = set()
    for g in doc["groups"]:
        for r in g["rules"]:
            wanted |= names(r["expr"])
    return wanted, promtool


# ------------------------------------------------------------ 2. the dashboard
def check_dashboard(promtool):
    with open(DASHBOARD) as f:
        dash = json.load(f)
    if not dash.get("uid") or not dash.get("title"):
        fail("the dashboard has no uid or title")
    exprs = []
    for p in dash["panels"]:
        if p["type"] == "row":
            continue
        targets = [t.get("expr", "") for t in p.get("targets", [])]
        if not targets or not all(targets):
            fail("panel %r queries nothing" % p.get("title"))
        exprs += [(p["title"], e) for e in targets]
    scratch = os.path.join(WORK, "dashboard.rules.yml")
    with open(scratch, "w") as f:
        f.write("groups:\n  - name: dashboard\n    rules:\n")
        for i, (_, e) in enumerate(exprs):
            e = e.replace("$__rate_interval", "5m").replace("$job", ".*")
            f.write("      - record: dashboard:q%d\n        expr: %s\n" % (i, json.dumps(e)))
    run([promtool, "check", "rules", scratch])
    print("# dashboard: %d panels, %d queries, all parse" %
          (sum(1 for p in dash["panels"] if p["type"] != "row"), len(exprs)))
    wanted = set()
    for _, e in exprs:
        wanted |= names(e)
    return wanted


# ------------------------------------------------------------ 3. the daemons
def psql(sql, db="postgres"):
    run(["psql", "host=%s port=%s user=meso dbname=%s" % (PGHOST, PGPORT, db),
         "-v", "ON_ERROR_STOP=1", "-qtAc", sql])


def conninfo(role):
    return "host=%s port=%s user=%s dbname=%s" % (PGHOST, PGPORT, role, DBNAME)


def spawn(name, argv):
    log = os.path.join(WORK, name + ".log")
    f = open(log, "w")
    p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True, cwd=WORK)
    procs.append((p, log))
    return p


def stop_all():
    for p, _ in reversed(procs):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p, _ in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def scrape(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=3) as r:
        text = r.read().decode()
    out = set()
    for line in text.splitlines():
        if line and not line.startswith("#"):
            out.add(re.split(r"[{ ]", line, 1)[0])
    return out


def run_daemons():
    psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % DBNAME)
    psql("CREATE DATABASE %s" % DBNAME)
    run([os.path.join(BIN, "mesoctl"), "migrate", "--db", conninfo("meso"),
         "--dir", os.path.join(SRC, "deploy/sql")])
    # Keys for the daemons and this script (as the operator), as up.sh does.
    keys = os.path.join(WORK, "keys")
    run([os.path.join(BIN, "mesoctl"), "keys", "init", "--dir", keys])
    run([os.path.join(BIN, "mesoctl"), "access", "bootstrap", "--db", conninfo("meso"),
         "--keys", keys])
    os.environ["MESO_KEYS"] = keys
    # One clinic, so that the per-clinic gauges of today have a series.
    psql("INSERT INTO scheduling.clinic (clinic_id, name, time_zone) VALUES ('obs', 'Obs', 'UTC');"
         " INSERT INTO billing.clinic_settings (clinic_id) VALUES ('obs')", DBNAME)
    ep = {s: "tcp://127.0.0.1:%d" % free_port()
          for s in ("screening", "scheduling", "inventory", "billing", "events", "pub", "webhooks")}
    metrics = {s: free_port() for s in ("screening", "scheduling", "inventory", "billing", "events",
                                        "webhooks")}
    ev = ["--events=" + ep["events"], "--events-pub=" + ep["pub"]]
    argv = {
        "events": ["--pub=" + ep["pub"]],
        "screening": ["--scheduling=" + ep["scheduling"], "--inventory=" + ep["inventory"]],
        "inventory": ev + ["--scheduling=" + ep["scheduling"]],
        "billing": ev + ["--scheduling=" + ep["scheduling"], "--gauges-ms=1000"],
        "scheduling": ev + ["--screening=" + ep["screening"], "--inventory=" + ep["inventory"],
                            "--gauges-ms=1000"],
        "webhooks": ev,
    }
    for s in ("events", "screening", "inventory", "billing", "scheduling", "webhooks"):
        spawn(s, [os.path.join(BIN, "meso-" + s), "--db=" + conninfo("meso_" + s),
                  "--bind=" + ep[s], "--metrics=127.0.0.1:%d" % metrics[s], "--log-level=warn"]
              + argv[s])
    endpoints = {s: ep[s] for s in metrics}
    deadline = time.time() + 30
    for s, e in endpoints.items():
        while subprocess.run([os.path.join(BIN, "mesoctl"), "health", "--endpoint", e,
                              "--services", s],
                             capture_output=True).returncode != 0:
            if time.time() > deadline:
                fail("%s is not healthy after 30 s" % s)
            for p, log in procs:
                if p.poll() is not None:
                    fail("%s exited with %d" % (log, p.returncode))
            time.sleep(0.2)
    # A few events, so that publication metrics exist (stock: no internal
    # consumer acts on them).
    run([os.path.join(BIN, "meso-test-emit"), "--db", conninfo("meso"), "--stream", "stock",
         "--count", "3"])
    # A webhook subscription, to a port nothing listens on: its series.
    run([os.path.join(BIN, "mesoctl"), "webhooks", "add", "--endpoint", ep["webhooks"],
         "--clinic", "obs", "--url", "http://127.0.0.1:%d/hook" % free_port(), "--streams", "stock",
         "--from-start"])
    exported = set()
    deadline = time.time() + 20
    while True:
        exported = set()
        for s, port in metrics.items():
            exported |= scrape(port)
        if ("meso_events_publish_lag_seconds" in exported
                and "meso_clinic_revenue_today_cents" in exported
                and "meso_webhook_parked" in exported) or time.time() > deadline:
            break
        time.sleep(0.2)
    return exported


def main():
    try:
        wanted, promtool = check_rules()
        wanted |= check_dashboard(promtool)
        exported = run_daemons()
        skipped = []
        for m, daemon in COMING.items():
            if m in wanted and not os.path.exists(os.path.join(BIN, daemon)):
                wanted.discard(m)
                skipped.append("%s (%s not built yet)" % (m, daemon))
        missing = sorted(wanted - exported)
        print("# %d metrics queried by the rules and the dashboard, %d exported by the daemons%s"
              % (len(wanted), len(exported),
                 "; skipped: " + ", ".join(skipped) if skipped else ""))
        if missing:
            fail("queried but exported by no daemon: " + ", ".join(missing))
        print("PASS")
    finally:
        stop_all()
        try:
            psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % DBNAME)
        except SystemExit:
            pass
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
