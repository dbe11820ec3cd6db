#!/usr/bin/env python3
"""receiver.py -- a minimal receiver of meso-webhooks deliveries.

Checks each request's signature and timestamp (the check the README's
"Webhooks" section shows), drops duplicates by event id (deliveries are at
least once), prints one line per event and answers 200; a bad signature or
a stale timestamp gets 401 (the daemon retries, then parks).

  receiver.py --port 8088 --secret-file secret.txt [--tolerance 300]

The secret file holds the 64 hex digits `mesoctl webhooks add` printed;
it is read at every request, so it can be written after the start.
Standard library only."""
import argparse
import hashlib
import hmac
import http.server
import json
import sys
import time

TOLERANCE_S = 300


def verify(secret_hex, headers, body, tolerance=TOLERANCE_S, now=None):
    """The event (a dict) when the request is ours and recent, else None."""
    ts = headers.get("Meso-Timestamp", "")
    sig = headers.get("Meso-Signature", "")
    if not ts.isdigit() or not sig.startswith("v1="):
        return None
    # Replays: a captured request is refused once its timestamp is old.
    if abs((now or time.time()) - int(ts)) > tolerance:
        return None
    want = hmac.new(bytes.fromhex(secret_hex), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, sig[3:]):
        return None
    return json.loads(body)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8088)
    ap.add_argument("--secret-file", required=True)
    ap.add_argument("--tolerance", type=int, default=TOLERANCE_S)
    args = ap.parse_args()
    seen = set()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with open(args.secret_file) as f:
                secret = f.read().strip()
            event = verify(secret, self.headers, body, args.tolerance)
            status = 200 if event else 401
            if event and event["id"] not in seen:
                seen.add(event["id"])
                print("%s %s %s seq %s: signature ok" % (event["type"], event["id"], event.get("clinic_id", ""),
                                                        event["stream_seq"]), flush=True)
            elif not event:
                print("refused a request: bad signature or stale timestamp", flush=True)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    sys.exit(main())
