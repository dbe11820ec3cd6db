#!/usr/bin/env bash
# test_compose_ha.sh -- docker-compose.ha.yml on top of docker-compose.yml
# (profile "ha") is a valid compose set-up (`docker-compose config`) with the
# topology README "High availability" describes: three etcd members with one
# initial cluster; two Patroni nodes, "postgres" and "postgres-2", each with
# its own volume and a health check that needs a writable primary; migrate
# and every daemon on the multi-host conninfo with
# target_session_attrs=read-write and the password in PGPASSWORD, not in the
# conninfo. Then Patroni itself validates deploy/docker/patroni/patroni.yml
# with each node's PATRONI_* variables (`patroni --validate-config`; only
# the etcd host names, which resolve inside the compose network alone, may
# fail). No Docker engine is needed.
set -euo pipefail
: "${MESO_SOURCE_DIR:?}"
cd "$MESO_SOURCE_DIR"
CLEAN=(env -i PATH="$PATH")
OUT=$(mktemp -d /tmp/mcha-XXXXXX)
trap 'rm -rf "$OUT"' EXIT

"${CLEAN[@]}" docker-compose -f docker-compose.yml -f docker-compose.ha.yml --profile ha config >"$OUT/config.yml"
"${CLEAN[@]}" POSTGRES_PASSWORD='p w"q' docker-compose -f docker-compose.yml -f docker-compose.ha.yml \
    --profile ha config -q

/usr/bin/python3 - "$OUT" <<'PY'
import os, subprocess, sys, yaml
out = sys.argv[1]
s = yaml.safe_load(open(os.path.join(out, "config.yml")))
svc = s["services"]
errors = []
def check(cond, msg):
    if not cond:
        errors.append(msg)
clusters = set()
for n in ("etcd-1", "etcd-2", "etcd-3"):
    e = svc.get(n)
    check(e is not None, n + ": missing")
    if not e:
        continue
    cmd = e["command"]
    check(cmd[0] == "etcd" and cmd[cmd.index("--name") + 1] == n, n + ": etcd --name " + n)
    clusters.add(cmd[cmd.index("--initial-cluster") + 1])
    check(any(str(v).startswith(n + ":") for v in e.get("volumes", [])) or
          any(isinstance(v, dict) and v.get("source") == n for v in e.get("volumes", [])), n + ": own volume")
check(len(clusters) == 1 and len(next(iter(clusters)).split(",")) == 3, "etcd: one initial cluster of 3")
vols = set()
for n in ("postgres", "postgres-2"):
    p = svc[n]
    env = p["environment"]
    check(p["command"] == ["patroni", "/etc/patroni/patroni.yml"], n + ": runs patroni")
    check(env.get("PATRONI_NAME") == n, n + ": PATRONI_NAME")
    check(env.get("PATRONI_POSTGRESQL_CONNECT_ADDRESS") == n + ":5432", n + ": connect address")
    check(env.get("PATRONI_ETCD3_HOSTS", "").count(":2379") == 3, n + ": the three etcd members")
    check("target_session_attrs=read-write" in " ".join(p["healthcheck"]["test"]), n + ": healthy = a writable primary")
    v = [str(x.get("source") if isinstance(x, dict) else x).split(":")[0] for x in p.get("volumes", [])]
    check(len(v) == 1 and v[0] not in vols and v[0] != "pgdata", n + ": a volume of its own")
    vols |= set(v)
    # Patroni's own check of the shared file with this node's variables.
    r = subprocess.run(["patroni", "--validate-config", "deploy/docker/patroni/patroni.yml"],
                       env={"PATH": os.environ["PATH"], **{k: str(v) for k, v in env.items()}},
                       capture_output=True, text=True)
    complaints = [l for l in (r.stdout + r.stderr).splitlines()
                  if l.strip() and not ("etcd3.hosts" in l and "Name or service not known" in l)]
    check(not complaints, n + ": patroni --validate-config: " + "; ".join(complaints))
roles = {"migrate": "postgres", "events": "meso_events", "screening": "meso_screening",
         "inventory": "meso_inventory", "billing": "meso_billing", "scheduling": "meso_scheduling"}
for n, role in roles.items():
    env = svc[n]["environment"]
    db = env.get("MESO_DB", "")
    check("host=postgres,postgres-2 " in db and "port=5432,5432" in db, n + ": multi-host conninfo")
    check("target_session_attrs=read-write" in db, n + ": target_session_attrs=read-write")
    check("user=" + role + " " in db + " ", n + ": role " + role)
    check("password=" not in db and env.get("PGPASSWORD"), n + ": password in PGPASSWORD only")
if errors:
    print("FAIL:\n  " + "\n  ".join(errors), file=sys.stderr)
    sys.exit(1)
print("PASS: etcd x3, 2 Patroni nodes, %d clients on the multi-host conninfo" % len(roles))
PY
