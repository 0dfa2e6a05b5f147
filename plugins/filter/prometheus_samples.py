# -*- coding: utf-8 -*-
# Copyright: lticontainer.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""prometheus_samples: Prometheus' text exposition format (what /hub/metrics answers) as data."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError

# name{label="value",...} value [timestamp]; label values escape \\, \" and \n.
_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$')
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?')
_UNESCAPE = {'\\\\': '\\', '\\"': '"', '\\n': '\n'}


def _labels(text, line):
    labels, pos = {}, 0
    while pos < len(text):
        match = _LABEL.match(text, pos)
        if not match:
            raise AnsibleFilterError('prometheus_samples: cannot read the labels of %r' % line)
        labels[match.group(1)] = re.sub(r'\\[\\"n]', lambda m: _UNESCAPE[m.group(0)], match.group(2))
        pos = match.end()
    return labels


def prometheus_samples(text):
    """Every sample of an exposition as {name, labels, value}; comments and blank lines skipped."""
    samples = []
    for line in str(text).splitlines():
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        match = _SAMPLE.match(line)
        if not match:
            raise AnsibleFilterError('prometheus_samples: not a Prometheus sample: %r' % line)
        try:
            value = float(match.group(3))
        except ValueError:
            raise AnsibleFilterError('prometheus_samples: not a number in %r' % line)
        samples.append({'name': match.group(1), 'labels': _labels(match.group(2) or '', line), 'value': value})
    return samples


class FilterModule(object):
    def filters(self):
        return {'prometheus_samples': prometheus_samples}
