# -*- coding: utf-8 -*-
# Copyright: lticontainer.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""proxy_env: a role's outbound proxy as the environment of the tasks and daemons that reach the network."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.lticontainer.hub.plugins.module_utils.proxy import environment


def proxy_env(http_proxy, https_proxy='', no_proxy=()):
    try:
        return environment(http_proxy or '', https_proxy or '', no_proxy or ())
    except ValueError as exc:
        raise AnsibleFilterError('proxy_env: no_proxy %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'proxy_env': proxy_env}
