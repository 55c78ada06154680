"""sql/build.py as a module for the tests (it is a script in sql/, not part of the bridge package)."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from tests.support.pg import REPO


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sql_build", REPO / "sql" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["sql_build"] = module
    spec.loader.exec_module(module)
    return module


build = _load()
