"""``peep-hook status``: is this interpreter protected, by what, under which policy.

It imports neither pip nor wrapt: pip's version comes from its installed
metadata. What it reports about "this process" is the truth for every process
of this interpreter started the same way (same flags, same PYTHONPATH).
"""

from __future__ import annotations

import os
import platform
import site
import sys
from typing import Any, Dict, List, Mapping, Optional, Tuple

from peep_hook.commands import global_hook
from peep_hook.core import audit as audit_log
from peep_hook.core import pip_versions, policy

PTH_NAME = "peep_hook.pth"


def _site_dirs() -> List[str]:
    """The site-packages directories whose .pth files this interpreter runs."""
    dirs = list(getattr(site, "getsitepackages", lambda: [])())
    if getattr(site, "ENABLE_USER_SITE", False):
        dirs.append(site.getusersitepackages())
    on_path = {os.path.normcase(os.path.abspath(p)) for p in sys.path if p}
    seen, result = set(), []
    for d in dirs:
        key = os.path.normcase(os.path.abspath(d))
        if key in on_path and key not in seen:
            seen.add(key)
            result.append(d)
    return result


def _per_environment_hooks() -> List[str]:
    return [os.path.join(d, PTH_NAME) for d in _site_dirs()
            if os.path.isfile(os.path.join(d, PTH_NAME))]


def _bootstrap_state() -> Dict[str, Any]:
    """What the start-up bootstrap did in this process (it may be a global copy)."""
    module = sys.modules.get("peep_hook.startup.bootstrap")
    state = getattr(module, "_state", None)
    if isinstance(state, dict) and (state.get("watching") or state.get("armed")
                                    or state.get("loaded")):
        return {"started": True, "global_home": state.get("global_home"),
                "file": getattr(module, "__file__", None)}
    # Not started (this command imports the bootstrap for its facts, and
    # never starts it): the global hook's sitecustomize and a per-environment
    # .pth's trampoline wait for pip, and start it only when pip is looked up.
    for finder in sys.meta_path:
        if getattr(finder, "__name__", None) == "_peep_hook_global_watch":
            home = getattr(finder, "home", None)  # the bootstrap it will load
            return {"started": True, "global_home": home,
                    "file": global_hook.bootstrap_file(home) if home else None}
    trampoline = sys.modules.get("_peep_hook_start")
    waiting = trampoline is not None and trampoline in sys.meta_path
    return {"started": waiting, "global_home": None,
            "file": getattr(trampoline, "__file__", None) if waiting else None}


def _same_path(a: Optional[str], b: Optional[str]) -> bool:
    if not a or not b:
        return False
    return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def _pip() -> Dict[str, Any]:
    from importlib import metadata

    try:
        version = metadata.version("pip")
    except metadata.PackageNotFoundError:
        return {"version": None, "support": None, "supported": None,
                "supported_range": pip_versions.supported_range()}
    verdict = pip_versions.pip_support(version)
    return {"version": version, "support": verdict, "supported": verdict == pip_versions.SUPPORTED,
            "supported_range": pip_versions.supported_range()}


def collect(environ=os.environ) -> Dict[str, Any]:
    detection = global_hook.detect()
    per_env = _per_environment_hooks()
    started = _bootstrap_state()
    global_active = detection.enabled and _same_path(started["global_home"], detection.home)
    hooked = bool((detection.enabled or per_env) and started["started"])
    policy_info, audit = _policy_and_audit(environ, detection)
    pip_info = _pip()
    problems = [*detection.problems,
                *([policy_info["error"]] if policy_info["error"] else []),
                *_hook_problems(detection, bool(per_env), started["started"], global_active),
                *_policy_problems(policy_info),
                *_pip_problems(pip_info)]
    return {
        "protected": hooked and policy_info["mode"] == policy.STRICT,
        **_interpreter(),
        "hooked": hooked,
        "hooks": {
            "global": dict(detection.as_dict(), active=global_active),
            "per_environment": per_env,
        },
        "bootstrap": started["file"] if started["started"] else None,
        "policy": policy_info,
        "audit_log": audit,
        "pip": pip_info,
        "problems": problems,
    }


def _interpreter() -> Dict[str, Any]:
    base_prefix = getattr(sys, "base_prefix", sys.prefix)
    return {
        "interpreter": sys.executable,
        "python": platform.python_version(),
        "prefix": sys.prefix,
        "base_prefix": base_prefix,
        "virtual_environment": sys.prefix != base_prefix,
    }


def _policy_and_audit(environ: Mapping[str, str], detection: global_hook.Detection
                      ) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """The policy in force and the audit log, as the hook in this process reads them."""
    config_path = detection.config_path if detection.enabled else None
    try:
        setting = policy.current(environ, config_path=config_path)
    except policy.ConfigError as exc:
        # hook/targets.py then refuses every fetching command: closed, not open.
        return ({"mode": policy.STRICT, "source": str(config_path), "warning": None,
                 "error": f"{exc}; pip refuses to install, download or build "
                          "until it is fixed"},
                {"path": None, "source": None, "syslog_socket": None})
    return ({"mode": setting.mode, "source": setting.source, "warning": setting.warning,
             "error": None},
            {"path": setting.audit_log, "source": setting.audit_source,
             "syslog_socket": (audit_log.syslog_socket(setting.audit_log)
                               if setting.audit_log else None)})


def _hook_problems(detection: global_hook.Detection, per_env: bool, started: bool,
                   global_active: bool) -> List[str]:
    """Why no hook reaches this process, or why the one installed did not start."""
    if not (detection.enabled or per_env):
        return ["peep-hook is not installed in this environment and no global "
                "hook is enabled for its base interpreter"]
    if not started:
        loaded = getattr(sys.modules.get("sitecustomize"), "__file__", None)
        if sys.flags.no_site:
            why = "python -S skips site-packages and sitecustomize"
        elif detection.enabled and loaded and not _same_path(loaded, detection.sitecustomize):
            why = f"{loaded} shadows {detection.sitecustomize}"
        else:
            why = "its start-up file did not run"
        return [f"the hook is installed but did not start in this process: {why}"]
    if detection.enabled and not global_active:
        return [f"{detection.sitecustomize} is peep-hook's but did not start "
                "the hook in this process"]
    return []


def _policy_problems(policy_info: Dict[str, Any]) -> List[str]:
    if policy_info["mode"] == policy.OFF:
        return [f"policy is off ({policy_info['source']}): pip does not check hashes"]
    if policy_info["mode"] == policy.WARN:
        return [f"policy is warn ({policy_info['source']}): pip reports hash "
                "problems but installs anyway"]
    return []


def _pip_problems(pip_info: Dict[str, Any]) -> List[str]:
    if pip_info["support"] == pip_versions.TOO_OLD:
        return [f"pip {pip_info['version']} is older than peep-hook supports: "
                "the hook refuses every install"]
    if pip_info["support"] == pip_versions.NEWER:
        return [f"pip {pip_info['version']} is newer than the newest tested; "
                "pip refuses to fetch if its patch points changed"]
    return []


def format_text(info: Dict[str, Any]) -> str:
    hooks = info["hooks"]
    glob = hooks["global"]
    lines = [
        f"peep-hook status of {info['interpreter']} (Python {info['python']}"
        + (", a virtual environment" if info["virtual_environment"] else "") + ")",
        f"  protected:        {'yes' if info['protected'] else 'NO'}",
    ]
    if glob["enabled"]:
        lines.append(f"  global hook:      {glob['sitecustomize']} -> {glob['home']}"
                     + ("" if glob["active"] else " (not active here)"))
    else:
        lines.append("  global hook:      not enabled")
    lines.append("  per-environment:  " + (", ".join(hooks["per_environment"]) or "none"))
    pol = info["policy"]
    lines.append(f"  policy:           {pol['mode']} (from {pol['source']})")
    if pol["warning"]:
        lines.append(f"                    {pol['warning']}")
    audit = info["audit_log"]
    lines.append("  audit log:        "
                 + (f"{audit_log.describe(audit['path'])} (from {audit['source']})"
                    if audit["path"] else "none"))
    pip = info["pip"]
    if pip["version"] is None:
        lines.append("  pip:              not installed")
    else:
        lines.append(f"  pip:              {pip['version']} ({pip['support']}: "
                     f"{pip['supported_range']})")
    for problem in info["problems"]:
        lines.append(f"  note: {problem}")
    return "\n".join(lines) + "\n"
