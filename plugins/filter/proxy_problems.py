# -*- coding: utf-8 -*-
# Copyright: lticontainer.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""proxy_problems: what is wrong with a role's outbound proxy variables, for its preflight checks."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.lticontainer.hub.plugins.module_utils.proxy import problems


def proxy_problems(prefix, http_proxy, https_proxy, no_proxy):
    return problems(str(prefix), http_proxy, https_proxy, no_proxy)


class FilterModule(object):
    def filters(self):
        return {'proxy_problems': proxy_problems}
