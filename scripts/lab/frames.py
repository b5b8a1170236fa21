"""What a guest says on its serial ports, parsed (pure: no I/O, no qemu).

A guest writes human lines and, framed between ``@@LAB-BEGIN name`` and
``@@LAB-END name``, base64 files (files/lab.sh: ``lab_emit NAME FILE``). Status
lines are ``TAG key=value key=value ...`` (``lab_say TAG k=v ...``).
"""

import base64
import binascii
import re

_BEGIN = re.compile(r"@@LAB-BEGIN (\S+)")
_END = re.compile(r"@@LAB-END (\S+)")
_B64 = re.compile(r"[A-Za-z0-9+/=]+")
_NAME = re.compile(r"[A-Za-z0-9._-]+")


def clean(raw):
    """Serial bytes -> text lines without CR or NUL (firmware noise dropped)."""
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", errors="replace")
    return [line.strip("\r\n\x00 ") for line in raw.replace("\r", "").split("\n")]


def blocks(*texts):
    """{name: bytes} of every framed block in the texts (a later block of the
    same name wins); a block that does not decode holds a one-line note."""
    found = {}
    for text in texts:
        cur = None
        for line in clean(text):
            m = _BEGIN.search(line)
            if m:
                cur = m.group(1)
                found[cur] = []
                continue
            if _END.search(line):
                cur = None
                continue
            if cur is not None and _B64.fullmatch(line):
                found[cur].append(line)
    out = {}
    for name, chunks in found.items():
        if not _NAME.fullmatch(name):
            continue
        try:
            out[name] = base64.b64decode("".join(chunks))
        except (binascii.Error, ValueError):
            out[name] = b"<base64 decode failed>\n"
    return out


def fields(line):
    """'TAG a=1 b="x y"' -> {'a': '1', 'b': 'x y'}."""
    out = {}
    for m in re.finditer(r'(\w+)=("([^"]*)"|\S*)', line):
        out[m.group(1)] = m.group(3) if m.group(3) is not None else m.group(2)
    return out


def said(text, tag, first=True):
    """The fields of the first (or every, first=False) line carrying TAG
    (not anchored: escape sequences may precede the first guest line)."""
    hits = [fields(line[line.index(tag) + len(tag):])
            for line in clean(text) if tag + " " in line or line.endswith(tag)]
    if first:
        return hits[0] if hits else {}
    return hits
