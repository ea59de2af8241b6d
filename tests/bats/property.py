#!/usr/bin/env python3
"""property.py - random operations on a random file, through the applets
and through a model built on Python's mmap semantics (bytes.find/rfind,
slices, slice assignment, resize), compared after every step: the exit
status, standard output, a message on standard error exactly when the
command fails, and every byte of the file.

usage: property.py APPLET|mixed SEED CASES [STRIDE]

Runs CASES operations (every STRIDE-th of them, for slow runs under
valgrind) of APPLET, or of all applets mixed, on a file in the current
directory, starting from a file and a random generator seeded by SEED.
Prints nothing and exits 0 when every step agrees; otherwise prints the
command, what was expected and what came, and exits 1.
"""

import os
import random
import subprocess
import sys

FILE = "f.bin"


class Mismatch(Exception):
    pass


# ------------------------------------------------------------ numbers

def number(r, v):
    """V as the applets read it: decimal, hex, or with a suffix."""
    neg = v < 0
    v = abs(v)
    k = r.random()
    if k < 0.6:
        s = str(v)
    elif k < 0.8:
        s = hex(v) if r.random() < 0.5 else "0X%X" % v
    elif v % 1024 == 0 and v > 0:
        s = "%d%s" % (v // 1024, r.choice(["K", "k", "KiB", "kib"]))
    elif v % 1000 == 0 and v > 0:
        s = "%d%s" % (v // 1000, r.choice(["KB", "kB", "kb"]))
    else:
        s = str(v)
    return ("-" if neg else "") + s


def resolve(off, size):
    """A SPEC offset against SIZE: None when before the start."""
    if off < 0:
        return None if -off > size else size + off
    return off


def some_offset(r, size, slack=4):
    return r.randint(-size - slack, size + slack)


def some_count(r, size):
    k = r.random()
    if k < 0.1:
        return 0
    if k < 0.2:
        return size + r.randint(0, 4)
    return r.randint(0, max(0, size))


# ------------------------------------------------------------ byte strings

ALPHABET = b"abcAB\n\x00\xff"


def some_bytes(r, n):
    return bytes(r.choice(ALPHABET) if r.random() < 0.8 else
                 r.randrange(256) for _ in range(n))


def from_file(r, data, maxlen=6):
    """Bytes that are likely in DATA: a slice of it, or random."""
    n = r.randint(0, maxlen)
    if data and r.random() < 0.7:
        i = r.randrange(len(data))
        return data[i:i + n]
    return some_bytes(r, n)


def hexof(r, b):
    s = b.hex()
    if r.random() < 0.2:
        s = ":".join(s[i:i + 2] for i in range(0, len(s), 2))
    if r.random() < 0.1:
        s = "0x" + s
    return s


# ------------------------------------------------------------ the model

def lower(b):
    return bytes(c + 32 if 65 <= c <= 90 else c for c in b)


def match_at(pat, mask, data, i, icase):
    if i + len(pat) > len(data):
        return False
    for j, c in enumerate(pat):
        if mask is not None and not mask[j]:
            continue
        h = data[i + j]
        if icase:
            h, c = lower(bytes([h]))[0], lower(bytes([c]))[0]
        if h != c:
            return False
    return True


def best_at(pats, data, i, end, icase):
    """Length of the longest pattern matching at I inside [.., END)."""
    best = None
    for pat, mask in pats:
        if i + len(pat) <= end and match_at(pat, mask, data, i, icase):
            if best is None or len(pat) > best:
                best = len(pat)
    return best


def model_find(data, pats, start, end, rev, all_, overlap, icase, maxn):
    """The offsets mmfind reports, as Python's find/rfind would."""
    size = len(data)
    # Python slice clamping for start and end.
    s = start if start is not None else 0
    e = end if end is not None else size
    if s < 0:
        s = max(0, size + s)
    if e < 0:
        e = max(0, size + e)
    e = min(e, size)
    if s > size or s > e:
        return []
    hits = []
    if not rev or overlap:
        i = s
        while i <= e:
            m = best_at(pats, data, i, e, icase)
            if m is None:
                i += 1
                continue
            hits.append(i)
            if not all_ and not rev:
                break
            i += 1 if overlap else (m if m else 1)
        if rev:
            hits.reverse()
            if not all_:
                hits = hits[:1]
    else:
        lim = e
        while True:
            found = None
            for i in range(lim, s - 1, -1):
                m = best_at(pats, data, i, lim, icase)
                if m is not None:
                    found = (i, m)
                    break
            if found is None:
                break
            i, m = found
            hits.append(i)
            if not all_ or (m == 0 and i == s):
                break
            lim = i - 1 if m == 0 else i
    if maxn is not None:
        hits = hits[:maxn]
    return hits


# ------------------------------------------------------------ operations
# Each returns (argv, stdin, expected status, expected stdout, new data).

def op_read(r, data):
    size = len(data)
    mode = r.choice(["", "", "-x", "-b", "-l", "-l", "--size"])
    argv = ["mmread"] + ([mode] if mode else []) + [FILE]
    if mode == "--size":
        return argv, None, 0, b"%d\n" % size, data
    off = some_offset(r, size) if r.random() < 0.9 else None
    count = None
    if off is not None:
        argv.append(number(r, off))
        if mode not in ("-b", "-l") and r.random() < 0.6:
            count = some_count(r, size)
            argv.append(number(r, count))
    o = resolve(off if off is not None else 0, size)
    if o is None or o > size:
        return argv, None, 2, b"", data
    if mode == "-b":
        if o >= size:
            return argv, None, 2, b"", data
        return argv, None, 0, b"%d\n" % data[o], data
    if mode == "-l":
        nl = data.find(b"\n", o)
        return argv, None, 0, data[o:nl + 1 if nl >= 0 else size], data
    out = data[o:size if count is None else o + count]
    if mode == "-x":
        out = out.hex().encode() + b"\n"
    return argv, None, 0, out, data


def op_find(r, data):
    size = len(data)
    npat = 1 if r.random() < 0.7 else r.randint(2, 3)
    pats = []
    argv = ["mmfind"]
    for _ in range(npat):
        p = from_file(r, data)
        mask = None
        if p and r.random() < 0.2:
            mask = [r.random() < 0.7 for _ in p]
            h = "".join(p[i:i + 1].hex() if mask[i] else "??"
                        for i in range(len(p)))
            p = bytes(c if mask[i] else 0 for i, c in enumerate(p))
        else:
            h = hexof(r, p)
        pats.append((p, mask))
        argv += ["-x", h]
    icase = r.random() < 0.2
    rev = r.random() < 0.3
    all_ = r.random() < 0.5
    count = not all_ and r.random() < 0.3
    overlap = (all_ or count) and r.random() < 0.3
    maxn = r.randint(1, 4) if all_ and r.random() < 0.2 else None
    start = some_offset(r, size) if r.random() < 0.3 else None
    end = some_offset(r, size) if r.random() < 0.3 else None
    for flag, on in (("-i", icase), ("-r", rev), ("-a", all_),
                     ("-c", count), ("--overlap", overlap)):
        if on:
            argv.append(flag)
    if maxn is not None:
        argv.append("--max-count=%d" % maxn)
    if start is not None:
        argv.append("--start=" + number(r, start))
    if end is not None:
        argv.append("--end=" + number(r, end))
    argv.append(FILE)
    hits = model_find(data, pats, start, end, rev, all_ or count,
                      overlap, icase, maxn)
    if count:
        out = b"%d\n" % len(hits)
    elif all_:
        out = b"".join(b"%d\n" % h for h in hits)
    else:
        out = b"%d\n" % hits[0] if hits else b""
    return argv, None, 0 if hits else 1, out, data


def op_patch(r, data):
    size = len(data)
    new = bytearray(data)
    argv = ["mmpatch"]
    payload = from_file(r, data, 5) if r.random() < 0.3 else \
        some_bytes(r, r.randint(0, 5))
    repeat = r.randint(1, 3) if r.random() < 0.2 else 1
    data_w = payload * repeat
    stdin = None
    if r.random() < 0.3:
        offs = [some_offset(r, size, 2) for _ in range(r.randint(0, 4))]
        stdin = "".join(number(r, o) + "\n" for o in offs).encode()
        argv += [FILE, "-"]
    else:
        offs = [some_offset(r, size, 2)]
        argv += [FILE, number(r, offs[0])]
    expect = None
    if r.random() < 0.3:
        # Mostly what is at the first offset, as long as the data written;
        # an expectation of another length is a usage error.
        ro = resolve(offs[0], size) if offs else None
        if r.random() < 0.2:
            expect = from_file(r, data, 4)
        elif ro is not None and ro <= size and r.random() < 0.6:
            expect = data[ro:ro + len(data_w)]
        else:
            expect = some_bytes(r, len(data_w))
    argv += ["-x", hexof(r, payload)]
    if repeat != 1:
        argv.append("--repeat=%d" % repeat)
    if expect is not None:
        argv.append("--expect=" + hexof(r, expect))
    if expect is not None and len(expect) != len(data_w):
        return argv, stdin, 2, b"", data
    # Ranges first (exit 2), then overlaps (2), then expectations (1).
    spans = []
    for o in offs:
        ro = resolve(o, size)
        if ro is None or ro > size or len(data_w) > size - ro:
            return argv, stdin, 2, b"", data
        exp = 0 if expect is None else min(len(expect), size - ro)
        spans.append((ro, max(len(data_w), exp)))
    live = sorted(s for s in spans if s[1] > 0)
    for (a, al), (b, _) in zip(live, live[1:]):
        if b < a + al:
            return argv, stdin, 2, b"", data
    for ro, _ in spans:
        if expect is not None and data[ro:ro + len(expect)] != expect:
            return argv, stdin, 1, b"", data
    for ro, _ in spans:
        new[ro:ro + len(data_w)] = data_w
    return argv, stdin, 0, b"", bytes(new)


def op_move(r, data):
    size = len(data)
    dest, src = (r.randint(0, size + 2) for _ in range(2))
    count = some_count(r, size)
    argv = ["mmmove", FILE, number(r, dest), number(r, src), number(r, count)]
    if dest + count > size or src + count > size:
        return argv, None, 2, b"", data
    new = bytearray(data)
    new[dest:dest + count] = data[src:src + count]
    return argv, None, 0, b"", bytes(new)


def op_resize(r, data):
    old = len(data)
    op = r.choice(["", "", "+", "-", "<", ">", "/", "%"])
    v = r.randint(0, 3000) if op in ("", "<", ">") else r.randint(0, 600)
    if op in ("/", "%") and r.random() < 0.9:
        v = max(v, 1)
    argv = ["mmresize"]
    fill = None
    if r.random() < 0.3:
        fill = some_bytes(r, r.randint(1, 3))
        argv.append("--fill=" + hexof(r, fill))
    at = None
    if r.random() < 0.4:
        at = some_offset(r, old, 3)
        argv.append("--at=" + number(r, at))
    spec = op + number(r, v)
    argv += ["--", FILE, spec] if op == "-" and r.random() < 0.5 else \
        [FILE, spec]
    if op in ("/", "%") and v == 0:
        return argv, None, 2, b"", data
    new = {"": v, "+": old + v, "-": max(0, old - v), "<": min(old, v),
           ">": max(old, v), "/": old // v * v if v else 0,
           "%": -(-old // v) * v if v else 0}[op]
    if at is not None:
        a = resolve(at, old)
        if a is None:
            return argv, None, 2, b"", data
        if new >= old and a > old or new < old and a + (old - new) > old:
            return argv, None, 2, b"", data
    else:
        a = min(old, new)
    if new == old:
        return argv, None, 0, b"", data
    if new > old:
        n = new - old
        gap = bytes(n) if fill is None else \
            (fill * (n // len(fill) + 1))[:n]
        return argv, None, 0, b"", data[:a] + gap + data[a:]
    return argv, None, 0, b"", data[:a] + data[a + old - new:]


def op_flush(r, data):
    size = len(data)
    argv = ["mmflush", FILE]
    off, length = None, None
    if r.random() < 0.8:
        off = r.randint(0, size + 2) if r.random() < 0.8 else \
            some_offset(r, size, 2)
        argv.append(number(r, off))
        if r.random() < 0.6:
            length = some_count(r, size)
            argv.append(number(r, length))
    o = resolve(off if off is not None else 0, size)
    if o is None or o > size:
        return argv, None, 2, b"", data
    if length is not None and length > size - o:
        return argv, None, 2, b"", data
    return argv, None, 0, b"", data


def op_advise(r, data):
    size = len(data)
    advice = r.choice(["normal", "random", "sequential", "willneed",
                       "dontneed"])
    argv = ["mmadvise", FILE, advice]
    off, length = None, None
    if r.random() < 0.8:
        off = r.randint(0, size + 2) if r.random() < 0.8 else \
            some_offset(r, size, 2)
        argv.append(number(r, off))
        if r.random() < 0.6:
            length = some_count(r, size)
            argv.append(number(r, length))
    # As CPython's madvise: a START given must be inside, before SIZE.
    o = resolve(off if off is not None else 0, size)
    if o is None or o > size or (off is not None and o == size):
        return argv, None, 2, b"", data
    if length is not None and length > size - o:
        return argv, None, 2, b"", data
    return argv, None, 0, b"", data


OPS = {
    "read": op_read, "find": op_find, "patch": op_patch, "move": op_move,
    "resize": op_resize, "flush": op_flush, "advise": op_advise,
}


def run(argv, stdin):
    p = subprocess.run(argv, input=stdin if stdin is not None else b"",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout, p.stderr


def main():
    which, seed, cases = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    stride = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    r = random.Random(seed)
    data = some_bytes(r, r.choice([0, 1, 7, 100, 1000, r.randint(0, 3000)]))
    with open(FILE, "wb") as f:
        f.write(data)
    names = sorted(OPS) if which == "mixed" else [which]
    for n in range(cases):
        name = r.choice(names)
        argv, stdin, want_rc, want_out, want_data = OPS[name](r, data)
        if n % stride != 0:
            continue
        rc, out, err = run(argv, stdin)
        now = open(FILE, "rb").read()
        problems = []
        if rc != want_rc:
            problems.append("exit %d, want %d" % (rc, want_rc))
        if out != want_out:
            problems.append("stdout %r, want %r" % (out[:200], want_out[:200]))
        # A failure says why; so does mmpatch's unmet expectation.
        if (err != b"") != (rc == 2 or (rc == 1 and name == "patch")):
            problems.append("stderr %r with exit %d" % (err[:300], rc))
        if now != want_data:
            problems.append("file differs from the model (%d bytes, want "
                            "%d)" % (len(now), len(want_data)))
        if problems:
            print("case %d (seed %d): %s" % (n, seed, " ".join(
                repr(a) if " " in a or a == "" else a for a in argv)))
            if stdin is not None:
                print("stdin: %r" % stdin)
            print("file before: %d bytes" % len(data))
            for p in problems:
                print("  " + p)
            if err:
                print("stderr: %r" % err[:300])
            sys.exit(1)
        data = want_data
        # Keep the file small: past 4000 bytes it is cut back.
        if len(data) > 4000:
            data = data[:1000]
            with open(FILE, "r+b") as f:
                f.truncate(1000)


if __name__ == "__main__":
    main()
