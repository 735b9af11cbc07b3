#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
ExaBGP API process of a monitor peer: appends every message ExaBGP sends
(one JSON object a line: each UPDATE received, session state changes) to
the file named on the command line, as raw bytes, without parsing them.
The test parses the file afterwards. It never writes to stdout, so ExaBGP
gets no commands from it.

  monitor.py LOGFILE
"""

import os
import sys


def main():
    fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    while True:
        data = os.read(0, 1 << 20)
        if not data:
            return  # ExaBGP is gone
        while data:
            data = data[os.write(fd, data):]


if __name__ == "__main__":
    main()
