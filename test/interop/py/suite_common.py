"""Helpers for the pyepics-suite interop tests (test/interop/pyepics-suite-*.test.ts).

The IOC serves our own test/fixtures/pyepics-db databases with P=PyTest: and
P=PyTestClearCache: (the names pyepics' own test suite uses); see pyepics-suite-sim.ts for the
simulator. A snippet does `from common import *` and `from suite_common import *`.
"""

import threading
import time
from contextlib import contextmanager

import epics
from epics import ca

__all__ = ["P", "paused", "collect_subscription", "type_name", "count_events"]

P = "PyTest:"


@contextmanager
def paused():
    """Stops the simulator's periodic updates (PyTest:pause = 1) for the duration."""
    epics.caput(P + "pause", 1, wait=True)
    time.sleep(0.15)
    try:
        yield
    finally:
        epics.caput(P + "pause", 0, wait=True)


def type_name(v):
    """`numpy.int32`, `str`, `list` ...: the Python type of v as a short string."""
    t = type(v)
    mod = t.__module__
    return t.__name__ if mod == "builtins" else "%s.%s" % (mod, t.__name__)


def collect_subscription(name, timeout=6.0, **kw):
    """ca.create_subscription on `name` (kw: use_time/use_ctrl ...); returns the first value the
    callback received (None if none arrived within `timeout`) and the callback's keyword names."""
    got = {}
    lock = threading.Lock()

    def cb(pvname=None, value=None, **kws):
        with lock:
            if "value" not in got:
                got["value"] = value
                got["keys"] = sorted(kws)

    chid = ca.create_channel(name, connect=True)
    _cb, _uarg, evid = ca.create_subscription(chid, callback=cb, **kw)
    t0 = time.time()
    while time.time() - t0 < timeout and "value" not in got:
        ca.poll(evt=0.01, iot=0.01)
    ca.clear_subscription(evid)
    return got.get("value"), got.get("keys")


def count_events(pv, seconds):
    """Number of monitor callbacks a PV object receives in `seconds`."""
    n = [0]

    def cb(**kw):
        n[0] += 1

    idx = pv.add_callback(cb)
    t0 = time.time()
    while time.time() - t0 < seconds:
        epics.poll(evt=0.01, iot=0.01)
    pv.remove_callback(idx)
    return n[0]
