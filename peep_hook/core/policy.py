"""Which enforcement mode is in force, where that came from, and the audit log.

``strict`` (the default) refuses; ``warn`` reports everything strict would
refuse, then lets pip proceed (for rolling out); ``off`` does nothing.

The mode comes from the ``PEEP_HOOK`` environment variable, unless an
administrator's configuration file beside the global hook pins it: then the
variable may only make it stricter, never weaker. The same file (or
``PEEP_HOOK_AUDIT_LOG``) names the audit log; the file's setting wins.

The configuration file is INI::

    [peep-hook]
    policy = strict
    audit_log = /var/log/peep-hook.jsonl

``audit_log`` is a file path, or ``syslog`` (the local syslog socket), or
``syslog:/path/to/socket``; :mod:`peep_hook.core.audit` writes either.
"""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass
from typing import Mapping

STRICT = "strict"
WARN = "warn"
OFF = "off"
MODES = (STRICT, WARN, OFF)
_STRENGTH = {OFF: 0, WARN: 1, STRICT: 2}

ENV_VAR = "PEEP_HOOK"
AUDIT_ENV_VAR = "PEEP_HOOK_AUDIT_LOG"
_SECTION = "peep-hook"


@dataclass(frozen=True)
class Policy:
    mode: str
    source: str
    #: a problem with the setting worth telling the user (the mode is still safe)
    warning: str | None = None
    audit_log: str | None = None
    audit_source: str | None = None


class ConfigError(Exception):
    """The administrator's configuration file exists but cannot be used."""


def current(environ: Mapping[str, str] = os.environ, config_path: str | None = None) -> Policy:
    """The policy in force. ``config_path`` is the administrator's file, if any."""
    admin = _read_config(config_path) if config_path else {}
    env_mode, env_warning = _env_mode(environ)
    audit_log, audit_source = _audit(environ, admin, config_path)
    pinned = admin.get("policy")
    if pinned is None:
        source = f"{ENV_VAR}={environ[ENV_VAR]}" if env_mode else "default"
        return Policy(env_mode or STRICT, source, env_warning, audit_log, audit_source)
    if env_mode and _STRENGTH[env_mode] > _STRENGTH[pinned]:
        return Policy(env_mode, f"{ENV_VAR}={environ[ENV_VAR]} (stricter than {config_path})",
                      env_warning, audit_log, audit_source)
    warning = env_warning
    if env_mode and env_mode != pinned:
        warning = (f"{ENV_VAR}={environ[ENV_VAR]} is ignored: {config_path} pins "
                   f"policy = {pinned}")
    return Policy(pinned, str(config_path), warning, audit_log, audit_source)


def _env_mode(environ: Mapping[str, str]) -> tuple[str | None, str | None]:
    raw = environ.get(ENV_VAR)
    if raw is None or not raw.strip():
        return None, None
    value = raw.strip().lower()
    if value in MODES:
        return value, None
    return STRICT, f"{ENV_VAR}={raw!r} is not one of {', '.join(MODES)}; using strict"


def _audit(environ: Mapping[str, str], admin: Mapping[str, str],
           config_path: str | None) -> tuple[str | None, str | None]:
    if admin.get("audit_log"):
        return admin["audit_log"], str(config_path)
    if environ.get(AUDIT_ENV_VAR):
        return environ[AUDIT_ENV_VAR], AUDIT_ENV_VAR
    return None, None


def _read_config(path: str) -> dict[str, str]:
    if not os.path.exists(path):
        return {}
    parser = configparser.ConfigParser()
    try:
        with open(path, encoding="utf-8") as f:
            parser.read_file(f)
    except (OSError, configparser.Error) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    if not parser.has_section(_SECTION):
        return {}
    values = {k: v.strip() for k, v in parser.items(_SECTION)}
    mode = values.get("policy")
    if mode is not None:
        mode = mode.lower()
        if mode not in MODES:
            raise ConfigError(f"{path}: policy = {mode!r} is not one of {', '.join(MODES)}")
        values["policy"] = mode
    return values
