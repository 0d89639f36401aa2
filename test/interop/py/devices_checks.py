"""pyepics' own devices (Motor, Scaler, Mca/ROI, Struck, Transform, Device, Alarm, ai/ao/bi/bo)
driving the simulated records of `tsepics ioc`. Each check_* function returns a dict of what it
observed; test/interop/pyepics-devices-sim.test.ts asserts on it.

Workarounds for bugs of pyepics 3.4.1 itself (not of the IOC), so that those classes can be driven:
- devices/mca.py (ROI) and devices/transform.py name the Python 2 builtins `basestring` and
  `unicode` (NameError on Python 3): install_py2_names() defines them.
- Transform.__init__ assigns self.attrs before Device.__init__, which Device.__setattr__ drops
  (AttributeError "Transform has no attribute attrs"): transform_class() adds 'attrs' to _nonpvs.
- Transform.set_comment puts an undefined name (NameError): comments are set with set_row.
"""

import builtins
import time

import numpy as np
import epics
import epics.devices
from epics import ca


def install_py2_names():
    if not hasattr(builtins, "basestring"):
        builtins.basestring = str
    if not hasattr(builtins, "unicode"):
        builtins.unicode = str


def transform_class():
    base = epics.devices.Transform

    class Transform(base):
        _nonpvs = tuple(epics.Device._nonpvs) + ("attrs",)

    return Transform


def _wait(pred, timeout=10.0):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if pred():
            return True
        epics.poll(evt=0.01, iot=0.01)
    return False


def check_motor(name):
    m = epics.Motor(name)
    out = {}
    m.put("VELO", 20, wait=True)
    m.put("ACCL", 0.05, wait=True)
    m.put("DIR", 0, wait=True)
    m.put("OFF", 0, wait=True)
    t0 = time.time()
    out["move"] = m.move(1.5, wait=True, timeout=30)
    out["move_seconds"] = time.time() - t0
    out["rbv"] = m.get_position(readback=True)
    out["rdbd"] = m.get("RDBD")
    out["dmov"] = m.get("DMOV")
    out["softlimit"] = m.move(1.0e6, wait=True)
    out["within"] = [m.within_limits(10), m.within_limits(1.0e6), m.within_limits(-1.0e6)]
    # the drive value did not change on a refused move
    out["val_after_refusal"] = m.get("VAL")
    # DIR=Neg, OFF=3: user = -dial + 3; raw = dial / MRES
    m.put("DIR", 1, wait=True)
    m.put("OFF", 3.0, wait=True)
    out["move_neg"] = m.move(2.0, wait=True, timeout=30)
    out["mres"] = m.get("MRES")
    out["user_dial_raw"] = [
        m.get_position(readback=True),
        m.get_position(dial=True, readback=True),
        m.get_position(raw=True, readback=True),
    ]
    out["dial_move"] = m.move(0.5, dial=True, wait=True, timeout=30)
    out["user_after_dial_move"] = m.get_position(readback=True)
    # tweak forward/reverse by TWV (user coordinates)
    m.put("TWV", 0.25, wait=True)
    out["tweak_fwd"] = m.tweak("forward", wait=True, timeout=30)
    out["after_tweak_fwd"] = m.get_position(readback=True)
    out["tweak_rev"] = m.tweak("reverse", wait=True, timeout=30)
    out["after_tweak_rev"] = m.get_position(readback=True)
    # set_position: redefine the user position without moving (OFF changes)
    dial_before = m.get_position(dial=True, readback=True)
    m.set_position(10.0)
    epics.poll(evt=0.1, iot=0.1)
    out["after_set_position"] = [m.get_position(), m.get_position(dial=True, readback=True), dial_before]
    out["off_after_set"] = m.get("OFF")
    # a move without wait, watched through DMOV going 0 -> 1
    dmovs = []
    pv = epics.PV(name + ".DMOV", callback=lambda value=None, **kw: dmovs.append(value))
    pv.wait_for_connection(5)
    epics.poll(evt=0.1, iot=0.1)
    out["nowait"] = m.move(11.0, wait=False)
    _wait(lambda: m.get("DMOV") == 1 and abs(m.get_position(readback=True) - 11.0) < 0.01, 30)
    epics.poll(evt=0.2, iot=0.2)
    out["dmovs"] = dmovs
    out["final"] = m.get_position(readback=True)
    pv.clear_callbacks()
    # back to DIR=Pos, OFF=0
    m.put("DIR", 0, wait=True)
    m.put("OFF", 0, wait=True)
    return out


def check_scaler(name, ctime=0.5):
    s = epics.devices.Scaler(name, nchan=8)
    out = {}
    s.OneShotMode()
    s.EnableCalcs()
    s.setCalc(2, "A*2")
    t0 = time.time()
    s.Count(ctime=ctime, wait=True)
    out["count_seconds"] = time.time() - t0
    epics.poll(evt=0.3, iot=0.3)
    out["T"] = s.get("T")
    out["TP"] = s.get("TP")
    out["CNT"] = s.get("CNT")
    out["FREQ"] = epics.caget(name + ".FREQ")
    out["names"] = s.getNames()
    out["read"] = s.Read()
    out["calc2"] = s.get("calc2")
    out["read_calc"] = s.Read(use_calc=True)
    return out


def check_mca(name, prtm=0.5):
    install_py2_names()
    m = epics.devices.Mca(name, nrois=4)
    out = {}
    m.put("PRTM", prtm, wait=True)
    m.put("NUSE", 1024, wait=True)
    # pyepics' ROI calls put without waiting and then read the ROI fields through its monitor cache:
    # let the updates of one call arrive before the next call reads them (as pyepics' set_rois does)
    m.clear_rois()
    epics.poll(evt=0.05, iot=1.0)
    m.add_roi("peak", lo=100, hi=300)
    epics.poll(evt=0.05, iot=1.0)
    m.add_roi("tail", lo=400, hi=700)
    epics.poll(evt=0.05, iot=1.0)
    t0 = time.time()
    m.put("ERST", 1, wait=True, timeout=30)
    out["acquire_seconds"] = time.time() - t0
    out["ACQG"] = m.get("ACQG")
    out["ERTM"] = m.get("ERTM")
    data = m.get("VAL")
    out["nord"] = epics.caget(name + ".NORD")
    out["len"] = len(data)
    out["total"] = float(np.sum(data))
    out["calib"] = list(m.get_calib())
    rois = m.get_rois()
    out["rois"] = [[r.NM, r.LO, r.HI] for r in rois]
    out["roi_sums"] = [float(r.sum) for r in rois]
    out["roi_nets"] = [float(r.net) for r in rois]
    out["roi_data_sums"] = [float(np.sum(data[r.LO : r.HI + 1])) for r in rois]
    out["energy_len"] = len(m.get_energy())
    return out


def check_struck(prefix, nchan=4):
    s = epics.devices.Struck(prefix, nchan=nchan)
    out = {}
    epics.poll(evt=0.2, iot=0.2)
    out["model"] = s.get("Model", as_string=True)
    s.InternalMode(prescale=1)
    s.put("NuseAll", 200, wait=True)
    s.setDwell(0.002)
    s.setPresetReal(0.4)
    s.erase()
    epics.poll(evt=0.1, iot=0.1)
    t0 = time.time()
    s.start()
    out["saw_acquiring"] = _wait(lambda: s.get("Acquiring") == 1, 5)
    out["done"] = _wait(lambda: s.get("Acquiring") == 0, 15)
    out["seconds"] = time.time() - t0
    out["elapsed"] = s.get("ElapsedReal")
    out["nread"] = [s.mcaNread(i + 1) for i in range(nchan)]
    out["sums"] = [float(np.sum(s.readmca(i + 1))) for i in range(nchan)]
    out["lens"] = [len(d) for d in s.read_all_mcas()]
    # counting without preset until stop
    s.setPresetReal(0)
    s.erase()
    s.put("StartAll", 1)
    epics.poll(evt=0.3, iot=0.3)
    out["running"] = s.get("Acquiring")
    s.stop()
    out["stopped"] = _wait(lambda: s.get("Acquiring") == 0, 5)
    s.ExternalMode(countonstart=1, prescale=2, initialadvance=None)
    epics.poll(evt=0.2, iot=0.2)
    out["external"] = [s.get("ChannelAdvance"), epics.caget(prefix + "mca%i.CHAS" % nchan), s.get("Prescale")]
    s.InternalMode()
    return out


def check_transform(name):
    install_py2_names()
    t = transform_class()(name)
    out = {}
    t.put("COPT", 0, wait=True)
    # (Transform.set_comment itself raises NameError: it puts an undefined name `calc`)
    t.set_row("A", {"Comment": "x position"})
    t.set_calc("B", "A*2")
    t.set_calc("C", "B+P")
    t.set_calc("D", "A+*")
    t.put("P", 0.5, wait=True)
    t.put("A", 1.5, wait=True)
    epics.poll(evt=0.2, iot=0.2)
    out["row_b"] = t.get_row("B")
    out["row_c"] = t.get_row("C")
    out["cdv"] = t.get("CDV")
    out["bad_row"] = t.get_row("Z")
    t.set_row("E", {"Expression": "A+100", "Comment": "offset"})
    t.put("PROC", 1, wait=True)
    epics.poll(evt=0.2, iot=0.2)
    out["row_e"] = t.get_row("E")
    t.put("COPT", 1, wait=True)
    t.put("B", 100, wait=True)
    epics.poll(evt=0.2, iot=0.2)
    out["b_always"] = t.get("B")
    t.put("COPT", 0, wait=True)
    return out


def check_device_alarm(prefix):
    out = {}
    d = epics.Device(prefix, delim="", attrs=("ao1", "ai1", "bo1", "bi1"))
    d.put("ao1", 3.5, wait=True)
    epics.poll(evt=0.3, iot=0.3)
    out["ao1"] = d.get("ao1")
    out["ai1"] = d.get("ai1")
    d.put("bo1", 1, wait=True)
    epics.poll(evt=0.3, iot=0.3)
    out["bi1"] = d.get("bi1", as_string=True)
    saved = d.save_state()
    d.put("ao1", 7.0, wait=True)
    d.restore_state(saved)
    epics.poll(evt=0.3, iot=0.3)
    out["restored"] = d.get("ao1")
    out["saved_keys"] = sorted(saved.keys())
    # the device classes of epics.devices for the simple records
    ao = epics.devices.ao(prefix + "ao1")
    ai = epics.devices.ai(prefix + "ai1")
    ao.put("VAL", 2.25, wait=True)
    epics.poll(evt=0.3, iot=0.3)
    out["ai_dev"] = ai.get("VAL")
    out["ao_egu"] = ao.get("EGU")
    # Alarm: fires when ao1 goes above 5
    fired = []
    alarm = epics.Alarm(
        prefix + "ao1",
        comparison=">",
        trip_point=5.0,
        callback=lambda pvname=None, value=None, **kw: fired.append([pvname, value]),
        alert_delay=0.1,
    )
    epics.poll(evt=0.3, iot=0.3)
    epics.caput(prefix + "ao1", 1.0, wait=True)
    epics.poll(evt=0.3, iot=0.3)
    out["fired_low"] = len(fired)
    epics.caput(prefix + "ao1", 6.0, wait=True)
    _wait(lambda: len(fired) > 0, 5)
    out["fired"] = fired
    del alarm
    return out
