"""Saved setups: named sets of sources and options in a TOML config file (no UI, no argparse).

The file is `lambdest-tui/config.toml` in platformdirs' user config directory (on Linux
`~/.config/lambdest-tui/config.toml`); `LAMBDEST_TUI_CONFIG` points elsewhere. Each setup is a table:

    [setups.checkout]
    functions = ["order*"]          # names, ARNs or globs, as `watch --function`
    queues = []                     # as --queue; topics, buses as --topic, --bus
    profile = "prod"                # AWS profile and region (the command line wins)
    region = "eu-west-1"
    mode = "peek"                   # or "consume" (refused when read_only)
    correlate = ["order.id"]        # JMESPath expressions for the correlation id
    read_only = true                # no test orders, re-drive or consume mode
"""

from __future__ import annotations

import os
import re
import tempfile
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

__all__ = [
    "ENV_VAR",
    "NAME_PATTERN",
    "Config",
    "ConfigError",
    "Setup",
    "config_path",
    "load_config",
    "parse_config",
    "save_setup",
]

ENV_VAR = "LAMBDEST_TUI_CONFIG"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]+$")


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file, line and key."""


class Setup(BaseModel):
    """One saved setup, a `[setups.NAME]` table (its keys are described in the module docstring).
    Unknown keys are refused, and `correlate` must hold valid JMESPath expressions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    functions: list[str] = Field(default_factory=list)
    queues: list[str] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)
    buses: list[str] = Field(default_factory=list)
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    mode: Literal["peek", "consume"] = "peek"
    correlate: list[str] = Field(default_factory=list)
    read_only: bool = False

    @field_validator("correlate")
    @classmethod
    def _compiles(cls, expressions: list[str]) -> list[str]:
        from records.decode import Correlator

        Correlator(expressions)  # raises ValueError with the expression in the sentence
        return expressions

    @property
    def has_sources(self) -> bool:
        """Whether the setup names any function, queue, topic or bus."""
        return bool(self.functions or self.queues or self.topics or self.buses)

    def to_toml(self) -> dict[str, Any]:
        """The fields that differ from the defaults (what the file needs to hold)."""
        return self.model_dump(exclude_defaults=True)


class Config(BaseModel):
    """The parsed config file: its setups by name (letters, digits, - and _ only)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    setups: dict[str, Setup] = Field(default_factory=dict)

    @field_validator("setups")
    @classmethod
    def _names(cls, setups: dict[str, Setup]) -> dict[str, Setup]:
        for name in setups:
            if not NAME_PATTERN.match(name):
                raise ValueError(f"setup name {name!r} may hold only letters, digits, - and _")
        return setups


def config_path() -> Path:
    """Where the config file is: `LAMBDEST_TUI_CONFIG` when set, else `lambdest-tui/config.toml` in
    the user config directory."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_config_path

    return user_config_path("lambdest-tui", appauthor=False) / "config.toml"


def load_config(path: Path | None = None) -> Config:
    """The parsed file at `path` (default `config_path()`); an empty Config when it does not exist.
    Raises ConfigError naming the file, line and key."""
    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc}") from exc
    return parse_config(text, path)


def parse_config(text: str, path: Path) -> Config:
    """`text`, the content of the file at `path`, as a Config. Raises ConfigError naming the file,
    line (when found) and key of the first problem, and how many more there are."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # its message ends with "(at line L, column C)"
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = [str(part) for part in error["loc"]]
        key = ".".join(loc)
        line = _line_of(text, loc)
        where = f"{path}:{line}" if line else str(path)
        more = len(exc.errors()) - 1
        tail = f" (and {more} more problem{'s' if more != 1 else ''})" if more else ""
        message = error["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{where}: key {key}: {message}{tail}") from exc


def _line_of(text: str, loc: list[str]) -> int | None:
    """The line (1-based) where the key at `loc` is written: its `key =` line inside the
    `[setups.NAME]` table, else the table's header; None when neither is found."""
    if len(loc) < 2 or loc[0] != "setups":
        return _first_key_line(text.splitlines(), 0, loc[0]) if loc else None
    name = loc[1]
    lines = text.splitlines()
    header = re.compile(rf"^\s*\[\s*setups\s*\.\s*[\"']?{re.escape(name)}[\"']?\s*\]")
    for number, line in enumerate(lines):
        if header.match(line):
            if len(loc) < 3:
                return number + 1
            found = _first_key_line(lines, number + 1, loc[2])
            return found or number + 1
    dotted = _first_key_line(lines, 0, f"setups.{name}")
    return dotted


def _first_key_line(lines: list[str], start: int, key: str) -> int | None:
    pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*[=.]")
    for number in range(start, len(lines)):
        line = lines[number]
        if number > start and line.lstrip().startswith("["):
            return None
        if pattern.match(line):
            return number + 1
    return None


def save_setup(name: str, setup: Setup, path: Path | None = None) -> Path:
    """Append `[setups.NAME]` to the config file at `path` (default `config_path()`; created in a
    0700 folder if missing), by writing a new 0600 file next to it and renaming it over the old one;
    comments are kept. Returns the file's path. Raises ConfigError when the name is taken or
    invalid, or the file cannot be read, parsed or written."""
    import tomli_w

    path = path or config_path()
    if not NAME_PATTERN.match(name):
        raise ConfigError(f"setup name {name!r} may hold only letters, digits, - and _")
    try:
        old = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        old = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc}") from exc
    config = parse_config(old, path) if old else Config()
    if name in config.setups:
        raise ConfigError(f"{path}: a setup named {name!r} already exists")
    table = tomli_w.dumps({"setups": {name: setup.to_toml()}})
    if not setup.to_toml():
        table = f"[setups.{name}]\n"
    text = old + ("\n" if old and not old.endswith("\n") else "") + ("\n" if old else "") + table
    parse_config(text, path)  # never write a file that would not load
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:  # mkstemp makes it 0600
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write the config file: {exc}") from exc
    return path
