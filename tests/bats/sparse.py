#!/usr/bin/env python3
"""sparse.py - mmfind's answers on a (sparse) file against Python's.

usage: sparse.py FILE <CASES

Each line of standard input is one case: mmfind's options, shell-quoted,
without the file (e.g. `-c --overlap -x 0000 -s 100 -E -3`).  Blank lines
and lines starting with # are ignored.  For every case the expected exit
status and output are worked out from Python's mmap.find and rfind (one
literal pattern), from the re module (several patterns, ?? wildcards,
-i, -P), following the semantics the property suite models
(property.py's model_find), and mmfind is run on FILE once with each of
MMUTILS_IO=mmap, read and auto; any difference is printed and the exit
status is 1.

The options understood: -x HEX (with ??), -e TEXT, -P RE, -i, -r, -a,
-c, --overlap, -m N, -s N, -E N (decimal, negative from the end).

Work is bounded by the answer, not by the file, so files of many GiB
are fine when the case keeps to a window (-s/-E), stops early (-m, -r,
a first match) or counts an all-zero literal (the zero runs of the
range, counted arithmetically).  Other cases read their whole range:
keep those files small.
"""

import itertools
import mmap
import os
import re
import shlex
import subprocess
import sys

MODES = ("mmap", "read", "auto")


def parse(argv):
    o = {"pats": [], "regex": None, "icase": False, "rev": False,
         "all": False, "count": False, "overlap": False, "max": None,
         "start": None, "end": None}
    it = iter(argv)
    for a in it:
        if a == "-x":
            h = next(it).replace(" ", "").replace(":", "")
            if h.startswith("0x"):
                h = h[2:]
            pairs = [h[i:i + 2] for i in range(0, len(h), 2)]
            o["pats"].append([None if p == "??" else int(p, 16)
                              for p in pairs])
        elif a == "-e":
            o["pats"].append(list(next(it).encode("latin-1")))
        elif a == "-P":
            o["regex"] = next(it).encode("latin-1")
        elif a == "-i":
            o["icase"] = True
        elif a == "-r":
            o["rev"] = True
        elif a == "-a":
            o["all"] = True
        elif a == "-c":
            o["count"] = True
        elif a == "--overlap":
            o["overlap"] = True
        elif a == "-m":
            o["max"] = int(next(it))
        elif a == "-s":
            o["start"] = int(next(it))
        elif a == "-E":
            o["end"] = int(next(it))
        else:
            raise SystemExit("sparse.py: unknown option %r" % a)
    if o["regex"] is None and not all(o["pats"]):
        raise SystemExit("sparse.py: no empty patterns, please")
    return o


def clamp(start, end, size):
    """[s, e) as Python's find(sub, start, end) takes them, or None."""
    s = 0 if start is None else start
    e = size if end is None else end
    if s < 0:
        s = max(0, size + s)
    if e < 0:
        e = max(0, size + e)
    e = min(e, size)
    if s > size or s > e:
        return None
    return s, e


class Ref:
    """The answers Python gives for one case over mm[s:e]."""

    # Bytes a step: forwards, backwards at first (doubling up to
    # BACK_MAX) and for counting zeros.
    STEP, BACK, BACK_MAX, ZSTEP = 1 << 20, 64, 4 << 20, 1 << 24

    def __init__(self, mm, o, s, e):
        self.mm, self.o, self.s, self.e = mm, o, s, e
        pats = o["pats"]
        # One literal: Python's own mmap.find and rfind.
        self.literal = None
        if o["regex"] is None and len(pats) == 1 and None not in pats[0] \
                and not o["icase"]:
            self.literal = bytes(pats[0])
        flags = re.DOTALL | (re.IGNORECASE if o["icase"] else 0)
        if o["regex"] is not None:
            self.re = re.compile(o["regex"], re.IGNORECASE if o["icase"]
                                 else 0)
            self.maxlen = None
        else:
            # Leftmost, then longest: the longest alternative first.
            alts = sorted(pats, key=len, reverse=True)
            body = b"|".join(b"".join(b"." if c is None else
                                      re.escape(bytes([c])) for c in p)
                             for p in alts)
            self.re = re.compile(b"(?:" + body + b")", flags)
            self.ahead = re.compile(b"(?=(?:" + body + b"))", flags)
            self.maxlen = max(len(p) for p in pats)
        self.zeros = self.literal is not None and \
            self.literal == bytes(len(self.literal))

    def window(self, lo, hi):
        return self.mm[lo:hi]

    # -------------------------------------------------------- forwards
    def forward(self, overlap):
        s, e = self.s, self.e
        if self.literal is not None:
            n = len(self.literal)
            i = s
            while True:
                h = self.mm.find(self.literal, i, e)
                if h < 0:
                    return
                yield h
                i = h + (1 if overlap else n)
        rx = self.ahead if overlap and self.o["regex"] is None else self.re
        if self.o["regex"] is not None:
            # A regex sees the range as its subject: ^ and $ at its ends.
            data = self.window(s, e)
            for m in rx.finditer(data):
                yield s + m.start()
            return
        # Chunks that overlap by maxlen - 1, so that a match starting
        # in one is whole in it; the next match starts at I or later.
        step = self.STEP
        i = base = s
        while base < e:
            data = self.window(base, min(e, base + step + self.maxlen - 1))
            for m in rx.finditer(data, i - base):
                p = base + m.start()
                if p >= base + step:
                    break
                yield p
                i = p + (1 if overlap else len(m.group(0)))
            base += step
            i = max(i, base)

    # -------------------------------------------------------- backwards
    def last_before(self, before, lim):
        """The last p < BEFORE with a match in [p, LIM), and its length."""
        s = self.s
        w = self.BACK
        hi = before
        while hi > s:
            lo = max(s, hi - w)
            end = min(lim, hi + self.maxlen - 1)
            data = self.window(lo, end)
            last = None
            for m in self.ahead.finditer(data):
                if lo + m.start() < hi:
                    last = lo + m.start()
            if last is not None:
                m = self.re.match(self.window(last, min(lim, last +
                                                        self.maxlen)))
                return last, len(m.group(0))
            hi = lo
            w = min(w * 2, self.BACK_MAX)
        return None

    def backward(self, overlap):
        s, e = self.s, self.e
        if self.o["regex"] is not None:
            yield from reversed(list(self.forward(False)))
            return
        if self.literal is not None:
            n = len(self.literal)
            lim = e
            while True:
                h = self.mm.rfind(self.literal, s,
                                  min(e, lim - 1 + n) if overlap else lim)
                if h < 0:
                    return
                yield h
                lim = h
        if overlap:
            cur = e
            while True:
                r = self.last_before(cur, e)
                if r is None:
                    return
                yield r[0]
                cur = r[0]
        lim = e
        while True:
            r = self.last_before(lim, lim)
            if r is None:
                return
            yield r[0]
            lim = r[0]

    # -------------------------------------------------------- counting
    def zero_count(self, overlap):
        """An all-zero literal: count over the runs of zeros."""
        n = len(self.literal)
        total = 0
        run = 0
        step = self.ZSTEP
        for i in range(self.s, self.e, step):
            data = self.window(i, min(self.e, i + step))
            if data.count(0) == len(data):
                run += len(data)
                continue
            k = len(data) - len(data.lstrip(b"\0"))
            run += k
            total += self.per_run(run, n, overlap)
            tail = len(data) - len(data.rstrip(b"\0"))
            for m in re.finditer(b"\0+", data[k:len(data) - tail]):
                total += self.per_run(len(m.group(0)), n, overlap)
            run = tail
        return total + self.per_run(run, n, overlap)

    @staticmethod
    def per_run(run, n, overlap):
        if overlap:
            return max(0, run - n + 1)
        return run // n


def expect(mm, o):
    r = clamp(o["start"], o["end"], len(mm))
    hits = []
    count = None
    if r is not None:
        ref = Ref(mm, o, *r)
        rev, overlap = o["rev"], o["overlap"]
        if o["count"] and ref.zeros:
            # Forwards or backwards, one pattern's non-overlapping
            # matches are as many (both greedy choices are maximal).
            count = ref.zero_count(overlap)
            if o["max"] is not None:
                count = min(count, o["max"])
        else:
            if o["count"]:
                # A regex and --overlap are counted forwards.
                it = ref.backward(False) if rev and not overlap and \
                    o["regex"] is None else ref.forward(overlap)
            elif rev:
                it = ref.backward(overlap and o["all"])
            else:
                it = ref.forward(overlap and o["all"])
            if not (o["all"] or o["count"]):
                it = itertools.islice(it, 1)
            elif o["max"] is not None:
                it = itertools.islice(it, o["max"])
            hits = list(it)
            if len(hits) > 200000 and not o["count"]:
                raise SystemExit("sparse.py: %d matches: narrow the case"
                                 % len(hits))
    if o["count"]:
        n = len(hits) if count is None else count
        return (0 if n else 1), b"%d\n" % n
    return (0 if hits else 1), b"".join(b"%d\n" % h for h in hits)


def main():
    path = sys.argv[1]
    failed = 0
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size \
            else b""
        for line in sys.stdin:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            argv = shlex.split(line)
            want_rc, want = expect(mm, parse(argv))
            for mode in MODES:
                env = dict(os.environ, MMUTILS_IO=mode)
                p = subprocess.run(["mmfind"] + argv + [path], env=env,
                                   stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
                if (p.returncode, p.stdout) != (want_rc, want) or p.stderr:
                    failed += 1
                    print("MMUTILS_IO=%s mmfind %s %s: exit %d, want %d"
                          % (mode, line.strip(), path, p.returncode,
                             want_rc))
                    print("  got  %r\n  want %r" % (p.stdout[:300],
                                                     want[:300]))
                    if p.stderr:
                        print("  stderr %r" % p.stderr[:300])
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
