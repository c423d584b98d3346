"""The `branch` condition language: a tiny parser over a whitelisted grammar, never `eval`.

Grammar (whitespace-separated tokens; names are dotted paths into the call's context):

    expr    := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := value (op value)?          op: == != < <= > >= in "not in"
    value   := number | 'text' | "text" | true | false | none | name(.name)* | [value, ...]
             | "(" expr ")"

Names must start with a letter (so `__import__`, `_private` and dunder walks are rejected by
the tokenizer), calls and indexing do not exist, and a missing name is `none`, not an error.
Comparing a number with a numeric string compares numbers (lookup CSVs give strings).
Pure: no imports beyond the standard library's `re` and `operator`.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<number>-?\d+(?:\.\d+)?)
    | (?P<string>'[^']*'|"[^"]*")
    | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,)
    | (?P<name>[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_-]*)*)
    )""", re.VERBOSE)

_COMPARE = ("==", "!=", "<", "<=", ">", ">=", "in", "not in")
_WORDS = {"and", "or", "not", "in", "true", "false", "none"}


class ConditionError(ValueError):
    """The text is not in the condition grammar; the message says where and what is allowed."""


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Name:
    path: tuple[str, ...]


@dataclass(frozen=True)
class ListOf:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    operand: Expr


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class Compare:
    op: str
    left: Expr
    right: Expr


Expr = Literal | Name | ListOf | Not | BoolOp | Compare


def _tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    stripped = text.rstrip()
    while pos < len(stripped):
        match = _TOKEN.match(stripped, pos)
        if match is None or match.end() == pos:
            raise ConditionError(f"unexpected {stripped[pos:].strip()[:20]!r} at column "
                                 f"{pos + 1}; names start with a letter, no calls or indexing")
        tokens.append(match.group().strip())
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0

    def peek(self, ahead: int = 0) -> str | None:
        index = self.pos + ahead
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            want = f"{expected!r}" if expected else "a value"
            raise ConditionError(f"expected {want}, found {token or 'the end'!r}")
        self.pos += 1
        return token

    def expr(self) -> Expr:
        return self._chain("or", self.conjunction)

    def conjunction(self) -> Expr:
        return self._chain("and", self.negation)

    def _chain(self, word: str, part: Any) -> Expr:
        operands = [part()]
        while self.peek() == word:
            self.take()
            operands.append(part())
        return operands[0] if len(operands) == 1 else BoolOp(word, tuple(operands))

    def negation(self) -> Expr:
        if self.peek() == "not":
            self.take()
            return Not(self.negation())
        return self.compare()

    def compare(self) -> Expr:
        left = self.value()
        op = self.peek()
        if op == "not" and self.peek(1) == "in":
            self.pos += 2
            return Compare("not in", left, self.value())
        if op in _COMPARE:
            self.take()
            return Compare(op, left, self.value())
        return left

    def value(self) -> Expr:
        token = self.take()
        if token == "(":
            inner = self.expr()
            self.take(")")
            return inner
        if token == "[":
            return self.list_items()
        if token[0] in "'\"":
            return Literal(token[1:-1])
        if re.fullmatch(r"-?\d+(?:\.\d+)?", token):
            return Literal(float(token) if "." in token else int(token))
        constants = {"true": True, "false": False, "none": None}
        if token in constants:
            return Literal(constants[token])
        if token in _WORDS or not token[0].isalpha():
            raise ConditionError(f"expected a value, found {token!r}")
        return Name(tuple(token.split(".")))

    def list_items(self) -> Expr:
        items: list[Expr] = []
        while self.peek() != "]":
            items.append(self.value())
            if self.peek() != "]":
                self.take(",")
        self.take("]")
        return ListOf(tuple(items))


def parse_condition(text: str) -> Expr:
    """Parse `text`, or raise ConditionError saying what is wrong."""
    parser = _Parser(str(text))
    if not parser.tokens:
        raise ConditionError("empty condition")
    tree = parser.expr()
    if parser.peek() is not None:
        raise ConditionError(f"unexpected {parser.peek()!r} after a complete condition; "
                             "join conditions with and/or")
    return tree


def names_in(expr: Expr) -> list[tuple[str, ...]]:
    """Every name the condition reads, so the validator can check them against the vocabulary."""
    match expr:
        case Name():
            return [expr.path]
        case ListOf():
            return [p for item in expr.items for p in names_in(item)]
        case Not():
            return names_in(expr.operand)
        case BoolOp():
            return [p for item in expr.operands for p in names_in(item)]
        case Compare():
            return names_in(expr.left) + names_in(expr.right)
    return []


def resolve(context: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """Walk mappings only (never attributes), so a name cannot reach into Python objects."""
    value: Any = context
    for part in path:
        if type(value) is not dict and not isinstance(value, Mapping):  # dict: no ABC check
            return None
        value = value.get(part)
    return value


def evaluate(expr: Expr, context: Mapping[str, Any]) -> Any:
    match expr:
        case Literal():
            return expr.value
        case Name():
            return resolve(context, expr.path)
        case ListOf():
            return [evaluate(item, context) for item in expr.items]
        case Not():
            return not evaluate(expr.operand, context)
        case BoolOp() if expr.op == "and":
            return all(evaluate(item, context) for item in expr.operands)
        case BoolOp():
            return any(evaluate(item, context) for item in expr.operands)
        case Compare():
            return _compare(expr.op, evaluate(expr.left, context), evaluate(expr.right, context))
    raise ConditionError(f"cannot evaluate {expr!r}")  # unreachable for parsed trees


def _number(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _compare(op: str, left: Any, right: Any) -> bool:
    if op in ("in", "not in"):
        found = _contains(right, left)
        return found if op == "in" else not found
    if isinstance(left, int | float) != isinstance(right, int | float):
        left, right = _number(left), _number(right)
    if op == "==":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    try:
        return bool(_ORDERINGS[op](left, right))
    except TypeError:  # e.g. none < 3: an unknown value never satisfies an ordering
        return False


_ORDERINGS: Mapping[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


Test = Callable[[Mapping[str, Any]], Any]
"""A parsed condition made into a function of the context: `compile_condition`."""


def compile_condition(expr: Expr) -> Test:
    """`expr` as a function of the context that gives what `evaluate(expr, context)` gives.

    Why: a branch node tests its conditions on every call that passes it (the shop flow's
    first node does, on every call start), and `evaluate` dispatches on the node type at each
    step of the tree; the flow loader compiles each condition once (model.Case). The same
    parts do the work (`resolve`, `_compare`), so the two cannot drift apart unnoticed:
    tests/domain/flow/test_conditions.py holds them to each other on generated trees."""
    match expr:
        case Literal():
            value = expr.value
            return lambda context: value
        case Name():
            path = expr.path
            return lambda context: resolve(context, path)
        case ListOf():
            items = tuple(compile_condition(item) for item in expr.items)
            return lambda context: [item(context) for item in items]
        case Not():
            operand = compile_condition(expr.operand)
            return lambda context: not operand(context)
        case BoolOp():
            return _compile_bool(expr.op, tuple(compile_condition(o) for o in expr.operands))
        case Compare():
            op, left, right = expr.op, compile_condition(expr.left), compile_condition(expr.right)
            return lambda context: _compare(op, left(context), right(context))
    raise ConditionError(f"cannot compile {expr!r}")  # unreachable for parsed trees


def _compile_bool(op: str, operands: tuple[Test, ...]) -> Test:
    """`all` / `any` over the operands, stopping at the first that decides, as evaluate's."""
    if op == "and":
        def every(context: Mapping[str, Any]) -> bool:
            for operand in operands:
                if not operand(context):
                    return False
            return True
        return every

    def some(context: Mapping[str, Any]) -> bool:
        for operand in operands:
            if operand(context):
                return True
        return False
    return some


def _contains(container: Any, item: Any) -> bool:
    if isinstance(container, str):
        return isinstance(item, str) and item in container
    if isinstance(container, list | tuple | set | frozenset):
        return any(_compare("==", item, element) for element in container)
    if isinstance(container, Mapping):
        return item in container
    return False
