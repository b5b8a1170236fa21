#!/usr/bin/env python3
"""Checks that userspace/ keeps its layers: a file includes only headers of
its own layer and of the layers its layer may use, as the DEPS of each
slableak_layer() call in userspace/CMakeLists.txt say (transitively).
The pure layers (not linked to libbpf) must not include libbpf headers.
Run by ctest (ops.layers); prints every violation, exits 1 if any."""
import os, re, sys

root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
us = os.path.join(root, "userspace")
cmake = open(os.path.join(us, "CMakeLists.txt")).read()
cmake = re.sub(r"#[^\n]*", "", cmake)

layers = {}  # name -> (deps, has_libs)
for m in re.finditer(r"slableak_layer\(\s*(\w+)(.*?)\)\s*\n", cmake, re.S):
    name, body = m.group(1), m.group(2)
    words = body.split()
    deps = []
    if "DEPS" in words:
        for w in words[words.index("DEPS") + 1:]:
            if w in ("SOURCES", "LIBS"):
                break
            deps.append(w)
    layers[name] = (deps, "SLABLEAK_KERNEL_LIBS" in body)
if not layers:
    sys.exit("check-layers: no slableak_layer() calls found in userspace/CMakeLists.txt")

def allowed(name, seen=None):
    seen = seen if seen is not None else set()
    for d in layers[name][0]:
        if d not in layers:
            sys.exit(f"check-layers: layer {name} depends on unknown layer {d}")
        if d not in seen:
            seen.add(d)
            allowed(d, seen)
    return seen | {name}

owner = {}  # header file name -> layer
for name in layers:
    folder = os.path.join(us, name)
    if not os.path.isdir(folder):
        sys.exit(f"check-layers: layer {name} has no folder userspace/{name}")
    for f in os.listdir(folder):
        if f.endswith(".h"):
            if f in owner:
                sys.exit(f"check-layers: {f} exists in both {owner[f]} and {name}")
            owner[f] = name

stray = [f for f in os.listdir(us) if f.endswith((".h", ".cpp"))]
bad = [f"userspace/{f}: outside every layer folder" for f in stray]
files = 0
for name in layers:
    ok = allowed(name)
    folder = os.path.join(us, name)
    for f in sorted(os.listdir(folder)):
        if not f.endswith((".h", ".cpp")):
            continue
        files += 1
        for n, line in enumerate(open(os.path.join(folder, f)), 1):
            m = re.match(r'\s*#\s*include\s*([<"])([^>"]+)[>"]', line)
            if not m:
                continue
            inc = m.group(2)
            where = f"userspace/{name}/{f}:{n}"
            if ".." in inc.split("/"):
                bad.append(f"{where}: relative include {inc} bypasses the layers")
            elif m.group(1) == '"' and inc in owner and owner[inc] not in ok:
                bad.append(f"{where}: includes {inc} of layer {owner[inc]}, which {name} may not use")
            elif m.group(1) == "<" and inc.startswith("bpf/") and not layers[name][1] and name != "cli":
                bad.append(f"{where}: pure layer {name} includes libbpf's {inc}")
for b in bad:
    print("FAIL:", b)
print(f"check-layers: {files} files in {len(layers)} layers, {len(bad)} violations")
sys.exit(1 if bad else 0)
