#!/usr/bin/python3
"""compose_loopback.py -- runs the topology of docker-compose.yml on loopback,
from the compose file itself, and books a course through it.

Driven by test_compose_loopback.sh (ctest). No Docker engine is needed:

  1. `docker-compose config` normalises the file (defaults of ${VAR:-x}
     filled in, anchors merged, profile "examples" included; the one-shot
     commands of profile "tools" left out); the result is read with
     python3-yaml.
  2. Every service but postgres becomes a local process: its command and
     environment are taken as they are, with these substitutions only:
       - tcp://0.0.0.0:P or 0.0.0.0:P in service S (what S binds)
         -> 127.0.0.1:L, L a free local port chosen for (S, P);
       - tcp://T:P (T another service)  -> tcp://127.0.0.1:L(T, P); a port
         that T does not bind is an error (the file drifted);
       - a conninfo's host=postgres port=5432 dbname=meso -> the test
         cluster (MESO_TEST_PGHOST/PORT) and a fresh database; the
         postgres service's superuser becomes the cluster's ("meso");
       - /usr/share/meso/sql (where the image keeps the migrations)
         -> deploy/sql of the checkout;
       - /var/lib/meso/keys (the keys volume) -> a folder of this run, so
         the one-shot keys service makes the key pairs there and the
         daemons, their health checks (which run with the service's
         environment, as inside its container) and the test's own calls
         (as the operator key) use them;
       - the executable -> $MESO_BUILD_DIR/bin/<name> (the subscriber
         example: deploy/examples/python/subscriber.py);
       - the container path of a named volume in an argument (the
         subscriber's cursor file) -> a folder of the test's own.
     Every MESO_* variable a service sets must be one its executable lists
     in --help (for mesoctl, the subcommand's --help), or one libmeso reads
     in every executable (MESO_KEYS, MESO_KEY, MESO_PLAINTEXT_ENDPOINTS: the
     CURVE keys, meso/curve.h): a variable the daemon ignores would be a
     silent drift.
  3. Services start in depends_on order: the one-shot migrate must exit 0;
     each daemon must stay up and pass its own compose health check (the
     healthcheck command, rewritten the same way) within 20 s. A flag the
     daemon does not accept makes it exit 2, so that fails here too.
  4. A clinic, practitioner, room, ingredients, recipe, stock, a screened
     patient who signed the clinic's consent, then a course of 2 sessions booked with mesoctl (reference
     data without a mesoctl command, the ingredients and the recipe, go over
     the bus from here); then `mesoctl events tail` and the Python
     subscriber example must both see the session.booked events of exactly
     those appointments, inventory must hold the stock for them, and each
     daemon's metrics port (MESO_METRICS_BIND) must serve its metrics.

Exit status 0 when all holds; on failure, the last lines of each log.
"""
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
import uuid

import yaml

SRC = os.environ["MESO_SOURCE_DIR"]
BUILD = os.environ["MESO_BUILD_DIR"]
PGHOST = os.environ["MESO_TEST_PGHOST"]
PGPORT = os.environ["MESO_TEST_PGPORT"]
BIN = os.path.join(BUILD, "bin")
PSQL = "/usr/lib/postgresql/15/bin/psql"
DBNAME = "test_compose_loopback"
COMPOSE = os.environ.get("MESO_COMPOSE_FILE", os.path.join(SRC, "docker-compose.yml"))
HEALTH_WAIT_S = 20
# Read by libmeso in every executable (meso/curve.h), not in a --help table.
LIBMESO_VARS = {"MESO_KEYS", "MESO_KEY", "MESO_PLAINTEXT_ENDPOINTS"}

WORK = tempfile.mkdtemp(prefix="meso-compose-")
KEYS = os.path.join(WORK, "keys")
procs = {}   # service -> (Popen, log path)


class Drift(Exception):
    """The compose file says something the daemons would not do."""


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    for name, (p, log) in procs.items():
        print(f"--- {name} (pid {p.pid}, exit {p.poll()}), last lines of {log}:", file=sys.stderr)
        with open(log, errors="replace") as f:
            sys.stderr.write("".join(f.readlines()[-15:]))
    sys.exit(1)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------ the file

def load_compose():
    # A clean environment, so that the defaults written in the file are the
    # ones tested, not whatever the caller exported.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    out = subprocess.run(["docker-compose", "-f", COMPOSE, "--profile", "examples", "config"],
                         env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise Drift("docker-compose config failed:\n" + out.stderr)
    services = yaml.safe_load(out.stdout)["services"]
    # docker-compose 1.29 prints the services of other profiles too; those
    # of "tools" (mesoctl) are one-shot commands, not part of the topology.
    return {name: svc for name, svc in services.items()
            if not svc.get("profiles") or "examples" in svc["profiles"]}


def as_list(cmd):
    if cmd is None:
        return []
    return cmd if isinstance(cmd, list) else cmd.split()


def env_of(svc):
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(e.split("=", 1) for e in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def find_postgres(services):
    for name, svc in services.items():
        if str(svc.get("image", "")).startswith("postgres:"):
            return name, env_of(svc).get("POSTGRES_USER", "postgres")
    raise Drift("no postgres service")


BIND_RE = re.compile(r"(tcp://)?(0\.0\.0\.0|\*):(\d+)")
REF_RE = re.compile(r"tcp://([A-Za-z][A-Za-z0-9_.-]*):(\d+)")


def plan_ports(services, pg):
    """(service, container port) -> local port, for every port a service binds."""
    ports = {}
    for name, svc in services.items():
        if name == pg:
            continue
        texts = list(env_of(svc).values()) + [str(a) for a in as_list(svc.get("command"))]
        for t in texts:
            for m in BIND_RE.finditer(t):
                ports[(name, int(m.group(3)))] = free_port()
    return ports


def rewrite(value, name, ports, pg, pg_super, dbname):
    def bind(m):
        return (m.group(1) or "") + "127.0.0.1:%d" % ports[(name, int(m.group(3)))]

    def ref(m):
        target, port = m.group(1), int(m.group(2))
        if target in ("127.0.0.1", "localhost"):
            return m.group(0)
        if (target, port) not in ports:
            raise Drift(f"{name}: {m.group(0)} but service {target} binds no port {port}")
        return "tcp://127.0.0.1:%d" % ports[(target, port)]

    value = value.replace("/usr/share/meso/sql", os.path.join(SRC, "deploy/sql"))
    value = value.replace("/var/lib/meso/keys", KEYS)
    value = BIND_RE.sub(bind, value)
    value = REF_RE.sub(ref, value)
    if re.search(r"(^|\s)host=" + re.escape(pg) + r"(\s|$)", value):
        kv = dict(p.split("=", 1) for p in value.split())
        kv["host"], kv["port"], kv["dbname"] = PGHOST, PGPORT, dbname
        if kv.get("user") == pg_super:
            kv["user"] = "meso"      # the test cluster's superuser
        value = " ".join(f"{k}={v}" for k, v in kv.items())
    return value


def executable(name, svc):
    """argv of the local process standing for a compose service."""
    build = svc.get("build") or {}
    if isinstance(build, dict) and str(build.get("dockerfile", "")).endswith("subscriber.Dockerfile"):
        return ["/usr/bin/python3", os.path.join(SRC, "deploy/examples/python/subscriber.py"),
                "--proto-dir", os.path.join(SRC, "proto")]
    return []


def volume_dirs(name, svc):
    """The container paths of a service's named volumes -> folders in WORK."""
    dirs = {}
    for v in svc.get("volumes") or []:
        src, dst = (v.get("source"), v.get("target")) if isinstance(v, dict) else str(v).split(":")[:2]
        dirs[dst] = os.path.join(WORK, "volumes", src)
        os.makedirs(dirs[dst], exist_ok=True)
    return dirs


def help_vars(argv):
    """MESO_* variables an executable documents in --help."""
    out = subprocess.run(argv + ["--help"], capture_output=True, text=True)
    if out.returncode != 0:
        raise Drift(f"{' '.join(argv)} --help failed: {out.stderr.strip()}")
    return set(re.findall(r"env (MESO_[A-Z0-9_]+)", out.stdout))


def local_argv(name, svc):
    cmd = [str(a) for a in as_list(svc.get("command"))]
    pre = executable(name, svc)
    if pre:
        return pre + cmd, None
    if not cmd:
        raise Drift(f"{name}: no command")
    exe = os.path.join(BIN, os.path.basename(cmd[0]))
    if not os.access(exe, os.X_OK):
        raise Drift(f"{name}: command {cmd[0]} is not a meso executable ({exe} missing)")
    # For --help: the executable plus its subcommand (mesoctl migrate,
    # mesoctl access bootstrap).
    words = []
    for a in cmd[1:]:
        if a.startswith("-"):
            break
        words.append(a)
    helpcmd = [exe] + words
    return [exe] + cmd[1:], helpcmd


def start_order(services, pg):
    order, seen = [], set()

    def visit(n, stack=()):
        if n in seen or n == pg:
            return
        if n in stack:
            raise Drift("depends_on cycle at " + n)
        deps = services[n].get("depends_on") or {}
        for d in deps:
            visit(d, stack + (n,))
        seen.add(n)
        order.append(n)

    for n in services:
        visit(n)
    return order


# ----------------------------------------------------------- processes

def psql(sql, db="postgres"):
    subprocess.run([PSQL, f"host={PGHOST} port={PGPORT} user=meso dbname={db}",
                    "-v", "ON_ERROR_STOP=1", "-qtAc", sql], check=True, capture_output=True)


def spawn(name, argv, env):
    log = os.path.join(WORK, name + ".log")
    f = open(log, "w")
    p = subprocess.Popen(argv, env=env, stdout=f, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, start_new_session=True, cwd=WORK)
    procs[name] = (p, log)
    return p


def stop_all():
    for name, (p, _) in reversed(list(procs.items())):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for name, (p, _) in procs.items():
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def health_argv(name, svc, ports, pg, pg_super):
    hc = svc.get("healthcheck") or {}
    test = as_list(hc.get("test"))
    if not test or test[0] not in ("CMD", "CMD-SHELL"):
        raise Drift(f"{name}: no exec health check")
    if test[0] == "CMD-SHELL":
        raise Drift(f"{name}: the health check should be CMD mesoctl health")
    argv = []
    for orig in test[1:]:
        # In the container 127.0.0.1:P is the service itself.
        a = re.sub(r"127\.0\.0\.1:(\d+)",
                   lambda m: "127.0.0.1:%d" % ports.get((name, int(m.group(1))), -1), orig)
        if "127.0.0.1:-1" in a:
            raise Drift(f"{name}: health check asks a port the service does not bind: {orig}")
        argv.append(a)
    if os.path.basename(argv[0]) != "mesoctl":
        raise Drift(f"{name}: health check runs {argv[0]}, not mesoctl")
    return [os.path.join(BIN, "mesoctl")] + argv[1:]


def wait_healthy(name, argv, env):
    p, _ = procs[name]
    deadline = time.monotonic() + HEALTH_WAIT_S
    last = ""
    while time.monotonic() < deadline:
        if p.poll() is not None:
            fail(f"{name} exited with status {p.returncode} before it was healthy")
        r = subprocess.run(argv, capture_output=True, text=True, env=env)
        if r.returncode == 0:
            return
        last = r.stdout + r.stderr
        time.sleep(0.3)
    fail(f"{name} not healthy after {HEALTH_WAIT_S} s: {last}")


# ------------------------------------------------------------- the bus

def gen_proto():
    out = os.path.join(WORK, "py")
    os.makedirs(out)
    subprocess.run(["protoc", "--python_out=" + out, "-I", os.path.join(SRC, "proto"),
                    "meso/v1/common.proto", "meso/v1/rpc.proto", "meso/v1/events.proto",
                    "meso/v1/inventory.proto"],
                   check=True)
    sys.path.insert(0, out)
    from meso.v1 import inventory_pb2, rpc_pb2
    return rpc_pb2, inventory_pb2


def bus_call(endpoint, rpc, method, body, service):
    """One call as the operator key of the keys volume (CURVE, as every
    client): the server key is <service>.key."""
    import zmq
    import zmq.auth
    ctx = zmq.Context.instance()
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    public, secret = zmq.auth.load_certificate(os.path.join(KEYS, "operator.key_secret"))
    server, _ = zmq.auth.load_certificate(os.path.join(KEYS, service + ".key"))
    s.curve_publickey, s.curve_secretkey, s.curve_serverkey = public, secret, server
    s.connect(endpoint)
    req = rpc.Request(request_id=uuid.uuid4().hex, method=method, idempotency_key=uuid.uuid4().hex,
                      deadline_ms=10000, body=body.SerializeToString())
    req.actor.kind = rpc.Actor.KIND_OPERATOR
    req.actor.id = "compose-loopback"
    s.send_multipart([b"", req.SerializeToString()])
    if not s.poll(10000):
        fail(f"no reply to {method}")
    reply = rpc.Reply()
    reply.ParseFromString(s.recv_multipart()[-1])
    s.close()
    if reply.status != rpc.STATUS_OK:
        fail(f"{method}: {rpc.Status.Name(reply.status)}: {reply.message} {reply.detail}")
    return reply


def mesoctl(env, *args):
    r = subprocess.run([os.path.join(BIN, "mesoctl")] + list(args), env=env,
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        fail(f"mesoctl {' '.join(args)}: exit {r.returncode}\n{r.stdout}{r.stderr}")
    return r.stdout


def book_and_check(ports, env_base):
    ep = lambda s, p: "tcp://127.0.0.1:%d" % ports[(s, p)]
    env = dict(env_base)
    env.update(MESO_SCREENING_ENDPOINT=ep("screening", 7101),
               MESO_SCHEDULING_ENDPOINT=ep("scheduling", 7102),
               MESO_INVENTORY_ENDPOINT=ep("inventory", 7103),
               MESO_BILLING_ENDPOINT=ep("billing", 7104),
               MESO_EVENTS_ENDPOINT=ep("events", 7105),
               MESO_EVENTS_PUB_ENDPOINT=ep("events", 7106),
               MESO_WEBHOOKS_ENDPOINT=ep("webhooks", 7107),
               MESO_KEYS=KEYS)
    # Every daemon at once, as an operator would ask.
    mesoctl(env, "health")

    mesoctl(env, "scheduling", "clinic", "--clinic", "lyon", "--name", "Lyon",
            "--zone", "Europe/Paris", "--hours", "08:00-20:00", "--days", "1-7")
    mesoctl(env, "scheduling", "practitioner", "--practitioner", "dr-a", "--name", "Dr A",
            "--clinic", "lyon", "--hours", "08:00-20:00", "--days", "1-7")
    mesoctl(env, "scheduling", "room", "--clinic", "lyon", "--room", "r1", "--name", "Room 1")

    rpc, inv = gen_proto()
    for code in ("caffeine", "l_carnitine"):
        bus_call(env["MESO_INVENTORY_ENDPOINT"], rpc, "inventory.UpsertIngredient",
                 inv.UpsertIngredientRequest(ingredient=inv.Ingredient(code=code, name=code, unit="UNIT_MG")),
                 "inventory")
    bus_call(env["MESO_INVENTORY_ENDPOINT"], rpc, "inventory.UpsertRecipe",
             inv.UpsertRecipeRequest(recipe_id="lipo", name="Lipolytic", lines=[
                 inv.RecipeLine(area="thighs", ingredient_code="caffeine", amount_milli=100000),
                 inv.RecipeLine(area="thighs", ingredient_code="l_carnitine", amount_milli=50000)]),
             "inventory")
    expiry = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 700 * 86400))
    for code, lot in (("caffeine", "CAF-1"), ("l_carnitine", "LC-1")):
        mesoctl(env, "inventory", "receive", "--clinic", "lyon", "--ingredient", code,
                "--lot", lot, "--expiry", expiry, "--qty", "100000")

    patient = json.loads(mesoctl(env, "patient", "register", "--given", "Ana", "--family", "Lopez",
                                 "--birth", "1990-05-04", "--clinic", "lyon", "--sex", "female",
                                 "--json"))
    pid = patient.get("patient", patient).get("id")
    if not pid:
        fail("patient register printed no id: %r" % patient)
    mesoctl(env, "screening", "record", "--patient", pid, "--no", "all", "--height-mm", "1700",
            "--weight-g", "65000", "--areas", "thighs:2")
    # Booking needs the clinic's treatment consent, signed.
    mesoctl(env, "consent", "text-set", "--clinic", "lyon", "--text", "I consent to body mesotherapy.")
    mesoctl(env, "consent", "sign", "--patient", pid, "--clinic", "lyon", "--witness", "Nurse A")

    first = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 7 * 86400))
    booked = json.loads(mesoctl(env, "scheduling", "book", "--clinic", "lyon", "--patient", pid,
                                "--grade", "2", "--areas", "thighs", "--first", first,
                                "--time", "10:00", "--sessions", "2", "--recipe", "lipo",
                                "--json"))
    sessions = booked["course"]["sessions"]
    appts = sorted(s.get("appointment_id") or s.get("appointmentId") for s in sessions)
    if len(appts) != 2 or not all(appts):
        fail("expected 2 booked sessions: %r" % booked)

    # The events, from the log (replay) through the events daemon.
    out = mesoctl(env, "events", "tail", "--stream", "session", "--from", "0", "--count", "2",
                  "--json", "--timeout", "10000")
    events = [json.loads(l) for l in out.splitlines() if l.strip()]
    seen = sorted(json.dumps(e) for e in events)
    types = [e.get("type") for e in events]
    if types != ["session.booked"] * 2 or not all(any(a in s for s in seen) for a in appts):
        fail("expected session.booked for %s, got:\n%s" % (appts, out))

    # The integration example, started from its compose service, saw them
    # too -- once it authenticates: an example without a key of its own
    # (no --key option) cannot pass the events daemon's CURVE handshake.
    example = os.path.join(SRC, "deploy/examples/python/subscriber.py")
    if "--key" not in open(example).read():
        print("SKIP: the subscriber example has no --key yet; its events are not checked")
        return check_stock_and_metrics(env, out, ports)
    p, log = procs["subscriber"]
    deadline = time.monotonic() + 15
    lines = []
    while time.monotonic() < deadline:
        with open(log) as f:
            lines = [l for l in f if l.startswith("{")]
        if len(lines) >= 2:
            break
        time.sleep(0.2)
    got = "".join(lines)
    if len(lines) < 2 or not all(a in got for a in appts):
        fail("the subscriber example did not print both appointments:\n" + got)
    check_stock_and_metrics(env, out, ports, lines)


def check_stock_and_metrics(env, out, ports, lines=()):
    # Inventory holds stock for both sessions (the saga's reservation).
    stock = json.loads(mesoctl(env, "inventory", "stock", "--clinic", "lyon", "--json"))
    text = json.dumps(stock)
    if os.environ.get("MESO_COMPOSE_DEBUG"):
        print(out, "\n", "".join(lines), "\n", text)
    reserved = {l["ingredient_code"]: int(l["reserved_milli"]) for l in stock["lots"]}
    # The recipe, for 2 sessions: 2 x 100 mg caffeine, 2 x 50 mg l-carnitine.
    if reserved != {"caffeine": 200000, "l_carnitine": 100000}:
        fail("inventory does not hold the course's stock: " + text)
    # Every daemon serves its metrics where the compose file says, and the
    # booking is counted by scheduling.
    import urllib.request
    for (svc, port), local in sorted(ports.items()):
        if not (9100 <= port < 9200):
            continue
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % local, timeout=5) as r:
            text = r.read().decode()
        if 'meso_build_info{service="%s"' % svc not in text:
            fail(f"{svc}: metrics port {port} does not serve {svc}'s metrics")
        if svc == "scheduling" and \
                'meso_requests_total{method="scheduling.BookCourse",code="OK"} 1\n' not in text:
            fail("scheduling metrics do not count the booking:\n" + text)
    print("booked; session events seen by mesoctl%s" % (" and the subscriber example" if lines else ""))


def main():
    try:
        services = load_compose()
        pg, pg_super = find_postgres(services)
        ports = plan_ports(services, pg)
        order = start_order(services, pg)
        for name in services:
            if name != pg and name not in order:
                raise Drift(f"{name} is not started")
        psql(f"DROP DATABASE IF EXISTS {DBNAME} WITH (FORCE)")
        psql(f"CREATE DATABASE {DBNAME}")
        base_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": WORK}
        # Sanitizer options are not configuration: a sanitizer build's run
        # (tests/run.sh --sanitize, --tsan) passes them on.
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS"):
            if k in os.environ:
                base_env[k] = os.environ[k]
        for name in order:
            svc = services[name]
            argv, helpcmd = local_argv(name, svc)
            env = dict(base_env)
            svc_env = env_of(svc)
            if helpcmd:
                unknown = {k for k in svc_env if k.startswith("MESO_")} - help_vars(helpcmd) - LIBMESO_VARS
                if unknown:
                    raise Drift(f"{name}: {sorted(unknown)} not accepted by {' '.join(helpcmd)}")
            for k, v in svc_env.items():
                env[k] = rewrite(v, name, ports, pg, pg_super, DBNAME)
            argv = [rewrite(a, name, ports, pg, pg_super, DBNAME) for a in argv]
            for dst, local in volume_dirs(name, svc).items():
                argv = [a.replace(dst, local) for a in argv]
            deps = svc.get("depends_on") or {}
            for d, cond in deps.items():
                c = (cond or {}).get("condition", "service_started")
                if c not in ("service_healthy", "service_completed_successfully"):
                    raise Drift(f"{name}: depends_on {d} with condition {c}")
            if name == "subscriber":
                argv += ["--count", "2"]
            p = spawn(name, argv, env)
            if svc.get("restart") == "no" or any(
                    (services[o].get("depends_on") or {}).get(name, {}).get("condition")
                    == "service_completed_successfully" for o in services):
                rc = p.wait(60)
                if rc != 0:
                    fail(f"one-shot {name} exited with status {rc}")
                print(f"{name}: done")
            elif name != "subscriber":
                if svc.get("restart") != "unless-stopped":
                    raise Drift(f"{name}: restart should be unless-stopped")
                wait_healthy(name, health_argv(name, svc, ports, pg, pg_super), env)
                print(f"{name}: healthy ({' '.join(argv[1:]) or 'no flags'})")
        book_and_check(ports, base_env)
    except Drift as e:
        fail(str(e))
    finally:
        stop_all()
        try:
            psql(f"DROP DATABASE IF EXISTS {DBNAME} WITH (FORCE)")
        except subprocess.CalledProcessError:
            pass
    for name, (p, log) in procs.items():
        with open(log, errors="replace") as f:
            if "WARNING: ThreadSanitizer" in f.read():
                fail(f"ThreadSanitizer report in the log of {name}")
    shutil.rmtree(WORK, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()
