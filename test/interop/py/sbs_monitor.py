"""Side-by-side monitors (test/interop/side-by-side-monitor.test.ts). argv: SYNC_DIR PV...

Subscribes a pyepics PV with a callback to every PV, fetches ctrl vars, writes SYNC_DIR/ready, then
phase A: pyepics makes the put sequence read from SYNC_DIR/puts.json ([[name, value], ...]) with
wait=True and records the return codes; writes SYNC_DIR/a-done and waits for SYNC_DIR/b-done (our
client makes the same sequence then); pumps CA for a moment and emits every callback's keyword
arguments (callables dropped; cb_info as [index, pvname])."""

import json
import os

from common import *  # noqa: F401,F403

sync = sys.argv[1]
names = sys.argv[2:]
calls = {n: [] for n in names}


def on_change(**kw):
    rec = {}
    for k, v in kw.items():
        if k == "cb_info":
            rec[k] = [v[0], v[1].pvname]
        elif callable(v):
            continue
        else:
            rec[k] = plain(v)
    calls[kw["pvname"]].append(rec)


pvs = connect(names)
# the current value first, so that no callback runs for it (the TypeScript side does the same)
wait_until(lambda: all(p.get() is not None for p in pvs.values()))
for n, pv in pvs.items():
    pv.get_ctrlvars()
    pv.add_callback(on_change)
epics.poll(evt=0.3, iot=0.3)
initial = {n: len(c) for n, c in calls.items()}
open(os.path.join(sync, "ready"), "w").close()


def wait_file(name, timeout=30):
    path = os.path.join(sync, name)
    return wait_until(lambda: os.path.exists(path), timeout=timeout)


wait_file("go")
puts = json.load(open(os.path.join(sync, "puts.json")))
rcs = []
for name, value in puts:
    rcs.append(epics.caput(name, value, wait=True, timeout=10))
    epics.poll(evt=0.05, iot=0.05)
epics.poll(evt=0.5, iot=0.5)
open(os.path.join(sync, "a-done"), "w").close()
wait_file("b-done", timeout=60)
epics.poll(evt=0.5, iot=0.5)
t0 = time.time()
while time.time() - t0 < 0.5:
    epics.poll(evt=0.05, iot=0.05)
emit({"calls": calls, "rcs": rcs, "initial": initial})
