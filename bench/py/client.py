"""pyepics client workloads for the tsepics benchmark, one per process run.

    python3 bench/py/client.py WORKLOAD [key=value ...]

Prints one JSON object on stdout. Mirrors bench/ts-client.ts workload for workload. Runs with
Debian's python3, PYTHONPATH and PYEPICS_LIBCA from .peers/env.sh, and the CA environment set by
bench/run.ts.
"""
import gc
import json
import os
import resource
import sys
import time

import epics
from epics import ca

AO_PREFIX = "BENCH:ao"
UPD_PREFIX = "BENCH:upd"
WAVE = "BENCH:wave"
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def names(prefix, n, start=0):
    return ["%s%d" % (prefix, start + i) for i in range(n)]


def connect_get_many(a):
    n = int(a.get("n", 1000))
    lst = names(a.get("prefix", AO_PREFIX), n)
    t0 = time.perf_counter()
    values = epics.caget_many(lst, timeout=60)
    dt = time.perf_counter() - t0
    bad = sum(1 for v in values if v is None)
    if bad:
        raise RuntimeError("%d of %d reads failed" % (bad, n))
    return {"seconds": dt, "perSecond": n / dt}


def pv_connect(a):
    n = int(a.get("n", 1000))
    lst = names(a.get("prefix", AO_PREFIX), n)
    gc.collect()
    rss0 = rss()
    t0 = time.perf_counter()
    pvs = [epics.PV(name, auto_monitor=True, connection_timeout=60) for name in lst]
    deadline = time.time() + 120
    for pv in pvs:
        pv.wait_for_connection(timeout=max(0.1, deadline - time.time()))
    # first values (monitor updates); get() returns the monitored value once it arrived
    for pv in pvs:
        if pv.get(timeout=max(0.1, deadline - time.time())) is None:
            raise RuntimeError("%s got no value" % pv.pvname)
    dt = time.perf_counter() - t0
    gc.collect()
    per = (rss() - rss0) / n
    return {"seconds": dt, "perSecond": n / dt, "bytesPerPv": per}


def get_rtt(a):
    iters = int(a.get("iters", 2000))
    chid = ca.create_channel(a.get("pv", AO_PREFIX + "0"), connect=True)
    for _ in range(50):
        ca.get(chid)
    t0 = time.perf_counter()
    for _ in range(iters):
        ca.get(chid)
    dt = time.perf_counter() - t0
    return {"usPerOp": dt / iters * 1e6, "perSecond": iters / dt}


def put_rtt(a):
    iters = int(a.get("iters", 2000))
    pv = epics.PV(a.get("pv", AO_PREFIX + "1"), auto_monitor=False)
    pv.wait_for_connection(10)
    for i in range(50):
        pv.put(i, wait=True)
    t0 = time.perf_counter()
    for i in range(iters):
        pv.put(i, wait=True)
    dt = time.perf_counter() - t0
    return {"usPerOp": dt / iters * 1e6, "perSecond": iters / dt}


def wave_get(a):
    # "cold": the first `cold` gets after the first one, as a fresh process sees them; then `warm` more
    # untimed, then `iters` timed: the sustained rate
    cold = int(a.get("cold", 10))
    warm = int(a.get("warm", 20))
    iters = int(a.get("iters", 20))
    chid = ca.create_channel(a.get("pv", WAVE), connect=True)
    nelm = ca.element_count(chid)
    v = ca.get(chid, count=nelm, timeout=30)
    if v is None or len(v) != nelm:
        raise RuntimeError("short read")
    s = 0.0
    t0 = time.perf_counter()
    for _ in range(cold):
        v = ca.get(chid, count=nelm, timeout=30)
        s += v[-1]
    dt_cold = time.perf_counter() - t0
    for _ in range(warm):
        v = ca.get(chid, count=nelm, timeout=30)
        s += v[-1]
    t0 = time.perf_counter()
    for _ in range(iters):
        v = ca.get(chid, count=nelm, timeout=30)
        s += v[-1]
    dt = time.perf_counter() - t0
    return {
        "MBps": nelm * 8 * iters / dt / 1e6,
        "msPerOp": dt / iters * 1e3,
        "coldMBps": nelm * 8 * cold / dt_cold / 1e6,
        "check": float(s),
    }


def wave_put(a):
    import numpy

    # `warm` puts untimed, then `iters` timed: the sustained rate
    warm = int(a.get("warm", 10))
    iters = int(a.get("iters", 20))
    chid = ca.create_channel(a.get("pv", WAVE), connect=True)
    nelm = ca.element_count(chid)
    data = numpy.arange(nelm, dtype=numpy.float64) * 0.5
    for i in range(1 + warm):
        data[0] = -i
        ca.put(chid, data, wait=True, timeout=30)
    t0 = time.perf_counter()
    for i in range(iters):
        data[0] = i
        ca.put(chid, data, wait=True, timeout=30)
    dt = time.perf_counter() - t0
    return {"MBps": nelm * 8 * iters / dt / 1e6, "msPerOp": dt / iters * 1e3}


def monitor(a):
    n = int(a.get("n", 1000))
    seconds = float(a.get("seconds", 5))
    count = [0]

    def cb(**kw):
        count[0] += 1

    pvs = [epics.PV(name, callback=cb, connection_timeout=30) for name in names(a.get("prefix", UPD_PREFIX), n)]
    for pv in pvs:
        if not pv.wait_for_connection(30):
            raise RuntimeError("not all connected")
    time.sleep(1.0)
    gc.collect()
    rss0 = rss()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    count[0] = 0
    t0 = time.perf_counter()
    time.sleep(seconds / 2)
    rss_mid = rss()
    time.sleep(seconds / 2)
    got = count[0]
    dt = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    rss_late = rss() - rss_mid
    gc.collect()
    grow = rss() - rss0
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return {
        "perSecond": got / dt,
        "cpuUsPerEvent": cpu / got * 1e6 if got else 0,
        "cpuFraction": cpu / dt,
        "rssGrowthMB": grow / 1e6,
        "rssGrowthLateMB": rss_late / 1e6,
        "rssEndMB": rss() / 1e6,
    }


WORKLOADS = {
    "connect_get_many": connect_get_many,
    "pv_connect": pv_connect,
    "get_rtt": get_rtt,
    "put_rtt": put_rtt,
    "wave_get": wave_get,
    "wave_put": wave_put,
    "monitor": monitor,
}


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in WORKLOADS:
        sys.stderr.write("usage: client.py %s [key=value ...]\n" % "|".join(WORKLOADS))
        sys.exit(2)
    args = dict(kv.split("=", 1) for kv in sys.argv[2:] if "=" in kv)
    r = WORKLOADS[sys.argv[1]](args)
    sys.stdout.write(json.dumps(r) + "\n")
    sys.stdout.flush()
    # skip libca's atexit teardown of thousands of channels (not part of any measurement)
    os._exit(0)


if __name__ == "__main__":
    main()
