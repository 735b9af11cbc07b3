# SPDX-License-Identifier: GPL-2.0-or-later
"""Leak reports of a daemon that has exited: valgrind's (plain build) or
LeakSanitizer's (ASan build), each split into records with their stacks,
and which of them the route-server module is responsible for."""

import glob
import os
import re

# A frame in one of the module's sources (bgpd-rs-plugin/).
MODULE_FRAME = re.compile(r"\b(bgp_rs(_\w+)?|rs_policy)\.[ch]:\d+")

VG_RECORD = re.compile(
    r"^==\d+== ([\d,]+(?: \([\d,]+ direct, [\d,]+ indirect\))? bytes in [\d,]+ blocks"
    r" are (definitely|indirectly|possibly) lost in loss record .*)$"
)
VG_ERROR = re.compile(
    r"^==\d+== (Invalid (read|write|free)|Conditional jump|Use of uninitialised"
    r"|Syscall param|Mismatched free|Source and destination overlap).*$"
)
LSAN_RECORD = re.compile(r"^(Direct|Indirect) leak of .*$")


class Record:
    def __init__(self, kind, title):
        self.kind, self.title, self.frames = kind, title, []

    @property
    def in_module(self):
        return any(MODULE_FRAME.search(f) for f in self.frames)

    def __str__(self):
        return "\n".join([self.title] + ["  " + f for f in self.frames])


def parse_valgrind(text):
    """Loss records and memory errors of a valgrind log."""
    records, cur = [], None
    for line in text.splitlines():
        leak, error = VG_RECORD.match(line), VG_ERROR.match(line)
        if leak or error:
            cur = Record("leak", leak.group(1)) if leak else Record("error", error.group(0))
            records.append(cur)
        elif cur is not None and re.match(r"^==\d+==\s+(at|by) ", line):
            cur.frames.append(line.split("==", 2)[2].strip())
        else:
            cur = None
    return records


def parse_lsan(text):
    """Leak records (and any other sanitizer error) of an ASan log."""
    records, cur = [], None
    for line in text.splitlines():
        if LSAN_RECORD.match(line):
            cur = Record("leak", line)
            records.append(cur)
        elif "ERROR: AddressSanitizer" in line:
            cur = Record("error", line)
            records.append(cur)
        elif cur is not None and re.match(r"^\s+#\d+ ", line):
            cur.frames.append(line.strip())
        elif not line.strip():
            cur = None
    return records


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def valgrind_log(logdir, router, daemon, pid):
    return os.path.join(logdir, "{}.valgrind.{}.{}".format(router, daemon, pid))


def report(logdir, router, daemon, pid, sanitized):
    """(checked, records): what the leak checker said of the daemon's exit.
    checked is False when no checker verifiably ran."""
    if sanitized:
        # The framework sets ASAN_OPTIONS=log_path=LOGDIR/ROUTER.asan.DAEMON;
        # LeakSanitizer writes a file only when it has something to say.
        files = glob.glob(os.path.join(logdir, "{}.asan.{}.*".format(router, daemon)))
        return True, parse_lsan("".join(read(f) for f in files))
    path = valgrind_log(logdir, router, daemon, pid)
    if not os.path.exists(path):
        return False, []
    text = read(path)
    checked = "LEAK SUMMARY" in text or "All heap blocks were freed" in text
    return checked, parse_valgrind(text)
