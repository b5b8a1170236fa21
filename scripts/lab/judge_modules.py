"""Verdict of the module-symbolization scenario (modules.py), from what the
guest left (pure: no I/O, no qemu; unit-tested on recorded output).

The exporter drops CAP_SYSLOG once attached. A module loaded after that, and
the same module loaded again at another address, must still be named in its
stacks: ``tun_chr_open+0x.. [tun]``, not ``[unknown]``.
"""

import re

from . import frames
from .judge import _verdict

CAP_SYSLOG = 34
_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\}\s+(\S+)\s*$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
_UNESCAPE = {"n": "\n", "\\": "\\", '"': '"'}


def samples(text, family):
    """[(labels dict, value)] of FAMILY's samples in Prometheus text."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    out = []
    for line in text.splitlines():
        m = _SAMPLE.match(line)
        if not m or m.group(1) != family:
            continue
        labels = {k: re.sub(r"\\(.)", lambda e: _UNESCAPE.get(e.group(1), e.group(0)), v)
                  for k, v in _LABEL.findall(m.group(2))}
        try:
            out.append((labels, float(m.group(3))))
        except ValueError:
            pass
    return out


def stacks(prom):
    """[{cache, stack_id, frames, objects}] of the exporter's textfile."""
    objects = {(lb.get("cache"), lb.get("stack_id")): v
               for lb, v in samples(prom, "slableak_stack_outstanding_objects")}
    return [{"cache": lb.get("cache"), "stack_id": lb.get("stack_id"),
             "frames": lb.get("frames", "").split(";"),
             "objects": int(objects.get((lb.get("cache"), lb.get("stack_id")), 0))}
            for lb, _ in samples(prom, "slableak_stack_info")]


def active_objs(slabinfo, cache):
    if isinstance(slabinfo, bytes):
        slabinfo = slabinfo.decode("utf-8", errors="replace")
    for line in slabinfo.splitlines():
        f = line.split()
        if len(f) > 2 and f[0] == cache and f[1].isdigit():
            return int(f[1])
    return None


def module_address(line):
    """'tun 61440 0 - Live 0xffffffffc0a2b000' -> the load address (0 when hidden)."""
    f = (line.decode() if isinstance(line, bytes) else line).split()
    try:
        return int(f[5], 16) if len(f) > 5 else None
    except ValueError:
        return None


def capabilities_dropped(status, cap=CAP_SYSLOG):
    """True when /proc/PID/status shows CAP (effective and permitted) gone."""
    if isinstance(status, bytes):
        status = status.decode("utf-8", errors="replace")
    caps = dict(re.findall(r"^(Cap\w+):\s*([0-9a-fA-F]+)$", status, re.M))
    if "CapEff" not in caps or "CapPrm" not in caps:
        return None
    return not (int(caps["CapEff"], 16) >> cap) & 1 and not (int(caps["CapPrm"], 16) >> cap) & 1


def round_verdict(prom, slab_before, slab_after, count, tolerance, module="tun", func="tun_chr_open"):
    """One round: a stack holding COUNT objects (TOLERANCE %) carries the frame
    FUNC+0x.. [MODULE], and its cache grew by about COUNT in /proc/slabinfo."""
    st = stacks(prom)
    if not st:
        return _verdict("FAIL", "no-stack-in-the-textfile")
    frame_re = re.compile(r"%s\+0x[0-9a-f]+ \[%s\]$" % (re.escape(func), re.escape(module)))
    hits = [s for s in st if any(frame_re.match(fr) for fr in s["frames"])]
    slack = count * tolerance / 100
    if not hits:
        # Where did the objects go? The stack holding about COUNT, as printed.
        big = max(st, key=lambda s: s["objects"])
        return _verdict("FAIL", "no-frame-'%s+0x..[%s]';heaviest:%s:%d:%s" % (
            func, module, big["cache"], big["objects"], ";".join(big["frames"][:4])))
    held = sum(s["objects"] for s in hits)
    cache = hits[0]["cache"]
    grew = None
    a, b = active_objs(slab_before, cache), active_objs(slab_after, cache)
    if a is not None and b is not None:
        grew = b - a
    res = dict(cache=cache, held=held, grew=grew if grew is not None else "-",
               frame=next(fr for fr in hits[0]["frames"] if frame_re.match(fr)))
    if abs(held - count) > slack:
        return _verdict("FAIL", "held-%d-of-%d" % (held, count), **res)
    if grew is None or grew < count - slack:
        return _verdict("FAIL", "%s-grew-%s-in-slabinfo-for-%d-objects" % (cache, grew, count), **res)
    return _verdict("PASS", "%s-named" % func, **res)


def modules_run(p, console, data, qemu_rc, timed_out):
    """The verdict of one boot: the exporter dropped CAP_SYSLOG; both rounds
    pass; the module came back at another address. P: count, tolerance,
    timeout. Returns the MODULES-RESULT fields and ``notes`` for a FAIL."""
    info = frames.said(console, "MODULES-KERNEL")
    guest = frames.said(console, "MODULES-GUEST")
    res = {"kernel": info.get("kernel") or guest.get("kernel") or "unknown",
           "boot": info.get("uptime", "?"), "rounds": "-", "cache": "-", "addresses": "-"}
    notes = []
    v = None
    if not guest:
        v = _verdict("FAIL", "timeout-after-%ss" % p["timeout"] if timed_out
                     else "no-guest-verdict(qemu-rc=%s)" % qemu_rc)
    elif guest.get("status") != "RAN":
        v = _verdict("FAIL", "guest:%s" % guest.get("detail", ""))
    elif not capabilities_dropped(data.get("status.txt", b"")):
        # Kept CAP_SYSLOG: a fresh open would see addresses; nothing is proven.
        v = _verdict("FAIL", "exporter-kept-CAP_SYSLOG")
    else:
        addrs = [module_address(data.get("modules.%d" % i, b"")) for i in (1, 2)]
        res["addresses"] = ",".join("0x%x" % a if a else "?" for a in addrs)
        rounds = [round_verdict(data.get("slableak.prom.%d" % i, b""),
                                data.get("slabinfo.%d.before" % i, b""),
                                data.get("slabinfo.%d.after" % i, b""),
                                p["count"], p["tolerance"]) for i in (1, 2)]
        res["rounds"] = ",".join(r["status"] for r in rounds)
        res["cache"] = rounds[0].get("cache", "-")
        res["held"] = ",".join(str(r.get("held", "-")) for r in rounds)
        res["frame"] = rounds[0].get("frame", "-")
        bad = [(i + 1, r) for i, r in enumerate(rounds) if r["status"] != "PASS"]
        if not all(addrs):
            v = _verdict("FAIL", "module-address-unreadable-in-the-guest")
        elif bad:
            v = _verdict("FAIL", "round-%d:%s" % (bad[0][0], bad[0][1]["detail"]))
        elif addrs[0] == addrs[1]:
            v = _verdict("FAIL", "reloaded-at-the-same-address-0x%x" % addrs[0])
        else:
            v = _verdict("PASS", "named-after-load-and-after-reload")
    res.update(v)
    if res["status"] != "PASS":
        for r in frames.said(console, "MODULES-ROUND", first=False):
            notes.append("round %s" % " ".join("%s=%s" % kv for kv in r.items()))
        stderr = data.get("slableak.stderr", b"").decode("utf-8", errors="replace")
        notes += ["slableak.stderr | " + ln for ln in stderr.splitlines()[-20:]]
        if not guest:
            notes += ["| " + ln for ln in frames.clean(console)[-40:]]
    res["notes"] = notes
    return res

