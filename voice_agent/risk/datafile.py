"""Read one of the risk team's data files: the shipped copy or a configured path.

Every risk data file (rules, blacklist, customers, fraud examples) is read
the same way, so an unreadable file always gives the same kind of error:
a ConfigError that starts with the file's name.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from models.errors import ConfigError


def read_data_file(path: Path | None, name: str, what: str) -> tuple[str, str]:
    """Return ``(text, where)`` for ``path``, or the shipped ``data/<name>`` when None.

    Args:
        path: a configured file, or None for the copy shipped in the package.
        name: the shipped file's name under ``voice_agent/risk/data/``.
        what: what the file is, for the error message ("rules file", "blacklist").

    Raises:
        ConfigError: the file cannot be read; the message names it.
    """
    if path is None:
        where = f"voice_agent/risk/data/{name}"
        try:
            ref = resources.files("voice_agent.risk") / "data" / name
            return ref.read_text(encoding="utf-8"), where
        except OSError as exc:
            raise ConfigError(f"{where}: cannot read the shipped {what}") from exc
    where = str(path)
    try:
        return Path(path).read_text(encoding="utf-8"), where
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read {what}: {exc}") from exc
