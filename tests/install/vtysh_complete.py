#!/usr/bin/python3
"""vtysh_complete.py NETNS ROOT

Drives an interactive vtysh of the installed system (chroot ROOT, network
namespace NETNS) the way an operator types: TAB completes "route-se" to
"route-server", and "?" lists the roles. Exit 0 when both work.
"""
import sys

import pexpect


def main():
    ns, root = sys.argv[1], sys.argv[2]
    v = pexpect.spawn("ip", ["netns", "exec", ns, "chroot", root,
                             "/usr/bin/env", "-i", "TERM=dumb",
                             "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "vtysh"],
                      encoding="utf-8", timeout=10)
    v.logfile_read = sys.stdout
    prompt = r"[\w.-]+(\([\w-]+\))?# "
    v.expect(prompt)
    # TAB completion of the show command
    v.send("show bgp route-se\t")
    v.expect("route-server")
    v.sendline("")
    v.expect(prompt)
    # "?" in router bgp lists the role keywords
    v.sendline("configure terminal")
    v.expect(prompt)
    v.sendline("router bgp 65515")
    v.expect(prompt)
    v.send("neighbor 10.0.0.2 route-server role ?")
    v.expect("nva")
    v.expect(prompt)
    v.sendcontrol("u")
    v.sendline("end")
    v.expect(prompt)
    v.sendline("exit")
    v.expect(pexpect.EOF)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except pexpect.ExceptionPexpect as e:
        print("\nvtysh_complete: %s" % e.__class__.__name__)
        sys.exit(1)
