"""xcbench plugin SDK for Python.

A Python component speaks the same protocol as a Go one: the go-plugin
handshake line on stdout, gRPC on a unix socket, the grpc.health.v1 service
go-plugin expects, PluginService plus the service of its kind (messages from
xcbench/plugin/v1/plugin_pb2.py, generated from plugins/proto by Debian's
protoc --python_out and committed), matrices inline or as '<f4' .npy files.

A plugin file is an executable named xcbench-plugin-<anything> whose main is

    import xcbench_sdk as xs
    xs.serve(xs.Component("sampler", "mine", MySampler))

It answers "describe" (a JSON list of its components) and
"serve <kind> <name>" (the gRPC server xcbench talks to), like the Go SDK.

Components are classes with these methods (numpy arrays in and out):

  every kind   describe() -> Info
               configure(cfg: Config)       raise InvalidConfig for bad params
  sampler      plan(epoch) -> RefreshPlan
               refresh(epoch, docs, labels) -> RefreshStats   (arrays or None)
               batches(epoch, batch_size) -> iterable of Batch
  encoder      train_step(batch) -> StepStats
               encode(split, ids) -> float32 array (ids None = all, L2-normalised rows)
               save(dir), load(dir), optionally memory_bank() -> array
  classifier   train(train_docs, labels, epochs) -> TrainStats
               predict(split, docs, k) -> (int32 labels, float32 scores), rows x k

decode_params and schema are the Python twins of sdk.DecodeParams and
sdk.ParamsOf: strict decoding against a dict of defaults, and the
ConfigSchema built from the same dict, so the two cannot drift apart.

Needs Debian's python3-grpcio, python3-protobuf (3.21, matching the
committed plugin_pb2.py) and python3-numpy.
"""

import json
import os
import shutil
import sys
import tempfile
import threading
import time
import traceback
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

import grpc
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from xcbench.plugin.v1 import plugin_pb2 as pb  # noqa: E402  (generated, committed)

API_VERSION = 1
# go-plugin's handshake (plugins/wire.Handshake): fixed forever.
MAGIC_COOKIE_KEY = "XCBENCH_PLUGIN_MAGIC_COOKIE"
MAGIC_COOKIE_VALUE = "6d7bcdd0a4e62acaf765280e7a5965cb"
CORE_PROTOCOL_VERSION = 1
# Matrices up to this many bytes travel inside the message (plugins/wire.InlineLimit).
INLINE_LIMIT = 1 << 20
MAX_MESSAGE_SIZE = 256 << 20

KINDS = ("encoder", "sampler", "classifier")


# ---- errors: the sdk sentinels, mapped to the same status codes ----

class InvalidConfig(Exception):
    """Bad parameters (sdk.ErrInvalidConfig, INVALID_ARGUMENT)."""


class NotConfigured(Exception):
    """Called before configure (sdk.ErrNotConfigured, FAILED_PRECONDITION)."""


class Unimplemented(Exception):
    """Optional call not offered (sdk.ErrUnimplemented, UNIMPLEMENTED)."""


_CODES = [
    (InvalidConfig, grpc.StatusCode.INVALID_ARGUMENT),
    (NotConfigured, grpc.StatusCode.FAILED_PRECONDITION),
    (Unimplemented, grpc.StatusCode.UNIMPLEMENTED),
    (NotImplementedError, grpc.StatusCode.UNIMPLEMENTED),
]


# ---- the contract's data types ----

@dataclass
class Info:
    name: str
    version: str
    capabilities: List[str] = field(default_factory=list)
    config_schema: Optional[dict] = None


@dataclass
class Dataset:
    dir: str
    name: str = ""
    options: Optional[dict] = None


@dataclass
class Config:
    params: bytes
    seed: int
    dataset: Dataset
    scratch_dir: str


@dataclass
class Batch:
    docs: List[int]
    positives: List[int]
    negatives: Optional[List[List[int]]] = None


@dataclass
class RefreshPlan:
    refresh: bool = False
    need_docs: bool = False
    need_labels: bool = False
    doc_source: str = ""


@dataclass
class RefreshStats:
    wall_seconds: float = 0.0
    hardness: float = 0.0
    detail: Dict[str, float] = field(default_factory=dict)


@dataclass
class StepStats:
    loss: float = 0.0
    hardness: float = 0.0
    items: int = 0


@dataclass
class TrainStats:
    loss: float = 0.0
    wall_seconds: float = 0.0
    detail: Dict[str, float] = field(default_factory=dict)


@dataclass
class Component:
    kind: str
    name: str
    new: Callable[[], Any]


# ---- parameters: strict decoding and schema from one dict of defaults ----

def _type_name(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list) and v:
        return "list of " + _type_name(v[0])
    raise TypeError("schema: unsupported default %r" % (v,))


def schema(defaults: dict, docs: Dict[str, str]) -> dict:
    """ConfigSchema {name: {type, default, doc}}; every key needs a doc and
    every doc a key (sdk.ParamsOf)."""
    missing = sorted(set(defaults) - set(docs))
    extra = sorted(set(docs) - set(defaults))
    if missing:
        raise ValueError("schema: param %r has no doc" % missing[0])
    if extra:
        raise ValueError("schema: docs for unknown params %s" % extra)
    return {k: {"type": _type_name(v), "default": v, "doc": docs[k]} for k, v in defaults.items()}


def _check_value(key, want, got):
    kind = _type_name(want)
    if kind == "bool":
        ok = isinstance(got, bool)
    elif kind == "int":
        if isinstance(got, float) and got.is_integer() and abs(got) <= 2 ** 53:
            return int(got)
        if isinstance(got, float):
            raise InvalidConfig("invalid config: parameter %r: %s is not an integer" % (key, got))
        ok = isinstance(got, int) and not isinstance(got, bool)
    elif kind == "float":
        ok = isinstance(got, (int, float)) and not isinstance(got, bool)
        got = float(got) if ok else got
    elif kind == "string":
        ok = isinstance(got, str)
    else:
        ok = isinstance(got, list)
    if not ok:
        raise InvalidConfig("invalid config: parameter %r: want %s, got JSON %s" % (key, kind, json.dumps(got)))
    return got


def decode_params(raw: bytes, defaults: dict) -> dict:
    """Decode a component's JSON params over a copy of defaults, strictly
    (sdk.DecodeParams): unknown keys and wrong types raise InvalidConfig
    naming the key; empty or null raw keeps every default."""
    out = dict(defaults)
    text = (raw or b"").strip()
    if text in (b"", b"null"):
        return out
    try:
        obj = json.loads(text)
    except ValueError as e:
        raise InvalidConfig("invalid config: params must be a JSON object: %s" % e)
    if not isinstance(obj, dict):
        raise InvalidConfig("invalid config: params must be a JSON object, got %s" % type(obj).__name__)
    for k in sorted(obj):
        if k not in defaults:
            raise InvalidConfig("invalid config: unknown parameter %r (known: %s)" % (k, ", ".join(sorted(defaults))))
        if obj[k] is not None:
            out[k] = _check_value(k, defaults[k], obj[k])
    return out


# ---- datasets: the training labels (what a sampler needs) ----

_MASK64 = (1 << 64) - 1


def _splitmix64(x):
    z = (x + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def held_out(n, fraction):
    """The training documents (of n) that the dataset option `validation`
    holds out as the test split, in increasing order: document i is held
    out when splitmix64(i) < fraction * 2^64, compared on the top 53 bits
    exactly as core/data.HeldOut does, so a Python plugin and the Go
    components agree on the split."""
    if not fraction or fraction <= 0:
        return []
    return [i for i in range(n) if (_splitmix64(i) >> 11) / float(1 << 53) < fraction]


def read_train_labels(dataset: Dataset):
    """Training labels of dataset.dir as (labels per document, number of
    labels): trn_X_Y.txt (LF text, pyxclib sparse format) or train.txt
    (legacy BoW). Errors name the file and line. With the dataset option
    `validation`, the held-out documents (held_out) are left out, as the Go
    components leave them out of their training split."""
    labels, cols = _read_all_train_labels(dataset)
    frac = float((dataset.options or {}).get("validation") or 0)
    if frac > 0:
        drop = set(held_out(len(labels), frac))
        labels = [row for i, row in enumerate(labels) if i not in drop]
    return labels, cols


def _read_all_train_labels(dataset: Dataset):
    path = os.path.join(dataset.dir, "trn_X_Y.txt")
    if os.path.exists(path):
        with open(path) as f:
            head = f.readline().split()
            if len(head) != 2:
                raise InvalidConfig("%s:1: header %r: want '<rows> <cols>'" % (path, " ".join(head)))
            rows, cols = int(head[0]), int(head[1])
            out = []
            for ln, line in enumerate(f, start=2):
                labels = []
                for tok in line.split():
                    lab, _, _ = tok.partition(":")
                    j = int(lab)
                    if not 0 <= j < cols:
                        raise InvalidConfig("%s:%d: label %d out of range [0,%d)" % (path, ln, j, cols))
                    labels.append(j)
                out.append(sorted(set(labels)))
        if len(out) != rows:
            raise InvalidConfig("%s: header says %d rows, file has %d" % (path, rows, len(out)))
        return out, cols
    path = os.path.join(dataset.dir, "train.txt")
    if os.path.exists(path):
        with open(path) as f:
            head = f.readline().split()
            rows, cols = int(head[0]), int(head[2])
            out = []
            for line in f:
                first = line.split(" ", 1)[0]
                labels = [] if ":" in first or not first.strip() else [int(x) for x in first.split(",")]
                out.append(sorted(set(labels)))
        return out, cols
    raise InvalidConfig("dataset %s: no trn_X_Y.txt or train.txt (the Python SDK reads LF text and BoW sets)" % dataset.dir)


# ---- matrices ----

def matrix_from_proto(pm) -> Optional[np.ndarray]:
    """A wire matrix as a float32 (rows, cols) array; None when unset."""
    if pm is None or (pm.rows == 0 and pm.cols == 0 and pm.WhichOneof("payload") is None):
        return None
    which = pm.WhichOneof("payload")
    if which == "npy_path":
        a = np.load(pm.npy_path, allow_pickle=False)
        if a.dtype != np.float32 or a.ndim != 2 or (pm.rows or pm.cols) and a.shape != (pm.rows, pm.cols):
            raise InvalidConfig("matrix %s: %s %s, want float32 %dx%d" % (pm.npy_path, a.dtype, a.shape, pm.rows, pm.cols))
        return a
    data = pm.data if which == "data" else b""
    if len(data) != 4 * pm.rows * pm.cols:
        raise InvalidConfig("matrix %dx%d has %d bytes" % (pm.rows, pm.cols, len(data)))
    return np.frombuffer(data, dtype="<f4").reshape(pm.rows, pm.cols).astype(np.float32)


_seq = [0]


def matrix_to_proto(a: Optional[np.ndarray], scratch_dir: str, what: str):
    """An array for the wire: inline up to INLINE_LIMIT bytes, else a .npy
    in scratch_dir written under a temporary name and renamed."""
    if a is None:
        return None
    a = np.ascontiguousarray(a, dtype="<f4")
    if a.ndim != 2:
        raise ValueError("%s: matrix must be 2-D, got shape %s" % (what, a.shape))
    pm = pb.Matrix(rows=a.shape[0], cols=a.shape[1])
    if a.nbytes <= INLINE_LIMIT:
        pm.data = a.tobytes()
        return pm
    _seq[0] += 1
    d = scratch_dir or tempfile.gettempdir()
    path = os.path.join(d, "%s-%d-%d.npy" % (what, os.getpid(), _seq[0]))
    tmp = path + ".tmp.npy"
    np.save(tmp, a)
    os.rename(tmp, path)
    pm.npy_path = path
    return pm


# ---- the gRPC services ----

def _guard(call):
    """Run a component call, mapping its exceptions to status codes (a
    component bug fails the call, never the process)."""
    def wrap(fn):
        def handler(request, context):
            try:
                return fn(request, context)
            except grpc.RpcError:
                raise
            except Exception as e:  # noqa: BLE001  (every error crosses as a status)
                for cls, code in _CODES:
                    if isinstance(e, cls):
                        context.abort(code, str(e) or cls.__name__)
                sys.stderr.write("%s: %s\n" % (call, traceback.format_exc()))
                context.abort(grpc.StatusCode.INTERNAL, "%s: %s: %s" % (call, type(e).__name__, e))
        return handler
    return wrap


def _stream_guard(call):
    def wrap(fn):
        def handler(request, context):
            try:
                yield from fn(request, context)
            except Exception as e:  # noqa: BLE001
                for cls, code in _CODES:
                    if isinstance(e, cls):
                        context.abort(code, str(e) or cls.__name__)
                sys.stderr.write("%s: %s\n" % (call, traceback.format_exc()))
                context.abort(grpc.StatusCode.INTERNAL, "%s: %s: %s" % (call, type(e).__name__, e))
        return handler
    return wrap


def _unary(fn, req):
    return grpc.unary_unary_rpc_method_handler(fn, request_deserializer=req.FromString,
                                               response_serializer=lambda m: m.SerializeToString())


def _stream(fn, req):
    return grpc.unary_stream_rpc_method_handler(fn, request_deserializer=req.FromString,
                                                response_serializer=lambda m: m.SerializeToString())


def _info_json(kind, info: Info):
    return {"name": info.name, "kind": kind, "version": info.version, "api_versions": [API_VERSION],
            "capabilities": list(info.capabilities), "config_schema": info.config_schema or {}}


def _ids(ids):
    return [int(x) for x in ids]


class _Servicer:
    def __init__(self, kind, impl):
        self.kind, self.impl, self.scratch = kind, impl, ""

    def handlers(self):
        out = [grpc.method_handlers_generic_handler("xcbench.plugin.v1.PluginService", {
            "Describe": _unary(_guard("Describe")(self.describe), pb.DescribeRequest),
            "Configure": _unary(_guard("Configure")(self.configure), pb.ConfigureRequest),
        })]
        if self.kind == "sampler":
            out.append(grpc.method_handlers_generic_handler("xcbench.plugin.v1.SamplerService", {
                "Plan": _unary(_guard("Plan")(self.plan), pb.PlanRequest),
                "Refresh": _unary(_guard("Refresh")(self.refresh), pb.RefreshRequest),
                "Batches": _stream(_stream_guard("Batches")(self.batches), pb.BatchesRequest),
            }))
        elif self.kind == "encoder":
            out.append(grpc.method_handlers_generic_handler("xcbench.plugin.v1.EncoderService", {
                "TrainStep": _unary(_guard("TrainStep")(self.train_step), pb.TrainStepRequest),
                "Encode": _unary(_guard("Encode")(self.encode), pb.EncodeRequest),
                "Save": _unary(_guard("Save")(self.save), pb.SaveRequest),
                "Load": _unary(_guard("Load")(self.load), pb.LoadRequest),
                "MemoryBank": _unary(_guard("MemoryBank")(self.memory_bank), pb.MemoryBankRequest),
            }))
        else:
            out.append(grpc.method_handlers_generic_handler("xcbench.plugin.v1.ClassifierService", {
                "Train": _unary(_guard("Train")(self.train), pb.TrainRequest),
                "Predict": _stream(_stream_guard("Predict")(self.predict), pb.PredictRequest),
            }))
        return out

    # PluginService
    def describe(self, req, ctx):
        j = _info_json(self.kind, self.impl.describe())
        return pb.DescribeResponse(name=j["name"], kind=self.kind, version=j["version"], api_versions=j["api_versions"],
                                   capabilities=j["capabilities"], config_schema_json=json.dumps(j["config_schema"]))

    def configure(self, req, ctx):
        opts = json.loads(req.dataset.options_json) if req.dataset.options_json else None
        cfg = Config(params=bytes(req.params_json), seed=req.seed, scratch_dir=req.scratch_dir,
                     dataset=Dataset(dir=req.dataset.dir, name=req.dataset.name, options=opts))
        self.impl.configure(cfg)
        self.scratch = req.scratch_dir
        return pb.ConfigureResponse()

    # SamplerService
    def plan(self, req, ctx):
        p = self.impl.plan(req.epoch)
        return pb.PlanResponse(refresh=p.refresh, need_docs=p.need_docs, need_labels=p.need_labels, doc_source=p.doc_source)

    def refresh(self, req, ctx):
        docs = matrix_from_proto(req.docs) if req.HasField("docs") else None
        labels = matrix_from_proto(req.labels) if req.HasField("labels") else None
        t0 = time.monotonic()
        st = self.impl.refresh(req.epoch, docs, labels)
        wall = st.wall_seconds or (time.monotonic() - t0)
        return pb.RefreshResponse(wall_ns=int(wall * 1e9), hardness=st.hardness, detail=st.detail)

    def batches(self, req, ctx):
        for b in self.impl.batches(req.epoch, req.batch_size):
            if not ctx.is_active():
                return
            yield pb.BatchesResponse(batch=_batch_to_proto(b))

    # EncoderService
    def train_step(self, req, ctx):
        b = req.batch
        neg = [list(n.ids) for n in b.negatives] if len(b.negatives) else None
        st = self.impl.train_step(Batch(docs=list(b.docs), positives=list(b.positives), negatives=neg))
        return pb.TrainStepResponse(loss=st.loss, hardness=st.hardness, items=st.items)

    def encode(self, req, ctx):
        ids = None if req.all_items else _ids(req.ids)
        return pb.EncodeResponse(embeddings=matrix_to_proto(self.impl.encode(req.split, ids), self.scratch, "encode-" + req.split))

    def save(self, req, ctx):
        self.impl.save(req.dir)
        return pb.SaveResponse()

    def load(self, req, ctx):
        self.impl.load(req.dir)
        return pb.LoadResponse()

    def memory_bank(self, req, ctx):
        if not hasattr(self.impl, "memory_bank"):
            raise Unimplemented("this encoder keeps no memory bank")
        return pb.MemoryBankResponse(embeddings=matrix_to_proto(self.impl.memory_bank(), self.scratch, "memory-bank"))

    # ClassifierService
    def train(self, req, ctx):
        t0 = time.monotonic()
        st = self.impl.train(matrix_from_proto(req.train_docs), matrix_from_proto(req.labels), req.epochs)
        wall = st.wall_seconds or (time.monotonic() - t0)
        return pb.TrainResponse(loss=st.loss, wall_ns=int(wall * 1e9), detail=st.detail)

    def predict(self, req, ctx):
        labels, scores = self.impl.predict(req.split, matrix_from_proto(req.docs), req.k)
        labels = np.asarray(labels, dtype=np.int32)
        scores = np.asarray(scores, dtype=np.float32)
        rows = labels.shape[0]
        k = labels.shape[1] if labels.ndim == 2 else req.k
        if labels.shape != (rows, k) or scores.shape != (rows, k):
            raise ValueError("predict returned labels %s and scores %s, want %dx%d" % (labels.shape, scores.shape, rows, k))
        chunk = max(1, (1 << 20) // max(1, 8 * k))  # about 1 MiB per message
        for start in range(0, max(rows, 1), chunk):
            end = min(rows, start + chunk)
            yield pb.PredictResponse(total_rows=rows, k=k, row_start=start,
                                     labels=labels[start:end].ravel().tolist(), scores=scores[start:end].ravel().tolist())


def _batch_to_proto(b: Batch):
    pbb = pb.Batch(docs=_ids(b.docs), positives=_ids(b.positives))
    if b.negatives is not None:
        for n in b.negatives:
            pbb.negatives.add(ids=_ids(n))
    return pbb


def _health_and_controller(stop):
    # grpc.health.v1.Health/Check answering SERVING (field 1 = 1), and
    # go-plugin's GRPCController/Shutdown (Empty -> Empty): tiny messages,
    # encoded by hand so no further generated code is needed.
    def check(req, ctx):
        return b"\x08\x01"

    def shutdown(req, ctx):
        threading.Thread(target=stop, daemon=True).start()
        return b""

    ident = dict(request_deserializer=lambda b: b, response_serializer=lambda b: b)
    return [
        grpc.method_handlers_generic_handler("grpc.health.v1.Health", {"Check": grpc.unary_unary_rpc_method_handler(check, **ident)}),
        grpc.method_handlers_generic_handler("plugin.GRPCController", {"Shutdown": grpc.unary_unary_rpc_method_handler(shutdown, **ident)}),
    ]


# Debugging (plugins/wire's reattach mode): with XCBENCH_PLUGIN_DEBUG set
# the plugin is started by hand (under pdb, say), prints the line that
# points xcbench at it, and serves until interrupted.
DEBUG_ENV = "XCBENCH_PLUGIN_DEBUG"
REATTACH_ENV = "XCBENCH_REATTACH_PLUGINS"


def _serve_component(kind, name, impl):
    debug = bool(os.environ.get(DEBUG_ENV))
    if not debug and os.environ.get(MAGIC_COOKIE_KEY) != MAGIC_COOKIE_VALUE:
        raise SystemExit("this is an xcbench plugin; xcbench starts it (the handshake cookie is missing)")
    versions = [v for v in os.environ.get("PLUGIN_PROTOCOL_VERSIONS", str(API_VERSION)).split(",") if v]
    if str(API_VERSION) not in versions:
        raise SystemExit("host speaks plugin API versions %s, this plugin %d" % (versions, API_VERSION))
    sock_dir = tempfile.mkdtemp(prefix="xcbench-py-", dir=os.environ.get("PLUGIN_UNIX_SOCKET_DIR") or None)
    sock = os.path.join(sock_dir, "plugin.sock")
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), options=[
        ("grpc.max_receive_message_length", MAX_MESSAGE_SIZE), ("grpc.max_send_message_length", MAX_MESSAGE_SIZE)])
    done = threading.Event()

    def stop():
        server.stop(grace=0.5).wait()
        done.set()

    for h in _Servicer(kind, impl).handlers() + _health_and_controller(stop):
        server.add_generic_rpc_handlers((h,))
    server.add_insecure_port("unix:" + sock)
    server.start()
    if debug:
        line = json.dumps({"%s/%s" % (kind, name): {"Protocol": "grpc", "ProtocolVersion": API_VERSION, "Pid": os.getpid(),
                                                    "Test": True, "Addr": {"Network": "unix", "String": sock}}})
        sys.stdout.write("xcbench plugin %s/%s (pid %d) is waiting; point xcbench at it with:\n" % (kind, name, os.getpid()))
        sys.stdout.write("export %s='%s'\n" % (REATTACH_ENV, line))
        sys.stdout.flush()
        try:
            done.wait()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop(0)
            shutil.rmtree(sock_dir, ignore_errors=True)
        return
    # go-plugin's handshake: core version | app version | network | address | protocol
    sys.stdout.write("%d|%d|unix|%s|grpc\n" % (CORE_PROTOCOL_VERSION, API_VERSION, sock))
    sys.stdout.flush()
    parent = os.getppid()
    try:
        # Exit with the host, even when it was SIGKILLed (go-plugin leaves
        # orphans otherwise).
        while not done.wait(1.0):
            if os.getppid() != parent:
                sys.stderr.write("host process exited; shutting down\n")
                break
    finally:
        server.stop(0)
        shutil.rmtree(sock_dir, ignore_errors=True)


def serve(*components: Component):
    """The main of a plugin file: "describe" or "serve <kind> <name>"."""
    args = sys.argv[1:]
    usage = "usage: describe | serve <kind> <name>"
    if not args:
        sys.exit("%s: %s (this is an xcbench plugin; xcbench starts it)" % (sys.argv[0], usage))
    if args[0] == "describe":
        out = []
        for c in components:
            out.append({"kind": c.kind, "name": c.name, "info": _info_json(c.kind, c.new().describe())})
        json.dump(out, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    if args[0] == "serve" and len(args) == 3:
        kind, name = args[1], args[2]
        for c in components:
            if c.kind == kind and c.name == name:
                _serve_component(kind, name, c.new())
                return
        have = ", ".join(c.name for c in components if c.kind == kind)
        sys.exit("%s: no %s named %r here (have: %s)" % (sys.argv[0], kind, name, have))
    sys.exit("%s: %s" % (sys.argv[0], usage))
