"""Scenario: the deployment test and the fleet test, in one pair of boots.

deploy: the .deb packaged from build/ installed with apt in a Debian 12 guest
(systemd as PID 1, Debian's prometheus and node_exporter, the project's alert
rules) on kernel 6.1, then the exporter killed, its textfile directory removed,
node_exporter stopped, a second unit started, the package removed.
fleet: a second guest on kernel 6.12 (the same image and .deb) boots beside it;
once both exporters run, both leak through one kernel path (holder drip) and
the host's Prometheus scrapes both through port forwards with the project's
rules (one stack_fn_id, two hosts affected, the fleet alert), then both
/debug/pprof/slab profiles are decoded and merged by go tool pprof.
The guests record (files/deploy/scenario.sh), fleet.py drives and records the
host side; judge_deploy.py and judge_fleet.py decide."""

import io
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from . import build, fleet, image, judge_deploy, judge_fleet
from .guest import ARCHES, FILES, REPO, LabError, free_ports, start, wait

D = FILES / "deploy"
# The test copies of the rules shorten one alert's `for:` to this: the guest's
# SlableakStackDominatesGrowth, the host's SlableakPathLeakingOnManyHosts.
ALERT_FOR = "10s"


def add_arguments(ap):
    ap.add_argument("--build", default=str(REPO / "build"), help="build directory to package")
    ap.add_argument("--deb", help="slableak_*.deb to install (default: cpack from --build)")
    ap.add_argument("--holder", help="static holder (default: build it)")
    ap.add_argument("--out", help="keep the guests' logs and results in OUT")
    ap.add_argument("--timeout", type=int, default=1500, help="seconds for the guests")
    ap.add_argument("--memory", type=int, default=2048, help="deployment guest MiB")
    ap.add_argument("--no-fleet", action="store_true", help="the deployment guest alone")
    ap.add_argument("--record", help="write the judged files to RECORD (.tar.gz), for tests/data")
    ap.add_argument("--scenario", default=str(D / "scenario.sh"), help="guest scenario script")
    ap.add_argument("--image-only", action="store_true", help="build or find the image, print it")
    ap.add_argument("--rebuild-image", action="store_true")


def conf_value(name):
    for line in (D / "scenario.conf").read_text().splitlines():
        if line.startswith(name + "="):
            return int(line.split("=", 1)[1])
    raise LabError("no %s in %s" % (name, D / "scenario.conf"))


def test_rules(alert, t):
    """The project's rules with ALERT's `for:` shortened, checked by promtool."""
    rules = judge_deploy.shorten_for((REPO / "deploy/prometheus/slableak-rules.yml").read_text(),
                                     alert, ALERT_FOR)
    if shutil.which("promtool"):
        (t / "rules.yml").write_text(rules)
        p = subprocess.run(["promtool", "check", "rules", str(t / "rules.yml")], capture_output=True, text=True)
        if p.returncode:
            raise LabError("the test copy of the rules fails promtool check rules: " + p.stdout + p.stderr)
    return rules


def run(a, log):
    img = image.lab_image(log, a.rebuild_image)
    if a.image_only:
        print(img)
        return 0
    tmp = tempfile.TemporaryDirectory(prefix="slk-lab-deploy.")
    t = Path(tmp.name)
    deb = Path(a.deb) if a.deb else build.deb(a.build, t, log)
    if not deb.is_file() or not deb.name.startswith("slableak_") or deb.suffix != ".deb":
        raise LabError("--deb wants a slableak_*.deb, got %s" % deb)
    holder = Path(a.holder) if a.holder else build.static_c(ARCHES["amd64"], "tests/support/holder.c", t)
    payload = {deb.name: deb, "holder": holder, "run.sh": Path(a.scenario),
               "scenario.conf": D / "scenario.conf", "prometheus.yml": D / "prometheus.yml",
               "slableak-rules.deploy-test.yml": test_rules(judge_deploy.ALERT, t).encode()}
    out = Path(a.out).resolve() if a.out else t / "out"
    roles = {"deploy": ("6.1", a.memory)} if a.no_fleet else \
        {"deploy": ("6.1", a.memory), "fleet": ("6.12", 1024)}
    ports = dict(zip(roles, free_ports(len(roles))))
    guests = [image.systemd_guest(
        name, series, img, out / name,
        dict(payload, **{"role.conf": b"LAB_ROLE=%s LAB_FLEET=%s\n" % (
            name.encode(), b"no" if a.no_fleet else b"yes")}),
        memory_mib=mem, timeout=a.timeout, nice=True, control=not a.no_fleet,
        forwards={ports[name]: fleet.GUEST_PORT}) for name, (series, mem) in roles.items()]
    log("booting %s with systemd (image %s)" % (
        ", ".join("%s on %s" % (n, s) for n, (s, _) in roles.items()), img.parent))
    running = start(guests, log)
    host = {}
    try:
        if not a.no_fleet:
            phase = fleet.Phase({r.guest.name: (r, ports[r.guest.name]) for r in running},
                                test_rules(fleet.ALERT, t), out / "fleet-host", log)
            try:
                host = phase.run()
            finally:
                phase.close()
    finally:
        runs = wait(running)
    results = {r.guest.name: image.results(r) for r in runs}
    for r in runs:
        log("%s guest ran %.0f s (qemu exit %s%s)" % (r.guest.name, r.seconds, r.returncode,
                                                     ", timed out" if r.timed_out else ""))
    if a.record:
        record(Path(a.record), results, host)
    checks = judge_deploy.deploy(results["deploy"], conf_value("HOLDERS") * conf_value("HOLDER_COUNT"))
    if not a.no_fleet:
        checks += judge_fleet.fleet(host, {n: results[n] for n in roles})
    for name, ok, detail in checks:
        print("DEPLOY-CHECK %-22s %s  %s" % (name, "PASS" if ok else "FAIL", detail))
    failed = [c[0] for c in checks if not c[1]]
    for r in runs:
        if not results[r.guest.name].get("steps.txt"):
            print("%s: no results (qemu exit %s, %.0f s); last console lines:" % (
                r.guest.name, r.returncode, r.seconds))
            for line in r.console.splitlines()[-40:]:
                print("  | " + line)
    print("DEPLOY-RESULT status=%s checks=%d failed=%s guest_uptime_at: %s host_seconds=%s %s" % (
        "FAIL" if failed else "PASS", len(checks), ",".join(failed) or "none",
        judge_deploy.step_times(results["deploy"]), ",".join("%s:%.0f" % (r.guest.name, r.seconds) for r in runs),
        " ".join(host.get("seconds.txt", "").split())))
    if a.out:
        print("logs: %s" % out)
    return 1 if failed else 0


def record(path, results, host):
    """The files the judges read (not the bulky rest), as a .tar.gz for tests/data."""
    keep = judge_deploy.JUDGED
    with tarfile.open(path, "w:gz") as tf:
        for owner, files in [*sorted(results.items()), ("fleet-host", host)]:
            for name, text in sorted(files.items()):
                if owner == "fleet-host" or name in keep:
                    data = text.encode()
                    info = tarfile.TarInfo("%s/%s" % (owner, name))
                    info.size, info.mtime = len(data), 0
                    tf.addfile(info, io.BytesIO(data))


def recorded(path):
    """{owner: {name: text}} from a record() file."""
    out = {}
    with tarfile.open(path) as tf:
        for m in tf.getmembers():
            if m.isfile():
                owner, name = m.name.split("/", 1)
                out.setdefault(owner, {})[name] = tf.extractfile(m).read().decode("utf-8", "replace")
    return out
