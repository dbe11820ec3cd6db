#!/usr/bin/env bash
# test_compose_config.sh -- docker-compose.yml is a valid compose file
# (`docker-compose config -q`, with and without the "examples" profile, and
# with every password variable set, as an operator would), and it holds the
# rules the runbook relies on: postgres:15 with a named volume and a
# pg_isready health check; every daemon with restart unless-stopped, a
# `mesoctl health --endpoint` health check, depends_on conditions, its own
# role in MESO_DB, a 0.0.0.0 bind and a metrics port; the one-shot migrate
# that the daemons wait for. No Docker engine is needed.
set -euo pipefail
: "${MESO_SOURCE_DIR:?}"
FILE=$MESO_SOURCE_DIR/docker-compose.yml
CLEAN=(env -i PATH="$PATH")

"${CLEAN[@]}" docker-compose -f "$FILE" config -q
"${CLEAN[@]}" docker-compose -f "$FILE" --profile examples config -q
"${CLEAN[@]}" POSTGRES_PASSWORD=x MESO_EVENTS_DB_PASSWORD='p w"q' MESO_LOG_LEVEL=debug \
    docker-compose -f "$FILE" config -q

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
daemons = {"screening": 7101, "scheduling": 7102, "inventory": 7103, "billing": 7104, "events": 7105}
metrics = {"screening": 9101, "scheduling": 9102, "inventory": 9103, "billing": 9104, "events": 9105}
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
