"""Edits that readers' fix renderers share: adding a keyword argument to a call.

A new keyword becomes a new argument of the call itself, built as a libcst ``Arg`` and placed
after the last argument (or before a ``**kwargs``), with the separator, the trailing comma and
the line layout the call already uses. The engine turns the rewrite into the smallest span
that differs between the call's text before and after, checked against the file's own text,
so nothing else in the call is rewritten.
"""

from __future__ import annotations

from typing import List, Optional, Tuple

import libcst as cst
from libcst._nodes.internal import CodegenState

from .model import Edit

#: Whitespace around a comma or an argument: a SimpleWhitespace or a ParenthesizedWhitespace.
_Whitespace = cst.BaseParenthesizableWhitespace


def add_keyword(module: cst.Module, call: cst.Call, keyword: str, value: str
                ) -> Optional[Edit]:
    """An edit that adds ``keyword=value`` to ``call``; None when the call cannot take it
    (the keyword is already given, or the value is not an expression)."""
    if any(a.keyword is not None and a.keyword.value == keyword for a in call.args):
        return None
    try:
        expr = cst.parse_expression(value)
    except cst.ParserSyntaxError:
        return None
    bare = call.with_changes(lpar=[], rpar=[])
    new_call = bare.with_changes(args=_with_keyword(bare, keyword, expr))
    return Edit(call, "", "rewrite", rewrite=Rewrite(module, bare, new_call))


class Rewrite:
    """A node's code before and after a change, generated in the block indentation the node
    sits in: libcst writes a node's continuation lines relative to its block, so the code of a
    node inside an indented block is only the file's text once that indentation is added."""

    def __init__(self, module: cst.Module, old: cst.CSTNode, new: cst.CSTNode) -> None:
        self.module = module
        self.old = old
        self.new = new

    def code(self, node: cst.CSTNode, indent: str) -> str:
        state = CodegenState(default_indent=self.module.default_indent,
                             default_newline=self.module.default_newline)
        if indent:
            state.increase_indent(indent)
        node._codegen(state)
        return "".join(state.tokens)

    def span(self, source: str, line_indent: str) -> Optional[Tuple[int, int, str]]:
        """(start, end, text) replacing part of ``source`` (the file's text of the node),
        or None when no indentation reproduces ``source`` (the edit would be wrong). The
        block's indentation is a prefix of the whitespace that starts the node's first line."""
        for n in range(len(line_indent), -1, -1):
            indent = line_indent[:n]
            if self.code(self.old, indent) == source:
                return _smallest_change(source, self.code(self.new, indent))
        return None


def _smallest_change(old: str, new: str) -> Tuple[int, int, str]:
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    return start, end_old, new[start:end_new]


def _with_keyword(call: cst.Call, keyword: str, expr: cst.BaseExpression) -> List[cst.Arg]:
    args = list(call.args)
    at = next((i for i, a in enumerate(args) if a.star == "**"), len(args))
    equal = next((a.equal for a in args if a.keyword is not None), None)
    new = cst.Arg(value=expr, keyword=cst.Name(keyword),
                  equal=equal if isinstance(equal, cst.AssignEqual) else cst.AssignEqual(
                      whitespace_before=cst.SimpleWhitespace(""),
                      whitespace_after=cst.SimpleWhitespace("")))
    if at < len(args):
        # Before ``**kwargs``: the new argument takes the separator of the one before it.
        before = args[at - 1].comma if at > 0 else cst.MaybeSentinel.DEFAULT
        comma = before if isinstance(before, cst.Comma) else cst.Comma(
            whitespace_after=cst.SimpleWhitespace(" "))
        args.insert(at, new.with_changes(comma=comma))
        return args
    if not args:
        return [new]
    last = args[-1]
    sep = _separator(call, args)
    if isinstance(last.comma, cst.Comma):
        # A trailing comma: the new argument gets it (and what follows it, before ``)``).
        tail = last.comma.whitespace_after
        args[-1] = last.with_changes(comma=last.comma.with_changes(
            whitespace_after=_between(tail, sep)))
        args.append(new.with_changes(comma=last.comma.with_changes(
            whitespace_after=_closing(tail))))
        return args
    tail = last.whitespace_after_arg
    comma_before = next((a.comma.whitespace_before for a in reversed(args[:-1])
                         if isinstance(a.comma, cst.Comma)), cst.SimpleWhitespace(""))
    args[-1] = last.with_changes(
        comma=cst.Comma(whitespace_before=comma_before, whitespace_after=_between(tail, sep)),
        whitespace_after_arg=cst.SimpleWhitespace(""))
    args.append(new.with_changes(whitespace_after_arg=_closing(tail)))
    return args


def _separator(call: cst.Call, args: List[cst.Arg]) -> _Whitespace:
    """The whitespace the call puts between arguments: after the last comma between two of
    them; for a single argument, what follows ``(`` when the call spans lines, else a space."""
    for a in reversed(args[:-1]):
        if isinstance(a.comma, cst.Comma):
            return a.comma.whitespace_after
    if isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
        return call.whitespace_before_args
    return cst.SimpleWhitespace(" ")


def _between(tail: _Whitespace, sep: _Whitespace) -> _Whitespace:
    """What follows the old last argument once another comes after it: the separator, keeping
    a comment that sat at the end of the old last argument's line."""
    if isinstance(tail, cst.ParenthesizedWhitespace) and tail.first_line.comment is not None:
        if isinstance(sep, cst.ParenthesizedWhitespace):
            return sep.with_changes(first_line=tail.first_line)
        return tail
    if isinstance(tail, cst.ParenthesizedWhitespace) and isinstance(sep, cst.SimpleWhitespace):
        return cst.SimpleWhitespace(" ")
    return sep


def _closing(tail: _Whitespace) -> _Whitespace:
    """What follows the new last argument: the old last argument's way to ``)``, without its
    comment (which stays on the old argument's line)."""
    if isinstance(tail, cst.ParenthesizedWhitespace) and tail.first_line.comment is not None:
        return tail.with_changes(first_line=cst.TrailingWhitespace())
    return tail
