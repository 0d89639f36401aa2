"""Side-by-side reads (test/interop/side-by-side-reads.test.ts): every read form pyepics offers, for
every PV named in sys.argv[1:], as one JSON document. The TypeScript test makes the same reads with
our client and compares key by key. Each read is wrapped so a failing form is recorded as
{"error": "..."} instead of aborting the script."""

from common import *  # noqa: F401,F403

names = sys.argv[1:]


def attempt(f):
    try:
        return f()
    except Exception as e:  # pyepics raises plain exceptions for some forms
        return {"error": "%s: %s" % (type(e).__name__, e)}


def info_lines(pv):
    return [l for l in pv.info.split("\n")]


out = {"pv": {}, "ca": {}}
pvs = connect(names)
for n, pv in pvs.items():
    pv.get(use_monitor=False)
    pv.get_ctrlvars()
    r = {}
    r["caget"] = attempt(lambda: epics.caget(n, use_monitor=False))
    r["caget_str"] = attempt(lambda: epics.caget(n, as_string=True, use_monitor=False))
    r["get"] = attempt(lambda: pv.get(use_monitor=False))
    r["get_str"] = attempt(lambda: pv.get(as_string=True, use_monitor=False))
    r["get_mon"] = attempt(lambda: pv.get())
    r["char_value"] = pv.char_value
    r["ctrl"] = attempt(lambda: pv.get_ctrlvars())
    tv = attempt(lambda: pv.get_timevars())
    r["time"] = tv
    meta = pv.get_with_metadata(form="time", use_monitor=False)
    r["severity"] = meta.get("severity")
    r["status"] = meta.get("status")
    r["count"] = pv.count
    r["nelm"] = pv.nelm
    r["type"] = pv.type
    r["ftype"] = pv.ftype
    r["field_type"] = ca.field_type(pv.chid)
    r["enum_strs"] = pv.enum_strs
    r["units"] = pv.units
    r["precision"] = pv.precision
    r["info"] = info_lines(pv)
    r["cainfo"] = epics.cainfo(n, print_out=False).split("\n")
    out["pv"][n] = r

    chid = ca.create_channel(n, connect=True)
    ca.connect_channel(chid)
    byft = {}
    for ft in range(7):
        byft[str(ft)] = attempt(lambda: ca.get(chid, ftype=ft))
    byft["native"] = attempt(lambda: ca.get(chid))
    byft["native_str"] = attempt(lambda: ca.get(chid, as_string=True))
    out["ca"][n] = byft

out["caget_many"] = epics.caget_many(names)
out["caget_many_str"] = epics.caget_many(names, as_string=True)
emit(out)
