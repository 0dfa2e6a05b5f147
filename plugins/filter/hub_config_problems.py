# -*- coding: utf-8 -*-
# Copyright: lticontainer.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""hub_config_problems: the errors lticontainer.hub.hub_config would stop at, found on the controller."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.lticontainer.hub.plugins.module_utils.hub_config import validate


def hub_config_problems(settings, kind, variable_prefix=''):
    return validate(str(kind), settings, str(variable_prefix))[1]


class FilterModule(object):
    def filters(self):
        return {'hub_config_problems': hub_config_problems}
