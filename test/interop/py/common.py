"""Helpers for the interop test snippets (run by test/helpers/peers.ts runPyepics with Debian's
python3, Debian's pyepics and libca). A snippet does `from common import *`, collects what it
observed into a dict and calls emit(result): one JSON line on stdout, which the TypeScript test
parses and asserts on.

JSON has no NaN/Infinity: floats that are not finite become the strings "NaN", "Infinity",
"-Infinity". numpy arrays become {"dtype": "<numpy dtype>", "values": [...]}.
"""

import json
import math
import sys
import time

import numpy as np
import epics
from epics import ca

__all__ = ["emit", "plain", "epics", "ca", "np", "time", "sys", "wait_until", "connect"]


def plain(v):
    """A JSON-safe copy of a pyepics value or metadata dict."""
    if isinstance(v, np.ndarray):
        return {"dtype": str(v.dtype), "values": [plain(x) for x in v.tolist()]}
    if isinstance(v, np.generic):
        return plain(v.item())
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    if isinstance(v, bytes):
        return v.decode("latin-1")
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items() if not callable(x)}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if v is None or isinstance(v, (bool, int, str)):
        return v
    return repr(v)


def emit(result):
    """Prints `result` as one JSON line (the last line of stdout) and flushes."""
    sys.stdout.write(json.dumps(plain(result), allow_nan=False) + "\n")
    sys.stdout.flush()


def wait_until(pred, timeout=5.0, step=0.01):
    """Polls pred() (pumping CA) until it is true or `timeout` seconds passed; returns its value."""
    t0 = time.time()
    while True:
        v = pred()
        if v or time.time() - t0 > timeout:
            return v
        epics.poll(evt=step, iot=step)


def connect(names, timeout=5.0, **kw):
    """PV objects for `names`, all connected (raises RuntimeError naming those that are not)."""
    pvs = {n: epics.get_pv(n, **kw) for n in names}
    missing = [n for n, pv in pvs.items() if not pv.wait_for_connection(timeout=timeout)]
    if missing:
        raise RuntimeError("not connected: %s" % ", ".join(missing))
    return pvs
