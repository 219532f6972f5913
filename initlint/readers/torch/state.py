"""What the PyTorch host's parts (layers, initializers, data flow, modules) share: its state
and the methods each part uses from the others, declared here so that each part type-checks
on its own (as :mod:`initlint.analysis.core` does for the evaluator)."""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import libcst as cst

from ...analysis import Args, Evaluator, InstanceV, Site, Value
from ...model import Activation, Deprecation, InitSpec, Layer, Stack
from .render import Renderer
from .values import ContainerV, DrawV, Facts, RawV, TensorV

#: A pass of one tensor through a module: the module, the layers the tensor comes from and
#: those awaiting an activation (by identity), and whether the pass is under an unknown
#: condition.
PassKey = Tuple[int, Tuple[int, ...], Tuple[int, ...], bool]


class State:
    """State and cross-part methods of :class:`~.reader.TorchHost`."""

    ev: Evaluator
    module: cst.Module
    renderer: Renderer
    #: Every layer made, in order (hand-made weights included).
    layers: List[Layer]
    containers: List[ContainerV]
    #: Hand-made weights by the draw they were made from.
    raws: Dict[int, RawV]
    #: Module instances whose forward is running (innermost last).
    forward_stack: List[InstanceV]
    #: Layers applied in each top-level forward that is running.
    forward_layers: List[List[Layer]]
    #: Passes made in the forward being run: their input and output.
    passes: Dict[PassKey, Tuple[TensorV, TensorV]]
    stacks: List[Stack]
    #: Deprecated or missing ``nn.init`` spellings, by the call's node.
    deprecations: Dict[int, Deprecation]
    #: Layers each init call sets (by the call's node): one call may serve many layers.
    init_targets: Dict[int, List[Layer]]
    #: What the reader knows of each layer beyond the neutral model (shared with the renderer).
    facts: Facts

    # --- data flow (flow.py) ------------------------------------------------------------

    def through(self, layer: Layer, t: TensorV) -> TensorV:
        raise NotImplementedError

    def activate(self, x: Value, act: Activation) -> Value:
        raise NotImplementedError

    def normalize(self, t: Value) -> None:
        raise NotImplementedError

    def mark_output(self, t: Value) -> None:
        raise NotImplementedError

    def matmul(self, a: Value, b: Value, site: Site) -> Value:
        raise NotImplementedError

    def residual(self, a: TensorV, b: TensorV) -> TensorV:
        raise NotImplementedError

    def apply_module(self, m: Value, args: Args, site: Site) -> Value:
        raise NotImplementedError

    def chain(self, seq: ContainerV, t: TensorV, site: Site) -> TensorV:
        raise NotImplementedError

    def scale_draw(self, draw: DrawV, factor: Optional[Value], divide: bool,
                   node: Optional[cst.CSTNode]) -> DrawV:
        raise NotImplementedError

    def rescale(self, layer: Layer, role: str, factor: Optional[Value], divide: bool) -> None:
        raise NotImplementedError

    # --- initializers (inits.py) ----------------------------------------------------------

    def set_init(self, layer: Layer, role: str, spec: InitSpec) -> None:
        raise NotImplementedError

    def tensor_init(self, base: Value, method: str, args: Args, site: Site) -> Value:
        raise NotImplementedError

    def raw_from_draw(self, draw: DrawV, node: cst.CSTNode, how: str) -> RawV:
        raise NotImplementedError

    # --- modules (modules.py) -------------------------------------------------------------

    def tree(self, root: Value) -> List[Tuple[str, Value]]:
        raise NotImplementedError

    def name_value(self, name: str, value: Value, top: bool) -> None:
        raise NotImplementedError

    def container_add(self, c: ContainerV, value: Value, key: Optional[str] = None) -> None:
        raise NotImplementedError

    def is_module_class(self, inst: InstanceV) -> bool:
        raise NotImplementedError

    def source(self, node: cst.CSTNode) -> str:
        raise NotImplementedError
