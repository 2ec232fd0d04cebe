"""Resource limits for a sandbox, through util-linux `prlimit` in front of bubblewrap.

A command prefix rather than a `preexec_fn`: kernels and terminals (terminado spawns its own
processes) get the same limits the same way. Limits are inherited by every process of the
sandbox. A limit this process may not set is skipped with a warning rather than failing
every start.
"""

from __future__ import annotations

import logging
import os
import resource
import shutil
from collections.abc import Mapping

# prlimit option → the resource it sets.
RESOURCES = {
    "--as": resource.RLIMIT_AS,  # address space, bytes: the practical memory cap
    "--nproc": resource.RLIMIT_NPROC,  # processes and threads of the OS user
    "--cpu": resource.RLIMIT_CPU,  # CPU seconds, then SIGXCPU/SIGKILL
}


def _permitted(res: int, value: int) -> bool:
    _, hard = resource.getrlimit(res)
    return os.geteuid() == 0 or hard == resource.RLIM_INFINITY or value <= hard


def limit_prefix(limits: Mapping[str, int], log: logging.Logger) -> list[str]:
    """`prlimit --as=… -- ` for the positive limits this process may set; [] for none."""
    options = []
    for option, value in limits.items():
        if value <= 0:
            continue
        if not _permitted(RESOURCES[option], value):
            log.warning("Sandbox: %s=%d is above this process's hard limit; skipped", option, value)
            continue
        options.append(f"{option}={value}")
    if not options:
        return []
    prlimit = shutil.which("prlimit")
    if prlimit is None:
        log.warning("Sandbox: prlimit (util-linux) is not installed; resource limits skipped")
        return []
    return [prlimit, *options, "--"]
