"""The chain panel's engine over a genviz server: ``RemoteChainRunner`` is a ``ChainRunner`` whose chains run in
a server session (no Ray, no Qt, no torch on the client).

The chain panel does not change: it calls ``new_chain``, ``branch_from`` and the engine's stepper protocol
(``wants_step``/``step``) as it does in-process, on the engine thread, and reads the same ``ChainState``. Record
previews and figures arrive over HTTP (``genviz.remote.wire``); the float32 states stay on the server, where
branching uses them, so a client ``Record`` has ``x=None``.

Stepping: Step sends one ``step`` call (one record back). Run sends ``run`` once and then long-polls ``records``:
the server steps at its own speed and each poll returns every record computed since the last one (all of them,
in order: the panel scrubs and exports the whole history), so a slow client costs the server nothing and never
builds a queue. Pause or Stop sends ``pause``/``cancel`` (the server stops after the step it is computing) and
takes the records that came meanwhile. Slow motion (a step interval) steps one call at a time.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..gui.chain_runner import LoadedModel
from ..gui.chain_state import Branch, ChainState
from .client import ConnectionLost, RemoteClient, RemoteError
from .wire import record_from_wire

POLL_WAIT_S = 0.25  # a long poll waits this long for the next record
GATHER_S = 0.05     # ... and this much longer for the ones after it (the live view lags at most this)


@dataclass
class RemoteModel:
    """What the GUI needs to know about a model that lives on a server (shapes, traits, defaults; no network).

    ``remote`` is True: panels other than the chain panel say they need a local model (``genviz.panels``).
    """

    name: str
    family: str
    dataset: str
    data_shape: tuple
    data_range: tuple
    traits: object
    default_sampler: dict
    num_train_timesteps: int
    device: str
    server: str
    metadata: dict = field(default_factory=dict)
    path: str = ""
    remote: bool = True

    @property
    def is_image(self) -> bool:
        return len(self.data_shape) == 3

    def to(self, device):
        raise ValueError(f"{self.name} runs on the server {self.server} (on {self.device}); its device is chosen "
                         "there (genviz serve --num-gpus)")

    def __getattr__(self, name: str):
        # anything beyond the description (the network, predict_eps, decode, ...) is on the server: a tool that
        # needs it says so in one line instead of failing somewhere inside the backend
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(f"{name}: {self.__dict__.get('name', 'the model')} runs on the server "
                             f"{self.__dict__.get('server', '')}; this needs a local model (File ▸ Disconnect from server)")


@dataclass
class RemoteClassifier:
    """Stands for the server's classifier (the chain's judge): the records arrive with its probabilities."""

    classes: list
    name: str = "classifier"
    device: str = "server"


def remote_loaded(client: RemoteClient, desc: dict) -> LoadedModel:
    """A ``LoadedModel`` for the GUI from a server session's model description (``ChainSession.describe``)."""
    from ..backend.registry import traits
    from ..backend.samplers import get_sampler
    t = desc["traits"]
    tr = traits(*t.get("sampler_kinds", ()), **{f: True for f in t.get("flags", ())})
    m = RemoteModel(name=desc["name"], family=desc["family"], dataset=desc["dataset"],
                    data_shape=tuple(desc["data_shape"]), data_range=tuple(desc["data_range"]), traits=tr,
                    default_sampler=dict(desc["default_sampler"]), num_train_timesteps=int(desc["num_train_timesteps"]),
                    device=f"{desc['device']} on {client.url}", server=client.url, metadata=dict(desc.get("metadata") or {}),
                    path=desc.get("path", ""))
    samplers = []
    for name in desc.get("samplers", ()):
        try:
            samplers.append(get_sampler(name))
        except ValueError:  # a sampler this client does not know (a newer server): left out
            continue
    classes = desc.get("classifier_classes")
    clf = RemoteClassifier(list(classes), str(desc.get("classifier_name") or "classifier")) if classes is not None else None
    return LoadedModel(m, clf, samplers, ["server"], desc.get("note", ""))


class RemoteChainRunner:
    """``ChainRunner``'s interface (``set_model``, ``new_chain``, ``branch_from``, ``move``, ``wants_step``,
    ``step``) for chains that run in the server session ``session`` of ``client``. Engine thread only.

    Attributes:
        lost: the one-line reason when the connection was lost (None while it works); ``reconnect`` clears it.
    """

    def __init__(self, state: ChainState, client: RemoteClient, session: str):
        self.state = state
        self.client = client
        self.session = session
        self.model = None
        self.classifier = None
        self.lost: str | None = None
        self._generation = 0       # bumped on every new chain: branches of an older one are gone on the server
        self._running: Branch | None = None  # the branch the server is running

    def set_model(self, loaded: LoadedModel | None) -> None:
        """Use the session's model (``remote_loaded``): every branch shown before is dropped."""
        self.state.clear()
        self.model = loaded.model if loaded else None
        self.classifier = loaded.classifier if loaded else None
        self._running = None

    def move(self, device: str) -> str:
        raise ValueError("the model runs on the server: its device is chosen there (genviz serve --num-gpus)")

    def _call(self, method: str, **kw) -> dict:
        return self.client.call(method, session=self.session, **kw)

    def _id(self, b: Branch) -> int:
        gen, number = b.gen if isinstance(b.gen, tuple) else (None, None)
        if gen != self._generation:
            raise ValueError("this branch was put aside by a Reset: the server keeps only the newest chain; "
                             "press Reset for a new one")
        return int(number)

    # ---- chains ----------------------------------------------------------------------------------
    def new_chain(self, sampler: str, steps: int, n: int, seed: int, params: dict) -> Branch:
        """A fresh chain on the server (record 0 comes back); see ``ChainRunner.new_chain``."""
        self._running = None
        r = self._call("new_chain", sampler=sampler, steps=int(steps), n=int(n), seed=int(seed), params=dict(params))
        self._generation += 1
        first = record_from_wire(r["records"][0])
        self.state.clear(keep_undo=True)
        b = Branch(number=1, sampler=sampler, params=dict(params), seed=int(seed), n=int(n), timesteps=list(r["timesteps"]),
                   grid=r["grid"], records=[first], gen=(self._generation, int(r["branch"])))
        self.state.add_branch(b)
        return b

    def branch_from(self, source: Branch, position: int, sampler: str, params: dict, seed: int) -> Branch:
        """A branch from global record ``position`` of ``source``, computed on the server from the exact state."""
        self._pause_server()
        hist = source.history()
        if not 0 <= position < len(hist):
            raise ValueError(f"step {position} is not recorded in branch {source.number}")
        r = self._call("branch", source=self._id(source), position=int(position), sampler=sampler,
                       params=dict(params), seed=int(seed))
        first = record_from_wire(r["records"][0])
        with self.state.lock:
            b = Branch(number=len(self.state.branches) + 1, sampler=sampler, params=dict(params), seed=int(seed),
                       n=int(source.n), timesteps=list(r["timesteps"]), grid=r["grid"], start=int(position),
                       parent=source.number, prefix=hist[:position], records=[first],
                       gen=(self._generation, int(r["branch"])))
            self.state.add_branch(b)
        return b

    def exact_x(self, branch: Branch, position: int):
        """The exact float32 state (N, *data_shape) at global record ``position`` of ``branch``, from the server
        (a torch CPU tensor; one request of N * 4 * prod(data_shape) bytes).

        Raises:
            ValueError: not recorded, or a branch a Reset put aside.
        """
        import torch

        from .wire import array_from_wire
        if not 0 <= position < len(branch):
            raise ValueError(f"step {position} is not recorded in branch {branch.number}")
        x = array_from_wire(self._call("state", branch=self._id(branch), index=int(position))["x"])
        if x is None:
            raise ValueError(f"the server sent no state for step {position}")
        return torch.from_numpy(x.copy())

    # ---- Engine stepper protocol -----------------------------------------------------------------
    def wants_step(self) -> bool:
        """True when the active branch should advance, or the server must be told to pause or be polled."""
        if self.model is None or self.lost:
            return False
        return self._running is not None or self.state.wants_step()

    def has_idle_work(self) -> bool:
        return False

    def _append(self, b: Branch, r: dict) -> None:
        """Record the reply's records that ``b`` does not have yet; mirror the server's status."""
        recs = [record_from_wire(d) for d in r.get("records", ())]
        status = r.get("status")
        for i, rec in enumerate(recs):
            if rec.index < len(b):
                continue
            last = status == "done" and i == len(recs) - 1 and rec.index >= int(r.get("length", 0)) - 1
            self.state.append(b, rec, last)
        if status == "running" and self.state.running:
            with self.state.lock:
                self.state.steps_per_s = float(r.get("steps_per_s") or self.state.steps_per_s)
        if status == "done" and not b.done and len(b) >= int(r.get("length", 0)):
            self.state.finish(b)
        elif status == "stopped" and r.get("error"):
            b.gen = None
            self.state.fail(r["error"])

    def _catch_up(self, b: Branch, r: dict) -> None:
        """Append ``r``'s records, then fetch the rest until ``b`` has every record the server has."""
        self._append(b, r)
        while len(b) < int(r.get("length", 0)) and not b.done and self.state.error is None:
            r = self._call("records", branch=self._id(b), start=len(b))
            if not r.get("records"):
                break
            self._append(b, r)

    def _pause_server(self) -> None:
        b, self._running = self._running, None
        if b is not None:
            self._catch_up(b, self._call("cancel" if b.stopped else "pause", branch=self._id(b), start=len(b)))

    def step(self) -> None:
        """One unit of work: start/poll/pause the server's run, or compute one step (errors go to the state)."""
        b = self.state.branch
        try:
            srv = self._running
            if srv is not None:
                if srv is not b or not self.state.running or srv.stopped:
                    self._pause_server()
                    return
                r = self._call("records", branch=self._id(b), start=len(b), wait_s=POLL_WAIT_S, gather_s=GATHER_S)
                self._append(b, r)
                if r.get("status") != "running" and (len(b) >= int(r.get("length", 0)) or b.done or b.stopped):
                    self._running = None
                return
            if b is None or b.gen is None or b.done or b.stopped:
                return
            if self.state.running and self.state.pending_steps == 0 and self.state.step_interval <= 0:
                r = self._call("run", branch=self._id(b))
                self._running = b
                self._append(b, r)
                return
            self._append(b, self._call("step", branch=self._id(b)))
        except ConnectionLost as e:
            self.lost = str(e)
            self._running = None
            self.state.fail(f"{e}; the GUI stays up: File ▸ Connect to server… reconnects")
        except (RemoteError, ValueError) as e:
            self._running = None
            if b is not None:
                b.gen = None
            self.state.fail(f"server: {e}")

    def reconnect(self) -> bool:
        """After a lost connection: True when the server still has this session (the chain goes on: the stopped
        branch can run again); False when it is gone (load the model again)."""
        try:
            self._call("ping")
        except (ConnectionLost, RemoteError):
            return False
        self.lost = None
        with self.state.lock:
            b = self.state.branch
            if b is not None and isinstance(b.gen, tuple) and not b.done:
                b.stopped = False
            self.state.error = None
            self.state.touch()
        if b is not None and isinstance(b.gen, tuple) and not b.done:  # the records the server made meanwhile
            try:
                self._catch_up(b, self._call("pause", branch=self._id(b), start=len(b)))
            except (ConnectionLost, RemoteError, ValueError):
                return False
        return True
