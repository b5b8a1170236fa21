"""Scenario: the flight recorder at a real OOM. A small Debian 12 guest (systemd,
the .deb installed, the unit as shipped: reduced capabilities,
ProtectSystem=strict, --capture-dir /var/lib/slableak/captures) where the holder
leaks kmalloc-2k until the OOM killer fires; after power-off the host reads the
captures from the guest's root disk and checks that one names the holder's
stack as the top leaking stack of kmalloc-2k, on disk within a few seconds of
the first kill (files/oom/run.sh in the guest, judge_oom.py on the host). The
kernels boot at once, one guest each."""

import io
import json
import tarfile
import tempfile
from pathlib import Path

from . import build, image, judge_oom
from .guest import ARCHES, FILES, REPO, LabError, boot

D = FILES / "oom"
CAPTURES = "/var/lib/slableak/captures"
# run.sh's results, also copied to the root disk: read with the captures, they
# are there even if the runner could not write its results disk.
RESULTS = "/root/oom-results"


def add_arguments(ap):
    ap.add_argument("--kernels", default="6.1,6.12",
                    help="comma-separated kernel series, one guest each (of image.IMAGE_KERNELS)")
    ap.add_argument("--memory", type=int, default=320, help="guest MiB")
    ap.add_argument("--build", default=str(REPO / "build"), help="build directory to package")
    ap.add_argument("--deb", help="slableak_*.deb to install (default: cpack from --build)")
    ap.add_argument("--holder", help="static holder (default: build it)")
    ap.add_argument("--out", help="keep console.log, results/ and the captures in OUT")
    ap.add_argument("--timeout", type=int, default=600,
                    help="seconds for each guest: then qemu is killed (the scenario powers off by itself)")
    ap.add_argument("--within", type=float, default=judge_oom.WITHIN_S,
                    help="seconds after the first kill by which the capture must be on disk")
    ap.add_argument("--record", metavar="DIR",
                    help="write what the judge read as DIR/oom-KERNEL.tar.gz (test data for tests/test_oom.py)")


def read_captures(root_img, into):
    """{name: {file: text}} of the captures on the stopped guest's root disk."""
    image.read_root(root_img, [CAPTURES, RESULTS], into)
    out = {}
    d = Path(into) / "captures"
    for c in sorted(d.iterdir()) if d.is_dir() else []:
        if c.is_dir():
            out[c.name] = {f: (c / f).read_text(errors="replace")
                           for f in ("capture.json", "report.json") if (c / f).is_file()}
            out[c.name]["files"] = " ".join(sorted(p.name for p in c.iterdir()))
    return out


def record(path, console, caps, files):
    """What judge_oom.oom() reads, as a tar.gz that load_record() gives back."""
    with tarfile.open(path, "w:gz") as t:
        def add(name, text):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        add("console.log", console)
        for name in ("steps.txt", "exporter.txt", "holder.txt"):
            add("results/" + name, files.get(name, ""))
        for c, fs in sorted(caps.items()):
            for f, text in sorted(fs.items()):
                add("captures/%s/%s" % (c, f), text)


def load_record(path):
    """(console, captures, files) from a record() tar.gz."""
    console, caps, files = "", {}, {}
    with tarfile.open(path) as t:
        for m in t.getmembers():
            text = t.extractfile(m).read().decode("utf-8", "replace")
            parts = m.name.split("/")
            if m.name == "console.log":
                console = text
            elif parts[0] == "results" and len(parts) == 2:
                files[parts[1]] = text
            elif parts[0] == "captures" and len(parts) == 3:
                caps.setdefault(parts[1], {})[parts[2]] = text
    return console, caps, files


def run(a, log):
    kernels = [k for k in a.kernels.split(",") if k]
    img = image.lab_image(log)
    tmp = tempfile.TemporaryDirectory(prefix="slk-lab-oom.")
    t = Path(tmp.name)
    deb = Path(a.deb) if a.deb else build.deb(a.build, t, log)
    holder = Path(a.holder) if a.holder else build.static_c(ARCHES["amd64"], "tests/support/holder.c", t)
    base = Path(a.out).resolve() if a.out else t / "out"
    payload = {deb.name: deb, "holder": holder, "run.sh": D / "run.sh", "oom.conf": D / "oom.conf",
               "hog.pl": D / "hog.pl"}
    guests = [image.systemd_guest("oom-" + k, k, img, base / k, payload, memory_mib=a.memory,
                                  timeout=a.timeout, keep_root=True, nice=True) for k in kernels]
    log("booting %s with %d MiB each (image %s)" % (" and ".join(kernels), a.memory, img.parent))
    failed = []
    for k, r in zip(kernels, boot(guests, log)):
        caps = read_captures(r.guest.root(), r.guest.out / "disk")
        res = r.guest.out / "disk" / RESULTS.rsplit("/", 1)[1]
        files = {p.name: p.read_text(errors="replace") for p in res.iterdir()} if res.is_dir() else {}
        if not a.out:
            r.guest.root().unlink(missing_ok=True)
        log("%s: guest ran %.0f s (qemu exit %s%s)" % (k, r.seconds, r.returncode, ", timed out" if r.timed_out else ""))
        checks, fig = judge_oom.oom(r.console, caps, files, a.within)
        if a.record:
            Path(a.record).mkdir(parents=True, exist_ok=True)
            record(Path(a.record) / ("oom-%s.tar.gz" % k), r.console, caps, files)
        for name, ok, detail in checks:
            print("OOM-CHECK %-5s %-18s %s  %s" % (k, name, "PASS" if ok else "FAIL", detail))
        bad = [c[0] for c in checks if not c[1]]
        print("OOM-RESULT kernel=%s status=%s failed=%s guest_seconds=%.0f figures=%s" % (
            fig.get("kernel", k), "FAIL" if bad else "PASS", ",".join(bad) or "none", r.seconds,
            json.dumps(fig, sort_keys=True)))
        if bad:
            failed.append(k)
            print("last console lines (%s):" % k)
            for line in r.console.splitlines()[-40:]:
                print("  | " + line)
    if a.out:
        print("logs: %s" % base)
    return 1 if failed else 0
