#!/usr/bin/env python3
"""The CLI reference cannot drift from the parser.

docs/cli.md and deploy/man/slableak.8 are checked against
`slableak --dump-options-json` (the parser's own option table: options,
defaults, limits, choices, exit codes; cli/run_config.cpp). Every option of
every command must be documented for that command with the default the
parser applies and the limits it enforces; every option documented must
exist; the exit codes listed must be exactly the binary's.

    cli_reference_test.py SLABLEAK CLI_MD MAN_PAGE
"""
import json
import re
import shlex
import subprocess
import sys

failures = []


def fail(msg):
    failures.append(msg)


def dump(binary):
    out = subprocess.run([binary, "--dump-options-json"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def number(text):
    return int(text.replace(",", ""))


def expected_range(opt):
    """How both documents write the limit of an option."""
    kind = opt.get("kind")
    if kind == "count":
        return "%d to %d" % (opt["min"], opt["max"])
    if kind == "duration":
        return "> 0 to 365d"
    if kind == "duration_or_zero":
        return "0 to 365d"
    return None


def long_name(opt):
    return opt["names"][-1]


# ---------------------------------------------------------------- docs/cli.md
def cli_md_tables(text):
    """{command: {option: row}} from the tables marked <!-- options: CMD... -->,
    and the exit codes of the table marked <!-- exit-codes -->."""
    tables, exits = {}, None
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"<!-- options: ([a-z ]+) -->", line.strip())
        e = re.match(r"<!-- exit-codes -->", line.strip())
        if not m and not e:
            continue
        j = i + 1
        while j < len(lines) and not lines[j].startswith("|"):
            j += 1
        header = [c.strip() for c in lines[j].strip("|").split("|")]
        rows = []
        j += 2  # header and |---|
        while j < len(lines) and lines[j].startswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", lines[j].strip()[1:-1])]
            rows.append(dict(zip(header, cells)))
            j += 1
        if e:
            exits = rows
            continue
        for cmd in m.group(1).split():
            for row in rows:
                names = re.findall(r"(--?[a-z][a-z0-9-]*)", row["option"].split("`")[1] if "`" in row["option"] else row["option"])
                for n in names:
                    tables.setdefault(cmd, {})[n] = row
    return tables, exits


def doc_default(cell, cmd):
    """`1M` (export: `262144`) -> '262144' for export, '1M' otherwise."""
    for m in re.finditer(r"([a-z]+): `([^`]*)`", cell):
        if m.group(1) == cmd:
            return m.group(2)
    m = re.match(r"`([^`]*)`", cell)
    return m.group(1) if m else cell


def check_cli_md(d, path):
    text = open(path).read()
    tables, exits = cli_md_tables(text)
    for cmd, opts in d["commands"].items():
        doc = tables.get(cmd, {})
        real = set()
        for opt in opts:
            name = long_name(opt)
            real.update(opt["names"])
            if name == "--help":
                continue
            row = doc.get(name)
            if row is None:
                fail("%s: `%s %s` is not in a table marked <!-- options: ... %s ... -->" % (path, cmd, name, cmd))
                continue
            for n in opt["names"]:
                if n not in row["option"]:
                    fail("%s: %s %s: the row does not name %s" % (path, cmd, name, n))
            want = "off" if opt["flag"] else opt["default"]
            got = doc_default(row["default"], cmd)
            if got != want:
                fail("%s: %s %s: default documented `%s`, the parser's is `%s`" % (path, cmd, name, got, want))
            rng = expected_range(opt)
            cell = row.get("range", "").replace("`", "").replace(",", "").replace("≤", "<=")
            if rng and cell != rng:
                fail("%s: %s %s: range documented '%s', the parser enforces '%s'" % (path, cmd, name, row.get("range"), rng))
            for c in opt.get("choices", []):
                if "`%s`" % c not in row.get("range", ""):
                    fail("%s: %s %s: choice `%s` not listed" % (path, cmd, name, c))
            if "max_count" in opt:
                for k in ("max_count", "max_name_length"):
                    if not re.search(r"\b%d\b" % opt[k], row.get("range", "")):
                        fail("%s: %s %s: limit %d (%s) not stated" % (path, cmd, name, opt[k], k))
        for n in doc:
            if n not in real:
                fail("%s: `%s %s` is documented, but the parser has no such option" % (path, cmd, n))
    for cmd in tables:
        if cmd not in d["commands"]:
            fail("%s: options documented for `%s`, which is no command" % (path, cmd))
    codes = sorted(e["code"] for e in d["exit_codes"])
    if exits is None:
        fail("%s: no table marked <!-- exit-codes -->" % path)
    else:
        documented = sorted(number(r["exit"]) for r in exits)
        if documented != codes:
            fail("%s: exit codes documented %s, the binary has %s" % (path, documented, codes))


# ------------------------------------------------------- deploy/man/slableak.8
def roff_text(lines):
    out = []
    for line in lines:
        if line.startswith(".\\\""):
            continue
        m = re.match(r"\.(B|I|BR|RB|BI|IB|IR|RI)\s+(.*)", line)
        if m:
            try:
                parts = shlex.split(m.group(2).replace("\\", "\\\\"), posix=True)
            except ValueError:
                parts = m.group(2).split()
            parts = [p.replace("\\\\", "\\") for p in parts]
            line = (" " if m.group(1) in ("B", "I") else "").join(parts)
        elif line.startswith("."):
            continue
        out.append(line)
    t = " ".join(out)
    t = re.sub(r"\\f[BIRP]", "", t).replace("\\-", "-").replace("\\(em", "-").replace("\\&", "")
    return re.sub(r"\s+", " ", t).strip()


# "cmd?": the section applies to cmd in part ("the tracing options except
# --cache", "--duration, --top, --format and --sort as for snapshot"): its
# entries count as documentation for cmd, but are not all cmd's options.
MAN_SECTIONS = {
    "TRACING OPTIONS": ["snapshot", "top", "export", "triage?", "check", "run"],
    "SNAPSHOT OPTIONS": ["snapshot", "triage?", "run?"],
    "RUN OPTIONS": ["run"],
    "TOP OPTIONS": ["top"],
    "EXPORT OPTIONS": ["export"],
    "TRIAGE OPTIONS": ["triage"],
    "DIFF OPTIONS": ["diff"],
    "GENERAL OPTIONS": ["snapshot", "top", "export", "triage", "caches", "check", "run", "diff", "captures"],
}


def man_entries(text):
    """{command: {option: paragraph text}}, exit codes, the DURATION paragraph."""
    entries, exits, section, partial = {}, [], None, set()
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith(".SH "):
            section = line[4:].strip().strip('"')
        if line.startswith(".TP") and i + 1 < len(lines):
            tag = lines[i + 1]
            j = i + 2
            while j < len(lines) and not re.match(r"\.(TP|SH|PP|SS)\b", lines[j]):
                j += 1
            body = roff_text(lines[i + 2:j])
            if section in MAN_SECTIONS:
                names = re.findall(r"(--?[a-z][a-z0-9-]*)", roff_text([tag]))
                for cmd in MAN_SECTIONS[section]:
                    for n in names:
                        if cmd.endswith("?"):
                            partial.add((cmd[:-1], n))
                        entries.setdefault(cmd.rstrip("?"), {}).setdefault(n, body)
            elif section == "EXIT STATUS":
                m = re.match(r"\.B (\d+)$", tag)
                if m:
                    exits.append(int(m.group(1)))
            i = j
            continue
        i += 1
    strict = {(c, n) for c, opts in entries.items() for n in opts} - partial
    return entries, exits, strict


def check_man(d, path):
    text = open(path).read()
    entries, exits, strict = man_entries(text)
    general = roff_text(text.split(".SH GENERAL OPTIONS", 1)[1].split(".SH ", 1)[0].splitlines()) if ".SH GENERAL OPTIONS" in text else ""
    if not re.search(r"DURATION.*at most 365d", general):
        fail("%s: the DURATION paragraph (GENERAL OPTIONS) does not say 'at most 365d'" % path)
    for cmd, opts in d["commands"].items():
        doc = entries.get(cmd, {})
        real = set()
        for opt in opts:
            real.update(opt["names"])
            name = long_name(opt)
            body = doc.get(name)
            if body is None:
                fail("%s: `%s %s` has no .TP entry in a section that applies to %s" % (path, cmd, name, cmd))
                continue
            if name in ("--help", "--version"):
                continue
            if not opt["flag"] and opt["default"]:
                defaults = re.findall(r"Default (\S+?)[.,;:)]?(?:\s|$)", body)
                want = opt["default"]
                override = re.search(r"\((\S+) for %s\)" % cmd, body) or re.search(r"\(%s: (\S+?)\)" % cmd, body)
                got = override.group(1) if override else (defaults[0] if defaults else None)
                if got != want:
                    fail("%s: %s %s: default documented %s, the parser's is %s" % (path, cmd, name, got, want))
            rng = expected_range(opt)
            if opt.get("kind") == "count":
                flat = body.replace(",", "")
                if not re.search(r"\b%d to %d\b" % (opt["min"], opt["max"]), flat):
                    fail("%s: %s %s: range '%s' not stated" % (path, cmd, name, rng))
            if opt.get("kind") == "duration_or_zero" and not re.search(r"\b0\b.*accepted|accepts? 0", body):
                fail("%s: %s %s: that 0 is accepted is not stated" % (path, cmd, name))
            for c in opt.get("choices", []):
                if not re.search(r"(^|[^a-z-])%s([^a-z-]|$)" % re.escape(c), body):
                    fail("%s: %s %s: choice %s not listed" % (path, cmd, name, c))
            if "max_count" in opt:
                for k in ("max_count", "max_name_length"):
                    if not re.search(r"\b%d\b" % opt[k], body):
                        fail("%s: %s %s: limit %d (%s) not stated" % (path, cmd, name, opt[k], k))
        for n in doc:
            if n not in real and n not in ("--help", "--version", "-h") and (cmd, n) in strict:
                fail("%s: `%s %s` is documented, but the parser has no such option" % (path, cmd, n))
    codes = sorted(e["code"] for e in d["exit_codes"])
    if sorted(exits) != codes:
        fail("%s: EXIT STATUS lists %s, the binary has %s" % (path, sorted(exits), codes))


def main():
    binary, cli_md, man = sys.argv[1:4]
    d = dump(binary)
    n = sum(len(o) for o in d["commands"].values())
    if n < 40:
        fail("the dump lists only %d options: is --dump-options-json broken?" % n)
    check_cli_md(d, cli_md)
    check_man(d, man)
    for f in failures:
        print("FAIL: " + f)
    if failures:
        return 1
    print("ok: %d options of %d commands and %d exit codes agree with %s and %s" % (
        n, len(d["commands"]), len(d["exit_codes"]), cli_md, man))
    return 0


if __name__ == "__main__":
    sys.exit(main())
