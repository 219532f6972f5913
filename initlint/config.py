"""Configuration: ``[tool.initlint]`` in ``pyproject.toml``.

Each file uses the closest ``pyproject.toml`` above it that has a ``[tool.initlint]`` table
(configs are not merged, as in ruff). ``--config PATH`` makes one file apply everywhere and
``--isolated`` ignores every file. Command-line flags are applied on top of the file.
Relative paths and globs in a config resolve against the config's own directory, and globs
(``exclude``, ``extend-exclude``, the keys of ``per-file-ignores``) are ``.gitignore`` lines,
matched with pathspec's implementation of git's wildmatch rules.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from . import rules as rules_mod

try:  # pathspec >= 1.0; GitWildMatchPattern is its deprecated alias there
    from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern as _GitPattern
except ImportError:  # pragma: no cover - pathspec 0.12
    from pathspec.patterns.gitwildmatch import GitWildMatchPattern as _GitPattern

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10
    # tomli (the backport) is installed only where Python has no tomllib: mypy may not find it.
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

#: Directories never descended into (ruff's defaults, plus the usual caches).
DEFAULT_EXCLUDE = (
    ".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".ipynb_checkpoints", ".mypy_cache",
    ".nox", ".pants.d", ".pyenv", ".pytest_cache", ".pytype", ".ruff_cache", ".svn", ".tox",
    ".venv", ".vscode", "__pypackages__", "__pycache__", "_build", "buck-out", "build", "dist",
    "node_modules", "site-packages", "venv", ".initlint_cache",
)


#: Severities from the lowest; ``fail-on`` names the lowest one whose findings make exit 1.
SEVERITIES = ("info", "warning", "error")
DEFAULT_FAIL_ON = "warning"


class ConfigError(Exception):
    """A configuration problem; the message is one line naming the file and the key."""


#: Keys of ``[tool.initlint]`` that are not rule thresholds, with their expected types.
_LIST = "a list of strings"
KEYS: Dict[str, str] = {
    "select": _LIST,
    "extend-select": _LIST,
    "ignore": _LIST,
    "per-file-ignores": "a table of glob = [codes]",
    "exclude": _LIST,
    "extend-exclude": _LIST,
    "respect-gitignore": "true or false",
    "fail-on": "one of " + ", ".join(f'"{s}"' for s in SEVERITIES),
}


@dataclass
class Selection:
    """One layer of ruff-style selectors (the file's, then the command line's)."""

    select: Optional[List[str]] = None
    extend_select: List[str] = field(default_factory=list)
    ignore: List[str] = field(default_factory=list)

    def empty(self) -> bool:
        return self.select is None and not self.extend_select and not self.ignore


@dataclass
class Config:
    """What one configuration file (or none) says."""

    path: Optional[str] = None  # the file, or None for built-in defaults
    root: str = "."  # the directory relative globs resolve against
    selection: Selection = field(default_factory=Selection)
    per_file_ignores: List[Tuple[str, List[str]]] = field(default_factory=list)
    exclude: Optional[List[str]] = None  # None: DEFAULT_EXCLUDE
    extend_exclude: List[str] = field(default_factory=list)
    respect_gitignore: bool = True
    fail_on: Optional[str] = None  # None: DEFAULT_FAIL_ON
    settings: Dict[str, float] = field(default_factory=dict)


@dataclass
class Overrides:
    """The command line's part of the settings; it wins over any file."""

    selection: Selection = field(default_factory=Selection)
    exclude: Optional[List[str]] = None
    extend_exclude: List[str] = field(default_factory=list)
    respect_gitignore: Optional[bool] = None
    fail_on: Optional[str] = None  # --fail-on
    cwd: str = "."


@dataclass
class Resolved:
    """The settings one file is linted with."""

    config: Config
    enabled: List[str]
    explicit: List[str]
    settings: Dict[str, float]
    #: (pattern, base directory) pairs, in order: the last one that matches a path decides
    exclude: List[Tuple[str, str]]
    respect_gitignore: bool
    #: the lowest severity whose findings make initlint exit 1
    fail_on: str = DEFAULT_FAIL_ON
    _compiled: Optional[List[Tuple["Glob", List[str]]]] = field(default=None, repr=False)
    _exclude_globs: Optional["Globs"] = field(default=None, repr=False)

    def excluded(self, path: str, is_dir: Optional[bool] = None) -> bool:
        """Would a ``.gitignore`` holding the exclude patterns (each in its base directory)
        ignore ``path``, a file or (``is_dir``; by default asked of the file system) a
        directory? Everything under an excluded directory is excluded too."""
        if self._exclude_globs is None:
            self._exclude_globs = Globs(self.exclude)
        return self._exclude_globs(path, is_dir)

    def _per_file(self) -> List[Tuple["Glob", List[str]]]:
        if self._compiled is None:
            self._compiled = [(Glob(pattern, self.config.root), codes)
                              for pattern, codes in self.config.per_file_ignores]
        return self._compiled

    def for_file(self, path: str) -> Tuple[List[str], List[str], List[str]]:
        """(enabled, explicit, codes removed by per-file-ignores) for ``path``. A key applies
        to a file that a ``.gitignore`` holding only that key would ignore (the file, or a
        directory above it, matches); a key starting with ``!`` to every other file."""
        removed: List[str] = []
        for glob, codes in self._per_file():
            if glob.covers(path) != glob.negated:
                removed.extend(c for c in self.enabled if _selects(codes, c) and c not in removed)
        enabled = [c for c in self.enabled if c not in removed]
        explicit = [c for c in self.explicit if c not in removed]
        return enabled, explicit, removed


def _selects(selectors: Sequence[str], code: str) -> bool:
    return any(s == "ALL" or code.startswith(s) for s in selectors)


#: The group pathspec's gitignore regexes capture the '/' after a directory in: a match that
#: goes on past it is a match of a directory above the path, not of the path itself.
_DIR_MARK = "ps_d"


class Glob:
    """One pattern in ``.gitignore`` syntax, as if written in a ``.gitignore`` in ``base``:
    without a '/' (other than a trailing one) it matches a name at any depth, with one it is
    anchored to ``base``; ``**``, a trailing '/' (directories only) and a leading '!' mean what
    they mean to git. A path outside ``base`` (or ``base`` itself) is matched by its name
    alone, and only by the patterns that match names anywhere."""

    __slots__ = ("text", "base", "prefix", "negated", "floating", "regex")

    def __init__(self, pattern: str, base: str) -> None:
        self.text = pattern
        self.base = os.path.abspath(base)
        self.prefix = os.path.normcase(os.path.join(self.base, ""))
        pat = pattern.replace(os.sep, "/") if os.sep != "/" else pattern
        negated = pat.startswith("!")
        body = pat[1:] if negated else pat
        if body.startswith("./"):  # relative to the config: anchored
            body = "/" + body[2:].lstrip("/")
        if negated and not body.strip():
            raise ValueError(f"invalid pattern {pattern!r}")
        if negated and body.startswith("!"):  # as in git, only the first '!' negates
            body = "\\" + body
        compiled = _GitPattern(body)  # raises ValueError for an invalid pattern
        self.negated = negated
        self.regex: Optional[re.Pattern[str]] = (compiled.regex if compiled.include is not None
                                                 else None)
        floating = body.rstrip("/")
        while floating.startswith("**/"):
            floating = floating[3:]
        self.floating = "/" not in floating

    def relative(self, path: str, is_dir: bool) -> Optional[str]:
        """``path`` (absolute) as this pattern sees it, or None when it cannot match."""
        if os.path.normcase(path).startswith(self.prefix):
            rel = path[len(self.prefix):].replace(os.sep, "/")
        elif self.floating:
            rel = os.path.basename(path)
        else:
            return None
        return rel + "/" if is_dir else rel

    def match(self, rel: str) -> Optional[re.Match[str]]:
        return self.regex.match(rel) if self.regex is not None and rel else None

    def covers(self, path: str) -> bool:
        """Does the pattern (without its '!') match the file ``path`` or a directory above
        it (up to ``base``)?"""
        rel = self.relative(os.path.abspath(path), False)
        return rel is not None and self.match(rel) is not None


def _any_of(regexes: Sequence[re.Pattern[str]]) -> Optional[re.Pattern[str]]:
    """One regex that matches where any of ``regexes`` (pathspec's, flags alike) does, or
    None."""
    if not regexes or len({r.flags for r in regexes}) != 1:
        return None
    try:
        return re.compile("|".join(f"(?:{r.pattern.replace(f'(?P<{_DIR_MARK}>', '(?:')})"
                                   for r in regexes), regexes[0].flags)
    except re.error:  # pragma: no cover - a pathspec whose regexes do not combine
        return None


def _itself(m: re.Match[str], rel: str) -> bool:
    """Did the match ``m`` of ``rel`` match the path itself (not a directory above it)?"""
    d = m.groupdict().get(_DIR_MARK)
    return d is None or m.end(_DIR_MARK) == len(rel)


class Globs:
    """A list of (pattern, base directory) pairs compiled once and read like the lines of a
    ``.gitignore``, each in its own base directory (the config's, or the working directory for
    the command line's): the last pattern that matches a path decides, a pattern starting with
    '!' re-includes what an earlier one excluded, and, as in git, everything under an excluded
    directory is excluded (nothing under it can be re-included). Directories at or above every
    base are never looked at: outside its base a pattern only sees the path's own name."""

    def __init__(self, patterns: Sequence[Tuple[str, str]]) -> None:
        self.globs = [g for g in (Glob(p, b) for p, b in patterns) if g.regex is not None]
        self.prefixes = sorted({g.prefix for g in self.globs}, key=len)
        self._dirs: Dict[str, bool] = {}  # directory -> excluded, itself or by a parent
        # One regex for each group of patterns that see a path alike (same base, and matching
        # names anywhere or not): most paths match none, and are ruled out at once.
        groups: Dict[Tuple[str, bool], List[re.Pattern[str]]] = {}
        for g in self.globs:
            assert g.regex is not None  # globs without a regex are left out above
            groups.setdefault((g.base, g.floating), []).append(g.regex)
        self._any = {key: _any_of(regexes) for key, regexes in groups.items()}

    def __call__(self, path: str, is_dir: Optional[bool] = None) -> bool:
        if not self.globs:
            return False
        if is_dir is None:
            is_dir = os.path.isdir(path)
        path = os.path.abspath(path)
        return self._parent_excluded(path) or self._itself(path, is_dir)

    def _parent_excluded(self, path: str) -> bool:
        parent = os.path.dirname(path)
        if parent == path or not any(os.path.normcase(parent).startswith(p)
                                     for p in self.prefixes):
            return False
        hit = self._dirs.get(parent)
        if hit is None:
            hit = self._dirs[parent] = (self._parent_excluded(parent)
                                        or self._itself(parent, True))
        return hit

    def _itself(self, path: str, is_dir: bool) -> bool:
        """git's verdict on ``path`` alone: its last matching pattern, if any, decides."""
        rels: Dict[Tuple[str, bool], Optional[str]] = {}
        for g in reversed(self.globs):
            key = (g.base, g.floating)
            if key not in rels:
                rel = g.relative(path, is_dir)
                rx = self._any[key]
                if rel is not None and rx is not None and rx.match(rel) is None:
                    rel = None  # no pattern of the group matches
                rels[key] = rel
            rel = rels[key]
            if rel is None:
                continue
            m = g.match(rel)
            if m is not None and _itself(m, rel):
                return not g.negated
        return False


# --- reading ---------------------------------------------------------------------------------


def _suggest(key: str, valid: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, list(valid), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _strings(value: Any, where: str) -> List[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected {_LIST}, got {_describe(value)}")
    return list(value)


def _describe(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
             list: "a list", dict: "a table"}
    return names.get(type(value), type(value).__name__)


def _codes(value: Any, where: str) -> List[str]:
    codes = [c.strip().upper() if c.strip().upper() == "ALL" else c.strip()
             for c in _strings(value, where)]
    try:
        rules_mod.validate_selectors(codes)
    except rules_mod.SelectionError as e:
        bad = str(e).split("'")[1] if "'" in str(e) else str(e)
        codes_known = [r.code for r in rules_mod.all_rules()]
        raise ConfigError(f"{where}: unknown rule code '{bad}'{_suggest(bad, codes_known)}"
                          ) from None
    return codes


def _check_globs(patterns: List[str], root: str, where: str) -> List[str]:
    for p in patterns:
        try:
            Glob(p, root)
        except ValueError:
            raise ConfigError(f"{where}: invalid pattern '{p}'") from None
    return patterns


def _fail_on(value: Any, where: str) -> str:
    if not isinstance(value, str) or value not in SEVERITIES:
        got = f'"{value}"' if isinstance(value, str) else _describe(value)
        raise ConfigError(f"{where}: expected {KEYS['fail-on']}, got {got}")
    return value


def parse_table(table: Dict[str, Any], path: str, root: str) -> Config:
    """Validate a ``[tool.initlint]`` table; every error names the file and the key."""
    cfg = Config(path=path, root=root)
    thresholds = rules_mod.all_settings()
    valid = list(KEYS) + list(thresholds)
    for key, value in table.items():
        where = f"{path}: [tool.initlint] {key}"
        if key == "select":
            cfg.selection.select = _codes(value, where)
        elif key == "extend-select":
            cfg.selection.extend_select = _codes(value, where)
        elif key == "ignore":
            cfg.selection.ignore = _codes(value, where)
        elif key == "per-file-ignores":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: expected {KEYS[key]}, got {_describe(value)}")
            for glob, codes in value.items():
                _check_globs([glob], root, f"{where}.\"{glob}\"")
                cfg.per_file_ignores.append((glob, _codes(codes, f"{where}.\"{glob}\"")))
        elif key == "exclude":
            cfg.exclude = _check_globs(_strings(value, where), root, where)
        elif key == "extend-exclude":
            cfg.extend_exclude = _check_globs(_strings(value, where), root, where)
        elif key == "respect-gitignore":
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: expected true or false, got {_describe(value)}")
            cfg.respect_gitignore = value
        elif key == "fail-on":
            cfg.fail_on = _fail_on(value, where)
        elif key in thresholds:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"{where}: expected a number, got {_describe(value)}")
            if value <= 0:
                raise ConfigError(f"{where}: expected a positive number, got {value}")
            cfg.settings[key] = float(value)
        else:
            key_name = key.replace("_", "-")
            hint = _suggest(key_name, valid)
            if not hint and key_name in valid:
                hint = f"; did you mean '{key_name}'?"
            raise ConfigError(f"{where}: unknown key{hint}")
    return cfg


def load(path: str, *, explicit: bool = False) -> Optional[Config]:
    """Read a config file. A ``pyproject.toml`` without ``[tool.initlint]`` is no config
    (unless it was named with ``--config``, when its table is simply empty); any other file
    name (``initlint.toml``) holds the keys at its top level."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror or e}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: invalid TOML: {e}") from None
    root = os.path.dirname(os.path.abspath(path))
    if os.path.basename(path) == "pyproject.toml" or "tool" in data:
        tool = data.get("tool", {})
        if not isinstance(tool, dict) or "initlint" not in tool:
            return Config(path=path, root=root) if explicit else None
        table = tool["initlint"]
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [tool.initlint] must be a table")
    else:
        table = data
    return parse_table(table, path, root)


class Resolver:
    """Finds and caches the config for each directory and resolves it with the overrides."""

    def __init__(self, overrides: Overrides, config_path: Optional[str] = None,
                 isolated: bool = False) -> None:
        self.overrides = overrides
        self.isolated = isolated
        if overrides.fail_on is not None:
            _fail_on(overrides.fail_on, "--fail-on")
        base_cwd = os.path.abspath(overrides.cwd)
        _check_globs(overrides.exclude or [], base_cwd, "--exclude")
        _check_globs(overrides.extend_exclude, base_cwd, "--extend-exclude")
        self.fixed: Optional[Config] = None
        if config_path is not None:
            if not os.path.isfile(config_path):
                raise ConfigError(f"{config_path}: no such config file")
            self.fixed = load(config_path, explicit=True)
        self._dir_cache: Dict[str, Config] = {}
        self._resolved: Dict[int, Resolved] = {}
        self._default = Config(root=os.path.abspath(overrides.cwd))

    def config_for_dir(self, directory: str) -> Config:
        if self.fixed is not None:
            return self.fixed
        if self.isolated:
            return self._default
        directory = os.path.abspath(directory)
        chain = []
        d = directory
        found: Optional[Config] = None
        while True:
            if d in self._dir_cache:
                found = self._dir_cache[d]
                break
            chain.append(d)
            candidate = os.path.join(d, "pyproject.toml")
            if os.path.isfile(candidate):
                found = load(candidate)
                if found is not None:
                    break
            parent = os.path.dirname(d)
            if parent == d:
                break
            d = parent
        found = found or self._default
        for c in chain:
            self._dir_cache[c] = found
        return found

    def for_path(self, path: str) -> Resolved:
        directory = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
        return self.resolve(self.config_for_dir(directory))

    def resolve(self, cfg: Config) -> Resolved:
        key = id(cfg)
        if key in self._resolved:
            return self._resolved[key]
        layers = [cfg.selection, self.overrides.selection]
        try:
            enabled = rules_mod.resolve_layers(layers)
            explicit = rules_mod.explicit_in_layers(layers, enabled)
        except rules_mod.SelectionError as e:  # the command line's selectors
            raise ConfigError(str(e)) from None
        settings = dict(cfg.settings)
        o = self.overrides
        base_cwd = os.path.abspath(o.cwd)
        if o.exclude is not None:
            exclude = [(p, base_cwd) for p in o.exclude]
        elif cfg.exclude is not None:
            exclude = [(p, cfg.root) for p in cfg.exclude]
        else:
            exclude = [(p, cfg.root) for p in DEFAULT_EXCLUDE]
        exclude += [(p, cfg.root) for p in cfg.extend_exclude]
        exclude += [(p, base_cwd) for p in o.extend_exclude]
        gitignore = cfg.respect_gitignore if o.respect_gitignore is None else o.respect_gitignore
        fail_on = o.fail_on or cfg.fail_on or DEFAULT_FAIL_ON
        res = Resolved(cfg, enabled, explicit, settings, exclude, gitignore, fail_on)
        self._resolved[key] = res
        return res


def show(res: Resolved, path: str) -> str:
    """``--show-settings``: the resolved settings for one file, as TOML-like lines."""
    enabled, explicit, removed = res.for_file(path)
    cfg = res.config

    def lst(xs: Sequence[str]) -> str:
        return "[" + ", ".join(f'"{x}"' for x in xs) + "]"

    thresholds = rules_mod.all_settings()
    thresholds.update(res.settings)
    lines = [
        f"# Resolved settings for: {path}",
        f"# Settings path: {cfg.path or '(none: built-in defaults)'}",
        f"enabled-rules = {lst(enabled)}",
        f"explicitly-selected = {lst(explicit)}",
        f"per-file-ignored = {lst(removed)}",
        f"exclude = {lst([p for p, _ in res.exclude])}",
        f"respect-gitignore = {'true' if res.respect_gitignore else 'false'}",
        f'fail-on = "{res.fail_on}"',
    ]
    lines += [f"{k} = {v:g}" for k, v in sorted(thresholds.items())]
    return "\n".join(lines) + "\n"
