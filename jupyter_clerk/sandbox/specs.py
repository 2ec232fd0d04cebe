"""Every kernel spec names the sandbox provisioner, whatever its kernel.json says.

`KernelProvisionerFactory.default_provisioner_name` only applies to specs that name no
provisioner; a spec naming `local-provisioner` would escape it. Forcing the spec's
`metadata.kernel_provisioner` (with no config of its own) leaves no such way out.
"""

from __future__ import annotations

from typing import Any

from jupyter_client.kernelspec import KernelSpecManager

from .provisioner import PROVISIONER_NAME


class SandboxKernelSpecManager(KernelSpecManager):
    """Kernel specs as installed, except that they all start in the sandbox."""

    def get_kernel_spec(self, kernel_name: str) -> Any:
        spec = super().get_kernel_spec(kernel_name)
        spec.metadata["kernel_provisioner"] = {"provisioner_name": PROVISIONER_NAME, "config": {}}
        return spec
