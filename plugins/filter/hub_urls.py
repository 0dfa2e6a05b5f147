# -*- coding: utf-8 -*-
# Copyright: lticontainer.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""hub_urls: the HTTPS URLs a hub's proxy serves, the main one first (IPv4 and IPv6)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.lticontainer.hub.plugins.module_utils.addresses import hub_urls


class FilterModule(object):
    def filters(self):
        return {'hub_urls': hub_urls}
