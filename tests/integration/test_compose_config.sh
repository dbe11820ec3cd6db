#!/usr/bin/env bash
# test_compose_config.sh -- docker-compose.yml is a valid compose file
# (`docker-compose config -q`, with and without the "examples" profile, and
# with every password variable set, as an operator would), and it holds the
# rules the runbook relies on: postgres:15 with a named volume and a
# pg_isready health check; every daemon with restart unless-stopped, a
# `mesoctl health --endpoint` health check, depends_on conditions, its own
# role in MESO_DB, a 0.0.0.0 bind and a metrics port; the one-shot migrate
# that the daemons wait for. No Docker engine is needed.
#
# Also the defects a real engine showed (tests/docker/test_compose_engine.sh
# runs the stack itself):
# - passwords with a space and quotes reach each service as PGPASSWORD,
#   exactly, and never inside MESO_DB (pasted there unquoted, they broke
#   the conninfo of every daemon);
# - every daemon waits for postgres healthy itself, so `docker-compose
#   stop` stops it after them;
# - each published host port is a variable (MESO_<X>_HOST_PORT) defaulting
#   to the container's port;
# - the images: one base (debian:12-slim) for every stage, DEBIAN_FRONTEND
#   as a build argument, no EXPOSE, no Python stage in the daemons' file.
set -euo pipefail
: "${MESO_SOURCE_DIR:?}"
FILE=$MESO_SOURCE_DIR/docker-compose.yml
CLEAN=(env -i PATH="$PATH")

"${CLEAN[@]}" docker-compose -f "$FILE" config -q
"${CLEAN[@]}" docker-compose -f "$FILE" --profile examples config -q
"${CLEAN[@]}" POSTGRES_PASSWORD=x MESO_EVENTS_DB_PASSWORD='p w"q' MESO_LOG_LEVEL=debug \
    docker-compose -f "$FILE" config -q

# Passwords and host ports as an operator would set them.
PW_ENV=(POSTGRES_PASSWORD="pg pass 'one\"" MESO_SCREENING_DB_PASSWORD="scr een's \"pw\""
        MESO_SCHEDULING_DB_PASSWORD="sched pw" MESO_INVENTORY_DB_PASSWORD="inv pw=1"
        MESO_BILLING_DB_PASSWORD=" bill " MESO_EVENTS_DB_PASSWORD="ev\\ pw"
        MESO_WEBHOOKS_DB_PASSWORD="web hooks")
PORT_ENV=()
i=0
for v in SCREENING SCHEDULING INVENTORY BILLING EVENTS EVENTS_PUB WEBHOOKS; do
    i=$((i + 1)); PORT_ENV+=("MESO_${v}_HOST_PORT=$((17200 + i))")
done
i=0
for v in SCREENING SCHEDULING INVENTORY BILLING EVENTS WEBHOOKS; do
    i=$((i + 1)); PORT_ENV+=("MESO_${v}_METRICS_HOST_PORT=$((17210 + i))")
done
"${CLEAN[@]}" "${PW_ENV[@]}" "${PORT_ENV[@]}" docker-compose -f "$FILE" --profile examples config \
  | "${CLEAN[@]}" "${PW_ENV[@]}" /usr/bin/python3 -c '
import os, sys, yaml
svc = yaml.safe_load(sys.stdin)["services"]
errors = []
roles = {"migrate": "POSTGRES_PASSWORD"}
for name in ("screening", "scheduling", "inventory", "billing", "events", "webhooks"):
    roles[name] = "MESO_%s_DB_PASSWORD" % name.upper()
for name, var in roles.items():
    env = svc[name]["environment"]
    if "password" in env.get("MESO_DB", ""):
        errors.append(name + ": a password inside MESO_DB: " + env["MESO_DB"])
    if env.get("PGPASSWORD") != os.environ[var]:
        errors.append("%s: PGPASSWORD is %r, not %s %r" % (name, env.get("PGPASSWORD"), var, os.environ[var]))
    if name != "migrate" and svc[name]["depends_on"].get("postgres", {}).get("condition") != "service_healthy":
        errors.append(name + ": does not wait for postgres healthy itself (stop would stop postgres first)")
want = {"screening": {7101: 17201, 9101: 17211}, "scheduling": {7102: 17202, 9102: 17212},
        "inventory": {7103: 17203, 9103: 17213}, "billing": {7104: 17204, 9104: 17214},
        "events": {7105: 17205, 7106: 17206, 9105: 17215}, "webhooks": {7107: 17207, 9107: 17216}}
for name, ports in want.items():
    # docker-compose 1.29 prints "127.0.0.1:17201:7101/tcp"
    parsed = [str(p).split("/")[0].split(":") for p in svc[name].get("ports", [])]
    got = {int(p[-1]): int(p[-2]) for p in parsed}
    if got != ports:
        errors.append("%s: published %r, want %r" % (name, got, ports))
    if any(len(p) != 3 or p[0] != "127.0.0.1" for p in parsed):
        errors.append(name + ": a port published beyond the loopback")
if errors:
    print("docker-compose.yml with operator settings:\n  " + "\n  ".join(errors), file=sys.stderr)
    sys.exit(1)
print("docker-compose.yml: passwords as PGPASSWORD, ports moved by variables")
'

# The images (deploy/docker/*Dockerfile).
/usr/bin/python3 - "$MESO_SOURCE_DIR/deploy/docker" <<'PY'
import os, re, sys
d = sys.argv[1]
errors = []
for f in ("Dockerfile", "subscriber.Dockerfile"):
    text = open(os.path.join(d, f)).read()
    lines = [l for l in text.splitlines() if not l.lstrip().startswith("#")]
    froms = [l.split()[1] for l in lines if l.startswith("FROM ")]
    base = re.search(r"^ARG DEBIAN=(\S+)$", text, re.M)
    if not base or base.group(1) != "debian:12-slim":
        errors.append(f + ": ARG DEBIAN=debian:12-slim before the first FROM")
    if any(x != "${DEBIAN}" for x in froms):
        errors.append(f + ": every stage FROM ${DEBIAN}, not " + ", ".join(froms))
    if len([l for l in lines if l.startswith("ARG DEBIAN_FRONTEND=noninteractive")]) != len(froms):
        errors.append(f + ": ARG DEBIAN_FRONTEND=noninteractive in every stage")
    if any(l.startswith("EXPOSE") for l in lines):
        errors.append(f + ": EXPOSE (one image serves every daemon; compose publishes the ports)")
main = open(os.path.join(d, "Dockerfile")).read()
if "python3" in main:
    errors.append("Dockerfile: a Python stage (the classic builder would build it for every daemon)")
if errors:
    print("deploy/docker:\n  " + "\n  ".join(errors), file=sys.stderr)
    sys.exit(1)
print("deploy/docker: one base, noninteractive, no EXPOSE")
PY

"${CLEAN[@]}" docker-compose -f "$FILE" --profile examples config \
  | /usr/bin/python3 -c '
import re, sys, yaml
s = yaml.safe_load(sys.stdin)
svc = s["services"]
errors = []
def check(cond, msg):
    if not cond:
        errors.append(msg)
pg = svc.get("postgres", {})
check(str(pg.get("image", "")).startswith("postgres:15"), "postgres: image postgres:15")
check(any(str(v).startswith("pgdata:") or (isinstance(v, dict) and v.get("source") == "pgdata")
          for v in pg.get("volumes", [])), "postgres: named volume pgdata")
check("pgdata" in (s.get("volumes") or {}), "top-level volume pgdata")
check("pg_isready" in " ".join(pg.get("healthcheck", {}).get("test", [])), "postgres: pg_isready health check")
mig = svc.get("migrate", {})
check(mig.get("command", [None])[:2] == ["mesoctl", "migrate"], "migrate: mesoctl migrate")
check(mig.get("depends_on", {}).get("postgres", {}).get("condition") == "service_healthy",
      "migrate: waits for postgres healthy")
daemons = {"screening": 7101, "scheduling": 7102, "inventory": 7103, "billing": 7104, "events": 7105,
           "webhooks": 7107}
metrics = {"screening": 9101, "scheduling": 9102, "inventory": 9103, "billing": 9104, "events": 9105,
           "webhooks": 9107}
for name, port in daemons.items():
    d = svc.get(name)
    if d is None:
        errors.append(name + ": missing"); continue
    env = d.get("environment", {})
    check(d.get("command", [None])[0] == "meso-" + name, name + ": command meso-" + name)
    check(d.get("restart") == "unless-stopped", name + ": restart unless-stopped")
    check(env.get("MESO_BIND") == "tcp://0.0.0.0:%d" % port, name + ": MESO_BIND on 0.0.0.0:%d" % port)
    check(("user=meso_" + name + " ") in env.get("MESO_DB", "") + " ", name + ": own role in MESO_DB")
    check(env.get("MESO_METRICS_BIND") == "0.0.0.0:%d" % metrics[name], name + ": MESO_METRICS_BIND 0.0.0.0:%d" % metrics[name])
    test = d.get("healthcheck", {}).get("test", [])
    check(test[:4] == ["CMD", "mesoctl", "health", "--endpoint"] and test[4] == "tcp://127.0.0.1:%d" % port,
          name + ": health check mesoctl health --endpoint tcp://127.0.0.1:%d" % port)
    check(test[5:7] == ["--services", name], name + ": health check names its service (--services " + name + ")")
    check(env.get("MESO_KEYS") == "/var/lib/meso/keys", name + ": MESO_KEYS=/var/lib/meso/keys")
    check(any(str(v).startswith("keys:/var/lib/meso/keys") and str(v).endswith(":ro")
              or (isinstance(v, dict) and v.get("source") == "keys" and v.get("read_only"))
              for v in d.get("volumes", [])), name + ": keys volume mounted read-only")
    check(deps.get("keys", {}).get("condition") == "service_completed_successfully" if (deps := d.get("depends_on", {})) else False,
          name + ": waits for the keys service")
    deps = d.get("depends_on", {})
    check(deps.get("migrate", {}).get("condition") == "service_completed_successfully",
          name + ": waits for migrate to complete")
    for dep, c in deps.items():
        check(c.get("condition") in ("service_healthy", "service_completed_successfully"),
              name + ": depends_on " + dep + " has a health condition")
    published = {p.get("target") if isinstance(p, dict) else int(str(p).split(":")[-1].split("/")[0])
                 for p in d.get("ports", [])}
    check(port in published and metrics[name] in published, name + ": ports %d and %d published" % (port, metrics[name]))
keys = svc.get("keys", {})
check(keys.get("command", [None])[:4] == ["mesoctl", "access", "bootstrap", "--init"], "keys: mesoctl access bootstrap --init")
check(keys.get("depends_on", {}).get("migrate", {}).get("condition") == "service_completed_successfully",
      "keys: waits for migrate")
check("keys" in (s.get("volumes") or {}), "top-level volume keys")
sub = svc.get("subscriber", {})
check(sub.get("profiles") == ["examples"], "subscriber: behind the examples profile")
if errors:
    print("docker-compose.yml:\n  " + "\n  ".join(errors), file=sys.stderr)
    sys.exit(1)
print("docker-compose.yml: %d services checked" % len(svc))
'
