"""Keep pyarrow from importing pandas, which the program never hands it.

pyarrow imports pandas (0.3 s, a fifth of the window's start-up budget) the first
time it converts anything to numpy, only to check whether the input is a pandas
object. Nothing in ``data/``, ``layers/``, ``exporters/`` or ``desktop/`` passes
pandas objects to pyarrow or asks it for pandas output, so the entry points (the
window, the wall, the command line) tell pyarrow once, before any conversion, that
pandas is absent. pandas itself stays importable (folium uses it); only pyarrow's
own check is answered early. Test code, which builds tables from pandas, does not
call this.
"""

from __future__ import annotations

import sys
from importlib.machinery import ModuleSpec


class _HidePandas:
    """A meta-path finder that says pandas does not exist (for one moment only)."""

    def find_spec(self, name: str, path: object = None, target: object = None
                  ) -> ModuleSpec | None:
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError("hidden from pyarrow's pandas check", name=name)
        return None


def keep_pandas_out_of_pyarrow() -> bool:
    """Make pyarrow settle its pandas check without pandas; True if it was done now."""
    if "pandas" in sys.modules:  # already paid for: nothing to save
        return False
    import pyarrow as pa

    finder = _HidePandas()
    sys.meta_path.insert(0, finder)
    try:
        pa.array([0]).to_numpy()  # pyarrow looks for pandas now, and remembers the answer
    finally:
        sys.meta_path.remove(finder)
    return "pandas" not in sys.modules
