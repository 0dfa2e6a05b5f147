# -*- coding: utf-8 -*-
# Copyright: lticontainer.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IP addresses and networks of both families, as the roles' checks and the hub's URLs need them.

Standard library only (ipaddress): the filters run on the controller, where netaddr (which
ansible.utils' ipaddr needs) cannot be assumed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress


def url_host(host):
    """host as a URL's authority takes it: an IPv6 literal in brackets (RFC 3986), anything else as it is."""
    host = str(host)
    if ':' in host and not host.startswith('['):
        return '[%s]' % host
    return host


def bare_host(host):
    """host without the brackets of an IPv6 literal: what sockets, ssh and sshd's Match take."""
    host = str(host)
    if host.startswith('[') and host.endswith(']'):
        return host[1:-1]
    return host


def address_problem(value, unspecified=False):
    """Why value is not one IPv4 or IPv6 address (None when it is). unspecified: whether
    0.0.0.0 and :: (every address of the host) are acceptable."""
    try:
        address = ipaddress.ip_address(str(value).strip())
    except ValueError:
        return 'is not an IPv4 or IPv6 address'
    if address.is_unspecified and not unspecified:
        return 'is the unspecified address (every address), not one address'
    return None


def network_problem(value, any_host=False):
    """Why value is not an IPv4 or IPv6 address or CIDR network (None when it is). any_host:
    whether a network of every address (0.0.0.0/0, ::/0, however written) is acceptable."""
    try:
        network = ipaddress.ip_network(str(value).strip(), strict=False)
    except ValueError:
        return 'is not an IPv4 or IPv6 address or CIDR network'
    if network.prefixlen == 0 and not any_host:
        return 'matches every address'
    return None


def hub_urls(proxy_ip, port, hub_ip, host_addresses=()):
    """The HTTPS URLs browsers and Moodle reach a hub at, its main one first. A proxy on one
    address serves that one. A proxy on every address (:: both families, 0.0.0.0 IPv4 only)
    serves the hub API's address (hub_ip, first) and the host's other addresses it covers."""
    proxy = ipaddress.ip_address(str(proxy_ip))
    hosts = [str(proxy_ip)]
    if proxy.is_unspecified:
        hosts, seen = [], set()
        for host in [hub_ip] + [h for h in host_addresses if h]:
            address = ipaddress.ip_address(str(host))
            if address not in seen and (proxy.version == 6 or address.version == 4):
                seen.add(address)
                hosts.append(str(host))
    return ['https://%s:%d' % (url_host(host), int(port)) for host in hosts]
