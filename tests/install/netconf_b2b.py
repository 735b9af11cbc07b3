#!/usr/bin/python3
"""netconf_b2b.py KEY true|false

As the installed system's NETCONF operator "ncadmin": sets branch-to-branch
of the default BGP instance through the candidate datastore and <commit>,
then reads it back from running. Exit 0 when running holds the new value.
"""
import sys
import xml.etree.ElementTree as ET

from ncclient import manager

NS = "http://frrouting.org/yang/bgp-route-server"


def main():
    key, value = sys.argv[1], sys.argv[2]
    with manager.connect(host="127.0.0.1", port=8830, username="ncadmin",
                         key_filename=key, hostkey_verify=False,
                         allow_agent=False, look_for_keys=False,
                         timeout=30) as m:
        m.edit_config(target="candidate", config=(
            '<config><route-server xmlns="%s"><instance><vrf>default</vrf>'
            '<branch-to-branch>%s</branch-to-branch></instance>'
            '</route-server></config>' % (NS, value)))
        m.commit()
        data = m.get_config(source="running", filter=(
            "subtree", '<route-server xmlns="%s"/>' % NS)).data_xml
    b2b = ET.fromstring(data).find(".//{%s}branch-to-branch" % NS)
    got = b2b.text if b2b is not None else "false"
    print("running: branch-to-branch %s" % got)
    return 0 if got == value else 1


if __name__ == "__main__":
    sys.exit(main())
