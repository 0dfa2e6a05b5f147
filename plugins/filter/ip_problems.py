# -*- coding: utf-8 -*-
# Copyright: lticontainer.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ip_problems: what is wrong with a role's address or network variable, for its preflight checks."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.six import string_types

from ansible_collections.lticontainer.hub.plugins.module_utils.addresses import address_problem, network_problem


def ip_problems(value, variable, networks=False, any_host=False, unspecified=False):
    if networks:
        if isinstance(value, string_types) or not isinstance(value, (list, tuple)):
            return ['%s must be a list of addresses or CIDR networks (got %r).' % (variable, value)]
        found = [(item, network_problem(item, any_host)) for item in value]
    else:
        found = [(value, address_problem(value, unspecified))]
    return ['%s: %r %s.' % (variable, item, problem) for item, problem in found if problem]


class FilterModule(object):
    def filters(self):
        return {'ip_problems': ip_problems}
