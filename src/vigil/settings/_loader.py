"""The YAML loader: ``vigil.yaml`` to :class:`Settings`, every problem as one line that names the
place and the fix: ``vigil.yaml:14: services[0].replicas: must be >= 1 (got 0)``.

Called by the CLI (``vigil up``, ``vigil check-config``, ``vigil balance``) and by tests. Line
numbers come from the YAML node tree (``yaml.compose``), mapped onto pydantic's error locations.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from vigil.errors import ConfigError
from vigil.settings._models import Settings, _dotted
from vigil.settings._types import Loc

MAX_DEPTH = 64
"""Nesting levels a config may have (vigil.yaml needs about six). A few thousand overflowed the
YAML composer's recursion: a RecursionError traceback instead of a problem line."""

SECRET_FIELDS = frozenset({"token", "sha256"})
"""Fields of ``api.tokens`` and ``agents`` whose value is never quoted in a problem: the line goes
to the terminal and, from ``vigil up``, to the service's log; a malformed ``sha256`` is often the
token itself, pasted in the wrong field."""

_OPENS = (
    yaml.BlockMappingStartToken,
    yaml.BlockSequenceStartToken,
    yaml.FlowMappingStartToken,
    yaml.FlowSequenceStartToken,
)
_CLOSES = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)


def _too_deep(text: str) -> int | None:
    """The line where the nesting passes :data:`MAX_DEPTH`, or None. Reads the tokens (the
    scanner does not recurse), so it runs before anything that walks the tree."""
    depth = 0
    for token in yaml.scan(text, Loader=yaml.SafeLoader):
        if isinstance(token, _OPENS):
            depth += 1
            if depth > MAX_DEPTH:
                return int(token.start_mark.line) + 1
        elif isinstance(token, _CLOSES):
            depth -= 1
    return None


def _line_map(
    node: yaml.Node, path: tuple[str | int, ...], out: dict[tuple[str | int, ...], int]
) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            out[child] = key.start_mark.line + 1
            _line_map(value, child, out)
            out[child] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_map(item, (*path, i), out)


def _alias_loop(node: yaml.Node, inside: set[int]) -> yaml.Node | None:
    """A node that contains itself through an alias (``a: &x [*x]``), or None: walking one
    (here, in pydantic, anywhere) never ends."""
    if id(node) in inside:
        return node
    children: list[yaml.Node] = []
    if isinstance(node, yaml.MappingNode):
        children = [part for pair in node.value for part in pair]
    elif isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    inside.add(id(node))
    for child in children:
        found = _alias_loop(child, inside)
        if found is not None:
            return found
    inside.discard(id(node))
    return None


def _duplicate_keys(
    node: yaml.Node, path: tuple[str | int, ...], out: list[tuple[int, tuple[str | int, ...], int]]
) -> None:
    """Each key given twice in one mapping, as (line, path, line of the first): YAML keeps the
    last silently, so a second ``api:`` section would throw the first one away."""
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key, value in node.value:
            name = str(key.value) if isinstance(key, yaml.ScalarNode) else None
            if name is not None and name != "<<":  # '<<' merges an anchor, handled by YAML
                line = key.start_mark.line + 1
                if name in first:
                    out.append((line, (*path, name), first[name]))
                first.setdefault(name, line)
            _duplicate_keys(value, (*path, name if name is not None else "?"), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _duplicate_keys(item, (*path, i), out)


def _describe(
    err: Any,
    lines: dict[tuple[str | int, ...], int],
    fields: dict[tuple[str | int, ...], list[str]],
) -> tuple[tuple[str | int, ...], str]:
    loc = tuple(
        p
        for p in err["loc"]
        if not (isinstance(p, str) and (p.startswith("function-") or p in {"str", "list[str]"}))
    )
    typ = err["type"]
    if typ == "extra_forbidden":
        options = fields.get(loc[:-1], [])
        close = difflib.get_close_matches(str(loc[-1]), options, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known fields: {', '.join(options)}"
        return loc, f"unknown field; {hint}"
    ctx = err.get("ctx") or {}
    friendly = {
        "missing": "required: add this field",
        "greater_than_equal": f"must be >= {ctx.get('ge')}",
        "greater_than": f"must be > {ctx.get('gt')}",
        "less_than_equal": f"must be <= {ctx.get('le')}",
        "less_than": f"must be < {ctx.get('lt')}",
        "string_pattern_mismatch": f"must match {ctx.get('pattern')}",
        "literal_error": f"must be one of {ctx.get('expected')}",
        "too_short": "must not be empty",
        "finite_number": "must be a finite number",
    }
    if typ == "string_type" and isinstance(err.get("input"), int | float):
        # YAML reads 8080, yes, 1.5 as numbers and booleans (bool is an int): quotes make text
        friendly[typ] = "must be text: put the value in quotes"
    msg = friendly.get(typ) or str(err["msg"]).removeprefix("Value error, ")
    msg = msg[0].lower() + msg[1:] if msg else msg
    if typ not in {"missing", "value_error"} and "input" in err:
        secret = bool(loc) and loc[-1] in SECRET_FIELDS
        msg += " (the value is not shown: it is a secret)" if secret else f" (got {err['input']!r})"
    return loc, msg


def _known_fields(
    model: type[BaseModel],
    data: Any,
    path: tuple[str | int, ...],
    out: dict[tuple[str | int, ...], list[str]],
) -> None:
    """Map each mapping's path to its model's field names, for 'did you mean' hints."""
    out[path] = list(model.model_fields)
    if not isinstance(data, dict):
        return
    for name, info in model.model_fields.items():
        ann = info.annotation
        sub = data.get(name)
        candidates = (
            [ann]
            if getattr(ann, "__origin__", None) is list
            else getattr(ann, "__args__", None) or [ann]
        )
        for typ in candidates:
            if isinstance(typ, type) and issubclass(typ, BaseModel):
                _known_fields(typ, sub, (*path, name), out)
            elif getattr(typ, "__origin__", None) is list:
                (item,) = getattr(typ, "__args__", (None,))
                if isinstance(item, type) and issubclass(item, BaseModel) and isinstance(sub, list):
                    for i, elem in enumerate(sub):
                        _known_fields(item, elem, (*path, name, i), out)


def parse_settings(text: str, source: str = "vigil.yaml") -> Settings:
    """Parse YAML text into ``Settings``; raise :class:`ConfigError` naming ``source:line``."""
    try:
        deep = _too_deep(text)
        if deep is not None:
            raise ConfigError(
                [
                    f"{source}:{deep}: nested more than {MAX_DEPTH} levels deep: a config is a "
                    "few levels of sections and lists (is a bracket left open?)"
                ]
            )
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError([_yaml_problem(exc, text, source)]) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            [f"{source}:1: the top level must be a mapping of sections (got {type(data).__name__})"]
        )
    lines: dict[tuple[str | int, ...], int] = {}
    if root is not None:
        loop = _alias_loop(root, set())
        if loop is not None:
            raise ConfigError(
                [
                    f"{source}:{loop.start_mark.line + 1}: this anchor is used inside itself "
                    "(an alias refers to a node that contains it): copy the values instead"
                ]
            )
        twice: list[tuple[int, tuple[str | int, ...], int]] = []
        _duplicate_keys(root, (), twice)
        if twice:
            raise ConfigError(
                [
                    f"{source}:{line}: {_dotted(loc)}: given twice (first at line {first}); "
                    "YAML would keep only this one: merge the two into one"
                    for line, loc, first in sorted(twice)
                ]
            )
        _line_map(root, (), lines)
    try:
        settings = Settings.model_validate(data, context={"defer_cross_checks": True})
    except ValidationError as exc:
        fields: dict[tuple[str | int, ...], list[str]] = {}
        _known_fields(Settings, data, (), fields)
        problems: list[tuple[int, str]] = []
        for err in exc.errors():
            loc, msg = _describe(err, lines, fields)
            at = _line_of(loc, lines)
            problems.append((at, f"{source}:{at}: {_dotted(loc)}: {msg}"))
        raise ConfigError([text for _, text in sorted(problems, key=lambda p: p[0])]) from exc
    cross = [(_line_of(loc, lines), loc, msg) for loc, msg in settings.cross_problems()]
    if cross:
        raise ConfigError(
            [f"{source}:{at}: {_dotted(loc)}: {msg}" for at, loc, msg in sorted(cross, key=_first)]
        )
    return settings


_YAML_FIXES = (
    ("'\\t'", "indent with spaces, not tabs"),
    ("another document", "keep one (delete the '---' line and what follows, or merge it)"),
)
"""Hints for PyYAML problems whose fix is not plain from their wording."""


def _yaml_problem(exc: yaml.YAMLError, text: str, source: str) -> str:
    """One line for a YAML syntax error: its line (a control character, which PyYAML reports
    by stream position over two lines, too), what was expected, and the fix where known."""
    if isinstance(exc, yaml.reader.ReaderError):
        before = text[: exc.position]
        row = before.count("\n") + 1
        column = exc.position - (before.rfind("\n") + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[0])
        return (
            f"{source}:{row}: not valid YAML: control character U+{code:04X} at column "
            f"{column}: delete it (YAML allows no control characters but tab and line breaks)"
        )
    mark = getattr(exc, "problem_mark", None)
    line = f"{mark.line + 1}" if mark is not None else "?"
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    if context and problem.startswith("but "):  # "expected X" is in the context
        problem = f"{context}, {problem}"
    fix = next((f": {hint}" for part, hint in _YAML_FIXES if part in problem), "")
    return f"{source}:{line}: not valid YAML: {problem}{fix}"


def _first(item: tuple[int, Loc, str]) -> int:
    return item[0]


def _line_of(loc: Loc, lines: dict[Loc, int]) -> int:
    while loc and loc not in lines:
        loc = loc[:-1]
    return lines.get(loc, 1)


def load_settings(path: str | Path) -> Settings:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ConfigError([f"{path}: no such file: create it or pass -c PATH"]) from exc
    except IsADirectoryError as exc:
        raise ConfigError(
            [
                f"{path}: is a directory, not a config file: pass the file, "
                f"e.g. -c {path / 'vigil.yaml'}"
            ]
        ) from exc
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror or exc}"]) from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(
            [
                f"{path}:{line}: not UTF-8 (byte 0x{data[exc.start]:02x} at column {column}): "
                "save the file as UTF-8"
            ]
        ) from exc
    return parse_settings(text, str(path))


_FIELD = re.compile(r"^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\[\d+\])*): ")
"""A problem's leading field path (``services[0].balancer.port: ...``)."""
_PART = re.compile(r"([A-Za-z_]\w*)|\[(\d+)\]")


def place_problems(path: str | Path, problems: Sequence[str]) -> list[str]:
    """``problems`` found after the config loaded (``field.path: problem``, as ``vigil
    balance`` finds them), each prefixed with ``file:line`` of its field (or of the nearest
    section the file has) in the config at ``path``; one naming no field gets the file alone.
    Called by the CLI, which has the config's path; the checks that find them have not."""
    lines: dict[tuple[str | int, ...], int] = {}
    try:
        root = yaml.compose(Path(path).read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        root = None  # it loaded a moment ago: changed since; the file alone then
    if root is not None:
        _line_map(root, (), lines)
    placed = []
    for problem in problems:
        found = _FIELD.match(problem)
        if found is None or not lines:
            placed.append(f"{path}: {problem}")
            continue
        loc = tuple(int(index) if index else name for name, index in _PART.findall(found[1]))
        placed.append(f"{path}:{_line_of(loc, lines)}: {problem}")
    return placed
