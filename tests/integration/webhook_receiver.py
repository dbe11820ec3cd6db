#!/usr/bin/env python3
"""webhook_receiver.py -- HTTP receivers for the webhooks tests, and an
independent check of their signatures (Python's hmac, not libsodium).

  webhook_receiver.py serve --port-file F --log L --state DIR
      Serves on 127.0.0.1 (a free port, written to F once listening) and
      appends one JSON line per request to L: path, name, the status
      answered, the Meso-* headers and the body (base64). What a path
      answers:
        /ok/<name>       200
        /slow/<name>     200 after 20 ms
        /flaky/<name>    503 to the first 3 requests, then 200
        /gone/<name>     410 until DIR/<name>.recovered exists, then 200
        /hang/<name>     reads the request and never answers
      A threaded server: a hung request holds its own thread only.

  webhook_receiver.py verify --log L --name N --secret HEX [--tolerance S]
      Checks every request of N in L: Meso-Signature is
      v1=hex(HMAC-SHA256(secret, timestamp + "." + body)) and the
      timestamp is within S seconds (300) of when it was received. Prints
      the number checked; exit 1 on the first bad one.

  webhook_receiver.py delivered --log L --name N
      Prints, one per line, "<stream> <stream_seq> <event id>" of each
      event N answered 200 to, first delivery only (deduplicated by event
      id, as a receiver should), in the order they arrived; then
      "duplicates <n>".
"""
import base64
import hashlib
import hmac
import http.server
import json
import os
import sys
import threading
import time

LOCK = threading.Lock()


def serve(port_file, log_path, state_dir):
    counts = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            parts = self.path.strip("/").split("/")
            kind, name = (parts + ["", ""])[:2]
            with LOCK:
                counts[self.path] = counts.get(self.path, 0) + 1
                seen = counts[self.path]
            if kind == "hang":
                status = 0
            elif kind == "flaky":
                status = 503 if seen <= 3 else 200
            elif kind == "gone":
                status = 200 if os.path.exists(os.path.join(state_dir, name + ".recovered")) else 410
            else:
                status = 200
            rec = {"path": self.path, "name": name, "status": status, "at": time.time(),
                   "headers": {k: v for k, v in self.headers.items() if k.lower().startswith("meso-")},
                   "body": base64.b64encode(body).decode()}
            with LOCK:
                with open(log_path, "a") as f:
                    f.write(json.dumps(rec) + "\n")
            if kind == "hang":
                time.sleep(3600)
                return
            if kind == "slow":
                time.sleep(0.02)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, port_file)
    srv.serve_forever()


def records(log_path, name):
    with open(log_path) as f:
        for line in f:
            rec = json.loads(line)
            if rec["name"] == name:
                yield rec


def header(rec, key):
    for k, v in rec["headers"].items():
        if k.lower() == key.lower():
            return v
    return None


def verify(log_path, name, secret_hex, tolerance):
    secret = bytes.fromhex(secret_hex)
    n = 0
    for rec in records(log_path, name):
        body = base64.b64decode(rec["body"])
        ts = header(rec, "Meso-Timestamp")
        sig = header(rec, "Meso-Signature")
        if not ts or not sig or not sig.startswith("v1="):
            sys.exit("request %d of %s: no Meso-Timestamp or Meso-Signature" % (n, name))
        want = hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, sig[3:]):
            sys.exit("request %d of %s: bad signature %s" % (n, name, sig))
        if abs(rec["at"] - int(ts)) > tolerance:
            sys.exit("request %d of %s: timestamp %s too far from %d" % (n, name, ts, rec["at"]))
        event = json.loads(body)
        if event.get("id") != header(rec, "Meso-Event-Id") or event.get("type") != header(rec, "Meso-Event-Type"):
            sys.exit("request %d of %s: headers do not name the body's event" % (n, name))
        n += 1
    print(n)


def delivered(log_path, name):
    seen = set()
    dups = 0
    for rec in records(log_path, name):
        if rec["status"] != 200:
            continue
        event = json.loads(base64.b64decode(rec["body"]))
        if event["id"] in seen:
            dups += 1
            continue
        seen.add(event["id"])
        print(event["stream"], event["stream_seq"], event["id"])
    print("duplicates", dups)


def main():
    args = sys.argv[1:]
    opts = {}
    cmd = args[0]
    i = 1
    while i < len(args):
        opts[args[i].lstrip("-")] = args[i + 1]
        i += 2
    if cmd == "serve":
        serve(opts["port-file"], opts["log"], opts["state"])
    elif cmd == "verify":
        verify(opts["log"], opts["name"], opts["secret"], float(opts.get("tolerance", "300")))
    elif cmd == "delivered":
        delivered(opts["log"], opts["name"])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
