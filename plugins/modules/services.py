#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lticontainer.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: services
short_description: Start and enable a role's systemd units, in order, in one module run
description:
  - Makes each unit of O(names) enabled and running, as M(ansible.builtin.systemd_service) with
    C(state=started) and C(enabled=true) would, but reads every unit's state with one C(systemctl show)
    and acts only on the units that need it. A loop of M(ansible.builtin.systemd_service) costs a module
    run per unit even when every unit already runs.
  - Units are started one after the other, in the order given (a guard before the service it guards).
  - Reloads systemd first when a unit's file changed on disk or a unit is not loaded yet, as
    C(daemon_reload=true) would, and only then.
version_added: 1.0.0
author:
  - lticontainer.hub contributors
options:
  names:
    description: The units, in the order they start. A name without a suffix is a C(.service).
    type: list
    elements: str
    required: true
  started:
    description:
      - With V(false), the units are only enabled (a time service in a container, where the host keeps the clock
        and the unit refuses to start).
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Reports the units that would be enabled or started; changes nothing, not even a reload.
  diff_mode:
    support: full
    description: Each changed unit's state before and after.
  platform:
    platforms: posix
    support: full
requirements:
  - systemd
'''

EXAMPLES = r'''
- name: Start and enable the guard of the hub's ports, the proxy and the hub
  lticontainer.hub.services:
    names: [lticontainer-hub-guard, configurable-http-proxy, jupyterhub]
  notify: Wait for JupyterHub
'''

RETURN = r'''
enabled:
  description: The units enabled (in check mode, those that would be).
  returned: always
  type: list
  elements: str
  sample: [jupyterhub]
started:
  description: The units started, in order (in check mode, those that would be).
  returned: always
  type: list
  elements: str
  sample: [jupyterhub]
'''

from ansible.module_utils.basic import AnsibleModule

PROPERTIES = ('LoadState', 'ActiveState', 'UnitFileState', 'NeedDaemonReload')
# What `systemctl is-enabled` answers 0 for, as ansible.builtin.systemd_service reads it.
ENABLED = ('enabled', 'enabled-runtime', 'static', 'alias', 'indirect', 'generated', 'transient')
RUNNING = ('active', 'activating', 'reloading')


class Systemctl(object):
    def __init__(self, module):
        self.module = module
        self.bin = module.get_bin_path('systemctl', required=True)

    def run(self, *args):
        rc, out, err = self.module.run_command([self.bin] + list(args))
        if rc != 0:
            self.module.fail_json(msg='systemctl %s failed: %s' % (' '.join(args), (err or out).strip()),
                                  rc=rc, stdout=out, stderr=err)
        return out

    def show(self, names):
        """Each unit's properties, in the order of names: systemctl prints a block per unit."""
        out = self.run('show', '--property=' + ','.join(PROPERTIES), '--', *names)
        blocks = [dict(line.split('=', 1) for line in block.splitlines() if '=' in line)
                  for block in out.strip().split('\n\n')]
        if len(blocks) != len(names):
            self.module.fail_json(msg='systemctl show printed %d units for %d names' % (len(blocks), len(names)),
                                  stdout=out)
        return dict(zip(names, blocks))


def describe(state):
    return '%s, %s' % (state.get('ActiveState', 'unknown'), state.get('UnitFileState') or 'no unit file')


def main():
    module = AnsibleModule(
        argument_spec=dict(
            names=dict(type='list', elements='str', required=True),
            started=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    names = module.params['names']
    systemctl = Systemctl(module)
    states = systemctl.show(names)
    stale = [n for n in names if states[n].get('LoadState') != 'loaded' or states[n].get('NeedDaemonReload') == 'yes']
    if stale and not module.check_mode:
        systemctl.run('daemon-reload')
        states = systemctl.show(names)
        missing = [n for n in names if states[n].get('LoadState') != 'loaded']
        if missing:
            module.fail_json(msg='No such unit: %s' % ', '.join(missing),
                             units=dict((n, states[n]) for n in missing))
    # In check mode a unit not loaded yet is one an earlier task would have installed.
    to_enable = [n for n in names if states[n].get('UnitFileState') not in ENABLED]
    to_start = [n for n in names if module.params['started'] and states[n].get('ActiveState') not in RUNNING]
    if not module.check_mode:
        if to_enable:
            systemctl.run('enable', '--', *to_enable)
        for name in to_start:
            systemctl.run('start', '--', name)
    changed_units = [n for n in names if n in to_enable or n in to_start]
    result = dict(changed=bool(changed_units), enabled=to_enable, started=to_start)
    if module._diff:
        result['diff'] = dict(
            before=''.join('%s: %s\n' % (n, describe(states[n])) for n in changed_units),
            after=''.join('%s: %s\n' % (n, describe(dict(
                ActiveState='active' if n in to_start else states[n].get('ActiveState'),
                UnitFileState='enabled' if n in to_enable else states[n].get('UnitFileState'))))
                for n in changed_units))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
