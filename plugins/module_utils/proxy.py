# -*- coding: utf-8 -*-
# Copyright: (c) lticontainer.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An outbound HTTP(S) proxy as the roles pass it on: what makes a proxy setting valid, and the
environment variables the tools that reach the network read (pip, npm, git, curl, Python's
urllib, the container engines).

Pure functions, standard library only: the filters use them on the controller, and
hub_config's validation on the managed host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from urllib.parse import urlsplit

SCHEMES = ('http', 'https')
# Each tool reads its own spelling: curl and git only the lowercase http_proxy, Docker and Go
# both, some programs only the uppercase ones. Both are set, to the same values.
NAMES = ('http_proxy', 'https_proxy', 'no_proxy')


def shown(value):
    """value for a message, with the password of a user:password@ part masked."""
    return re.sub(r'(//[^/:@]*:)[^/@]*@', r'\1****@', str(value))


def url_problem(value):
    """None when value is a proxy URL, SCHEME://[USER:PASSWORD@]HOST[:PORT] with SCHEME http or
    https; else what is wrong with it."""
    if not isinstance(value, str) or not value:
        return 'must be a URL such as http://proxy.example.ac.jp:3128'
    if re.search(r'[\s"\\]', value):
        return 'must not contain whitespace, quotes or backslashes'
    parts = urlsplit(value)
    if parts.scheme not in SCHEMES:
        return 'must start with http:// or https://'
    if not parts.hostname:
        return 'must name the proxy host'
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        return 'has a port that is not a number from 1 to 65535'
    if parts.path not in ('', '/') or parts.query or parts.fragment:
        return 'must be SCHEME://HOST[:PORT], without a path'
    return None


def no_proxy_list(value):
    """The entries of a no-proxy setting, given as a list or as a comma-separated string."""
    if isinstance(value, str):
        value = value.split(',')
    if not isinstance(value, (list, tuple)):
        raise ValueError('must be a list of host names, domains (.example.ac.jp) or addresses')
    entries = [entry.strip() if isinstance(entry, str) else entry for entry in value]
    for entry in entries:
        if not isinstance(entry, str) or not re.match(r'^[^\s,"\\]+$', entry):
            raise ValueError('must be a list of host names, domains (.example.ac.jp) or addresses, '
                             'without spaces or commas (got %r)' % (entry,))
    return entries


def problems(prefix, http_proxy, https_proxy, no_proxy):
    """What is wrong with a role's three proxy variables (PREFIX + http_proxy, https_proxy,
    no_proxy), one message per variable, each naming it. Empty proxies are off, and fine."""
    found = []
    for name, value in (('http_proxy', http_proxy), ('https_proxy', https_proxy)):
        problem = url_problem(value) if value else None
        if problem:
            found.append("%s%s %s (got '%s')." % (prefix, name, problem, shown(value)))
    try:
        no_proxy_list(no_proxy)
    except ValueError as exc:
        found.append('%sno_proxy %s.' % (prefix, exc))
    return found


def environment(http_proxy='', https_proxy='', no_proxy=()):
    """The proxy environment of a task or a daemon: each set value under both spellings, and the
    no-proxy list joined with commas. Empty when no proxy is set (no_proxy alone means nothing)."""
    if not http_proxy and not https_proxy:
        return {}
    env = {}
    for name, value in zip(NAMES, (http_proxy, https_proxy, ','.join(no_proxy_list(no_proxy)))):
        if value:
            env[name] = env[name.upper()] = value
    return env
