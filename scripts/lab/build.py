"""Guest payloads built from this checkout: static slableak (per architecture),
static test programs (holder, churn), the floor benchmark, the .deb."""

import os
import shutil
import subprocess
from pathlib import Path

from .guest import REPO, LabError


def _run(argv, logfile, what, cwd=None):
    with open(logfile, "ab") as f:
        if subprocess.run(argv, stdout=f, stderr=subprocess.STDOUT, cwd=cwd).returncode:
            tail = Path(logfile).read_text(errors="replace").splitlines()[-40:]
            raise LabError("%s failed (log %s):\n%s" % (what, logfile, "\n".join(tail)))


def static_target(arch, target, tmp, log):
    """make TARGET in the static (cross) build directory of ARCH; its path."""
    b = REPO / arch.static_build
    blog = Path(tmp) / ("build-%s.log" % target)
    log("building static %s %s in %s (log %s)" % (arch.name, target, b, blog))
    _run(["cmake", "-S", str(REPO), "-B", str(b), *arch.cmake_cross, "-DSLABLEAK_STATIC=ON",
          "-DSLABLEAK_TESTS=OFF", "-DCMAKE_BUILD_TYPE=Release"], blog, "configuring " + str(b))
    _run(["make", "-C", str(b), "-j%d" % (os.cpu_count() or 1), target], blog, "building " + target)
    return b / {"slableak": "slableak", "bench_floor": "bench/floor"}[target]


def static_c(arch, source, tmp, std="c11"):
    """A static C test program (tests/support/holder.c, bench/churn.c) for ARCH."""
    if not shutil.which(arch.cc):
        raise LabError("%s not found (for arm64: scripts/setup-cross-arm64.sh)" % arch.cc)
    out = Path(tmp) / Path(source).stem
    p = subprocess.run([arch.cc, "-std=" + std, "-O2", "-static", "-o", str(out), str(REPO / source)],
                       capture_output=True, text=True)
    if p.returncode:
        raise LabError("building static %s failed: %s" % (source, p.stderr.strip()[-500:]))
    return out


def deb(build, tmp, log):
    """The slableak .deb packaged (cpack) from the build directory BUILD."""
    build = Path(build)
    if not (build / "CPackConfig.cmake").is_file():
        raise LabError("%s/CPackConfig.cmake missing: build first (scripts/setup.sh) or give --deb"
                       % build)
    blog = Path(tmp) / "cpack.log"
    log("packaging %s (cpack -G DEB)" % build)
    _run(["nice", "cmake", "--build", str(build), "-j2", "--target", "slableak"], blog, "building slableak")
    _run(["cpack", "-G", "DEB", "--config", str(build / "CPackConfig.cmake"), "-B",
          str(Path(tmp) / "deb")], blog, "cpack -G DEB")
    return sorted((Path(tmp) / "deb").glob("slableak_*.deb"))[-1]
