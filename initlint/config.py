"""Configuration: ``[tool.initlint]`` in ``pyproject.toml``.

Each file uses the closest ``pyproject.toml`` above it that has a ``[tool.initlint]`` table
(configs are not merged, as in ruff). ``--config PATH`` makes one file apply everywhere and
``--isolated`` ignores every file. Command-line flags are applied on top of the file.
Relative paths and globs in a config resolve against the config's own directory.
"""

from __future__ import annotations

import difflib
import fnmatch
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from . import rules as rules_mod

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10
    import tomli as tomllib

#: Directories never descended into (ruff's defaults, plus the usual caches).
DEFAULT_EXCLUDE = (
    ".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".ipynb_checkpoints", ".mypy_cache",
    ".nox", ".pants.d", ".pyenv", ".pytest_cache", ".pytype", ".ruff_cache", ".svn", ".tox",
    ".venv", ".vscode", "__pypackages__", "__pycache__", "_build", "buck-out", "build", "dist",
    "node_modules", "site-packages", "venv", ".initlint_cache",
)


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
    settings: Dict[str, float] = field(default_factory=dict)


@dataclass
class Overrides:
    """The command line's part of the settings; it wins over any file."""

    selection: Selection = field(default_factory=Selection)
    exclude: Optional[List[str]] = None
    extend_exclude: List[str] = field(default_factory=list)
    respect_gitignore: Optional[bool] = None
    cwd: str = "."


@dataclass
class Resolved:
    """The settings one file is linted with."""

    config: Config
    enabled: List[str]
    explicit: List[str]
    settings: Dict[str, float]
    #: (pattern, base directory) pairs a path is excluded by
    exclude: List[Tuple[str, str]]
    respect_gitignore: bool
    _compiled: Optional[List[Tuple["Globs", List[str]]]] = field(default=None, repr=False)
    _exclude_globs: Optional["Globs"] = field(default=None, repr=False)

    def excluded(self, path: str) -> bool:
        """Does an exclude pattern match ``path`` (a file or a directory)?"""
        if self._exclude_globs is None:
            self._exclude_globs = Globs(self.exclude)
        return self._exclude_globs(path)

    def _per_file(self) -> List[Tuple["Globs", List[str]]]:
        if self._compiled is None:
            self._compiled = [(Globs([(pattern, self.config.root)]), codes)
                              for pattern, codes in self.config.per_file_ignores]
        return self._compiled

    def for_file(self, path: str) -> Tuple[List[str], List[str], List[str]]:
        """(enabled, explicit, codes removed by per-file-ignores) for ``path``."""
        removed: List[str] = []
        for globs, codes in self._per_file():
            if globs(path):
                removed.extend(c for c in self.enabled if _selects(codes, c) and c not in removed)
        enabled = [c for c in self.enabled if c not in removed]
        explicit = [c for c in self.explicit if c not in removed]
        return enabled, explicit, removed


def _selects(selectors: Sequence[str], code: str) -> bool:
    return any(s == "ALL" or code.startswith(s) for s in selectors)


class Globs:
    """Globs (for excludes and per-file-ignores) compiled once: a pattern without '/' matches
    a base name anywhere; one with '/' matches the path relative to its base directory (the
    config's, or the working directory for the command line's), and everything under it."""

    def __init__(self, patterns: Sequence[Tuple[str, str]]) -> None:
        names: List[str] = []
        by_base: Dict[str, List[str]] = {}
        for pat, base in patterns:
            pat = pat.replace(os.sep, "/").rstrip("/")
            if pat.startswith("./"):
                pat = pat[2:]
            if "/" not in pat:
                names.append(fnmatch.translate(pat))
            by_base.setdefault(os.path.abspath(base), []).append(pat)
        self.names = re.compile("|".join(names)) if names else None
        self.paths = [(base, re.compile("|".join(
            fnmatch.translate(p) + "|" + fnmatch.translate(p + "/*") for p in pats)))
            for base, pats in by_base.items()]

    def __call__(self, path: str) -> bool:
        path = os.path.abspath(path)
        name = os.path.basename(path)
        if self.names is not None and self.names.match(name):
            return True
        for base, rx in self.paths:
            rel = os.path.relpath(path, base).replace(os.sep, "/")
            if rel.startswith("../"):
                continue
            if rx.match(rel):
                return True
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
                cfg.per_file_ignores.append((glob, _codes(codes, f"{where}.\"{glob}\"")))
        elif key == "exclude":
            cfg.exclude = _strings(value, where)
        elif key == "extend-exclude":
            cfg.extend_exclude = _strings(value, where)
        elif key == "respect-gitignore":
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: expected true or false, got {_describe(value)}")
            cfg.respect_gitignore = value
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
        res = Resolved(cfg, enabled, explicit, settings, exclude, gitignore)
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
    ]
    lines += [f"{k} = {v:g}" for k, v in sorted(thresholds.items())]
    return "\n".join(lines) + "\n"
