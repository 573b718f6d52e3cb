"""Probe speed: verdicts of 50+ legacy paths of numpy's `numpy.core` shims.

Compares, in one run, pytest-ssot's probe server (one interpreter, a fresh fork per path,
shared parent-package processes) with the obvious way: one fresh `python -c` per path.
The verdicts must be identical. Target: >= 10x faster.

    python benchmarks/probe_speed.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pytest_ssot.domain.paths import parse_path  # noqa: E402
from pytest_ssot.probe import probe_paths  # noqa: E402

# One path per fresh interpreter: the straightforward reference implementation of SPEC 3.
ONE = r'''
import importlib, json, sys, warnings
module, attr = sys.argv[1], (sys.argv[2] or None)
DEP = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)
with warnings.catch_warnings(record=True) as log:
    warnings.resetwarnings(); warnings.simplefilter("always")
    verdict = None
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as e:
        verdict = "absent" if e.name and (e.name == module or module.startswith(e.name + ".")) else "broken"
    except BaseException:
        verdict = "broken"
    if verdict is None and attr:
        try:
            getattr(mod, attr)
        except AttributeError:
            try:
                importlib.import_module(module + "." + attr)
            except ModuleNotFoundError as e:
                verdict = "absent" if e.name == module + "." + attr else "broken"
            except BaseException:
                verdict = "broken"
        except ImportError:
            verdict = "absent" if "__getattr__" in vars(mod) else "broken"
        except BaseException:
            verdict = "broken"
    if verdict is None:
        verdict = "warns" if any(issubclass(w.category, DEP) for w in log) else "resolves"
print(json.dumps(verdict))
'''


def legacy_paths() -> list[str]:
    import numpy

    core = Path(numpy.__file__).parent / "core"
    subs = sorted(p.stem for p in core.glob("*.py") if p.stem != "__init__")
    paths = [f"numpy.core.{s}" for s in subs]          # import the shim submodule
    paths += [f"numpy.core:{s}" for s in subs]         # from numpy.core import <sub>
    from numpy._core import numeric

    names = sorted(n for n in dir(numeric) if not n.startswith("_"))[:25]
    paths += [f"numpy.core.numeric:{n}" for n in names]  # names through a shim module
    paths += ["numpy.core:not_a_thing", "numpy.core.nonexistent", "numpy:float_"]
    return paths


def main() -> int:
    paths = legacy_paths()
    t0 = time.perf_counter()
    ours = probe_paths([parse_path(p) for p in paths], sys_path=sys.path, timeout=60)
    t_ours = time.perf_counter() - t0

    t0 = time.perf_counter()
    ref = []
    for p in paths:
        module, _, attr = p.partition(":")
        out = subprocess.run([sys.executable, "-c", ONE, module, attr], capture_output=True,
                             text=True, check=True)
        ref.append(json.loads(out.stdout))
    t_ref = time.perf_counter() - t0

    ours_v = [v.verdict for v in ours]
    mismatches = [(p, a, b) for p, a, b in zip(paths, ours_v, ref) if a != b]
    counts = {k: ours_v.count(k) for k in ("resolves", "warns", "absent", "broken")}
    print(f"{len(paths)} numpy.core legacy paths; verdicts {counts}")
    print(f"  pytest-ssot probe server : {t_ours:6.2f} s")
    print(f"  one python -c per path   : {t_ref:6.2f} s")
    print(f"  speed-up {t_ref / t_ours:5.1f}x  (target >= 10x); identical verdicts: "
          f"{not mismatches}")
    for m in mismatches:
        print("  MISMATCH", m)
    return 0 if not mismatches and t_ref / t_ours >= 10 else 1


if __name__ == "__main__":
    sys.exit(main())
