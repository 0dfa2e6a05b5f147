# -*- coding: utf-8 -*-
# Copyright: lticontainer.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""canonical_sans: subjectAltName entries as community.crypto's info modules print them, for comparing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible.module_utils.common.text.converters import to_text


def canonical_sans(values):
    result = []
    for value in values:
        kind, sep, name = to_text(value).partition(':')
        if sep and kind == 'IP':
            try:
                name = str(ipaddress.ip_address(name))
            except ValueError:
                pass
        result.append(kind + sep + name)
    return result


class FilterModule(object):
    def filters(self):
        return {'canonical_sans': canonical_sans}
