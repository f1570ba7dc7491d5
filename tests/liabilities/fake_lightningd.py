"""The fake lightningd for the plugin's tests.

The implementation lives in scripts/demo-tools/fake_lightningd.py, because the demo's
Lightning payment replay runs the plugin under it too and must not import from tests/.
This module loads that file and re-exports everything in it, so tests keep writing
`from fake_lightningd import FakeLightningd`.
"""

from __future__ import annotations

import importlib.util
import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_PATH = os.path.join(_ROOT, "scripts", "demo-tools", "fake_lightningd.py")
_NAME = "synthusd_demo_fake_lightningd"

_module = sys.modules.get(_NAME)
if _module is None:
    _spec = importlib.util.spec_from_file_location(_NAME, _PATH)
    assert _spec is not None and _spec.loader is not None, _PATH
    _module = importlib.util.module_from_spec(_spec)
    sys.modules[_NAME] = _module
    _spec.loader.exec_module(_module)

globals().update({name: value for name, value in vars(_module).items() if not name.startswith("__")})
