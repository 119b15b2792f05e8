"""Installed: what is already installed, and the record of what was verified.

pip trusts whatever is installed. Each wheel peep-hook installs gets a record
of the archive's verified hash (:mod:`peep_hook.installed`); a requirement
pip would skip as already satisfied is checked against it.
"""

from __future__ import annotations

from peep_hook import installed, report
from peep_hook.patches.common import refuse, signature, state
from peep_hook.pins import canonical_name


def record_verified_archive(wrapped, instance, args, kwargs):
    result = wrapped(*args, **kwargs)
    bound = signature(wrapped).bind(*args, **kwargs).arguments
    name, wheel_path, scheme = bound["name"], bound["wheel_path"], bound["scheme"]
    digest = state.verified.get(canonical_name(name))
    if digest is not None:
        installed.write_record(name, wheel_path, (scheme.purelib, scheme.platlib), digest)
    return result


def check_installed(wrapped, instance, args, kwargs):
    req = args[0] if args else kwargs["req"]
    dist = req.satisfied_by
    expected = list((req.hash_options or {}).get("sha256", ())) or (
        state.pins.hashes_for(req.name) if req.name else []
    )
    recorded = installed.read_record(dist.location, req.name, str(dist.version))
    if not expected or recorded is None or recorded not in expected:
        refuse(report.installed_unverified(req, dist, expected, recorded), req)
    return wrapped(*args, **kwargs)
