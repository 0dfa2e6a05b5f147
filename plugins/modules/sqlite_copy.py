#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lticontainer.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: sqlite_copy
short_description: Copy an SQLite database consistently, also while it is in use
description:
  - Copies the SQLite database O(src) to O(dest) with SQLite's online backup API, so the copy is one consistent
    state of the database even while a program (a running JupyterHub) writes to it. A plain file copy of a
    database in use can catch half a transaction.
  - The copy is written beside O(dest), checked with C(PRAGMA integrity_check), and then renamed over O(dest) in one
    step; journal files (C(-journal), C(-wal), C(-shm)) left beside a replaced O(dest) are removed.
  - O(src) is opened read-only; nothing is written to it.
  - Used by the hub_backup role for the hub database in archives and before upgrades, and to put a copy back
    (with the hub stopped).
version_added: 1.0.0
author:
  - lticontainer.hub contributors
options:
  src:
    description: The database to copy, on the managed host.
    type: path
    required: true
  dest:
    description: Where the copy goes; its directory must exist. An existing file there is replaced.
    type: path
    required: true
  timeout:
    description: Seconds to wait for a lock held by a writer of O(src).
    type: int
    default: 30
extends_documentation_fragment:
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    description: Checks O(src) and reports what it holds; writes nothing.
  diff_mode:
    support: none
  platform:
    platforms: posix
    support: full
    description: Runs where the database is, with Python's C(sqlite3).
notes:
  - Every run makes a new copy, so the module always reports RV(changed=true).
'''

EXAMPLES = r'''
- name: Copy the hub database while the hub runs
  lticontainer.hub.sqlite_copy:
    src: /var/lib/jupyterhub/jupyterhub.sqlite
    dest: /var/backups/lticontainer-hub/jupyterhub.sqlite
    owner: root
    group: root
    mode: "0600"
  register: copy

- name: Put it back, with the hub stopped
  lticontainer.hub.sqlite_copy:
    src: /var/backups/lticontainer-hub/jupyterhub.sqlite
    dest: /var/lib/jupyterhub/jupyterhub.sqlite
    mode: "0600"
'''

RETURN = r'''
integrity:
  description: Result of C(PRAGMA integrity_check) on the copy (on O(src) in check mode); always V(ok) on success.
  returned: success
  type: str
  sample: ok
tables:
  description: Rows in each table of the copy.
  returned: success
  type: dict
  sample: {users: 12, servers: 3, alembic_version: 1}
size:
  description: Size of the copy in bytes.
  returned: success, not in check mode
  type: int
  sample: 135168
sha256:
  description: sha256 of the copy.
  returned: success, not in check mode
  type: str
  sample: 0c3b5f2f0c1c8a6f2b1e4f1b1d8e6a0f4c2b9a7d5e3f1a0b9c8d7e6f5a4b3c2d
'''

import os
import sqlite3

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native
from ansible_collections.lticontainer.hub.plugins.module_utils.sqlite_copy import CopyError, copy_database, describe


def main():
    module = AnsibleModule(
        argument_spec=dict(
            src=dict(type='path', required=True),
            dest=dict(type='path', required=True),
            timeout=dict(type='int', default=30),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    src, dest = module.params['src'], module.params['dest']
    try:
        if module.check_mode:
            if not os.path.isfile(src):
                raise CopyError('%s does not exist' % src)
            module.exit_json(changed=True, src=src, dest=dest, **describe(src))
        # The copy is made 0600 (mkstemp); the wanted attributes are applied once it is in place.
        info = copy_database(src, dest, timeout=module.params['timeout'])
    except (CopyError, sqlite3.Error, OSError) as exc:
        module.fail_json(msg=to_native(exc), src=src, dest=dest)
    file_args = module.load_file_common_arguments(module.params, path=dest)
    module.set_fs_attributes_if_different(file_args, True)
    module.exit_json(changed=True, src=src, dest=dest, **info)


if __name__ == '__main__':
    main()
