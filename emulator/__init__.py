"""lambda-emu: a local AWS Lambda emulator and load-testing harness.

Public names are resolved lazily so that `import emulator` (and `lambda-emu --help`) stays
instant; `__all__` is checked by tests/test_exports.py.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Emulator": "emulator.server",
    "EmulatorConfig": "emulator.config",
    "FunctionConfig": "emulator.config",
    "find_manifest": "emulator.manifests",
    "load_manifest": "emulator.manifests",
    "Report": "emulator.metrics.report",
    "parse_report": "emulator.metrics.report",
    "LambdaEmuError": "emulator.errors",
    "ManifestError": "emulator.errors",
    "ServiceError": "emulator.errors",
    "EmbeddedEmulator": "emulator.embedded",
    "EmulatorThread": "emulator.embedded",
    "InvokeResult": "emulator.client",
    "InvokeClient": "emulator.client",
    "AsyncInvokeClient": "emulator.client",
    "CostBreakdown": "emulator.cost",
    "PriceTable": "emulator.cost",
    "TuningResult": "emulator.tuning",
}

__all__ = [
    "AsyncInvokeClient",
    "CostBreakdown",
    "EmbeddedEmulator",
    "Emulator",
    "EmulatorConfig",
    "EmulatorThread",
    "FunctionConfig",
    "InvokeClient",
    "InvokeResult",
    "LambdaEmuError",
    "ManifestError",
    "PriceTable",
    "Report",
    "ServiceError",
    "TuningResult",
    "__version__",
    "find_manifest",
    "load_manifest",
    "parse_report",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'emulator' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
