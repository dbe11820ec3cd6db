#!/usr/bin/python3
"""subscriber.py -- follow one meso event stream from Python, every event once,
in order, printed as JSON lines.

This is the recipe of meso's own C subscriber (common/src/subscriber.c),
written out plainly for integrations:

  1. open the SUB socket first (topics "<stream>." and "_heartbeat"),
  2. ask the events daemon's ROUTER for everything after our cursor
     ("events.Replay", page after page, until the head),
  3. then take the live feed: drop what we have seen (seq <= cursor), and
     replay again when a sequence is skipped (a gap) or when the heartbeat,
     sent every second, shows a head beyond our cursor (a lost tail).

The live feed alone is not enough: PUB drops what it sends before we are
connected and when our queue is full, silently.

Requests use the envelope of proto/meso/v1/rpc.proto over a DEALER socket:
an empty delimiter frame, then one packed meso.v1.Request; the reply is an
empty frame and one packed meso.v1.Reply with the same request_id. (A DEALER
rather than a REQ: a REQ socket is stuck for good after one lost reply.)

The Python code for the messages is generated from proto/ with protoc at
start-up, into a temporary folder, so it always matches the contract.

With --cursor-file the cursor survives a restart: it is read at start (it
wins over --from) and rewritten (a temporary file renamed over it) after
each event printed, so a restarted subscriber goes on after the last event
it printed. Printed, then stored: a crash between the two prints that one
event again; an integration that stores its cursor in the transaction of
its own effect has no such window.

SIGTERM and SIGINT end it cleanly (exit status 0). Python leaves SIGTERM at
its default action, which the kernel does not apply to PID 1: as a
container's first process it would ignore `docker stop` until the SIGKILL.

Debian packages: python3-zmq python3-protobuf protobuf-compiler.

    /usr/bin/python3 subscriber.py --stream session --from 0
    /usr/bin/python3 subscriber.py --stream session --cursor-file session.cursor
    /usr/bin/python3 subscriber.py --stream stock --count 50 \
        --router tcp://127.0.0.1:7105 --pub tcp://127.0.0.1:7106
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

HERE = os.path.dirname(os.path.abspath(__file__))
PAGE = 1000          # events per replay request
REPLY_WAIT_MS = 2000 # how long to wait for one replay reply


def generate(proto_dir, out_dir):
    """Runs protoc --python_out for the two files we need; returns the modules."""
    files = ["meso/v1/rpc.proto", "meso/v1/events.proto"]
    subprocess.run(["protoc", "--python_out=" + out_dir, "-I", proto_dir] + files, check=True)
    sys.path.insert(0, out_dir)
    from meso.v1 import events_pb2, rpc_pb2  # noqa: E402 (generated just now)
    return events_pb2, rpc_pb2


def read_cursor(path, default):
    """The stored cursor, or default when there is none yet."""
    try:
        with open(path) as f:
            return int(f.read().strip() or default)
    except FileNotFoundError:
        return default


def store_cursor(path, seq):
    """Replaces the stored cursor atomically (write, fsync, rename)."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % seq)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class Refused(Exception):
    """The daemon refused the replay: events pruned or cursor beyond the log."""


class Subscriber:
    def __init__(self, ctx, pb, rpc, router, pub, stream, cursor):
        self.pb, self.rpc = pb, rpc
        self.stream, self.cursor = stream, cursor
        self.sub = ctx.socket(zmq.SUB)
        for ep in pub.split(","):
            self.sub.connect(ep)
        self.sub.setsockopt(zmq.SUBSCRIBE, (stream + ".").encode())
        self.sub.setsockopt(zmq.SUBSCRIBE, b"_heartbeat")
        self.dealer = ctx.socket(zmq.DEALER)
        self.dealer.setsockopt(zmq.LINGER, 0)
        for ep in router.split(","):
            self.dealer.connect(ep)
        self.behind = True       # replay first
        self.retry_at = 0.0

    def call(self, method, body):
        """One request, one reply (or None on timeout: retry later)."""
        req = self.rpc.Request(request_id=uuid.uuid4().hex, method=method,
                               deadline_ms=REPLY_WAIT_MS, body=body.SerializeToString())
        req.actor.kind = self.rpc.Actor.KIND_INTEGRATION
        req.actor.id = "python-example"
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

    def offer(self, event, emit):
        """The one gate: duplicates dropped, the next one handled, a gap noted."""
        if event.stream_seq <= self.cursor:
            return
        if event.stream_seq != self.cursor + 1:
            self.behind = True   # the log has the missing ones: replay
            return
        emit(event)
        self.cursor = event.stream_seq

    def catch_up(self, emit):
        while self.behind:
            rq = self.pb.ReplayRequest(stream=self.stream, after_seq=self.cursor, limit=PAGE)
            reply = self.call("events.Replay", rq)
            if reply is None:
                print(f"no reply to events.Replay; retrying", file=sys.stderr)
                self.retry_at = time.monotonic() + 0.5
                return
            if reply.status == self.rpc.STATUS_FAILED_PRECONDITION:
                raise Refused(f"{reply.message} ({reply.detail})")
            if reply.status != self.rpc.STATUS_OK:
                print(f"events.Replay: {self.rpc.Status.Name(reply.status)}: {reply.message}",
                      file=sys.stderr)
                self.retry_at = time.monotonic() + 0.5
                return
            page = self.pb.ReplayReply()
            page.ParseFromString(reply.body)
            for event in page.events:
                self.offer(event, emit)
            if self.cursor >= page.head:
                self.behind = False
            elif not page.events:
                self.retry_at = time.monotonic() + 0.5
                return

    def take_live(self, emit):
        topic, _seq, data = self.sub.recv_multipart()
        if topic == b"_heartbeat":
            hb = self.pb.Heartbeat()
            hb.ParseFromString(data)
            for h in hb.heads:
                if h.stream == self.stream and h.head > self.cursor:
                    self.behind = True   # we lost the tail of a burst
        else:
            event = self.pb.Event()
            event.ParseFromString(data)
            self.offer(event, emit)

    def run(self, emit, done):
        while not done():
            if self.behind and time.monotonic() >= self.retry_at:
                self.catch_up(emit)
            if done():
                break
            if self.sub.poll(500):
                self.take_live(emit)


def main():
    ap = argparse.ArgumentParser(description="Follow a meso event stream, printing JSON lines.")
    ap.add_argument("--stream", required=True, choices=["session", "screening", "stock", "billing"])
    ap.add_argument("--from", dest="cursor", type=int, default=0,
                    help="print the events after this stream sequence (default 0: all retained)")
    ap.add_argument("--count", type=int, default=0, help="exit after this many events")
    ap.add_argument("--cursor-file", help="keep the cursor in this file: read at start "
                    "(instead of --from when it exists), rewritten after each event printed")
    ap.add_argument("--router", default=os.environ.get("MESO_EVENTS_ENDPOINT", "tcp://127.0.0.1:7105"))
    ap.add_argument("--pub", default=os.environ.get("MESO_EVENTS_PUB_ENDPOINT", "tcp://127.0.0.1:7106"))
    ap.add_argument("--proto-dir", default=os.path.join(HERE, "..", "..", "..", "proto"))
    args = ap.parse_args()

    from google.protobuf.json_format import MessageToDict

    stopping = False

    def stop(_signum, _frame):
        nonlocal stopping
        stopping = True
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    if args.cursor_file:
        args.cursor = read_cursor(args.cursor_file, args.cursor)

    with tempfile.TemporaryDirectory(prefix="meso-py-") as gen:
        pb, rpc = generate(args.proto_dir, gen)
        printed = 0

        def emit(event):
            nonlocal printed
            if args.count and printed >= args.count:
                return           # a page may hold more than we were asked for
            print(json.dumps(MessageToDict(event, preserving_proto_field_name=True)), flush=True)
            printed += 1
            if args.cursor_file:
                store_cursor(args.cursor_file, event.stream_seq)

        ctx = zmq.Context()
        sub = Subscriber(ctx, pb, rpc, args.router, args.pub, args.stream, args.cursor)
        try:
            sub.run(emit, lambda: stopping or (args.count and printed >= args.count))
        except Refused as e:
            print(f"replay refused: {e}", file=sys.stderr)
            return 1
        finally:
            ctx.destroy(linger=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
