#!/usr/bin/python3
"""meso_client.py -- call meso's daemons from Python, with the classes
generated from the contract (proto/meso/v1).

    import meso_client
    client = meso_client.Client(key="people/ana.key_secret", keys=".local/keys")
    plan = client.scheduling.PlanCourse(client.types.PlanCourseRequest(spec=...))
    try:
        booked = client.scheduling.BookCourse(client.types.BookCourseRequest(spec=...))
    except meso_client.MesoError as e:
        print(e.status_name, e.message, [r.field for r in e.reasons])

What it does for the caller (README, "The wire protocol"):
- the methods: every rpc of the service blocks (ScreeningService,
  SchedulingService, ...) becomes a method of client.<service>, named as
  in the contract, taking the rpc's input message (or its fields as
  keyword arguments) and returning its output message. The wire name is
  "<service>.<Method>", the service being the block's name without
  "Service", in lower case.
- the envelope (rpc.proto): a DEALER socket per daemon sends an empty
  delimiter frame and one packed meso.v1.Request (request id, method,
  idempotency key, deadline, the body packed); the reply is an empty frame
  and one packed meso.v1.Reply with the same request id. Replies to other
  request ids (late answers to earlier attempts) are dropped.
- idempotency and retries: every call carries an idempotency key (a new
  one per call unless given: mutating methods need one, reads ignore it).
  An attempt unanswered after retry_ms (1 s) is sent again, the very same
  bytes, until the call's deadline; the daemon's idempotency store turns
  "maybe twice" into "once". No reply by the deadline raises MesoError
  DEADLINE_EXCEEDED: the outcome is unknown, call again with the same
  idempotency_key.
- status: any status other than OK raises MesoError with the status, the
  one-line message, the detail and the reasons (field and rule at fault).
- CURVE: every socket is authenticated and encrypted. The caller's key
  pair is a CZMQ certificate "<name>.key_secret" (what mesoctl keys init
  and mesoctl access add write); each daemon's public key is
  "<service>.key" in the keys folder. The caller must be a registered
  principal (mesoctl access add): the daemons know who calls from the key,
  and the actor a caller could write is not believed, so none is sent.
- the generated classes: from stubs (a folder holding meso/v1/*_pb2.py,
  made by the build with protoc --python_out into build/python, or
  MESO_PY_STUBS), else generated from proto/ with protoc into a temporary
  folder, so they always match the contract they were made from.

Debian packages: python3-zmq python3-protobuf protobuf-compiler.
"""
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

import zmq
import zmq.auth

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_DIR = os.path.join(HERE, "..", "..", "proto")
FILES = ["common", "rpc", "events", "screening", "scheduling", "inventory", "billing", "webhooks"]
PORTS = {"screening": 7101, "scheduling": 7102, "inventory": 7103, "billing": 7104,
         "events": 7105, "webhooks": 7107}
DEFAULT_DEADLINE_MS = 10000
DEFAULT_RETRY_MS = 1000


class MesoError(Exception):
    """A reply other than OK, or no reply by the deadline."""

    def __init__(self, method, status, status_name, message, detail="", reasons=()):
        self.method = method
        self.status = status              # the code, e.g. 3
        self.status_name = status_name    # e.g. "INVALID_ARGUMENT"
        self.message = message
        self.detail = detail
        self.reasons = list(reasons)      # meso.v1.Reason: code, field, message
        fields = ", ".join(r.field for r in self.reasons if r.field)
        super().__init__(f"{method}: {status_name}: {message}"
                         + (f" [{fields}]" if fields else ""))


class Contract:
    """The generated modules and the service blocks read from them."""

    def __init__(self, stubs=None, proto_dir=PROTO_DIR):
        stubs = stubs or os.environ.get("MESO_PY_STUBS") or None
        if not stubs:
            stubs = tempfile.mkdtemp(prefix="meso-py-")
            atexit.register(shutil.rmtree, stubs, True)
            subprocess.run(["protoc", "--python_out=" + stubs, "-I", proto_dir]
                           + [f"meso/v1/{f}.proto" for f in FILES], check=True)
        if not os.path.exists(os.path.join(stubs, "meso", "v1", "rpc_pb2.py")):
            raise FileNotFoundError(f"no generated meso/v1/rpc_pb2.py under {stubs}")
        if stubs not in sys.path:
            sys.path.insert(0, stubs)
        import importlib
        self.modules = {f: importlib.import_module(f"meso.v1.{f}_pb2") for f in FILES}
        self.rpc = self.modules["rpc"]
        self.services = {}      # "scheduling" -> ServiceDescriptor
        for mod in self.modules.values():
            for name, sd in mod.DESCRIPTOR.services_by_name.items():
                self.services[name[:-len("Service")].lower()] = sd
        from google.protobuf import message_factory
        self._classes = {}
        for mod in self.modules.values():
            for name in mod.DESCRIPTOR.message_types_by_name:
                self._classes[name] = getattr(mod, name)
        self._factory = message_factory

    def message_class(self, descriptor):
        cls = self._classes.get(descriptor.name)
        if cls is not None and cls.DESCRIPTOR.full_name == descriptor.full_name:
            return cls
        return self._factory.MessageFactory().GetPrototype(descriptor)

    def __getattr__(self, name):
        """contract.BookCourseRequest, contract.Sex, contract.SEX_FEMALE: a
        message class, an enum or an enum value of the contract by name."""
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._classes:
            return self._classes[name]
        for mod in self.modules.values():
            if hasattr(mod, name):
                return getattr(mod, name)
        raise AttributeError(f"the contract has no message, enum or value {name!r}")


def _server_key(path):
    public, _ = zmq.auth.load_certificate(path)
    return public


class Service:
    """client.<service>: one DEALER socket to the daemon's endpoints and a
    method per rpc of its service block."""

    def __init__(self, client, name, descriptor, endpoint, server_key):
        self._client = client
        self._name = name
        self._endpoint = endpoint
        self._sock = client._ctx.socket(zmq.DEALER)
        self._sock.setsockopt(zmq.LINGER, 0)
        self._sock.setsockopt(zmq.IMMEDIATE, 1)
        self._sock.curve_publickey = client._public
        self._sock.curve_secretkey = client._secret
        self._sock.curve_serverkey = server_key
        for ep in endpoint.split(","):
            self._sock.connect(ep)
        self.methods = {}
        for m in descriptor.methods:
            self.methods[m.name] = m
            setattr(self, m.name, self._method(m))

    def _method(self, md):
        contract = self._client.contract
        in_cls = contract.message_class(md.input_type)
        out_cls = contract.message_class(md.output_type)
        wire = f"{self._name}.{md.name}"

        def call(request=None, *, idempotency_key=None, deadline_ms=None, **fields):
            if request is None:
                request = in_cls(**fields)
            elif fields:
                raise TypeError(f"{wire}: pass either a {in_cls.__name__} or its fields")
            if request.DESCRIPTOR.full_name != md.input_type.full_name:
                raise TypeError(f"{wire} takes a {md.input_type.full_name}, "
                                f"not a {request.DESCRIPTOR.full_name}")
            body = self._call(wire, request.SerializeToString(), idempotency_key, deadline_ms)
            out = out_cls()
            out.ParseFromString(body)
            return out
        call.__name__ = md.name
        call.__doc__ = f"{wire}({md.input_type.name}) -> {md.output_type.name}"
        return call

    def _call(self, method, body, idempotency_key, deadline_ms):
        rpc = self._client.contract.rpc
        deadline_ms = deadline_ms or self._client.deadline_ms
        req = rpc.Request(request_id=uuid.uuid4().hex, method=method,
                          idempotency_key=idempotency_key or uuid.uuid4().hex,
                          deadline_ms=deadline_ms, body=body)
        frames = [b"", req.SerializeToString()]
        deadline = time.monotonic() + deadline_ms / 1000
        sent_at = None
        while (left := deadline - time.monotonic()) > 0:
            if sent_at is None or time.monotonic() - sent_at >= self._client.retry_ms / 1000:
                try:
                    self._sock.send_multipart(frames, zmq.DONTWAIT)
                    sent_at = time.monotonic()
                except zmq.Again:       # no daemon connected yet: try again soon
                    time.sleep(0.02)
                    continue
            wait = min(left, self._client.retry_ms / 1000 - (time.monotonic() - sent_at))
            if wait > 0 and self._sock.poll(max(1, int(wait * 1000))):
                reply = rpc.Reply()
                reply.ParseFromString(self._sock.recv_multipart()[-1])
                if reply.request_id != req.request_id:
                    continue            # a late answer to an earlier call
                if reply.status != rpc.STATUS_OK:
                    name = rpc.Status.Name(reply.status).removeprefix("STATUS_")
                    raise MesoError(method, reply.status, name, reply.message, reply.detail,
                                    reply.reasons)
                return reply.body
        raise MesoError(method, rpc.STATUS_DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED",
                        f"no reply from {self._endpoint} within {deadline_ms} ms; the outcome "
                        f"is unknown: call again with the same idempotency_key "
                        f"({req.idempotency_key})")

    def close(self):
        self._sock.close(0)


class Client:
    """Every daemon of one meso installation.

    key: this caller's key pair, a CZMQ "<name>.key_secret" file (MESO_KEY);
    keys: the folder of the daemons' public keys "<service>.key" (MESO_KEYS);
    endpoints: {"scheduling": "tcp://host:7102", ...}, else
    MESO_<SERVICE>_ENDPOINT, else 127.0.0.1 and the default ports;
    server_keys: {"events": "path/events.key"}, a daemon's public key file
    elsewhere than in keys;
    stubs: the folder of the generated modules (see Contract), else they
    are generated from proto_dir (default: the checkout's proto/)."""

    def __init__(self, key=None, keys=None, endpoints=None, stubs=None, server_keys=None,
                 deadline_ms=DEFAULT_DEADLINE_MS, retry_ms=DEFAULT_RETRY_MS, context=None,
                 proto_dir=PROTO_DIR):
        key = key or os.environ.get("MESO_KEY")
        keys = keys or os.environ.get("MESO_KEYS")
        self._server_keys = dict(server_keys or {})
        if not key or not (keys or self._server_keys):
            raise ValueError("a key pair (key=, MESO_KEY) and the daemons' public keys "
                             "(keys=, MESO_KEYS, or server_keys=) are needed")
        self._public, self._secret = zmq.auth.load_certificate(key)
        if self._secret is None:
            raise ValueError(f"{key} holds no secret key (use the .key_secret file)")
        self.keys = keys
        self.contract = Contract(stubs, proto_dir)
        self.types = self.contract
        self.deadline_ms = deadline_ms
        self.retry_ms = retry_ms
        self._ctx = context or zmq.Context.instance()
        self._endpoints = dict(endpoints or {})
        self._services = {}

    def service(self, name):
        """The daemon serving service name ("scheduling"), connected on first use."""
        if name not in self._services:
            sd = self.contract.services.get(name)
            if sd is None:
                raise AttributeError(f"the contract has no service {name!r}; it has "
                                     + ", ".join(sorted(self.contract.services)))
            endpoint = (self._endpoints.get(name)
                        or os.environ.get(f"MESO_{name.upper()}_ENDPOINT")
                        or f"tcp://127.0.0.1:{PORTS.get(name, 0)}")
            path = self._server_keys.get(name) or os.path.join(self.keys or ".", f"{name}.key")
            self._services[name] = Service(self, name, sd, endpoint, _server_key(path))
        return self._services[name]

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return self.service(name)

    def close(self):
        for s in self._services.values():
            s.close()
        self._services.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
