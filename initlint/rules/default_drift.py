"""IL102 and IL103: ReLU-family layers left at a framework default, judged by depth.

The variance checker predicts the drift of each run of consecutive layers (no normalization
or residual sum between them) and a finding is reported, once per run, only past a threshold.
A single hidden layer is not a run: one layer's loss does not compound. How the rules are
selected changes nothing: ``--select ALL`` reports exactly what the defaults report.
"""

from __future__ import annotations

from typing import Iterator, List, Optional, Set, Tuple, Union

from .. import checker, variance
from ..catalog import activations as A
from ..model import Diagnostic, Edit, Fix, InitSpec, Layer, Network, Severity, Stack
from . import Case, Context, built_elsewhere, rule, setting
from .common import fmt, modelled, recommended_family, request_for, runs, same_distribution

#: Default thresholds on a run's drift factor (settings override them). Forward explosion is
#: far worse than vanishing of the same size; backward-only growth behind tanh/sigmoid trained
#: fine up to 15x.
THRESHOLDS = {
    "drift-explode-warning": 2.0,
    "drift-explode-error": 10.0,
    "drift-vanish-info": 4.0,
    "drift-vanish-warning": 10.0,
    "drift-vanish-error": 100.0,
    "drift-backward-growth-warning": 100.0,
    "saturation-warning": 0.10,
    "saturation-error": 0.50,
    # Depth (hidden layers in the run) below which a default init is not reported, and below
    # which it is at most info. With tuned learning rates PyTorch's default did no practical
    # harm at depth 3 or 5; at depth 10 plain SGD stayed at the constant predictor.
    "drift-min-depth": 6,
    "drift-full-depth": 10,
}
for _k, _v in THRESHOLDS.items():
    setting(_k, _v)
_RANK = {"info": 0, "warning": 1, "error": 2}

_DOC_TAIL = """
    ## How it is judged
    By default the variance checker follows the signal through each run of consecutive layers
    that initlint can model (fans and activations known, no normalization before or after an
    activation and no residual sum in between, the output layer excluded) and reports the run
    when its predicted drift passes a threshold:

    - forward explosion: warning at 2x or more, error at 10x (with ReLU-like activations the
      gradient explodes with it);
    - vanishing, forward or backward: info at 4x, warning at 10x, error at 100x;
    - backward-only growth behind tanh or sigmoid: warning at 100x;
    - saturation (tanh/sigmoid units with f' < 0.01): warning above 10%, error above 50%.

    Depth decides first: a run of fewer than 6 hidden layers is not reported at all, and one
    of fewer than 10 at most at `info`. In training runs PyTorch's default (0.41x of the
    signal per ReLU layer) did no practical harm at depth 3 or 5 with tuned learning rates; at
    depth 10 plain SGD stayed at the constant predictor. Keras's default loses less per layer
    (0.71x), so the same depths are conservative for it. (`drift-min-depth` and
    `drift-full-depth` in the configuration.)

    The drift judged is the initializer's own: the run's drift divided by the drift the
    recommended initializer gives on the same layers, so that a tapering network's fan ratios
    do not count against the default. The message quotes both.

    One finding per run, at its first default layer, naming the run's first and last layers.
    A single hidden layer (a classifier head, a transformer MLP inside a residual branch) is
    never reported: its loss does not compound. Selecting the rule explicitly (`--select
    {code}` or `ALL`) judges exactly as the defaults do.
"""

_IL102_DOC = """
    ## What it does
    Reports ReLU-family layers that rely on Keras's default Glorot initializer
    (`glorot_uniform`) when the variance checker predicts that a run of them loses (or
    blows up) the signal.

    ## Why is this bad?
    The arithmetic is IL002's: on square layers each such layer multiplies the signal's std by
    0.71, forward and backward, so the loss compounds with depth (0.044x over 10 layers). Most
    Keras ReLU layers use the default, and a shallow stack rarely suffers, which is why the
    finding depends on the predicted drift of the stack. Layers normalized before their
    activation and layers inside a residual branch are not judged.
""" + _DOC_TAIL.replace("{code}", "IL102") + """

    ## Fix
    Adds the He initializer of the default's distribution as an explicit argument to every
    default layer of the run (safe).
"""

_IL103_DOC = """
    ## What it does
    Reports ReLU-family `Linear` and `Conv` layers left at PyTorch's default initializer,
    `kaiming_uniform_(a=sqrt(5))`, when the variance checker predicts that a run of them loses
    the signal.

    ## Why is this bad?
    The default draws U(+-1/sqrt(fan_in)): Var(W) = 1/(3 fan_in), a sixth of He's. Through a
    ReLU each layer keeps sqrt(1/6) = 0.41x of the signal's std, so 10 layers keep 3.2e-4x. In
    training runs this did no practical harm at depth 3 to 5 with tuned learning rates, but at
    depth 10 plain SGD stayed at the constant predictor; Adam still trained.
""" + _DOC_TAIL.replace("{code}", "IL103") + """

    ## Fix
    None: the default has no call to rewrite. The message names the init to add.
"""


def default_code(layer: Layer) -> Optional[str]:
    """IL102 or IL103 when a ReLU-family layer's kernel is the framework's default."""
    act = layer.activation
    if not act.known or act.name not in A.RELU_FAMILY:
        return None
    if not layer.compounds:
        return None
    w = layer.activated_kernel
    if w is None or not w.init.is_default:
        return None
    if w.init.family == "glorot" and layer.framework == "keras":
        return "IL102"
    if w.init.family == "framework_default" and layer.framework == "torch" and \
            layer.kind in ("dense", "conv", "conv_transpose"):
        return "IL103"
    return None


def _keras_stack(init: str, depth: int = 10, act: str = "relu") -> str:
    """A stack of ``depth`` Dense layers with ``act``, with ``init`` spelled out when given;
    IL102's example is ten ReLU ones."""
    kw = f', kernel_initializer="{init}"' if init else ""
    body = "".join(f'\n        layers.Dense(64, activation="{act}"{kw}),' for _ in range(depth))
    return f"""
        import keras
        from keras import layers

        model = keras.Sequential([
            keras.Input((64,)),{body}
            layers.Dense(10),
        ])
    """


def _torch_stack(init_loop: bool, depth: int = 10, between: str = "") -> str:
    """A stack of ``depth`` ReLU Linear layers (``between`` each and its ReLU), re-initialized
    with He when asked; IL103's example is ten."""
    body = "".join(f"\n        nn.Linear(256, 256), {between}nn.ReLU()," for _ in range(depth))
    loop = """
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.kaiming_uniform_(m.weight, nonlinearity="relu")""" if init_loop else ""
    return f"""
    import torch.nn as nn

    model = nn.Sequential({body}
        nn.Linear(256, 10),
    ){loop}
    """


# --- cases: tests/test_rule_cases.py lints each with the rule selected, and with the defaults

_IL102_VALID: List[Union[str, Case]] = [
    # Five layers: too shallow for the default to matter.
    _keras_stack("", depth=5),
    # He spelled out.
    _keras_stack("he_uniform", depth=12),
    # Glorot is the right default for tanh.
    _keras_stack("", depth=10, act="tanh"),
    # One hidden layer is not a stack, however it is selected.
    """
    from keras import layers

    hidden = layers.Dense(64, activation="relu")
    """,
    # Normalized before its activation: the kernel's scale is divided out.
    """
    import keras
    from keras import layers

    model = keras.Sequential(
        [keras.Input((64,))]
        + [layers.Dense(64), layers.BatchNormalization(), layers.ReLU()] * 12
        + [layers.Dense(10)]
    )
    """,
    # PyTorch's default is IL103's.
    """
    import torch.nn as nn

    net = nn.Sequential(*[m for _ in range(12) for m in (nn.Linear(64, 64), nn.ReLU())],
                        nn.Linear(64, 10))
    """,
]

_IL102_INVALID = [
    # Judged by depth: 16 layers lose 256x of the signal (error).
    Case(_keras_stack("", depth=16), line=6, severity="error",
         fixed=_keras_stack("he_uniform", depth=16)),
    # 8 layers: measurable (16x), but at most info this shallow.
    Case(_keras_stack("", depth=8), line=6, severity="info"),
    # A VGG-style functional chain of convolutions without normalization.
    Case("""
        import keras
        from keras import layers

        inputs = keras.Input((64, 64, 3))
        x = inputs
        for filters in [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512]:
            x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        outputs = layers.Dense(10)(layers.GlobalAveragePooling2D()(x))
        model = keras.Model(inputs, outputs)
        """, line=7, severity="warning"),
]

_IL103_VALID: List[Union[str, Case]] = [
    # Five layers: too shallow for the default to matter (pytorch/examples' MNIST network is
    # four).
    _torch_stack(False, depth=5),
    # Re-initialized with He in a modules() loop.
    _torch_stack(True),
    # BatchNorm before each ReLU divides the kernel's scale out.
    _torch_stack(False, depth=12, between="nn.BatchNorm1d(256), "),
    # tanh layers at the default: not the ReLU family.
    """
    import torch.nn as nn

    net = nn.Sequential(*[m for _ in range(12) for m in (nn.Linear(64, 64), nn.Tanh())],
                        nn.Linear(64, 1))
    """,
    # One hidden layer before the classifier is not a stack, however it is selected.
    """
    import torch.nn as nn
    import torch.nn.functional as F


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, 256)
            self.fc2 = nn.Linear(256, 10)

        def forward(self, x):
            return self.fc2(F.relu(self.fc1(x)))
    """,
    # Keras's default is IL102's.
    _keras_stack("", depth=12),
    # A block judged inside the models that use it: one re-initializes every Linear with He
    # (``self.apply``), the other leaves the block as it is. The default run holds in one
    # model only, so it is not reported.
    """
    import torch.nn as nn
    import torch.nn.functional as F


    class Block(nn.Module):
        def __init__(self, width=64, depth=12):
            super().__init__()
            self.fcs = nn.ModuleList([nn.Linear(width, width) for _ in range(depth)])

        def forward(self, x):
            for fc in self.fcs:
                x = F.relu(fc(x))
            return x


    class Reinit(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.head = nn.Linear(64, 10)
            self.apply(self._init_weights)

        def _init_weights(self, m):
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")

        def forward(self, x):
            return self.head(self.block(x))


    class Plain(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.head = nn.Linear(64, 10)

        def forward(self, x):
            return self.head(self.block(x))
    """,
]

_IL103_INVALID = [
    # A feature stack run on its own and inside the model: one run, reported once (the
    # model's, which holds it).
    Case("""
        import torch
        import torch.nn as nn


        def vgg_block(num_convs, in_channels, out_channels):
            net = [nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1), nn.ReLU(True)]
            for i in range(num_convs - 1):
                net.append(nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1))
                net.append(nn.ReLU(True))
            net.append(nn.MaxPool2d(2, 2))
            return nn.Sequential(*net)


        def vgg_stack(num_convs, channels):
            net = []
            for n, c in zip(num_convs, channels):
                net.append(vgg_block(n, c[0], c[1]))
            return nn.Sequential(*net)


        vgg_net = vgg_stack((1, 1, 2, 2, 2), ((3, 64), (64, 128), (128, 256), (256, 512), (512, 512)))
        test_y = vgg_net(torch.zeros(1, 3, 256, 256))


        class VGG(nn.Module):
            def __init__(self):
                super().__init__()
                self.feature = vgg_net
                self.fc = nn.Sequential(nn.Linear(512, 100), nn.ReLU(True), nn.Linear(100, 10))

            def forward(self, x):
                x = self.feature(x)
                x = x.view(x.shape[0], -1)
                return self.fc(x)


        net = VGG()
        """, line=6, severity="info"),
    # Judged by depth: ten layers keep 0.000315x of the signal (error).
    Case(_torch_stack(False), line=4, severity="error"),
    # Six layers: at most info this shallow.
    Case(_torch_stack(False, depth=6), line=4, severity="info"),
    # An unnormalized convolution stack in a module's forward.
    Case("""
        import torch.nn as nn
        import torch.nn.functional as F


        class Encoder(nn.Module):
            def __init__(self, width=64, depth=12):
                super().__init__()
                self.stem = nn.Conv2d(3, width, 3, padding=1)
                self.convs = nn.ModuleList(
                    [nn.Conv2d(width, width, 3, padding=1) for _ in range(depth)])
                self.head = nn.Linear(width, 10)

            def forward(self, x):
                x = F.relu(self.stem(x))
                for conv in self.convs:
                    x = F.relu(conv(x))
                return self.head(x.mean((2, 3)))
        """, line=8, severity="error"),
]


@rule("IL102", "glorot-default-with-relu", "error", fix="safe", scope="network",
      severities=("info", "warning", "error"),
      summary="ReLU stack left at Keras's default Glorot, judged by its predicted drift",
      doc=_IL102_DOC, example=_keras_stack(""), fixed=_keras_stack("he_uniform"),
      finding=("10 Dense layers (relu) at default glorot_uniform: signal std falls to 0.0442x "
               "over them; use he_uniform"),
      valid=_IL102_VALID, invalid=_IL102_INVALID)
@rule("IL103", "torch-default-with-relu", "error", scope="network",
      severities=("info", "warning", "error"),
      summary="ReLU stack left at PyTorch's default init, judged by its predicted drift",
      doc=_IL103_DOC, example=_torch_stack(False), fixed=_torch_stack(True),
      finding=("10 Linear layers (relu) at PyTorch's default init: signal std falls to "
               "0.000315x over them; use kaiming_uniform_"),
      valid=_IL103_VALID, invalid=_IL103_INVALID)
def check(network: Network, ctx: Context) -> Iterator[Diagnostic]:
    found = [run for stack in network.stacks for run in runs(stack)]
    sets = [frozenset(map(id, run)) for run in found]
    for i, run in enumerate(found):
        if any(sets[i] < other or (sets[i] == other and j < i) for j, other in enumerate(sets)):
            continue  # a model's feature stack is also part of the model's own run: once
        if any(id(x) in ctx.mixed for x in run):
            continue  # a block whose copies are initialized differently: not in each
        if built_elsewhere(run):
            continue  # reported where it is written, by that module's own reading
        codes = {c for c in map(default_code, run) if c is not None}
        for code in sorted(codes):
            d = _judge(run, code, ctx)
            if d is not None:
                yield d


def _default_name(spec: InitSpec) -> str:
    """"default glorot_uniform" (Keras); "PyTorch's default init" (its display is long)."""
    if spec.family == "framework_default":
        return "PyTorch's default init"
    return f"default {spec.display}"


def threshold(ctx: Context, key: str) -> float:
    """A drift threshold, as the configuration sets it or by default."""
    return float(ctx.settings.get(key, THRESHOLDS[key]))


def drift_severity(rel: float, ctx: Context) -> Optional[Severity]:
    """The severity of a run's drift against the recommended initializers (``rel``, the
    ratio of their std factors), or None below every threshold."""
    if rel >= threshold(ctx, "drift-explode-error"):
        return "error"
    if rel >= threshold(ctx, "drift-explode-warning"):
        return "warning"
    vanish = 1 / rel if rel > 0 else float("inf")
    levels: Tuple[Severity, ...] = ("error", "warning", "info")
    for level in levels:
        if vanish >= threshold(ctx, f"drift-vanish-{level}"):
            return level
    return None


def _judge(run: List[Layer], code: str, ctx: Context) -> Optional[Diagnostic]:
    depth = len(run)
    if depth < threshold(ctx, "drift-min-depth"):
        return None  # too shallow for the drift to matter in training
    drifts = _drifts(run)
    if drifts is None:
        return None
    r, rec = drifts
    verdict = _verdict(r, rec, {layer.activation.name for layer in run}, ctx)
    if verdict is None:
        return None
    severity, what = verdict
    if depth < threshold(ctx, "drift-full-depth"):
        severity = "info"  # measurable, but training was not shown to fail this shallow
    defaults = [layer for layer in run if default_code(layer) == code]
    first = defaults[0]
    kernel = first.activated_kernel
    assert kernel is not None
    new = ctx.name(first, request_for(first, kernel.init, family="he"))
    d = Diagnostic(code, severity, _run_message(run, len(defaults), kernel.init, what, new, r,
                                                rec), first.node,
                   _run_fix(defaults, new, ctx))
    d.layer = first
    return d


def _drifts(run: List[Layer]) -> Optional[Tuple[checker.Result, checker.Result]]:
    """The run through the variance checker as it is initialized, and with the recommended
    initializer (of the same distribution) on every layer; None when it cannot model it."""
    steps: List[checker.Step] = []
    for layer in run:
        step = modelled(layer)
        if step is None:  # not in a run from runs()
            return None
        steps.append(step)
    rec_steps = [checker.Step(s.fan_in, s.fan_out, s.activation, variance.family_spec(
        recommended_family(layer), same_distribution(s.init)), s.params, s.receptive, s.name,
        s.kind) for s, layer in zip(steps, run)]
    try:
        return checker.analytic(steps), checker.analytic(rec_steps)
    except checker.Unsupported:
        return None


def _verdict(r: checker.Result, rec: checker.Result, acts: Set[str], ctx: Context
             ) -> Optional[Tuple[Severity, str]]:
    """The worst of what the run's drift passes, as (severity, what happens to the signal),
    or None when it passes no threshold. On a tie the first found is kept."""
    fwd, bwd = r.forward_drift, r.backward_drift
    # Judge the drift the initializer causes: relative to the recommended one on the same run,
    # so that fan ratios (a tapering network's gradient) do not count against the default.
    rel_f = fwd / rec.forward_drift if rec.forward_drift > 0 else fwd
    rel_b = bwd / rec.backward_drift if rec.backward_drift > 0 else bwd
    found: List[Optional[Tuple[Severity, str]]] = [_explosion(rel_f, fwd, ctx),
                                                   _vanishing(rel_f, rel_b, fwd, bwd, ctx)]
    if acts & {"tanh", "sigmoid"} and rel_b >= threshold(ctx, "drift-backward-growth-warning"):
        found.append(("warning", f"gradient std grows {fmt(bwd)}x"))
    found.append(_saturation(max(s.saturated for s in r.steps), ctx))
    worst: Optional[Tuple[Severity, str]] = None
    for v in found:
        if v is not None and (worst is None or _RANK[v[0]] > _RANK[worst[0]]):
            worst = v
    return worst


def _explosion(rel_f: float, fwd: float, ctx: Context) -> Optional[Tuple[Severity, str]]:
    if rel_f >= threshold(ctx, "drift-explode-error"):
        return "error", f"signal std grows to {fmt(fwd)}x"
    if rel_f >= threshold(ctx, "drift-explode-warning"):
        return "warning", f"signal std grows to {fmt(fwd)}x"
    return None


def _vanishing(rel_f: float, rel_b: float, fwd: float, bwd: float, ctx: Context
               ) -> Optional[Tuple[Severity, str]]:
    """Vanishing forward or backward, whichever is worse against the recommended init."""
    vanish = max(1 / rel_f if rel_f > 0 else float("inf"),
                 1 / rel_b if rel_b > 0 else float("inf"))
    forward = rel_f <= rel_b * (1 + 1e-6)
    direction = "signal std" if forward else "gradient std"
    shrunk = fwd if forward else bwd
    for level in ("error", "warning", "info"):
        if vanish >= threshold(ctx, f"drift-vanish-{level}"):
            return level, f"{direction} falls to {fmt(shrunk)}x"
    return None


def _saturation(sat: float, ctx: Context) -> Optional[Tuple[Severity, str]]:
    if sat > threshold(ctx, "saturation-error"):
        return "error", f"{fmt(sat * 100)}% of units saturate"
    if sat > threshold(ctx, "saturation-warning"):
        return "warning", f"{fmt(sat * 100)}% of units saturate"
    return None


def _run_message(run: List[Layer], n_default: int, spec: InitSpec, what: str, new: str,
                 r: checker.Result, rec: checker.Result) -> str:
    depth = len(run)
    kinds = "/".join(sorted({layer.type_name for layer in run}))
    act = "/".join(sorted({layer.activation.name for layer in run}))
    names = [layer.name for layer in run if layer.name]
    span = f" ({names[0]} to {names[-1]})" if len(names) == len(run) else ""
    # "6 Linear layers (relu), 2 of them at PyTorch's default init": the run is judged whole,
    # the count says how many the fix changes.
    at = "" if n_default == depth else f", {n_default} of them"
    return (f"{depth} {kinds} layers ({act}){at} at {_default_name(spec)}: "
            f"{what} over them; use {new}\n"
            f"From the first to the last of these {depth} layers{span}: forward "
            f"{fmt(r.forward_drift)}x, backward {fmt(r.backward_drift)}x; {new} keeps "
            f"{fmt(rec.forward_drift)}x forward, {fmt(rec.backward_drift)}x backward.")


def _run_fix(defaults: List[Layer], new: str, ctx: Context) -> Optional[Fix]:
    """He on every default layer of the run, or no fix when one of them cannot be rendered."""
    edits: List[Edit] = []
    seen: Set[int] = set()
    for layer in defaults:
        if id(layer.node) in seen:
            continue  # several layers built by one call (in a loop): one edit
        seen.add(id(layer.node))
        w = layer.activated_kernel
        assert w is not None
        e = ctx.render(layer, w, request_for(layer, w.init, family="he"))
        if not e:
            return None
        edits.extend(e)
    return Fix("safe", f"Use {new} on {len(defaults)} layers", edits) if edits else None
