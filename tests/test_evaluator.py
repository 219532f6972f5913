"""The shared evaluator knows Python, not frameworks: values through assignments, calls,
classes, loops, branches and modules, bounded, and with unknown as a first-class value."""

from __future__ import annotations

import ast
import pathlib
import textwrap
from typing import Dict, List, Optional

import libcst as cst
import pytest

from initlint.analysis import (Args, Const, DictV, Evaluator, External, Host, InstanceV, Limits,
                               OneOf, Opaque, Resolver, Seq, Site, Unknown, Value)


def run(src: str, host: Optional[Host] = None, resolver: Optional[Resolver] = None,
        limits: Limits = Limits(), path: str = "") -> Evaluator:
    src = textwrap.dedent(src)
    ev = Evaluator(cst.parse_module(src), host or Host(), path, resolver, limits, source=src)
    ev.run()
    return ev


def value(ev: Evaluator, name: str) -> object:
    """A name's value as plain Python (unknown as the Unknown class)."""
    return plain(ev.scope.names[name])


def plain(v: Value) -> object:
    if isinstance(v, Const):
        return v.value
    if isinstance(v, Seq):
        items = [plain(i) for i in v.items]
        return tuple(items) if v.kind == "tuple" else items
    if isinstance(v, DictV):
        return {k: plain(i) for k, i in v.items.items()}
    if isinstance(v, Unknown):
        return Unknown
    if isinstance(v, OneOf):
        return ("one of",) + tuple(plain(o) for o in v.options)
    return v


# --- values -----------------------------------------------------------------------------


def test_tuple_and_star_unpacking():
    ev = run("""
        n_in, n_h, n_out = 784, 300, 10
        first, *rest = [1, 2, 3]
        *init, last = (4, 5, 6)
        a, b = unknown_call()
    """)
    assert (value(ev, "n_in"), value(ev, "n_h"), value(ev, "n_out")) == (784, 300, 10)
    assert value(ev, "rest") == [2, 3] and value(ev, "init") == [4, 5] and value(ev, "last") == 6
    assert value(ev, "a") is Unknown and value(ev, "b") is Unknown


def test_arithmetic_on_known_numbers():
    ev = run("""
        import math
        import numpy as np
        width = 256
        a = 2 * width
        b = int(width / 3)
        c = math.sqrt(width)
        d = np.sqrt(16)
        e = -width // 5 + 2 ** 3
        f = 10 ** 400
        g = 1 / 0
        h = max(3, width, 7) + min([4, 2]) + len((1, 2, 3)) + abs(-2)
    """)
    assert value(ev, "a") == 512 and value(ev, "b") == 85
    assert value(ev, "c") == 16.0 and value(ev, "d") == 4.0
    assert value(ev, "e") == -52 + 8
    assert value(ev, "f") is Unknown and value(ev, "g") is Unknown
    assert value(ev, "h") == 256 + 2 + 3 + 2


def test_comparisons_and_booleans():
    ev = run("""
        x = 3
        a = 1 < x <= 3
        b = x in (1, 2)
        c = "re" in "relu"
        d = x is None
        e = unknown or True
        f = unknown and False
        g = not x
        h = unknown == 1
    """)
    assert [value(ev, n) for n in "abcdefg"] == [True, False, True, False, True, False, False]
    assert value(ev, "h") is Unknown


def test_dicts_and_splats():
    ev = run("""
        base = {"activation": "relu", "units": 64}
        more = {**base, "units": 32}
        made = dict(base, use_bias=False)
        unknown_keys = {**opaque}
        def f(units, activation="linear", **kw):
            return (units, activation, kw)
        r = f(**more)
        s = f(*[8], **{"use_bias": True})
        t = f(**opaque)
    """)
    assert value(ev, "more") == {"activation": "relu", "units": 32}
    assert value(ev, "made") == {"activation": "relu", "units": 64, "use_bias": False}
    assert not ev.scope.names["unknown_keys"].exact
    assert value(ev, "r") == (32, "relu", {})
    assert value(ev, "s") == (8, "linear", {"use_bias": True})
    units, act, _ = value(ev, "t")
    assert units is Unknown and act is Unknown  # may have come through the splat


def test_conditional_expression_agrees_or_is_one_of_its_sides():
    ev = run("""
        a = "relu" if flag else "relu"
        b = "relu" if flag else "tanh"
        c = "relu" if 2 > 1 else "tanh"
        d = "relu" if flag else unknown_name
        e = 1 if f1 else 2 if f2 else 3 if f3 else 4 if f4 else 5
    """)
    assert value(ev, "a") == "relu" and value(ev, "c") == "relu"
    assert value(ev, "b") == ("one of", "relu", "tanh")
    assert value(ev, "d") is Unknown
    assert value(ev, "e") is Unknown  # more alternatives than are worth tracking
    assert ev.truth(ev.scope.names["b"]) is True


def test_branches_join_what_they_bind():
    ev = run("""
        act = "relu"
        if flag:
            act = "tanh"
            only = 1
        if flag:
            same = 2
        else:
            same = 2
        if 1 > 2:
            dead = 1
        else:
            live = 1
    """)
    assert value(ev, "act") == ("one of", "tanh", "relu") and value(ev, "only") == 1
    assert value(ev, "same") == 2 and "dead" not in ev.scope.names and value(ev, "live") == 1


# --- functions --------------------------------------------------------------------------


def test_defaults_keywords_and_call_site_provenance():
    ev = run("""
        def block(c, act="tanh", *, norm=None):
            return (c, act, norm)
        a = block(3)
        b = block(4, act="relu", norm="bn")
    """)
    assert value(ev, "a") == (3, "tanh", None)
    assert value(ev, "b") == (4, "relu", "bn")
    default = ev.scope.names["a"].items[1]
    assert [s.kind for s in default.via] == ["default"]
    assert default.via[0].name == "act" and default.via[0].function == "block"
    passed = ev.scope.names["b"].items[1]
    assert passed.via[0].kind == "argument" and isinstance(passed.via[0].site.node, cst.Call)


def test_returns_of_helpers_flow_back():
    ev = run("""
        import math
        def fan_in_range(fan_in):
            bound = 1 / math.sqrt(fan_in)
            return (-bound, bound)
        low, high = fan_in_range(100)
        def pick(name):
            if name == "relu":
                return "he_uniform"
            return "glorot_uniform"
        p = pick("relu")
        q = pick("tanh")
        r = pick(unknown)
    """)
    assert value(ev, "low") == pytest.approx(-0.1) and value(ev, "high") == pytest.approx(0.1)
    assert value(ev, "p") == "he_uniform" and value(ev, "q") == "glorot_uniform"
    assert value(ev, "r") == ("one of", "he_uniform", "glorot_uniform")


def test_partial_lambda_closure_and_varargs():
    ev = run("""
        import functools
        from functools import partial
        def f(a, b=1, *rest, **kw):
            return (a, b, rest, kw)
        g = functools.partial(f, b=5)
        h = partial(f, 0)
        lam = lambda x, y=2: x * y
        def outer(k):
            def inner(z):
                return z + k
            return inner
        add3 = outer(3)
        r1, r2, r3, r4 = g(1), h(7, 8, 9, z=1), lam(4), add3(1)
    """)
    assert value(ev, "r1") == (1, 5, (), {})
    assert value(ev, "r2") == (0, 7, (8, 9), {"z": 1})
    assert value(ev, "r3") == 8 and value(ev, "r4") == 4


def test_recursion_and_call_depth_are_bounded():
    ev = run("""
        def f(n):
            return f(n - 1)
        x = f(3)
        def d(n):
            return e(n)
        def e(n):
            return n
        y = d(2)
    """, limits=Limits(call_depth=1))
    assert value(ev, "x") is Unknown
    assert value(ev, "y") is Unknown  # two levels deep, limit one


# --- classes ----------------------------------------------------------------------------


def test_classes_bind_init_parameters_methods_and_inheritance():
    ev = run("""
        class Base:
            scale = 2
            def __init__(self, width=512, zero_init=False):
                self.width = width
                self.zero_init = zero_init
                self.reset_parameters()
            def reset_parameters(self):
                self.k = self.width * self.scale
        class Net(Base):
            def __init__(self, depth):
                super().__init__(width=8, zero_init=True)
                self.depth = depth
            @property
            def size(self):
                return self.width * self.depth
            @staticmethod
            def s(x):
                return x + 1
        net = Net(3)
        size = net.size
        s = net.s(1)
    """)
    net = ev.scope.names["net"]
    assert isinstance(net, InstanceV)
    assert {k: plain(v) for k, v in net.attrs.items()} == {
        "width": 8, "zero_init": True, "k": 16, "depth": 3}
    assert value(ev, "size") == 24 and value(ev, "s") == 2


def test_loops_unroll_known_iterables():
    ev = run("""
        layers = []
        prev = 784
        for w in [512] * 6:
            layers += [(prev, w)]
            prev = w
        sizes = []
        for i, c in enumerate((16, 32)):
            sizes.append((i, c))
        squares = [i * i for i in range(4) if i != 2]
        table = {k: v for k, v in zip("ab", [1, 2])}
        for j in range(3):
            if j == 1:
                break
        n = 0
        for _ in range(100000):
            n += 1
    """)
    assert value(ev, "layers") == [(784, 512)] + [(512, 512)] * 5
    assert value(ev, "sizes") == [(0, 16), (1, 32)]
    assert value(ev, "squares") == [0, 1, 9]
    assert value(ev, "table") == {"a": 1, "b": 2}
    assert value(ev, "j") == 1
    assert value(ev, "n") == 2  # past the unrolling bound: the body runs twice, no more


# --- unknown as a value -----------------------------------------------------------------


class Thing(Opaque):
    """A reader-made value that records what happened to it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.escapes: List[Site] = []
        self.calls: List[str] = []

    def call_method(self, ev, name, args, site):
        if name == "known":
            self.calls.append(name)
            return Const(None)
        return None

    def escape(self, ev, site):
        self.escapes.append(site)


class ThingHost(Host):
    def __init__(self) -> None:
        self.made: List[Thing] = []
        self.seen: Dict[str, Args] = {}

    def call_external(self, ev, name, args, site):
        if name == "fw.Thing":
            t = Thing(name)
            self.made.append(t)
            return t
        if name.startswith("fw."):
            self.seen[name] = args
            return Const(None)
        return None


def test_hosts_handle_their_names_and_unknown_calls_mark_escapes():
    host = ThingHost()
    run("""
        import fw
        from other import fill
        a = fw.Thing()
        b = fw.Thing()
        c = fw.Thing()
        a.known()
        fill(a)
        b.load_state_dict(ckpt)
        fw.init(c, scale=2)
        holder = [c]
        mystery(holder)
        print(a, repr(b), iter([c]), list(map(str, [a])))
    """, host)
    a, b, c = host.made
    assert a.calls == ["known"] and len(a.escapes) == 1
    assert len(b.escapes) == 1  # an unknown method of the value itself
    assert len(c.escapes) == 1  # through the list; fw.init was the host's own
    assert plain(host.seen["fw.init"].keywords["scale"]) == 2


def test_unknown_calls_mark_instances_and_their_attributes():
    host = ThingHost()
    ev = run("""
        import fw
        class Net:
            def __init__(self):
                self.fc = fw.Thing()
        net = Net()
        net.load_state_dict(torch.load("x"))
    """, host)
    assert len(host.made[0].escapes) == 1
    assert ev.scope.names["net"].escaped


def test_imports_bind_qualified_names():
    ev = run("""
        import torch.nn as nn
        import numpy
        from keras import layers as L
        from keras.layers import Dense
    """)
    names = ev.scope.names
    assert [names[n].name for n in ("nn", "numpy", "L", "Dense")] == [
        "torch.nn", "numpy", "keras.layers", "keras.layers.Dense"]
    got = run("import torch.nn as nn\nx = nn.init.zeros_\n").scope.names["x"]
    assert isinstance(got, External) and got.name == "torch.nn.init.zeros_"


class Kind(Opaque):
    """A reader's class value: equal to the external class it names."""

    def __init__(self, name: str) -> None:
        self.name = name

    def equals(self, ev, other):
        if isinstance(other, External):
            return other.name == self.name
        return None

    def attribute(self, ev, name, site):
        return Const(self.name.rsplit(".", 1)[-1]) if name == "__name__" else None


class Module(Opaque):
    """A reader's value with a class, attributes it has and submodules it iterates over."""

    def __init__(self, n: int = 0) -> None:
        self.n = n
        self.visited = 0

    def attribute(self, ev, name, site):
        return Kind("fw.Dense") if name == "__class__" else None

    def has_attribute(self, ev, name):
        return True if name == "weight" else None

    def iterate(self, ev):
        return [Const(i) for i in range(self.n)]

    def call_method(self, ev, name, args, site):
        if name == "visit":
            self.visited += 1
            return Const(None)
        return None


class ModuleHost(Host):
    def __init__(self) -> None:
        self.made: List[Module] = []
        self.uncertain: List[int] = []
        self.sites: List[Site] = []

    def call_external(self, ev, name, args, site):
        if name == "fw.Module":
            m = Module(int(plain(args.positional[0])) if args.positional else 0)
            self.made.append(m)
            return m
        if name == "fw.record":
            self.uncertain.append(ev.uncertain)
            self.sites.append(site)
            return Const(None)
        return None


def test_opaque_values_answer_type_equality_membership_and_hasattr():
    host = ModuleHost()
    ev = run("""
        import fw
        m = fw.Module()
        same = type(m) == fw.Dense
        differs = type(m) != fw.Conv
        is_it = m.__class__ is fw.Dense
        inside = type(m) in (fw.Conv, fw.Dense)
        outside = type(m) in (fw.Conv, fw.Pool)
        name = m.__class__.__name__
        found = name.find("Den") != -1
        has_weight = hasattr(m, "weight")
        has_other = hasattr(m, "other")
        class Net:
            size = 3
            def __init__(self):
                self.fc = 1
        net = Net()
        cls_name = net.__class__.__name__
        has_fc = hasattr(net, "fc")
        has_size = hasattr(net, "size")
    """, host)
    assert [value(ev, n) for n in ("same", "differs", "is_it", "inside", "outside")] == [
        True, True, True, True, False]
    assert value(ev, "name") == "Dense" and value(ev, "found") is True
    assert value(ev, "has_weight") is True and value(ev, "has_other") is Unknown
    assert value(ev, "cls_name") == "Net"
    assert value(ev, "has_fc") is True and value(ev, "has_size") is True


def test_loops_over_a_readers_value_run_over_all_it_holds():
    host = ModuleHost()
    ev = run("""
        import fw
        m = fw.Module(200)
        n = 0
        for i in m:
            n += 1
        squares = [i for i in m]
        k = 0
        for j in range(200):
            k += 1
    """, host)
    assert value(ev, "n") == 200 and len(value(ev, "squares")) == 200
    assert value(ev, "k") == 2  # a plain iterable past the unroll bound: twice


def test_a_constructor_runs_as_certain_even_under_an_unknown_branch():
    host = ModuleHost()
    run("""
        import fw
        class Net:
            def __init__(self):
                fw.record()
        if unknown_flag:
            net = Net()
            fw.record()
    """, host)
    assert host.uncertain == [0, 1]


class HookHost(ModuleHost):
    def __init__(self) -> None:
        super().__init__()
        self.returned_from: List[str] = []
        self.unknown: List[str] = []
        self.alternatives: List[int] = []

    def returned(self, ev, fn, args, value, site):
        self.returned_from.append(fn.qualname)
        return Const("replaced") if fn.qualname == "sigmoid" else None

    def call_unknown(self, ev, callee, args, site):
        self.unknown.append(callee.describe())
        return Const(None) if "harmless" in callee.describe() else None

    def call_one_of(self, ev, callee, args, site):
        self.alternatives.append(len(callee.options))
        return Const("both") if all(isinstance(o, External) for o in callee.options) else None


def test_hosts_see_returns_unknown_callees_and_alternatives():
    host = HookHost()
    ev = run("""
        import fw
        def sigmoid(z):
            return z
        def other(z):
            return z
        a = sigmoid(1)
        b = other(2)
        t = fw.Thing()
        harmless(t)
        mystery(t)
        pick = fw.a if flag else fw.b
        c = pick(1)
        def one(x):
            fw.record()
            return 1
        def two(x):
            return 2
        fn = one if flag else two
        d = fn(0)
        maybe = one if flag else None
        e = maybe(0)
    """, host)
    assert value(ev, "a") == "replaced" and value(ev, "b") == 2
    assert host.returned_from[:2] == ["sigmoid", "other"]
    assert any("harmless" in u for u in host.unknown) and any("mystery" in u for u in host.unknown)
    assert value(ev, "c") == "both"
    assert value(ev, "d") == ("one of", 1, 2)
    assert host.uncertain == [1, 1]  # each alternative may be the one that runs
    assert value(ev, "e") == 1  # calling None is never the path taken


def test_zip_of_lists_of_unknown_length_keeps_what_they_hold():
    ev = run("""
        ws = [w for w in unknown_sizes]
        bs = [b for b in unknown_sizes]
        pairs = zip(ws, bs)
        n = 0
        for w, b in zip(ws, bs):
            n += 1
    """)
    pairs = ev.scope.names["pairs"]
    assert isinstance(pairs, Seq) and not pairs.exact and len(pairs.items) == 1
    assert value(ev, "n") == 2


def test_splats_of_unknown_length_keep_what_they_hold():
    ev = run("""
        blocks = [b * 2 for b in unknown_sizes]
        def gather(*xs):
            return xs
        got = gather(*blocks)
    """)
    got = ev.scope.names["got"]
    assert isinstance(got, Seq) and not got.exact and len(got.items) == 1


def test_dataclasses_bind_their_fields_from_the_call():
    ev = run("""
        from dataclasses import dataclass
        @dataclass
        class Config:
            dim: int = 4096
            n_layers: int = 32
            name: str = "base"
        small = Config(256, n_layers=2)
        width = small.dim
        depth = small.n_layers
        label = small.name
    """)
    assert (value(ev, "width"), value(ev, "depth"), value(ev, "label")) == (256, 2, "base")


class FakeTree(Resolver):
    def __init__(self, files: Dict[str, str]) -> None:
        self.files = files

    def _path(self, name: str) -> Optional[str]:
        for cand in (name.replace(".", "/") + ".py", name.replace(".", "/") + "/__init__.py"):
            if cand in self.files:
                return cand
        return None

    def module_name(self, path):
        p = path[:-len("/__init__.py")] if path.endswith("/__init__.py") else path[:-3]
        return p.replace("/", ".")

    def is_package(self, path):
        return path.endswith("__init__.py")

    def locate(self, name, importer):
        return self._path(name)

    def load_from(self, name, importer):
        path = self._path(name)
        return cst.parse_module(self.files[path]) if path else None

    def path_of(self, name):
        return self._path(name) or name


def test_cross_module_helpers_and_constants():
    tree = FakeTree({
        "pkg/__init__.py": "",
        "pkg/config.py": "KERNEL_INIT = 'glorot_uniform'\nWIDTH = 4 * 64\n",
        "pkg/utils.py": "import math\nfrom .config import WIDTH\n"
                        "def bound(fan):\n    return 1 / math.sqrt(fan)\n"
                        "def width():\n    return WIDTH\n",
    })
    ev = run("""
        from .config import KERNEL_INIT
        from pkg import utils
        from .utils import bound as b
        import pkg.config
        k = KERNEL_INIT
        w = utils.width()
        x = b(100)
        y = pkg.config.WIDTH
        print(k, w, x, y)
    """, resolver=tree, path="pkg/model.py")
    assert value(ev, "k") == "glorot_uniform" and value(ev, "w") == 256
    assert value(ev, "x") == pytest.approx(0.1) and value(ev, "y") == 256
    const = ev.scope.names["k"]
    assert const.module == "pkg/config.py"


def test_another_modules_top_level_values_are_computed_when_first_used():
    tree = FakeTree({
        "pkg/__init__.py": "",
        "pkg/registry.py": (
            "import fw\n"
            "def table(n):\n    fw.record()\n    return {'width': n}\n"
            "CFGS = table(64)\n"
            "UNUSED = table(1)\n"
            "SEEN = {}\n"
            "def remember(k):\n    SEEN[k] = 1\n"
            "TWICE = table(2)\n"
            "TWICE = table(3)\n"
        ),
    })
    host = ModuleHost()
    ev = run("""
        from .registry import CFGS, remember, SEEN, TWICE
        width = CFGS["width"]
        remember("a")
        remember("b")
        seen = SEEN
        twice = TWICE["width"]
    """, host, resolver=tree, path="pkg/model.py")
    assert value(ev, "width") == 64
    assert sorted(ev.scope.names["seen"].items) == ["a", "b"]  # one dict, changed in place
    assert value(ev, "twice") == 3  # set twice: read in order, as Python runs it
    # CFGS read once; UNUSED never; TWICE's two assignments as the module loaded.
    assert len(host.sites) == 3


def test_a_top_level_call_into_another_module_whose_result_is_never_read_is_not_read():
    tree = FakeTree({
        "pkg/__init__.py": "",
        "pkg/registry.py": "import fw\ndef register(cfgs, model=None):\n    fw.record()\n",
    })
    host = ModuleHost()
    ev = run("""
        import fw
        from .registry import register
        def cfg(**kw):
            fw.record()
            return kw
        table = register({"a": cfg(url="x"), "b": [1, 2 * 3], "c": -1})
        kept = register({"c": 1})
        print(kept)
        handed = register({}, fw.Module())
        register({"d": 1})
    """, host, resolver=tree, path="pkg/model.py")
    # ``table`` is never read: neither the call nor its arguments are read. ``kept`` is
    # read later, ``handed`` is given an object, and the last call is a statement: all
    # three are read.
    assert [s.module for s in host.sites] == ["pkg/registry.py"] * 3
    assert id(ev.functions[0].node) not in ev.called  # cfg() is left to the entry points


def test_a_function_of_another_module_runs_at_that_modules_places():
    tree = FakeTree({
        "pkg/__init__.py": "",
        "pkg/utils.py": "import fw\ndef helper():\n    fw.record()\n",
    })
    host = ModuleHost()
    run("""
        import fw
        from .utils import helper
        helper()
        fw.record()
    """, host, resolver=tree, path="pkg/model.py")
    assert [s.module for s in host.sites] == ["pkg/utils.py", ""]


def test_budget_stops_a_pathological_file_and_says_so():
    ev = run("""
        def f(x):
            return [x, x, x, x]
        for a in range(60):
            for b in range(60):
                for c in range(60):
                    y = f(a)
    """, limits=Limits(steps=20_000))
    assert ev.truncated is not None and "steps" in ev.truncated


def test_the_evaluator_knows_no_framework():
    """The analysis package imports nothing of readers, catalogs or rules, and names no
    framework."""
    root = pathlib.Path(__file__).resolve().parent.parent / "initlint" / "analysis"
    for path in root.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                assert node.module is None or node.module.split(".")[0] not in (
                    "readers", "catalog", "rules", "model"), path
        docs = {id(n.body[0].value) for n in ast.walk(tree)
                if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef)) and n.body
                and isinstance(n.body[0], ast.Expr)}
        code = [n.value.lower() for n in ast.walk(tree) if isinstance(n, ast.Constant)
                and isinstance(n.value, str) and id(n) not in docs]
        code += [n.id.lower() for n in ast.walk(tree) if isinstance(n, ast.Name)]
        for word in ("torch", "keras", "tensorflow", "flax", "jax"):
            assert not any(word in c for c in code), (path.name, word)


def test_one_place_calling_a_function_with_plain_data_is_read_a_bounded_number_of_times():
    ev = run("""
        seen = []
        def build(i):
            seen.append(i)
            return i
        class Model:
            def __init__(self):
                for i in range(30):
                    build(i)
        m = Model()
        class Box:
            pass
        boxes = []
        def fill(box, i):
            boxes.append(i)
        box = Box()
        for i in range(30):
            fill(box, i)
    """)
    assert value(ev, "seen") == list(range(Limits().same_call))
    assert value(ev, "boxes") == list(range(30))  # an object passed: every call is read


def test_entry_points_read_a_function_they_share_a_bounded_number_of_times():
    ev = run("""
        seen = []
        def builder(i):
            seen.append(i)
        def entry_a():
            builder(1)
        def entry_b():
            builder(2)
        def entry_c():
            builder(3)
        builder(10)
        builder(11)
    """)
    assert value(ev, "seen") == [10, 11]  # script code reads every call
    ev.run_uncalled()
    limit = Limits().same_function
    assert value(ev, "seen") == [10, 11] + [1, 2, 3][:limit]


def test_equal_objects_built_from_one_place_in_one_construction_are_read_once():
    ev = run("""
        made = []
        class Block:
            def __init__(self, width, last=False):
                made.append((width, last))
        class Model:
            def __init__(self, depth):
                self.blocks = [Block(64) for _ in range(depth)]
                self.odd = [Block(64, last=(i == depth - 1)) for i in range(depth)]
        a = Model(3)
    """)
    assert value(ev, "made") == [(64, False), (64, False), (64, True)]
    a = ev.scope.names["a"]
    assert isinstance(a, InstanceV)
    blocks = a.attrs["blocks"]
    odd = a.attrs["odd"]
    assert isinstance(blocks, Seq) and len({id(b) for b in blocks.items}) == 1
    assert isinstance(odd, Seq) and len(odd.items) == 3
    assert odd.items[0] is odd.items[1] and odd.items[1] is not odd.items[2]


def test_a_class_built_from_many_places_is_read_for_its_first_builds_only():
    ev = run("""
        made = []
        class Block:
            def __init__(self, i):
                made.append(i)
        class Model:
            def __init__(self, depth):
                self.blocks = [Block(i) for i in range(depth)]
        def entry_a():
            return Model(3)
        def entry_b():
            return Model(4)
        script = Model(2)
        again = Model(1)
    """)
    assert value(ev, "made") == [0, 1, 0]  # script code builds every time
    ev.run_uncalled()
    assert value(ev, "made") == [0, 1, 0, 0, 1, 2]  # the entry points: the first build only
    assert Limits().top_level_builds == 1


def test_a_class_given_an_object_is_always_built():
    ev = run("""
        class Trainer:
            def __init__(self, model):
                self.model = model
        class Net:
            pass
        net = Net()
        first = Trainer(net)
        second = Trainer(net)
    """)
    second = ev.scope.names["second"]
    assert isinstance(second, InstanceV) and isinstance(second.attrs["model"], InstanceV)
