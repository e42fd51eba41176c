"""``import yibao.inspection`` leaves OR-Tools unloaded until a solver function is used."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_package_does_not_import_ortools() -> None:
    code = ("import sys, yibao.inspection as p; assert 'ortools' not in sys.modules; "
            "p.plan_inspections; assert 'ortools' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
