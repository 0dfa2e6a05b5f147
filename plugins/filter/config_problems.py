# -*- coding: utf-8 -*-
# Copyright: lticontainer.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""config_problems: what hub_config would refuse in a role's settings, found on the controller."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.lticontainer.hub.plugins.module_utils.hub_config import validate


def config_problems(settings, kind, prefix=''):
    return validate(str(kind), settings, str(prefix))[1]


class FilterModule(object):
    def filters(self):
        return {'config_problems': config_problems}
