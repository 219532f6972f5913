"""The PyTorch reader, which also reads weights built by hand from random tensors: a host of
the shared evaluator that knows PyTorch and nothing of syntax.

The evaluator runs the module (``__init__`` bodies with their call sites' arguments, the
file's helpers, loops, splats, ``self.apply(fn)`` and ``modules()`` loops with their guards);
this host says what ``torch.nn``'s names mean (layers, containers, activation and
pass-through modules, ``nn.init``, raw draws) and what ``nn.Module``'s methods do. After the
module has run, it builds every module class no one built, runs ``forward`` for the
top-level models (inlining their submodules' forwards) so that each layer learns its
activation, its successors and whether it is an output, runs the functions no one called,
and plain classes that draw weights by hand. An init under a guard the evaluator cannot
decide is ignored; a module handed to code no one can see ends with an unknown init.

Names resolve through the file's own imports, never by bare name.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import libcst as cst

from ...analysis import (UNKNOWN, Args, ClassV, Const, Evaluator, External, FunctionV, Host,
                         InstanceV, OneOf, Seq, Site, Unknown, Value)
from ...analysis.builtins import EXTERNAL
from ...catalog import idioms
from ...catalog import torch as T
from ...model import Activation, Deprecation, InitSpec, Layer, Network, Stack
from ..pyutil import default_quote
from . import names as N
from .modules import Modules
from .render import Renderer
from .state import PassKey
from .values import (INERT, ContainerV, LayerFacts, LayerV, ModuleMethodV, RawV, TensorV,
                     TorchValue, maybe_written)


class TorchReader:
    framework = "torch"
    #: A file that contains none of these cannot hold a PyTorch model or a hand-drawn weight.
    triggers = (b"torch", b"np.random", b"numpy.random", b"tf.random", b"random_normal",
                b"truncated_normal", b"random_uniform")

    def read(self, module: cst.Module, source: str) -> Network:
        host = TorchHost(module, source)
        ev = Evaluator(module, host, source=source)
        host.ev = ev
        ev.run()
        host.run_rest()
        return host.finish()


class TorchHost(Modules, Host):
    def __init__(self, module: cst.Module, source: str) -> None:
        self.module = module
        self.renderer = Renderer(module, default_quote(source))
        self.layers: List[Layer] = []
        self.containers: List[ContainerV] = []
        self.raws: Dict[int, RawV] = {}
        self.forward_stack: List[InstanceV] = []
        self.forward_layers: List[List[Layer]] = []
        #: Passes through modules in the forward being run, for :meth:`Flow._again`.
        self.passes: Dict[PassKey, Tuple[TensorV, TensorV]] = {}
        self.stacks: List[Stack] = []
        self.deprecations: Dict[int, Deprecation] = {}
        self.init_targets = self.renderer.targets
        self.facts = self.renderer.facts
        self._module_classes: Dict[int, bool] = {}
        self.applying = 0

    def source(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    # --- names ------------------------------------------------------------------------------

    def star_name(self, ev: Any, modules: Sequence[str], name: str) -> Optional[Value]:
        for m in modules:
            if m == "torch" or m.startswith("torch."):
                return External(f"{m}.{name}")
        return None

    def bound(self, ev: Any, name: str, value: Value, site: Site) -> None:
        if not isinstance(value, (TorchValue, Seq)) or isinstance(site.node, (cst.For,
                                                                               cst.CompFor)):
            return
        frames = self.ev.frames
        top = not frames or (not self.forward_stack and frames[-1].function.bound is None)
        self.name_value(name, value, top)

    def set_instance_attribute(self, ev: Any, inst: InstanceV, name: str, value: Value,
                               site: Site) -> None:
        if isinstance(value, (TorchValue, Seq)):
            self.name_value(name, value, False)
        if isinstance(value, ContainerV) and value.owner is None:
            value.owner = inst

    # --- calls ------------------------------------------------------------------------------

    def call_external(self, ev: Any, name: str, args: Args, site: Site) -> Optional[Value]:
        if "out" in args.keywords:  # ``torch.arange(n, out=w)`` writes ``w``
            _handed_over(args.keywords["out"])
        kn = N.classify(name)
        if kn is not None:
            return self._torch_call(kn[0], kn[1], args, site)
        short = name.rsplit(".", 1)[-1]
        if short == "__init__" and N.is_module_base(name[: -len(".__init__")]):
            return Const(None)  # nn.Module.__init__(self)
        if name == "collections.OrderedDict":
            return self.ordered_dict(args)
        if name in ("copy.deepcopy", "copy.copy"):
            return UNKNOWN
        got = self.functional(name, short, args, site)
        if got is not None:
            return got
        if idioms.zeroing_name(short):
            self.zero_helper(short, args)
            return args.positional[0] if args.positional else Const(None)
        if name in EXTERNAL and not any(isinstance(a, TorchValue) for a in args.values()):
            return None  # plain arithmetic: the evaluator's
        if N.known_root(name):
            for a in args.values():
                self.consume(a)
            return INERT
        return None

    def _torch_call(self, cat: str, short: str, args: Args, site: Site) -> Optional[Value]:
        if cat == N.LAYER:
            return self.make_layer(short, args, site)
        if cat in (N.SEQUENTIAL, N.MODULE_LIST, N.MODULE_DICT, N.STACK):
            return self.make_container(cat, short, args, site)
        if cat == N.ACTIVATION_MODULE:
            return self.activation_module(short, args, site)
        if cat == N.PASS_MODULE:
            return self.pass_module(short)
        if cat == N.PARAMETER:
            return self.parameter(args, site, short)
        if cat == N.INIT:
            return self.nn_init(short, args, site)
        if cat == N.DRAW:
            return self.draw(short, args, site)
        return INERT

    def instance_attribute(self, ev: Any, inst: InstanceV, name: str, site: Site
                           ) -> Optional[Value]:
        if not self.is_module_class(inst):
            return None
        if name in N.MODULE_METHODS:
            return ModuleMethodV(inst, name)
        if name == "training":
            return INERT
        return None

    def call_instance(self, ev: Any, inst: InstanceV, args: Args, site: Site) -> Optional[Value]:
        if not self.is_module_class(inst):
            return None
        return self.call_module(inst, args, site)

    def super_method(self, ev: Any, inst: Value, base: str, name: str, args: Args,
                     site: Site) -> Optional[Value]:
        kn = N.classify(base)
        if name == "__init__":
            if kn is not None and kn[0] in (N.SEQUENTIAL, N.MODULE_LIST, N.MODULE_DICT) \
                    and isinstance(inst, InstanceV):
                inst.extra["container"] = self.make_container(kn[0], kn[1], args, site)
            return Const(None)
        if not isinstance(inst, InstanceV) or not N.is_module_base(base):
            return None
        if name == "forward":
            return self.inline_forward_base(inst, args, site)
        return self.module_method(inst, name, args, site) if name in N.MODULE_METHODS else None

    def inline_forward_base(self, inst: InstanceV, args: Args, site: Site) -> Value:
        seq = inst.extra.get("container")
        x = args.positional[0] if args.positional else None
        if isinstance(seq, ContainerV):
            return self.chain(seq, self.as_tensor(x) or TensorV(), site)
        self.consume(x)
        return TensorV()

    def returned(self, ev: Any, fn: FunctionV, args: Args, value: Value, site: Site
                 ) -> Optional[Value]:
        name = fn.qualname.rsplit(".", 1)[-1]
        for a in args.values():  # a helper of the linted code may have written this memory
            _handed_over(a)
        if not self.applying:  # ``apply(zero_init)`` runs the function on every submodule
            self.zero_helper(name, args)
        act = N.NAMED_ACTIVATIONS.get(name.lower())
        if act is not None and args.positional and isinstance(args.positional[0], TensorV) \
                and not isinstance(value, TensorV):
            # The file's own ``def sigmoid(z): return 1 / (1 + np.exp(-z))``.
            return self.activate(args.positional[0], Activation(act, source="forward",
                                                                node=site.node))
        return None

    def call_one_of(self, ev: Any, callee: OneOf, args: Args, site: Site) -> Optional[Value]:
        kinds = [N.classify(o.name) if isinstance(o, External) else None for o in callee.options]
        if all(k is not None and k[0] == N.INIT for k in kinds):
            return self.alternative_inits([k[1] for k in kinds if k is not None], args, site)
        return None

    def call_unknown(self, ev: Any, callee: Value, args: Args, site: Site) -> Optional[Value]:
        call = site.node
        func = call.func if isinstance(call, cst.Call) else None
        short = func.attr.value if isinstance(func, cst.Attribute) else (
            func.value if isinstance(func, cst.Name) else "")
        if short and idioms.zeroing_name(short):
            self.zero_helper(short, args)
            return args.positional[0] if args.positional else Const(None)
        if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) \
                and short in T.MATMUL_METHODS and args.positional:
            return self.matmul(TensorV(), args.positional[0], site)  # ``x.mm(W)``, x unknown
        if isinstance(callee, Unknown) and callee.why.startswith("name ") \
                and not self.ev.star_modules:
            return UNKNOWN  # a name nothing binds: no function of the file's runs there
        return None

    # --- after the module has run -----------------------------------------------------------

    def run_rest(self) -> None:
        ev = self.ev
        ev.run_uncalled()
        classes = [c for c in ev.classes if self.module_class(c)]
        # Last defined first: a model builds the blocks defined before it, with its arguments.
        for cls in reversed(classes):
            if not cls.instances:
                ev.guarded(_instantiate(ev, cls))
        # A model of another module built here (``model = GPT(config)`` in a training
        # script) is read with this file's arguments, its forward included.
        imported = [c for c in ev.imported_classes if self.module_class(c)]
        instances = [i for c in classes + imported for i in c.instances[:8]]
        owned = self.owned(instances)
        # Top-level models first: they inline the forward of the submodules they call.
        for inst in sorted(instances, key=lambda i: id(i) in owned):
            if not inst.extra.get("forward_done"):
                ev.guarded(_forward(self, inst, id(inst) not in owned))
        for inst in instances:
            if any(_uninitialized(v) for _, v in self.tree(inst)):
                ev.guarded(_init_methods(ev, inst))
        if any(_applies_elsewhere(ev, fn) for fn in _functions(ev)):
            # ``def _init_weights(self, module)`` that nothing here applied: a training script
            # (``model.apply(model._init_weights)``) may write any parameter of the file.
            for raw in list(self.raws.values()):
                _handed_over(raw)
        for cls in ev.classes:
            if not self.module_class(cls) and self._draws_in_init(cls):
                ev.guarded(_plain_class(ev, cls))
        for seq in list(self.containers):
            if seq.chain and not seq.called and not _used_unseen(seq):
                ev.guarded(_chain(self, seq))

    def _draws_in_init(self, cls: ClassV) -> bool:
        init = cls.attrs.get("__init__")
        if not isinstance(init, FunctionV):
            return False
        found: List[bool] = []
        q = self.renderer.qualify

        class _V(cst.CSTVisitor):
            def visit_Call(self, n: cst.Call) -> None:
                if not found and (q(n.func) or "") in _DRAW_NAMES:
                    found.append(True)

        init.node.visit(_V())
        return bool(found)

    # --- results ----------------------------------------------------------------------------

    def finish(self) -> Network:
        net = Network(renderer=self.renderer.render, namer=self.renderer.name_init)
        reps: Dict[tuple, Layer] = {}  # type: ignore[type-arg]
        for layer in self.layers:
            facts = self.facts.of(layer)
            if facts.raw and not facts.used and not layer.weights[0].init.uninitialized:
                continue  # a draw never used as a weight; memory never written is kept
            _position(layer, facts)
            key = _facts(layer, facts)
            rep = reps.get(key)
            if rep is None:
                reps[key] = layer
                net.layers.append(layer)
            else:
                _merge(rep, layer)
        for seq in self.containers:
            ls = [x.layer for x in _flatten(seq.items) if isinstance(x, (LayerV, RawV))]
            if seq.chain and ls:
                net.stacks.append(Stack(ls, "sequential", seq.node))
        net.stacks.extend(self.stacks)
        net.deprecations = list(self.deprecations.values())
        return net


_DRAW_NAMES = frozenset(T.DRAWS)


def _instantiate(ev: Evaluator, cls: ClassV) -> Callable[[], object]:
    def run() -> None:
        ev.assumed = cls.name
        try:
            ev.instantiate(cls, Args(), ev.site(cls.node))
        finally:
            ev.assumed = ""
    return run


def _forward(host: TorchHost, inst: InstanceV, top: bool) -> Callable[[], object]:
    return lambda: host.run_forward(inst, top)


def _chain(host: TorchHost, seq: ContainerV) -> Callable[[], object]:
    def run() -> None:
        out = host.chain(seq, TensorV(), host.ev.site(seq.node or host.module))
        if seq.top_level:
            host.mark_output(out)
    return run


def _used_unseen(seq: ContainerV) -> bool:
    """A Sequential held by a module whose forward ran without calling it: it is used where
    initlint cannot follow (a message-passing ``propagate``, a hook), so what feeds it and
    what it feeds are unknown, and it is not judged as a network of its own."""
    return seq.owner is not None and bool(seq.owner.extra.get("forward_done"))


def _handed_over(v: Value, depth: int = 0) -> None:
    """Memory left uninitialized that a function received, itself or inside a container or
    a branch's value: that function may have written it, so what it holds is not known."""
    if isinstance(v, RawV):
        v.layer.weights[0].init = maybe_written(v.layer.weights[0].init)
    elif depth < 3 and isinstance(v, (OneOf, Seq, ContainerV)):
        for item in (v.options if isinstance(v, OneOf) else v.items):
            _handed_over(item, depth + 1)


def _uninitialized(v: Value) -> bool:
    return isinstance(v, RawV) and any(w.init.uninitialized for w in v.layer.weights)


def _init_methods(ev: Evaluator, inst: InstanceV) -> Callable[[], object]:
    """A module holding memory no init has written yet: run the methods that initialize by
    convention (``reset_parameters``, ``_init_weights``...) that nothing here called, since a
    parent or a training script may call them."""
    def run() -> None:
        site = ev.site(inst.cls.node)
        for name in idioms.INIT_METHOD_NAMES:
            method = ev.get_attribute(inst, name, site)
            if isinstance(method, FunctionV) and id(method.node) not in ev.called \
                    and not _applies_elsewhere(ev, method):
                ev.call_function(method, Args(), site)
    return run


def _functions(ev: Evaluator) -> List[FunctionV]:
    """The file's functions and its classes' methods."""
    out = list(ev.functions)
    for cls in ev.classes:
        out.extend(v for v in cls.attrs.values() if isinstance(v, FunctionV))
    return out


def _applies_elsewhere(ev: Evaluator, fn: FunctionV) -> bool:
    """An initializing function that takes the module to initialize (``def _init_weights(self,
    module)``, ``def weights_init(m)``) and that nothing here called or applied."""
    name = fn.qualname.rsplit(".", 1)[-1]
    if name not in idioms.INIT_METHOD_NAMES or id(fn.node) in ev.called:
        return False
    params = [p.name.value for p in fn.node.params.params]
    return len([p for p in params if p != "self"]) >= 1


def _plain_class(ev: Evaluator, cls: ClassV) -> Callable[[], object]:
    """A class that is not a module but draws weights by hand (a NumPy network): build it,
    then run each of its methods no one called, so that their matrix products find the
    weights."""
    def run() -> None:
        site = ev.site(cls.node)
        inst = cls.instances[0] if cls.instances else ev.instantiate(cls, Args(), site)
        for name, fn in list(cls.attrs.items()):
            if isinstance(fn, FunctionV) and name != "__init__" and id(fn.node) not in ev.called:
                method = ev.get_attribute(inst, name, site)
                if isinstance(method, FunctionV):
                    ev.call_function(method, Args(), site)
    return run


def _flatten(items: List[Value]) -> List[Any]:
    out: List[Any] = []
    for i in items:
        if isinstance(i, ContainerV) and i.chain:
            out.extend(_flatten(i.items))
        else:
            out.append(i)
    return out


def _position(layer: Layer, facts: LayerFacts) -> None:
    if facts.output:
        layer.position = "output"
    elif layer.next or facts.consumed:
        layer.position = "hidden"
    elif facts.applied:
        layer.position = "output"  # its result feeds nothing


def _facts(layer: Layer, facts: LayerFacts) -> tuple:  # type: ignore[type-arg]
    """What makes a finding about a layer: two layers one constructor call built (a block
    repeated in a list) with the same name, activation, initializers and fans are shown as
    one, as the block is written once."""
    if facts.raw:
        return (id(layer),)
    a = layer.activation
    ws = tuple((w.role, w.fan_in, w.fan_out, w.receptive, id(w.init.node), w.init.family,
                w.init.distribution, w.init.scale, w.init.mode, w.init.std, w.init.mean,
                w.init.low, w.init.high, w.init.gain, w.init.value, w.init.written)
               for w in layer.weights)
    return (id(layer.node), layer.name, layer.type_name, ws, a.name,
            tuple(sorted(a.params.items())), layer.zero_bias, layer.uniform_bias,
            layer.out_features)


_RANK = {"unknown": 0, "hidden": 1, "output": 2}


def _merge(rep: Layer, other: Layer) -> None:
    """What any of the copies is, the one shown is (as one layer used in many places)."""
    rep.normalized = rep.normalized or other.normalized
    rep.normalized_after = rep.normalized_after or other.normalized_after
    rep.residual_branch = rep.residual_branch or other.residual_branch
    rep.residual_branch_end = rep.residual_branch_end or other.residual_branch_end
    rep.multiplies = rep.multiplies or other.multiplies
    if _RANK.get(other.position, 0) > _RANK.get(rep.position, 0):
        rep.position = other.position
    rep.idioms = tuple(sorted(set(rep.idioms) | set(other.idioms)))
