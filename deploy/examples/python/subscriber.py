#!/usr/bin/python3
"""subscriber.py -- follow meso event streams from Python, every event this
integration may see once, in order, printed as JSON lines, across restarts.

This is the recipe of meso's own C subscriber (common/src/subscriber.c and
subscriber_feed.c), written out plainly for integrations:

  1. authenticate: every meso socket is CURVE. The integration has its own
     key pair (a CZMQ certificate "<name>.key_secret", registered by an
     operator as a principal) and trusts the events daemon's public key
     ("<keys>/events.key"). An unknown or revoked key gets no answer at all.
  2. open the SUB socket first (topics "<stream>." and "_heartbeat"),
  3. ask the events daemon's ROUTER for everything after our cursor
     ("events.Replay", page after page, until the head). The daemon answers
     with only what our principal may see: our streams, our clinics, and
     without health access the events with their health fields removed.
     Events we may not see are left out, so sequences skip; each reply's
     last_seq says how far the daemon looked, and we continue from there.
  4. then listen: the PUB carries doorbells (topic, stream sequence, an
     empty frame), never events. A doorbell above our cursor, or a
     heartbeat (every second, each stream's head) above it, means: replay.
  5. keep the cursor (--cursor-file): it is saved after every event printed
     and after every page, so a restart prints nothing twice and misses
     nothing. SIGTERM and Ctrl-C finish the event at hand, save, and exit 0.

The live feed alone is not enough anyway: PUB drops what it sends before we
are connected and when our queue is full, silently.

Requests use the envelope of proto/meso/v1/rpc.proto over a DEALER socket:
an empty delimiter frame, then one packed meso.v1.Request; the reply is an
empty frame and one packed meso.v1.Reply with the same request_id. (A DEALER
rather than a REQ: a REQ socket is stuck for good after one lost reply.)

The Python code for the messages is generated from proto/ with protoc at
start-up, into a temporary folder, so it always matches the contract.

Debian packages: python3-zmq python3-protobuf protobuf-compiler.

    /usr/bin/python3 subscriber.py --stream session,screening \\
        --key keys/marketing.key_secret --keys keys --cursor-file marketing.cursor
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import zmq
import zmq.auth

HERE = os.path.dirname(os.path.abspath(__file__))
STREAMS = ["session", "screening", "stock", "billing"]
PAGE = 1000          # events examined per replay request
REPLY_WAIT_MS = 2000 # how long to wait for one replay reply


def generate(proto_dir, out_dir):
    """Runs protoc --python_out for the files we need (events.proto and what
    it imports); returns the modules."""
    files = ["meso/v1/common.proto", "meso/v1/rpc.proto", "meso/v1/events.proto"]
    subprocess.run(["protoc", "--python_out=" + out_dir, "-I", proto_dir] + files, check=True)
    sys.path.insert(0, out_dir)
    from meso.v1 import events_pb2, rpc_pb2  # noqa: E402 (generated just now)
    return events_pb2, rpc_pb2


class Refused(Exception):
    """The daemon refused the replay: events pruned, cursor beyond the log,
    or a stream outside our principal's scope. Retrying will not help."""


class Cursors:
    """The last stream sequence handled (or passed over) per stream, kept in
    a small JSON file replaced atomically, so a crash leaves the old or the
    new version, never half of one."""

    def __init__(self, path, streams, start):
        self.path = path
        self.seq = {s: start for s in streams}
        if path and os.path.exists(path):
            with open(path) as f:
                saved = json.load(f)
            for s in streams:
                self.seq[s] = int(saved.get(s, start))

    def advance(self, stream, seq):
        if seq > self.seq[stream]:
            self.seq[stream] = seq
            self.save()

    def save(self):
        if not self.path:
            return
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.seq, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


class Subscriber:
    def __init__(self, ctx, pb, rpc, args, cursors):
        self.pb, self.rpc = pb, rpc
        self.router = args.router
        self.cursors = cursors
        self.behind = {s: True for s in cursors.seq}   # replay first
        self.retry_at = 0.0
        public, secret = zmq.auth.load_certificate(args.key)
        if secret is None:
            raise SystemExit(f"{args.key} holds no secret key (use the .key_secret file)")
        server, _ = zmq.auth.load_certificate(args.server_key)

        def curve(sock):
            sock.curve_publickey, sock.curve_secretkey = public, secret
            sock.curve_serverkey = server

        # SUB first, replay second.
        self.sub = ctx.socket(zmq.SUB)
        curve(self.sub)
        for ep in args.pub.split(","):
            self.sub.connect(ep)
        for s in cursors.seq:
            self.sub.setsockopt(zmq.SUBSCRIBE, (s + ".").encode())
        self.sub.setsockopt(zmq.SUBSCRIBE, b"_heartbeat")
        self.dealer = ctx.socket(zmq.DEALER)
        self.dealer.setsockopt(zmq.LINGER, 0)
        curve(self.dealer)
        for ep in args.router.split(","):
            self.dealer.connect(ep)

    def call(self, method, body):
        """One request, one reply (or None on timeout: retry later). The
        daemon knows who we are from our key: the actor we could write is
        not believed, so we write none."""
        req = self.rpc.Request(request_id=uuid.uuid4().hex, method=method,
                               deadline_ms=REPLY_WAIT_MS, body=body.SerializeToString())
        self.dealer.send_multipart([b"", req.SerializeToString()])
        deadline = time.monotonic() + REPLY_WAIT_MS / 1000
        while (left := deadline - time.monotonic()) > 0:
            if not self.dealer.poll(int(left * 1000)):
                break
            frames = self.dealer.recv_multipart()
            reply = self.rpc.Reply()
            reply.ParseFromString(frames[-1])
            if reply.request_id == req.request_id:  # else: late reply to an old call
                return reply
        return None

    def catch_up(self, stream, emit, stopping):
        """Replays stream from its cursor to the head, page after page."""
        while self.behind[stream] and not stopping():
            cursor = self.cursors.seq[stream]
            rq = self.pb.ReplayRequest(stream=stream, after_seq=cursor, limit=PAGE)
            reply = self.call("events.Replay", rq)
            if reply is None:
                print(f"no reply to events.Replay from {self.router} (daemon down, or our key "
                      f"not registered there); retrying", file=sys.stderr)
                self.retry_at = time.monotonic() + 0.5
                return
            if reply.status in (self.rpc.STATUS_FAILED_PRECONDITION,
                                self.rpc.STATUS_PERMISSION_DENIED):
                raise Refused(f"{stream}: {reply.message} ({reply.detail})")
            if reply.status != self.rpc.STATUS_OK:
                print(f"events.Replay: {self.rpc.Status.Name(reply.status)}: {reply.message}",
                      file=sys.stderr)
                self.retry_at = time.monotonic() + 0.5
                return
            page = self.pb.ReplayReply()
            page.ParseFromString(reply.body)
            for event in page.events:
                if event.stream_seq <= self.cursors.seq[stream]:
                    continue     # a duplicate: already printed
                if not emit(event):
                    return       # asked to stop: the cursor stays on the last printed
                self.cursors.advance(stream, event.stream_seq)
            # Past the events of the page we may not see (other clinics).
            self.cursors.advance(stream, min(page.last_seq, page.head))
            if self.cursors.seq[stream] >= page.head:
                self.behind[stream] = False
            elif self.cursors.seq[stream] == cursor:
                self.retry_at = time.monotonic() + 0.5   # no progress: try later
                return

    def take_live(self):
        """A doorbell or a heartbeat: either only says whether to replay."""
        topic, seq, data = self.sub.recv_multipart()
        if topic == b"_heartbeat":
            hb = self.pb.Heartbeat()
            hb.ParseFromString(data)
            heads = {h.stream: h.head for h in hb.heads}
        else:
            heads = {topic.decode().split(".", 1)[0]: int(seq)}
        for stream, head in heads.items():
            if stream in self.behind and head > self.cursors.seq[stream]:
                self.behind[stream] = True

    def run(self, emit, stopping):
        while not stopping():
            if time.monotonic() >= self.retry_at:
                for stream in self.behind:
                    self.catch_up(stream, emit, stopping)
            if stopping():
                break
            if self.sub.poll(500):
                while self.sub.poll(0):      # every doorbell waiting, then one replay
                    self.take_live()


def main():
    ap = argparse.ArgumentParser(description="Follow meso event streams, printing JSON lines.")
    ap.add_argument("--stream", required=True,
                    help="comma-separated: session, screening, stock, billing")
    ap.add_argument("--from", dest="start", type=int, default=0,
                    help="without a saved cursor, print the events after this stream sequence")
    ap.add_argument("--cursor-file", default=os.environ.get("MESO_CURSOR_FILE", ""),
                    help="where the cursors are kept across restarts (JSON)")
    ap.add_argument("--count", type=int, default=0, help="exit after this many events")
    ap.add_argument("--key", default=os.environ.get("MESO_KEY", ""),
                    help="this integration's key pair, a CZMQ \"<name>.key_secret\" file")
    ap.add_argument("--keys", default=os.environ.get("MESO_KEYS", ""),
                    help="folder holding the events daemon's public key events.key")
    ap.add_argument("--server-key", default="",
                    help="the events daemon's public key file (default <keys>/events.key)")
    ap.add_argument("--router", default=os.environ.get("MESO_EVENTS_ENDPOINT", "tcp://127.0.0.1:7105"))
    ap.add_argument("--pub", default=os.environ.get("MESO_EVENTS_PUB_ENDPOINT", "tcp://127.0.0.1:7106"))
    ap.add_argument("--proto-dir", default=os.path.join(HERE, "..", "..", "..", "proto"))
    args = ap.parse_args()
    streams = [s for s in args.stream.split(",") if s]
    if not streams or any(s not in STREAMS for s in streams):
        ap.error(f"--stream: one or more of {', '.join(STREAMS)}")
    if not args.key:
        ap.error("--key (or MESO_KEY): this integration's .key_secret file")
    args.server_key = args.server_key or os.path.join(args.keys, "events.key")
    if not os.path.exists(args.server_key):
        ap.error(f"no events server key at {args.server_key} (--keys or --server-key)")

    stop = False

    def on_signal(signum, frame):
        nonlocal stop
        stop = True          # finish the event at hand, save, exit
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    from google.protobuf.json_format import MessageToDict

    with tempfile.TemporaryDirectory(prefix="meso-py-") as gen:
        pb, rpc = generate(args.proto_dir, gen)
        printed = 0

        def emit(event):
            nonlocal printed
            if stop or (args.count and printed >= args.count):
                return False
            print(json.dumps(MessageToDict(event, preserving_proto_field_name=True)), flush=True)
            printed += 1
            return True

        def stopping():
            return stop or bool(args.count and printed >= args.count)

        cursors = Cursors(args.cursor_file, streams, args.start)
        ctx = zmq.Context()
        sub = Subscriber(ctx, pb, rpc, args, cursors)
        try:
            sub.run(emit, stopping)
        except Refused as e:
            print(f"replay refused: {e}", file=sys.stderr)
            return 1
        finally:
            cursors.save()
            ctx.destroy(linger=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
