"""Pass/fail of the fleet phase (pure: no I/O). Input: what fleet.Phase
recorded on the host ({name: text}: Prometheus API answers, `go tool pprof`
output) and each guest's result files ({guest: {name: text}})."""

import json
import re

from . import judge_deploy

# The paced leak (holder drip): 1500-byte netlink messages sent with sendmsg(2).
PATH_FUNCS = ("netlink_sendmsg", "____sys_sendmsg")
CACHE = "kmalloc-2k"
OBJECT_BYTES = 2048


def _result(files, name):
    try:
        j = json.loads(files.get(name, ""))
    except ValueError:
        return []
    return j.get("data", {}).get("result", []) if j.get("status") == "success" else []


def _funcs(frames):
    return {f.split("+")[0] for f in frames.split(";")}


def parse_raw(text):
    """`go tool pprof -raw` output -> (sample types, [(values, [[function names
    per location, leaf first]], {label: value})]). Raises ValueError if it is
    not that output."""
    lines = text.splitlines()
    if "Samples:" not in lines or "Locations" not in lines:
        raise ValueError("no Samples/Locations sections")
    i = lines.index("Samples:") + 1
    types = [t.split("[")[0] for t in lines[i].split()]
    samples = []
    for line in lines[i + 1:lines.index("Locations")]:
        m = re.match(r"^\s*([\d ]+):\s*([\d ]*)$", line)
        if m:
            samples.append(([int(v) for v in m.group(1).split()], [int(x) for x in m.group(2).split()], {}))
        elif samples and re.match(r"^\s+\S+:\[", line):
            for k, v in re.findall(r"(\S+):\[([^\]]*)\]", line):
                samples[-1][2][k] = v
    locs, cur = {}, None
    for line in lines[lines.index("Locations") + 1:]:
        if line.startswith("Mappings"):
            break
        m = re.match(r"^\s*(\d+): 0x[0-9a-f]+ M=\d+ (\S+)", line)
        if m:
            cur = int(m.group(1))
            locs[cur] = [m.group(2)]
        elif cur is not None and re.match(r"^\s+\S+ ", line) and not re.match(r"^\s*\d+:", line):
            locs[cur].append(line.split()[0])  # an inlined function of the same location
    return types, [(v, [locs.get(x, []) for x in ids], lab) for v, ids, lab in samples]


def path_total(text, funcs=PATH_FUNCS, cache=CACHE):
    """(objects, bytes) of the samples of CACHE whose stack passes through every
    one of FUNCS, from `go tool pprof -raw` TEXT; None if it does not parse."""
    try:
        types, samples = parse_raw(text)
    except ValueError:
        return None
    if "inuse_objects/count" not in types or "inuse_space/bytes" not in types:
        return None
    io, isp = types.index("inuse_objects/count"), types.index("inuse_space/bytes")
    objects = nbytes = 0
    for values, stack, labels in samples:
        names = {f for loc in stack for f in loc}
        if labels.get("cache") == cache and all(f in names for f in funcs):
            objects += values[io]
            nbytes += values[isp]
    return objects, nbytes


def _exit0(text):
    return text.startswith("# go tool pprof") and "exit 0" in text.splitlines()[0]


def fleet(host, guests, tolerance=2.0):
    """[(check, ok, detail)] of the fleet phase. HOST: fleet.Phase's files;
    GUESTS: {guest name: its result files}."""
    checks = []

    def check(name, ok, detail):
        checks.append((name, bool(ok), detail))

    names = sorted(guests)
    # Every guest: booted, installed and started the .deb, and went through the phase.
    for n in names:
        base = {c[0]: c for c in judge_deploy.deploy(guests[n], 0)}
        step = judge_deploy.Results(guests[n]).step("fleet")
        ok = all(base[c][1] for c in ("boot", "apt-install", "systemd-start")) \
            and step.get("commands") == "drip,stop,done" and step.get("held", "").isdigit()
        check("fleet-guest-" + n, ok, "kernel=%s %s; fleet commands=%s held=%s" % (
            guests[n].get("kernel.txt", "?").strip(),
            " ".join("%s=%s" % (c, "ok" if base[c][1] else "FAIL") for c in ("boot", "apt-install", "systemd-start")),
            step.get("commands"), step.get("held")))
    kernels = {guests[n].get("kernel.txt", "").strip() for n in names}

    # The leak's stacks on every host: one stack_fn_id, a stack_id per kernel build.
    info = [s["metric"] for s in _result(host, "stack-info.json")
            if set(PATH_FUNCS) <= _funcs(s["metric"].get("frames", ""))]
    by_guest = {}
    for m in info:
        by_guest.setdefault(m.get("guest"), []).append(m)
    fn_ids = {m.get("stack_fn_id") for m in info}
    stack_ids = {m.get("stack_id") for m in info}
    fn_id = fn_ids.pop() if len(fn_ids) == 1 else None
    check("fleet-one-path", fn_id and sorted(by_guest) == names and len(kernels) == len(names),
          "guests=%s kernels=%s stack_fn_id=%s stack_ids=%s" % (
              ",".join(sorted(k or "?" for k in by_guest)), ",".join(sorted(kernels)),
              fn_id or sorted(fn_ids), ",".join(sorted(stack_ids))))

    # The recording rules: that path on every host, summed over the fleet.
    affected = [s for s in _result(host, "hosts-affected.json") if s["metric"].get("stack_fn_id") == fn_id]
    n_aff = float(affected[0]["value"][1]) if affected else None
    per_host = [float(s["value"][1]) for s in _result(host, "path-bytes.json")
                if s["metric"].get("stack_fn_id") == fn_id and s["metric"].get("cache") == CACHE]
    fleet_bytes = [float(s["value"][1]) for s in _result(host, "path-bytes-fleet.json")
                   if s["metric"].get("stack_fn_id") == fn_id]
    check("fleet-hosts-affected", fn_id and n_aff == len(names) and len(per_host) == len(names)
          and fleet_bytes and fleet_bytes[0] == sum(per_host) > 0,
          "slableak:stack_fn_hosts_affected=%s (want %d) top_frame=%s per_host_bytes=%s fleet_bytes=%s" % (
              n_aff, len(names), affected and affected[0]["metric"].get("top_frame"),
              per_host, fleet_bytes and fleet_bytes[0]))
    alerts = [s["metric"] for s in _result(host, "alerts-fleet.json")
              if s["metric"].get("alertstate") == "firing" and s["metric"].get("stack_fn_id") == fn_id]
    check("fleet-alert", fn_id and alerts,
          "SlableakPathLeakingOnManyHosts firing for stack_fn_id=%s: %d series" % (fn_id, len(alerts)))

    # The profiles: each decoded by go tool pprof and holding what the holder
    # held; the merged profile holds their sum on the same functions.
    held = dict(line.split() for line in host.get("held.txt", "").splitlines() if len(line.split()) == 2)
    totals, ok_each, details = {}, True, []
    for n in names:
        raw = host.get("pprof-%s.raw" % n, "")
        t = path_total(raw) if _exit0(raw) else None
        want = int(held[n]) if held.get(n, "").isdigit() else None
        good = t is not None and want and abs(t[0] - want) <= want * tolerance / 100 \
            and t[1] == t[0] * OBJECT_BYTES
        ok_each &= bool(good)
        totals[n] = t
        details.append("%s: objects=%s bytes=%s held=%s" % (n, t and t[0], t and t[1], want))
    check("fleet-profiles", ok_each, "; ".join(details))
    merged_raw = host.get("pprof-merged.raw", "")
    merged = path_total(merged_raw) if _exit0(merged_raw) else None
    top = host.get("pprof-merged.top", "")
    named = _exit0(top) and any(re.search(r"\s%s$" % re.escape(f), line)
                                for line in top.splitlines() for f in PATH_FUNCS)
    want = [sum(t[i] for t in totals.values()) if all(totals.values()) else None for i in (0, 1)]
    check("fleet-merged-profile", merged and all(totals.values()) and list(merged) == want
          and merged[1] > 0 and named,
          "go tool pprof on %d profiles: %s objects=%s bytes=%s (sum of hosts: %s, %s); -top names it: %s" % (
              len(names), "+".join(PATH_FUNCS), merged and merged[0], merged and merged[1],
              want[0], want[1], "yes" if named else "no"))
    return checks
