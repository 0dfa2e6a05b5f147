# -*- coding: utf-8 -*-
# Copyright: lticontainer.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""url_host: a host name or address as a URL takes it (an IPv6 literal in brackets)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.lticontainer.hub.plugins.module_utils.addresses import url_host


class FilterModule(object):
    def filters(self):
        return {'url_host': url_host}
