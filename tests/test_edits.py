"""Adding a keyword argument to a call, in the call's own layout (the IL102 fix inserts
``kernel_initializer=...`` this way)."""

from __future__ import annotations

import ast

import libcst as cst
import pytest

from initlint import engine
from initlint.edits import add_keyword

KW, VALUE = "kernel_initializer", '"he_uniform"'


def _insert(src: str) -> str:
    """Add the keyword to the first call of a module-level statement."""
    module = cst.parse_module(src)
    calls = []

    class Find(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            if not calls:
                calls.append(node)

    module.visit(Find())
    edit = add_keyword(module, calls[0], KW, VALUE)
    assert edit is not None and edit.where == "rewrite"
    old = module.code_for_node(calls[0].with_changes(lpar=[], rpar=[]))
    at = src.index(old)
    start, end, text = edit.rewrite.span(old, "")
    return src[:at + start] + text + src[at + end:]


CASES = [
    # (before, after)
    ("Dense(64, input_shape=(300, 300, 3))\n",
     'Dense(64, input_shape=(300, 300, 3), kernel_initializer="he_uniform")\n'),
    ("Dense(64, activation='relu',)\n",
     "Dense(64, activation='relu', kernel_initializer=\"he_uniform\",)\n"),
    ("Dense(64, **kwargs)\n",
     'Dense(64, kernel_initializer="he_uniform", **kwargs)\n'),
    ("Dense(**kwargs)\n",
     'Dense(kernel_initializer="he_uniform", **kwargs)\n'),
    ("Dense(64, kernel_constraint=lambda w: w)\n",
     'Dense(64, kernel_constraint=lambda w: w, kernel_initializer="he_uniform")\n'),
    ("Dense(64, activation = 'relu')\n",
     "Dense(64, activation = 'relu', kernel_initializer = \"he_uniform\")\n"),
    ("Dense(64)\n", 'Dense(64, kernel_initializer="he_uniform")\n'),
    ("Dense()\n", 'Dense(kernel_initializer="he_uniform")\n'),
    ("Dense(64, *extra)\n", 'Dense(64, *extra, kernel_initializer="he_uniform")\n'),
    # one argument per line, a trailing comma and comments
    ("Dense(\n"
     "    64,\n"
     "    activation='relu',  # hidden\n"
     ")\n",
     "Dense(\n"
     "    64,\n"
     "    activation='relu',  # hidden\n"
     '    kernel_initializer="he_uniform",\n'
     ")\n"),
    # aligned arguments, no trailing comma, a comment after the last one
    ("Dense(64,\n"
     "      activation='relu'  # hidden\n"
     "      )\n",
     "Dense(64,\n"
     "      activation='relu',  # hidden\n"
     '      kernel_initializer="he_uniform"\n'
     "      )\n"),
    # closing parenthesis dedented, no trailing comma
    ("Dense(\n"
     "    64,\n"
     "    activation='relu'\n"
     ")\n",
     "Dense(\n"
     "    64,\n"
     "    activation='relu',\n"
     '    kernel_initializer="he_uniform"\n'
     ")\n"),
    # a single argument on its own line
    ("Dense(\n"
     "    64,\n"
     ")\n",
     "Dense(\n"
     "    64,\n"
     '    kernel_initializer="he_uniform",\n'
     ")\n"),
    # **kwargs last over several lines
    ("Dense(\n"
     "    64,\n"
     "    **kwargs,\n"
     ")\n",
     "Dense(\n"
     "    64,\n"
     '    kernel_initializer="he_uniform",\n'
     "    **kwargs,\n"
     ")\n"),
]


@pytest.mark.parametrize("before, after", CASES, ids=range(len(CASES)))
def test_add_keyword_keeps_the_call_layout(before, after):
    out = _insert(before)
    assert out == after
    ast.parse(out)


def test_add_keyword_refuses_a_keyword_already_given():
    module = cst.parse_module("Dense(64, kernel_initializer='zeros')\n")
    call = module.body[0].body[0].value
    assert add_keyword(module, call, KW, VALUE) is None


def test_add_keyword_inside_a_parenthesized_call():
    assert _insert("x = (Dense(64, input_shape=(3,)))\n") == \
        'x = (Dense(64, input_shape=(3,), kernel_initializer="he_uniform"))\n'


STACK = """from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Dense(64, activation="relu", input_shape=(300, 300, 3)),
{body}
    layers.Dense(10, activation="softmax"),
])
"""


def test_il102_fix_after_a_trailing_tuple_parses_and_applies():
    body = "\n".join('    layers.Dense(64, activation="relu"),' for _ in range(11))
    src = STACK.format(body=body)
    out = engine.lint_and_fix(src, engine.Options(fix="safe"))
    assert out.problems == []
    assert out.fixed == 1  # one finding for the stack, one edit per layer
    assert 'input_shape=(300, 300, 3), kernel_initializer="he_uniform")' in out.text
    assert out.text.count('kernel_initializer="he_uniform"') == 12
    ast.parse(out.text)


INDENTED = """from tensorflow import keras


def build():
    if True:
        x = keras.Input((64,))
        x = keras.layers.Dense(
            64, activation="relu", name='a_fairly_long_layer_name_here'
        )(x)
        x = keras.layers.Dense(
            64,
            activation="relu",
            use_bias=False,
        )(x)
        x = keras.layers.Dense(64,
                               activation="relu")(x)
        return keras.Model(x, keras.layers.Dense(1)(x))


model = build()
"""


def test_add_keyword_inside_an_indented_block():
    """libcst writes a nested call's continuation lines relative to its block: the edit must
    be placed in the file's text, indentation included (it once landed inside a string)."""
    opts = engine.Options(select=["IL102"], fix="safe", settings={"drift-min-depth": 3,
                                                                "drift-vanish-info": 2})
    out = engine.lint_and_fix(INDENTED, opts)
    assert out.problems == [] and out.findings == []
    assert out.text == INDENTED.replace(
        "name='a_fairly_long_layer_name_here'\n",
        "name='a_fairly_long_layer_name_here', kernel_initializer=\"he_uniform\"\n").replace(
        "            use_bias=False,\n",
        "            use_bias=False,\n            kernel_initializer=\"he_uniform\",\n").replace(
        "                               activation=\"relu\")",
        "                               activation=\"relu\",\n"
        "                               kernel_initializer=\"he_uniform\")")
    ast.parse(out.text)
