"""Loading theme files and looking themes up by key.

Theme files are read once at start-up; a broken one stops the service with a one-line message
that names the file, where in it, and what is wrong, because the people who edit these files
are not the people who read stack traces.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from app.themes.schema.base import ThemeDataError
from app.themes.schema.theme import DISCRIMINATOR_TAGS, Theme

BUILTIN_THEMES_DIR = Path(__file__).parent / "data"
THEME_FILE_SUFFIXES = (".yaml", ".yml")


class ThemeFileError(Exception):
    """A theme file that cannot be used: ``<file>: <path inside it>: <problem>``."""

    def __init__(self, file: Path, location: str, problem: str) -> None:
        self.file = file
        self.location = location
        self.problem = problem
        super().__init__(f"{file}: {location}: {problem}" if location else f"{file}: {problem}")


class UnknownThemeError(KeyError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key

    def __str__(self) -> str:
        return f"unknown theme {self.key!r}"


class ThemeRegistry:
    """The themes an instance of the service knows, by key. Immutable once built."""

    def __init__(self, themes: Iterable[Theme]) -> None:
        self._themes: dict[str, Theme] = {}
        for theme in themes:
            if theme.key in self._themes:
                raise ValueError(f"theme {theme.key!r} is defined twice")
            self._themes[theme.key] = theme

    def get(self, key: str) -> Theme:
        try:
            return self._themes[key]
        except KeyError:
            raise UnknownThemeError(key) from None

    def keys(self) -> list[str]:
        return sorted(self._themes)

    def all(self) -> list[Theme]:
        return [self._themes[key] for key in self.keys()]

    def __contains__(self, key: object) -> bool:
        return key in self._themes

    def __len__(self) -> int:
        return len(self._themes)


class _ThemeLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 scalars and no duplicate keys.

    YAML 1.1 reads ``No`` as false and ``12:00`` as 720 (base 60); both are ordinary values in a
    theme file (a code label, a deadline). A repeated key silently replaces the first one, which
    in a hand-edited file is always a mistake.
    """

    yaml_implicit_resolvers = {
        first: [
            (tag, regexp)
            for tag, regexp in resolvers
            if tag.rsplit(":", 1)[-1] not in {"bool", "int", "float", "timestamp"}
        ]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                continue
            if key_node.value in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key_node.value!r}", key_node.start_mark
                )
            seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)


_ThemeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf")
)
_ThemeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789")
)


def load_theme_file(path: Path) -> Theme:
    """Read and validate one theme file; its ``key`` must be the file's name without suffix."""
    data = _read_yaml(path)
    try:
        theme = Theme.model_validate(data)
    except ValidationError as exc:
        location, problem = _describe(exc.errors(include_url=False))
        raise ThemeFileError(path, location, problem) from exc
    if theme.key != path.stem:
        raise ThemeFileError(path, "key", f"{theme.key!r} must match the file name {path.stem!r}")
    return theme


def load_themes(directories: Sequence[Path]) -> ThemeRegistry:
    """Every theme file in ``directories`` (usually BUILTIN_THEMES_DIR first, then extras)."""
    loaded: dict[str, Path] = {}
    themes: list[Theme] = []
    for directory in directories:
        for path in _theme_files(directory):
            theme = load_theme_file(path)
            if theme.key in loaded:
                problem = f"theme {theme.key!r} is already defined in {loaded[theme.key]}"
                raise ThemeFileError(path, "key", problem)
            loaded[theme.key] = path
            themes.append(theme)
    return ThemeRegistry(themes)


@cache
def builtin_themes() -> ThemeRegistry:
    return load_themes([BUILTIN_THEMES_DIR])


def _theme_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        raise ThemeFileError(directory, "", "not a directory")
    return sorted(p for p in directory.iterdir() if p.suffix in THEME_FILE_SUFFIXES)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ThemeFileError(path, "", f"cannot read: {exc}") from exc
    try:
        data = yaml.load(text, Loader=_ThemeLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        location = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ThemeFileError(path, location, f"not valid YAML: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise ThemeFileError(path, "", f"not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ThemeFileError(path, "", "expected a mapping of theme settings at the top")
    return data


def _describe(errors: list[ErrorDetails]) -> tuple[str, str]:
    """The first problem as (path, message), with a count of any others."""
    problems: list[tuple[str, str]] = []
    for error in errors:
        prefix = _path(error["loc"])
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, ThemeDataError):
            problems += [(_join(prefix, where), what) for where, what in cause.problems]
        else:
            problems.append((prefix, _message(error)))
    location, problem = problems[0]
    if len(problems) > 1:
        problem += f" (and {len(problems) - 1} more problem(s))"
    return location, problem


def _message(error: ErrorDetails) -> str:
    message = error["msg"].removeprefix("Value error, ")
    given = error.get("input")
    if isinstance(given, str | int) and error["type"] not in {"missing", "value_error"}:
        message += f" (got {given!r})"
    return message


def _path(loc: tuple[int | str, ...]) -> str:
    path = ""
    previous: int | str | None = None
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not (isinstance(previous, int) and part in DISCRIMINATOR_TAGS):
            path += f".{part}" if path else part
        previous = part
    return path


def _join(prefix: str, suffix: str) -> str:
    if not prefix or not suffix:
        return prefix or suffix
    return f"{prefix}{suffix}" if suffix.startswith("[") else f"{prefix}.{suffix}"
