"""Full Debian guests: a root image built once with mmdebstrap (cached by its
recipe), and tar archives written raw onto extra disks (payload in, results out).

The image boots with systemd as PID 1 (Guest(image=...)); a unit baked in by the
recipe's hook reads NVMe namespace 2 (the payload tar), runs its run.sh and
writes its results tar to namespace 3 (files/image/runner.sh). The image is a
disk with one partition (MBR, PARTUUID guest.ROOT_PARTUUID) holding ext4 at
1 MiB, so the kernel finds its root by PARTUUID whatever the disk is named. systemd_guest() builds
such a Guest; results() reads what it left; read_root() reads its root file
system after it stopped (Guest(keep_root=True)).
"""

import hashlib
import io
import os
import shutil
import struct
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

from . import debian
from .guest import FILES, ROOT_PARTUUID, Disk, Guest, LabError

# The one full guest image every systemd scenario boots: Debian 12 with Debian's
# prometheus and node_exporter, bpftool, and what the project's .deb depends on
# (libbpf1: the guest has no route out, so apt must find the .deb's dependencies
# installed); kmod for udev's module loading. It carries the network driver of
# each kernel in IMAGE_KERNELS (a guest may boot any of them).
SUITE = "bookworm"
PACKAGES = ("systemd", "systemd-sysv", "udev", "kmod", "prometheus", "prometheus-node-exporter",
            "bpftool", "curl", "procps", "libbpf1", "ca-certificates")
IMAGE_KERNELS = ("6.1", "6.12")
HOOKS = FILES / "image"


def deploy_cache():
    return debian.cache_dir("SLABLEAK_DEPLOY_CACHE", "/var/cache/slableak-deploy")


def debian_image(suite, packages, hook, hook_files=(), kernels=(), rebuild=False, log=print,
                 size="3G"):
    """A raw ext4 root image of Debian SUITE with PACKAGES; HOOK (a shell script
    run as `sh HOOK ROOT HOOKDIR` by mmdebstrap's customize hook) and the
    HOOK_FILES it installs are part of the recipe: any change builds a new image.
    KERNELS (debian.Kernel): the image gets each one's network driver (virtio_net
    and what it needs, as modules under /lib/modules/RELEASE, depmod'ed so udev
    loads them), so a guest booting one of them has eth0 for port forwards."""
    if os.geteuid() != 0:
        raise LabError("building a Debian image needs root (mmdebstrap --mode=root)")
    for tool in ("mmdebstrap", "mkfs.ext4"):
        if not shutil.which(tool):
            raise LabError("%s is missing (scripts/setup.sh installs it)" % tool)
    h = hashlib.sha256(("%s %s\n" % (suite, ",".join(packages))).encode())
    for f in [hook, *hook_files]:
        h.update(Path(f).read_bytes())
    for k in kernels:
        h.update(("kernel %s %s\n" % (k, k.release(log=log))).encode())  # fetches its modules first
    cache = deploy_cache()
    d = cache / "images" / ("%s-%s" % (suite, h.hexdigest()[:16]))
    with debian.locked(cache / ".lock"):
        if not rebuild and (d / "root.img").is_file():
            log("guest image: cached %s" % d)
            return d / "root.img"
        mirror = debian.mirror()
        log("building the guest image (%s, mirror %s)" % (suite, mirror))
        t0 = time.monotonic()
        (cache / "images").mkdir(exist_ok=True)
        work = Path(tempfile.mkdtemp(dir=cache, prefix="tmp."))
        try:
            with open(work / "mmdebstrap.log", "wb") as lf:
                rc = subprocess.run(
                    ["nice", "mmdebstrap", "--variant=minbase", "--mode=root",
                     "--include=" + ",".join(packages), "--aptopt=Acquire::Languages \"none\"",
                     "--customize-hook=sh '%s' \"$1\" '%s'" % (hook, Path(hook).parent),
                     suite, str(work / "root"),
                     "deb [signed-by=%s] %s %s main" % (debian.KEYRING, mirror, suite)],
                    stdout=lf, stderr=subprocess.STDOUT).returncode
            if rc:
                tail = (work / "mmdebstrap.log").read_text(errors="replace").splitlines()[-40:]
                raise LabError("mmdebstrap failed:\n" + "\n".join(tail))
            for k in kernels:
                _install_modules(work / "root", k, log)
            pkgs = subprocess.run(["chroot", str(work / "root"), "dpkg-query", "-W",
                                   "-f=${Package} ${Version}\n"], capture_output=True, text=True).stdout
            (work / "packages.txt").write_text(pkgs)
            subprocess.run(["truncate", "-s", size, str(work / "root.img")], check=True)
            nbytes = (work / "root.img").stat().st_size
            if subprocess.run(["nice", "mkfs.ext4", "-q", "-F", "-L", "slableak-root", "-E",
                               "offset=%d" % ROOT_OFFSET, "-d", str(work / "root"),
                               str(work / "root.img"), "%dk" % ((nbytes - ROOT_OFFSET) >> 10)]).returncode:
                raise LabError("mkfs.ext4 -d failed")
            _write_mbr(work / "root.img", nbytes)
            shutil.rmtree(work / "root")
            (work / "image.txt").write_text("suite=%s\nmirror=%s\npackages=%s\nseconds=%.0f\n" % (
                suite, mirror, ",".join(packages), time.monotonic() - t0))
            shutil.rmtree(d, ignore_errors=True)
            work.rename(d)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        log("guest image built in %.0f s: %s" % (time.monotonic() - t0, d))
        return d / "root.img"


ROOT_OFFSET = 1 << 20  # the root partition starts at 1 MiB


def _write_mbr(img, nbytes):
    """One Linux partition from ROOT_OFFSET to the end; disk signature from ROOT_PARTUUID."""
    sig = int(ROOT_PARTUUID.split("-")[0], 16)
    first, count = ROOT_OFFSET // 512, (nbytes - ROOT_OFFSET) // 512
    entry = struct.pack("<B3sB3sII", 0, b"\xfe\xff\xff", 0x83, b"\xfe\xff\xff", first, count)
    with open(img, "r+b") as f:
        f.seek(440)
        f.write(struct.pack("<IH", sig, 0) + entry + b"\0" * 48 + b"\x55\xaa")


def _install_modules(root, k, log):
    rel = k.release(log=log)
    d = root / "usr/lib/modules" / rel / "kernel/lab"
    d.mkdir(parents=True, exist_ok=True)
    for src in k.modules(log=log).values():
        shutil.copy(src, d / src.name)
    if subprocess.run(["chroot", str(root), "depmod", rel]).returncode:
        raise LabError("depmod %s in the image failed (is kmod in its packages?)" % rel)


def read_root(img, paths, into):
    """Copy PATHS (absolute, in the guest) out of the ext4 image IMG (a guest's
    Guest(keep_root=True) copy, after it stopped) into INTO; the journal is
    replayed first (e2fsck), as a mount would. Returns the paths found."""
    for tool in ("e2fsck", "debugfs"):
        if not shutil.which(tool):
            raise LabError("%s is missing (e2fsprogs; scripts/setup.sh installs it)" % tool)
    fs = "%s?offset=%d" % (img, ROOT_OFFSET)
    subprocess.run(["e2fsck", "-fy", fs], capture_output=True)  # 1: repaired is fine
    Path(into).mkdir(parents=True, exist_ok=True)
    found = []
    for p in paths:
        if subprocess.run(["debugfs", "-R", "stat %s" % p, fs],
                          capture_output=True, text=True).stdout.strip():
            subprocess.run(["debugfs", "-R", "rdump %s %s" % (p, into), fs],
                           capture_output=True, check=True)
            found.append(p)
    return found


def lab_image(log=print, rebuild=False):
    """The cached full guest image (built on first use, about 7-9 min)."""
    kernels = [debian.kernel(k, "amd64", log=log) for k in IMAGE_KERNELS]
    return debian_image(SUITE, PACKAGES, HOOKS / "customize.sh",
                        (HOOKS / "runner.sh", HOOKS / "runner.service"), kernels, rebuild, log)


def systemd_guest(name, series, img, out, payload, **kw):
    """A Guest booting IMG (lab_image()) with kernel SERIES under systemd, whose
    runner runs PAYLOAD['run.sh'] RESULTS_DIR (PAYLOAD: {name: Path or bytes},
    unpacked into run.sh's working directory). The payload and results disks
    live in OUT; results(run) reads what run.sh left in RESULTS_DIR. KW: any
    Guest field (memory_mib, cmdline, forwards, keep_root, control, timeout...)."""
    if series not in IMAGE_KERNELS:
        raise LabError("the guest image carries drivers for kernels %s, not %s (IMAGE_KERNELS)"
                       % (" ".join(IMAGE_KERNELS), series))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    disks = (tar_disk(out / "payload.tar", payload), blank_disk(out / "results.img"))
    kw.setdefault("cmdline", ())
    kw["cmdline"] = ("systemd.show_status=error",) + tuple(kw["cmdline"])
    kw.setdefault("cpus", 2)
    kw.setdefault("memory_mib", 2048)
    return Guest(name=name, kernel=debian.kernel(series, "amd64").vmlinuz, image=img, out=out,
                 disks=disks, **kw)


def results(run):
    """{name: text} of what a systemd_guest's run.sh left (also unpacked into OUT/results)."""
    into = run.guest.out / "results"
    shutil.rmtree(into, ignore_errors=True)
    read_tar_disk(run.guest.out / "results.img", into)
    return {p.name: p.read_text(errors="replace") for p in into.iterdir() if p.is_file()}


def tar_disk(path, files, executable=("run.sh",)):
    """FILES {name: host Path or bytes} as a tar file at PATH: a read-only disk.
    Executable in it: the names in EXECUTABLE and host files that are."""
    with tarfile.open(path, "w") as t:
        for name, src in sorted(files.items()):
            data = src if isinstance(src, bytes) else Path(src).read_bytes()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755 if name in executable or (
                isinstance(src, Path) and os.access(src, os.X_OK)) else 0o644
            t.addfile(info, io.BytesIO(data))
    return Disk(Path(path), readonly=True)


def blank_disk(path, size=256 << 20):
    """An empty disk the guest writes a tar of its results onto (read_tar_disk)."""
    with open(path, "wb") as f:
        f.truncate(size)
    return Disk(Path(path))


def read_tar_disk(path, into):
    """Unpack the tar the guest wrote raw onto PATH into INTO; False if none."""
    Path(into).mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(path, "r:") as t:
            # The guest wrote it; no absolute names or links out of INTO either way.
            members = [m for m in t.getmembers() if (m.isfile() or m.isdir())
                       and not m.name.startswith("/") and ".." not in m.name.split("/")]
            t.extractall(into, members=members)
        return True
    except (tarfile.TarError, OSError):
        return False
