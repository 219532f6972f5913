"""The Keras reader: a host of the shared evaluator that knows Keras and nothing of syntax.

The evaluator runs the module (functions with their call sites' arguments, classes, loops,
splats, the linted tree's own modules); this host answers for the names Keras defines
(``keras``, ``tensorflow.keras``, ``tf.keras``, ``tf_keras``, star imports) and turns the calls
it sees into the neutral model: layers with their initializers and activations, linked through
``Sequential`` lists, ``model.add``, functional ``x = Dense(..)(x)`` chains and the ``call``
method of subclassed models.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

import libcst as cst

from ...analysis import (Args, Bound, ClassV, Const, Evaluator, External, FunctionV, Host, InstanceV,
                         OneOf, Provenance, Seq, Site, Unknown, Value)
from ...analysis.builtins import number
from ...catalog import keras as K
from ...model import (Activation, Deprecation, Edit, InitSpec, Layer, Network, Stack, Weight,
                      Written, as_layer_kind, as_role, chains)
from ..pyutil import UNKNOWN as UNKNOWN_CONST
from ..pyutil import call_arguments, default_quote, dotted_name
from .names import classify
from .render import KerasSpelling, Renderer
from .values import (HARMLESS, HARMLESS_FUNCTIONS, TRAINING, ActivationFn, ConstantArray,
                     Initializer, LayerValue, Model, NoOp, NormOf, Op, Sequential, Tensor)



class KerasReader:
    framework = "keras"
    #: A file that contains none of these bytes cannot use Keras.
    triggers = (b"keras", b"tensorflow")

    def read(self, module: cst.Module, source: str) -> Network:
        host = KerasHost(module, source)
        ev = Evaluator(module, host, source=source)
        ev.run()
        ev.guarded(lambda: host.run_classes(ev))
        ev.run_uncalled()
        host.keras1_imports()
        return host.finish()


class KerasHost(Host):
    def __init__(self, module: cst.Module, source: str) -> None:
        self.module = module
        self.layers: List[Layer] = []
        #: Keras 1 arguments (``init=``) by the argument's node.
        self.deprecations: Dict[int, Deprecation] = {}
        self.seqs: List[Sequential] = []
        self.renderer = Renderer(module, default_quote(source))
        self._values: Dict[int, LayerValue] = {}
        #: Layers whose output reaches a model's output (by id).
        self.outputs: Set[int] = set()
        #: Layers of models the file trains (``fit``), by id: later escapes do not count.
        self.trained: Set[int] = set()

    # --- names ------------------------------------------------------------------------

    def star_name(self, ev: Any, modules: Sequence[str], name: str) -> Optional[Value]:
        for m in modules:
            if classify(f"{m}.{name}") is not None:
                return External(f"{m}.{name}")
        return None

    def bound(self, ev: Any, name: str, value: Value, site: Site) -> None:
        if isinstance(value, LayerValue) and value.layer.name is None:
            value.layer.name = name

    def set_instance_attribute(self, ev: Any, inst: InstanceV, name: str, value: Value,
                               site: Site) -> None:
        if isinstance(value, LayerValue) and value.layer.name is None:
            value.layer.name = f"self.{name}"

    # --- calls ------------------------------------------------------------------------

    def call_external(self, ev: Any, name: str, args: Args, site: Site) -> Optional[Value]:
        kn = classify(name)
        if kn is None:
            short = name.rsplit(".", 1)[-1]
            if name.startswith(("tensorflow.", "keras.")) and short in NORMS:
                return NormOf()
            if name.startswith(("tensorflow.", "keras.")) and short in L2_NORMALIZE:
                x = args.get(0, "x")
                return self.apply(Op("norm"), [x], None) if isinstance(x, Tensor) else None
            if name in CONSTANT_ARRAYS:
                return _constant_array(name, args)
            if any(name.endswith("." + f) for f in HARMLESS_FUNCTIONS):
                return Unknown(name)  # reads the model; its weights stay as they are
            return None
        cat, short = kn
        if cat == "layer":
            return self.make_layer(ev, short, args, site)
        if cat == "sequential":
            return self.make_seq(ev, args, site)
        if cat in ("weightless", "input"):
            op = self.make_op(short, args)
            return Tensor(channels=op.channels) if op.kind == "input" else op
        if cat == "activation_fn":
            return self._activation_call(short, args)
        if cat == "model":
            outputs = args.get(1, "outputs")
            self.mark_output(outputs)
            return Model([p for t in _tensors(outputs) for p in t.producers])
        if cat == "functional_merge":
            x = args.get(0, "inputs")
            inputs = [t for t in (x.items if isinstance(x, Seq) else [x]) if isinstance(t, Tensor)]
            return self.apply(Op("sum" if short == "add" else "merge"), inputs, None)
        if cat in ("initializer", "tf_initializer"):
            return Initializer(self.class_call_spec(ev, cat, short, args, site))
        if cat == "initializer_get":  # ``initializers.get("he_normal")``: the string's
            ident = args.get(0, "identifier")
            if isinstance(ident, Const) and isinstance(ident.value, str):
                return Initializer(self._string_spec(ident, site.node))
            return ident if isinstance(ident, Initializer) else None
        return None

    def instance_attribute(self, ev: Any, inst: InstanceV, name: str, site: Site
                           ) -> Optional[Value]:
        if name in HARMLESS and self._keras_class(inst.cls) is not None:
            if name in TRAINING:
                self.trained.update(id(x) for x in self._layers_of(inst))
            return NoOp()
        return None

    def _layers_of(self, inst: InstanceV) -> List[Layer]:
        """The layers an instance holds in its attributes (one level of containers)."""
        out: List[Layer] = []
        for v in inst.attrs.values():
            items = v.items if isinstance(v, Seq) else [v]
            out.extend(x.layer for x in items if isinstance(x, LayerValue))
            out.extend(x for seq in items if isinstance(seq, Sequential) for x in seq.layers)
        return out

    def call_instance(self, ev: Any, inst: InstanceV, args: Args, site: Site) -> Optional[Value]:
        if self._keras_class(inst.cls) is None:
            return None
        return self._run_call(ev, inst, args, site)

    def _activation_call(self, short: str, args: Args) -> Value:
        params = {"slope": K.LEAKY_FN_SLOPE} if short == "leaky_relu" else {}
        for kw in ("alpha", "negative_slope"):
            slope = number(args.keywords.get(kw))
            if slope is not None:
                params["slope"] = float(slope)
        act = Activation(short, params)
        x = args.positional[0] if args.positional else None
        if isinstance(x, Tensor):
            return self.apply(Op("activation", act), [x], None)
        return ActivationFn(act)

    # --- subclassed models ------------------------------------------------------------

    def _keras_class(self, cls: ClassV) -> Optional[str]:
        """"model" or "layer" for a class deriving from Keras's Model or Layer."""
        kinds = [classify(b) for b in cls.external_bases()]
        cats = {k[0] for k in kinds if k is not None}
        if cats & {"model", "sequential"}:
            return "model"
        return "layer" if "layer_base" in cats else None

    def run_classes(self, ev: Evaluator) -> None:
        """Build every Keras model or layer class the file defines and run its ``build`` and
        ``call`` as Keras would (once per instance the file makes, else once)."""
        for cls in ev.classes:
            if self._keras_class(cls) is None:
                continue
            if not cls.instances:
                ev.assumed = cls.name
                try:
                    ev.instantiate(cls, Args(), ev.site(cls.node))
                finally:
                    ev.assumed = ""
            for inst in list(cls.instances[:4]):
                if not inst.extra.get("called"):
                    self._run_call(ev, inst, Args([Tensor()]), ev.site(cls.node))

    def _run_call(self, ev: Any, inst: InstanceV, args: Args, site: Site) -> Value:
        inst.extra["called"] = True
        build = ev.get_attribute(inst, "build", site)
        if isinstance(build, FunctionV) and not inst.extra.get("built"):
            inst.extra["built"] = True
            ev.call_function(build, Args([Unknown("input shape")]), site)
        call = ev.get_attribute(inst, "call", site)
        if not isinstance(call, FunctionV):
            return Tensor()
        out = ev.call_function(call, args, site)
        if self._keras_class(inst.cls) == "model":
            self.mark_output(out)
        return out if isinstance(out, Tensor) else Tensor()

    # --- layers -----------------------------------------------------------------------

    def make_layer(self, ev: Any, type_name: str, args: Args, site: Site) -> LayerValue:
        defn = K.LAYERS[type_name]
        bound = args.by_name(defn.positional)
        for old, new in K.KERAS1_KWARGS.items():
            if old in bound and new not in bound:
                bound[new] = bound[old]
        local = ev.local_site(site)
        layer = Layer(kind=as_layer_kind(defn.kind), framework="keras", type_name=type_name, node=local.node,
                      calls=tuple(s for s in ev.call_sites() if not s.module))
        foreign = local is not site  # built in another module: its call is not in this file
        layer.foreign = foreign
        layer.origin = site.node
        layer.assumed = ev.assumed
        layer.standalone = ev.building_alone()
        lv = LayerValue(layer, defn, {k: v[0] for k, v in bound.items()})
        self._values[id(layer)] = lv
        if not foreign:
            self._keras1_arguments(defn, type_name, local.node)
        splat = args.star_unknown or args.kwargs_unknown
        self._set_activation(lv, bound, splat)
        for role, (kw, default) in defn.weights.items():
            arg = bound.get(kw)
            if role == "kernel" and arg is None and "init" in bound and defn.kind == "embedding":
                arg = bound["init"]
            if arg is None and splat:
                spec = InitSpec("unknown", written="unknown", display="an unknown initializer")
            else:
                spec = self.init_spec(arg, default)
            if spec.written == "default" and not foreign:
                spec.spelling = KerasSpelling(keyword=kw)
            spec.foreign = foreign
            layer.weights.append(Weight(role=as_role(role), init=spec))
        layer.zero_bias = _zero_bias(layer, lv.args)
        layer.uniform_bias = _uniform_bias(layer)
        layer.out_features = _out_features(defn, lv.args)
        lv.c_in = _input_size(lv.args, defn)
        self.layers.append(layer)
        if lv.c_in is not None or defn.kind == "embedding":
            self.set_fans(lv, lv.c_in)
        return lv

    def keras1_imports(self) -> None:
        """``from keras import initializations``, ``import keras.initializations``: Keras 1's
        module, which no later Keras has (an ImportError when the line runs). No fix: its
        functions took a shape, so the code that uses it needs rewriting too."""
        for stmt in self.module.body:
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                for node, name in _keras1_module_names(small):
                    self.deprecations[id(node)] = Deprecation(
                        node, name, name.replace(K.KERAS1_MODULE, "initializers"), True,
                        "is Keras 1's module", K.KERAS1_MODULE_GONE)

    def _keras1_arguments(self, defn: K.LayerDef, type_name: str, call: Any) -> None:
        """``Dense(64, init="he_normal")``: Keras 1's initializer arguments, which Keras 2 and
        3 reject, recorded with the rename as their fix when one keyword replaces them."""
        if not isinstance(call, cst.Call):
            return
        for arg in call.args:
            kw = arg.keyword.value if arg.keyword is not None else None
            if kw not in K.KERAS1_INIT_KWARGS or id(arg) in self.deprecations:
                continue
            news = [defn.weights[r][0] for r in K.KERAS1_INIT_KWARGS[kw] if r in defn.weights]
            if not news:
                continue
            why = K.KERAS1_REJECTED.format(layer=type_name, kw=kw)
            taken = any(a.keyword is not None and a.keyword.value in news for a in call.args)
            edits = ([Edit(arg.keyword, news[0])] if len(news) == 1 and not taken
                     and isinstance(arg.keyword, cst.Name) else [])
            self.deprecations[id(arg)] = Deprecation(
                arg, f"{kw}=", " and ".join(f"{n}=" for n in news), True,
                "is Keras 1's argument", why, edits)

    def _set_activation(self, lv: LayerValue, bound: Dict[str, Bound], splat: bool) -> None:
        defn, layer = lv.defn, lv.layer
        if defn.activation is None:
            return
        kw, default = defn.activation
        arg = bound.get(kw)
        if arg is not None:
            act = activation_of(arg[0])
            act.source = "keyword" if arg[2] else "positional"
            act.node = arg[1]
            act.via = _via(arg[0])
            layer.activation = act
            lv.activation_given = act.name != "linear"
        elif splat:
            layer.activation = Activation("unknown", source="unknown")
            lv.activation_given = True
        elif default is not None:
            layer.activation = Activation(K.ACTIVATION_STRINGS[default], source="default")
            lv.activation_given = True

    def set_fans(self, lv: LayerValue, c_in: Optional[int]) -> None:
        lv.c_in = c_in
        defn, a = lv.defn, lv.args
        width = _out_features(defn, a)
        k = _kernel_prod(a, defn) if defn.rank else 1
        dm = _positive(a.get("depth_multiplier"), 1)
        groups = _positive(a.get("groups"), 1)
        input_dim = _positive(a.get("input_dim"), None)
        for w in lv.layer.weights:
            if w.role == "bias":
                continue
            if defn.rank and w.role != "pointwise" and k is not None:
                w.receptive = k
            w.fan_in, w.fan_out = K.kernel_fans(defn, w.role, c_in, width, k, dm, groups,
                                                input_dim)
        lv.layer.out_features = K.output_width(defn, width, c_in, dm)

    # --- initializers -----------------------------------------------------------------

    def init_spec(self, arg: Optional[Bound], default: str) -> InitSpec:
        spec = self._init_spec(arg, default)
        spec.via = _via(arg[0]) if arg is not None else ()
        node = arg[1] if arg is not None else None
        if isinstance(node, cst.Name) and spec.family != "unknown" and spec.written in (
                "string", "class_call", "class_ref", "none") and node.value != "None":
            if isinstance(spec.spelling, KerasSpelling):  # a variable holding the initializer
                spec.spelling = dataclasses.replace(spec.spelling, held=spec.written)
            spec.written = "variable"
        return spec

    def _init_spec(self, arg: Optional[Bound], default: str) -> InitSpec:
        if arg is not None and isinstance(arg[0], OneOf):
            return self._agreeing_spec(arg, default)
        if arg is None:
            spec = K.make_spec(K.STRING_ALIASES[default], {}, default)
            spec.written = "default"
            return spec
        value, node, _ = arg
        if isinstance(value, Initializer):
            spec = copy.copy(value.spec)
            spec.node = node if node is not None else spec.node  # reported where it is used
            return spec
        if isinstance(value, Const) and value.value is None:
            spec = K.make_spec("GlorotUniform", {}, "glorot_uniform")
            spec.written, spec.node = "none", node
            if _editable(value) and node is not None:
                spec.spelling = KerasSpelling(target=value.node)
            return spec
        if isinstance(value, Const) and isinstance(value.value, str):
            return self._string_spec(value, node)
        kn = classify(value.name) if isinstance(value, External) else None
        if kn is not None and kn[0] == "initializer":
            spec = K.make_spec(kn[1], {}, kn[1])
            spec.written, spec.node = "class_ref", node
            ref = value.node if isinstance(value, External) and value.node is not None else node
            if isinstance(ref, (cst.Name, cst.Attribute)):
                spec.spelling = KerasSpelling(target=ref, callee=ref)
            return spec
        text = self.renderer.short(node) if node is not None else "an unknown initializer"
        written: Written = "function_call" if isinstance(node, cst.Call) else "expression"
        return InitSpec(family="unknown", display=text, written=written, node=node)

    def _agreeing_spec(self, arg: Bound, default: str) -> InitSpec:
        """One of several initializers (the sides of a branch): known when they agree in
        family, scale and distribution; never fixed, since which one runs is not known."""
        value, node, kw = arg
        assert isinstance(value, OneOf)
        specs = [self._init_spec(Bound(o, node, kw), default) for o in value.options]
        first = specs[0]
        key = [(s.family, s.scale, s.mode, s.std) for s in specs]
        if first.family == "unknown" or any(k != key[0] for k in key):
            return InitSpec("unknown", display=self.renderer.short(node), written="expression",
                            node=node)
        spec = copy.copy(first)
        spec.display = " or ".join(dict.fromkeys(s.display for s in specs))
        spec.written, spec.node, spec.spelling = "expression", node, None
        return spec

    def _string_spec(self, value: Const, node: Optional[cst.CSTNode]) -> InitSpec:
        s = value.value
        assert isinstance(s, str)
        cls = K.STRING_ALIASES.get(s)
        if cls is None:
            spec = InitSpec(family="unknown", display=s, written="string", node=node)
            if s not in K.KNOWN_STRINGS:
                spec.rejected, spec.suggestions = True, K.suggestions(s)
                if not value.module and value.node is not None:
                    # Even a default other calls share: Keras rejects it at each of them.
                    spec.spelling = KerasSpelling(target=value.node)
            return spec
        spec = K.make_spec(cls, {}, s)
        spec.written, spec.node = "string", node
        if _editable(value):
            spec.spelling = KerasSpelling(target=value.node, snake=not s[:1].isupper())
        return spec

    def class_call_spec(self, ev: Any, cat: str, name: str, args: Args, site: Site) -> InitSpec:
        preset: Dict[str, Any] = {}
        if cat == "tf_initializer":
            name, preset = K.TF_INITIALIZERS[name]
        d = K.INITIALIZERS[name]
        evaluated: Dict[str, Any] = dict(preset)
        for p, (v, _, _) in args.by_name(d.params).items():
            if p not in K.SCALED_CLASS_PARAMS:
                evaluated[p] = v.value if isinstance(v, Const) else UNKNOWN_CONST
        call = site.node
        display = self.renderer.short(call) if not site.module else name
        spec = K.make_spec(name, evaluated, display)
        spec.written, spec.node = "class_call", call
        if not site.module and isinstance(call, cst.Call):
            spec.spelling = KerasSpelling(target=call, callee=call.func,
                                          bound=call_arguments(call, d.params),
                                          tf=cat == "tf_initializer")
        return spec

    # --- weightless layers ------------------------------------------------------------

    def make_op(self, name: str, args: Args) -> Op:
        if name == "Activation":
            x = args.get(0, "activation")
            return Op("activation", activation_of(x) if x is not None else Activation("unknown"))
        if name in K.ACTIVATION_LAYERS:
            return Op("activation", _activation_layer(name, args))
        for kind, names in (("norm", K.NORMALIZATION_LAYERS), ("pass", K.PASS_THROUGH_LAYERS),
                            ("keep_channels", K.KEEPS_CHANNELS), ("reshape", K.RESHAPING_LAYERS),
                            ("sum", K.SUM_LAYERS), ("merge", K.MERGE_LAYERS)):
            if name in names:
                return Op(kind)
        if name in K.INPUT_CLASSES:
            return Op("input", channels=_input_channels(args))
        return Op("unknown")

    # --- Sequential -------------------------------------------------------------------

    def make_seq(self, ev: Any, args: Args, site: Site) -> Sequential:
        seq = Sequential(node=ev.local_site(site).node)
        self.seqs.append(seq)
        items = args.get(0, "layers")
        if isinstance(items, Seq):
            for item in items.items:
                self.seq_add(seq, item)
            if not items.exact:
                seq.state = Tensor()
        return seq

    def seq_add(self, seq: Sequential, item: Value) -> None:
        seq.items.append(item)
        seq.state = self.apply(item, [seq.state], seq)

    # --- the data flow ----------------------------------------------------------------

    def apply(self, fn: Value, inputs: List[Tensor], seq: Optional[Sequential]) -> Tensor:
        """The tensor that results from applying ``fn`` to ``inputs``; links layers."""
        merged = _merge(inputs)
        if isinstance(fn, Tensor):  # an Input inside a Sequential
            return fn
        if isinstance(fn, LayerValue):
            return self._apply_layer(fn, merged, seq)
        if isinstance(fn, Sequential):
            return self._apply_seq(fn, merged)
        if isinstance(fn, Op):
            return self._apply_op(fn, merged, inputs, seq)
        if isinstance(fn, ActivationFn):
            return self._apply_op(Op("activation", fn.activation), merged, inputs, seq)
        return Tensor()

    def _apply_layer(self, lv: LayerValue, merged: Tensor, seq: Optional[Sequential]) -> Tensor:
        c_in = merged.channels
        if c_in is None and seq is not None and not seq.layers:
            c_in = seq.input_channels
        if lv.c_in is not None and c_in is None:
            c_in = lv.c_in
        if c_in is not None:
            self.set_fans(lv, c_in)
        fn = lv.layer
        for p in merged.producers:
            if all(fn is not n for n in p.next):
                p.next.append(fn)
        for p in merged.awaiting:
            self._settle_linear(p)
        if seq is not None:
            if not seq.layers:
                seq.first = [fn]
            seq.layers.append(fn)
        awaiting = [] if lv.activation_given else [fn]
        return Tensor([fn], awaiting, fn.out_features)

    def _apply_seq(self, fn: Sequential, merged: Tensor) -> Tensor:
        fn.used_as_layer = True
        for first in fn.first:
            for p in merged.producers:
                if all(first is not n for n in p.next):
                    p.next.append(first)
            lv = self.value_of(first)
            if merged.channels is not None and lv is not None and lv.c_in is None \
                    and first.weight("kernel") is not None:
                self.set_fans(lv, merged.channels)
        for p in merged.awaiting:
            self._settle_linear(p)
        return Tensor(list(fn.state.producers), list(fn.state.awaiting), fn.state.channels)

    def _apply_op(self, fn: Op, merged: Tensor, inputs: List[Tensor],
                  seq: Optional[Sequential]) -> Tensor:
        if fn.kind == "activation":
            act = fn.activation or Activation("unknown")
            for p in merged.awaiting:
                p.activation = Activation(act.name, dict(act.params), source="next_layer")
            return Tensor(list(merged.producers), [], merged.channels)
        if fn.kind in ("pass", "norm"):
            if fn.kind == "norm":
                for p in merged.awaiting:
                    p.normalized = True
                for p in merged.producers:
                    p.normalized_after = True
            return Tensor(list(merged.producers), list(merged.awaiting), merged.channels)
        if fn.kind in ("reshape", "keep_channels"):
            ch = merged.channels if fn.kind == "keep_channels" else None
            return Tensor(list(merged.producers), list(merged.awaiting), ch)
        if fn.kind == "input":
            if seq is not None:
                seq.input_channels = fn.channels
            return Tensor(channels=fn.channels)
        for p in merged.awaiting:
            self._settle_linear(p)
        if fn.kind == "product":
            for p in merged.producers:
                p.multiplies = True  # a gate or attention product: it scales, not feeds
            return Tensor()
        if fn.kind == "sum":
            for p in merged.producers:
                p.residual_branch_end = True
            same = all(t.channels == merged.channels for t in inputs)
            return Tensor([], [], merged.channels if same else None)
        return Tensor()

    def value_of(self, layer: Layer) -> Optional[LayerValue]:
        return self._values.get(id(layer))

    def _settle_linear(self, layer: Layer) -> None:
        """The layer's output is consumed without an activation in between: it is linear."""
        lv = self.value_of(layer)
        if lv is None or not lv.activation_given:
            layer.activation = Activation("linear", source="default")

    def upstream(self, outputs: List[Layer]) -> List[Layer]:
        """The layers whose output reaches one of ``outputs`` (these included)."""
        preds: Dict[int, List[Layer]] = {}
        for layer in self.layers:
            for n in layer.next:
                preds.setdefault(id(n), []).append(layer)
        seen: Dict[int, Layer] = {}
        todo = list(outputs)
        while todo:
            layer = todo.pop()
            if id(layer) not in seen:
                seen[id(layer)] = layer
                todo.extend(preds.get(id(layer), []))
        return list(seen.values())

    def mark_output(self, v: Optional[Value]) -> None:
        for t in _tensors(v):
            for p in t.producers:
                self.outputs.add(id(p))
            for p in t.awaiting:
                self._settle_linear(p)

    # --- results ----------------------------------------------------------------------

    def finish(self) -> Network:
        net = Network(renderer=self.renderer.render)
        for seq in self.seqs:
            if not seq.used_as_layer:
                self.mark_output(seq.state)
            if seq.layers:
                net.stacks.append(Stack(list(seq.layers), "sequential", seq.node))
        for layer in self.layers:
            if layer.next:
                layer.position = "hidden"
            elif id(layer) in self.outputs:
                layer.position = "output"
        net.layers = list(self.layers)
        net.deprecations = list(self.deprecations.values())
        _unfix_shared_literals(net.layers)
        in_seq = [x for st in net.stacks for x in st.layers]
        net.stacks.extend(chains(net.layers, in_seq))
        return net


# --- arguments ------------------------------------------------------------------------------


def _unfix_shared_literals(layers: List[Layer]) -> None:
    """A literal in a helper serves every call of it: rewriting it is a fix only when all the
    layers it built agree on their activation (else the fix would be wrong for some)."""
    users: Dict[int, List[Tuple[Layer, InitSpec]]] = {}
    for layer in layers:
        for w in layer.weights:
            sp = w.init.spelling
            target = sp.target if isinstance(sp, KerasSpelling) else None
            if target is not None and not w.init.rejected:  # a rejected name is wrong for all
                users.setdefault(id(target), []).append((layer, w.init))
    for group in users.values():
        acts = {(layer.activation.name, tuple(sorted(layer.activation.params.items())))
                for layer, _ in group}
        if len(acts) > 1:
            for _, spec in group:
                spec.spelling = None


def _via(v: Value) -> Provenance:
    return v.via if isinstance(v, (Const, External)) else ()


#: NumPy constructors of arrays whose entries are all one value.
#: Functions giving a tensor's norm (``x / tf.norm(x)`` renormalizes) and ones that
#: normalize it outright.
NORMS = frozenset({"norm", "global_norm"})
L2_NORMALIZE = frozenset({"l2_normalize", "normalize"})

CONSTANT_ARRAYS = {"numpy.zeros": 0.0, "numpy.ones": 1.0, "numpy.zeros_like": 0.0,
                   "numpy.ones_like": 1.0, "numpy.full": None}


def _constant_array(name: str, args: Args) -> Optional[Value]:
    value = CONSTANT_ARRAYS[name]
    if value is None:  # np.full(shape, fill_value)
        value = number(args.get(1, "fill_value"))
    return ConstantArray(float(value)) if value is not None else None


def _tensors(v: Optional[Value]) -> List[Tensor]:
    if isinstance(v, Seq):
        return [t for t in v.items if isinstance(t, Tensor)]
    return [v] if isinstance(v, Tensor) else []


def activation_of(v: Value) -> Activation:
    if isinstance(v, OneOf):
        acts = [activation_of(o) for o in v.options]
        same = all(a.name == acts[0].name and a.params == acts[0].params for a in acts)
        return acts[0] if same else Activation("unknown")
    if isinstance(v, Const):
        if v.value is None:
            return Activation("linear")
        if isinstance(v.value, str):
            name = K.ACTIVATION_STRINGS.get(v.value, "unknown")
            return Activation(name, {"slope": K.LEAKY_FN_SLOPE} if name == "leaky_relu" else {})
    if isinstance(v, ActivationFn):
        return Activation(v.activation.name, dict(v.activation.params))
    if isinstance(v, External):
        kn = classify(v.name)
        if kn is not None and kn[0] == "activation_fn":
            return Activation(kn[1], {"slope": K.LEAKY_FN_SLOPE} if kn[1] == "leaky_relu" else {})
    if isinstance(v, Op) and v.activation is not None:
        return Activation(v.activation.name, dict(v.activation.params))
    return Activation("unknown")


def _activation_layer(name: str, args: Args) -> Activation:
    canon, slope_kw, slope_default = K.ACTIVATION_LAYERS[name]
    params: Dict[str, float] = {}
    if slope_kw is None:
        return Activation(canon, params)
    slope: Optional[float] = slope_default
    for kw in (slope_kw, "alpha"):
        if kw in args.keywords:
            n = number(args.keywords[kw])
            slope = float(n) if n is not None else None
    if name == "LeakyReLU" and args.positional:
        n = number(args.positional[0])
        slope = float(n) if n is not None else None
    if name == "ReLU":
        if slope:
            canon = "leaky_relu"
        if number(args.keywords.get("max_value")) == 6:
            canon = "relu6"
    if slope is not None:
        params["slope"] = slope
    return Activation(canon, params)


def _editable(v: Const) -> bool:
    """A literal a fix may rewrite: in this file, and not a default that other calls share."""
    return not v.module and v.node is not None and all(s.kind != "default" for s in v.via)


def _positive(v: Optional[Value], default: Optional[int]) -> Optional[int]:
    if v is None:
        return default
    n = number(v)
    return int(n) if n is not None and n > 0 else None


def _shape(v: Optional[Value]) -> Optional[List[Value]]:
    return list(v.items) if isinstance(v, Seq) and v.exact else None


def _out_features(defn: K.LayerDef, args: Dict[str, Value]) -> Optional[int]:
    v = args.get(defn.width) if defn.width else None
    shape = _shape(v)
    if shape:  # EinsumDense's output_shape
        v = shape[-1]
    n = number(v)
    return int(n) if n is not None and n > 0 else None


def _kernel_prod(args: Dict[str, Value], defn: K.LayerDef) -> Optional[int]:
    v = args.get("kernel_size")
    if v is None:
        return None
    n = number(v)
    if n is not None:
        return math.prod([int(n)] * max(defn.rank, 1))
    shape = _shape(v)
    nums = [number(x) for x in shape or []]
    known = [int(x) for x in nums if x is not None]
    return math.prod(known) if nums and len(known) == len(nums) else None


def _input_size(args: Dict[str, Value], defn: K.LayerDef) -> Optional[int]:
    c_in: Optional[int] = None
    for kw in ("input_shape", "batch_input_shape"):
        shape = _shape(args.get(kw))
        if shape:
            n = number(shape[-1])
            if n is not None:
                c_in = int(n)
    if "input_dim" in args and defn.kind != "embedding":
        n = number(args["input_dim"])
        if n is not None:
            c_in = int(n)
    return c_in


def _input_channels(args: Args) -> Optional[int]:
    bound = args.by_name(("shape", "batch_size", "name"))
    for kw in ("shape", "input_shape", "batch_shape", "batch_input_shape"):
        if kw in bound:
            shape = _shape(bound[kw][0])
            if shape:
                n = number(shape[-1])
                if n is not None:
                    return int(n)
    return None


def _zero_bias(layer: Layer, args: Dict[str, Value]) -> Optional[bool]:
    if "use_bias" in args:
        v = args["use_bias"]
        if isinstance(v, Const) and v.value is False:
            return True
        if not isinstance(v, Const):
            return None
    b = layer.weight("bias")
    if b is None:
        return True
    if b.init.written == "default" or b.init.is_zero:  # bias_initializer=None is glorot_uniform
        return True
    if b.init.family == "unknown":
        return None
    return False


def _uniform_bias(layer: Layer) -> Optional[bool]:
    if layer.zero_bias:
        return True
    b = layer.weight("bias")
    if b is None:
        return True
    if b.init.is_constant and b.init.value is not None:
        return True
    if b.init.family == "unknown":
        return None
    return False


def _merge(tensors: List[Tensor]) -> Tensor:
    if not tensors:
        return Tensor()
    if len(tensors) == 1:
        return tensors[0]
    out = Tensor()
    for t in tensors:
        out.producers.extend(t.producers)
        out.awaiting.extend(t.awaiting)
    return out


def _keras1_module_names(node: cst.CSTNode) -> List[Tuple[cst.CSTNode, str]]:
    """The places an import statement names ``keras.initializations``, with the dotted name
    as written."""
    found: List[Tuple[cst.CSTNode, str]] = []
    if isinstance(node, cst.Import):
        for alias in node.names:
            name = dotted_name(alias.name) or ""
            if name == "keras." + K.KERAS1_MODULE or name.startswith(
                    "keras." + K.KERAS1_MODULE + "."):
                found.append((alias, name))
    elif isinstance(node, cst.ImportFrom) and node.module is not None and not node.relative:
        module = dotted_name(node.module) or ""
        if module == "keras" and not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                if dotted_name(alias.name) == K.KERAS1_MODULE:
                    found.append((alias, "keras." + K.KERAS1_MODULE))
        elif module == "keras." + K.KERAS1_MODULE:
            found.append((node.module, module))
    return found
