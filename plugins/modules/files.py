#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lticontainer.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: files
short_description: Put a role's small files and directories in place in one module run
description:
  - Makes each entry of O(files) a directory, a file with the given content, or absent, with its owner, group and
    mode, as M(ansible.builtin.file) and M(ansible.builtin.copy) would, but in one run on the host.
    A M(ansible.builtin.template) or M(ansible.builtin.copy) task costs five executions on the host even when its
    file is already right; a role with ten such files spends seconds of every converge on them.
  - All or nothing. Every new content is written to a temporary file and checked with its O(files[].validate)
    command before any entry is changed, so a content that fails its check leaves the host as it was.
    Each file is then replaced in one rename.
  - Templates are rendered on the controller, with the M(ansible.builtin.template) lookup.
  - The roles group their files by the handler a change must notify, one task per group.
version_added: 1.0.0
author:
  - lticontainer.hub contributors
options:
  files:
    description: What to put in place, in order (a directory before the files in it).
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: The file or directory on the host.
        type: path
        required: true
      state:
        description:
          - V(file) writes O(files[].content) or a copy of O(files[].src), and makes its missing parent directories
            (mode 0755, owned by the module's user);
            V(directory) makes the directory and its missing parents; V(absent) removes a file or an empty directory;
            V(attributes) gives a file or directory that must exist its owner, group and mode, and leaves its content
            alone (a file another module writes); V(link) makes a symbolic link to O(files[].src), replacing a file or
            link there in one rename (its owner, group and mode are not set).
        type: str
        choices: [file, directory, absent, attributes, link]
        default: file
      content:
        description: The file's content. Exactly one of O(files[].content) and O(files[].src) with V(file).
        type: str
      src:
        description: With V(file), a file on the host whose content is copied; with V(link), the link's target.
        type: path
      force:
        description: With V(false), a file that exists is left as it is, content and attributes (a generated secret).
        type: bool
        default: true
      validate:
        description: A command run on the new content before anything is changed, with C(%s) for its path.
        type: str
      owner:
        description: The owner's name or uid.
        type: str
      group:
        description: The group's name or gid.
        type: str
      mode:
        description: The mode, as M(ansible.builtin.file) takes it (a quoted octal string such as V("0644")).
        type: raw
attributes:
  check_mode:
    support: full
    description: Reports what would change and runs each O(files[].validate); writes nothing.
  diff_mode:
    support: full
    description: A diff of each changed text file's content.
  platform:
    platforms: posix
    support: full
notes:
  - Put C(no_log) on a task whose contents are secrets.
'''

EXAMPLES = r'''
- name: Write the guard's rule and the unit that applies it
  lticontainer.hub.files:
    files:
      - path: /etc/nftables.d
        state: directory
        mode: "0755"
      - path: /etc/nftables.d/hub-guard.nft
        content: "{{ lookup('ansible.builtin.template', 'hub-guard.nft.j2') }}"
        validate: /usr/sbin/nft -c -f %s
        mode: "0644"
      - path: /etc/systemd/system/hub-guard.service
        content: "{{ lookup('ansible.builtin.template', 'hub-guard.service.j2') }}"
        mode: "0644"
  notify: Apply the guard

- name: Generate a secret once
  lticontainer.hub.files:
    files:
      - path: /var/lib/jupyterhub/crypt_key
        content: "{{ lookup('ansible.builtin.password', '/dev/null', chars=['hexdigits'], length=64) }}"
        force: false
        mode: "0600"
  no_log: true
'''

RETURN = r'''
changed_paths:
  description: The entries changed (in check mode, those that would change), in the order given.
  returned: always
  type: list
  elements: str
  sample: [/etc/nftables.d/hub-guard.nft]
'''

import os
import shlex
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def text(b_content):
    try:
        return b_content.decode('utf-8')
    except UnicodeDecodeError:
        return None


def make_parents(b_dir):
    """Make the missing directories, 0755 whatever the umask: a drop-in directory must be readable
    by the daemons that read it."""
    if os.path.isdir(b_dir):
        return
    make_parents(os.path.dirname(b_dir))
    os.mkdir(b_dir)
    os.chmod(b_dir, 0o755)


def plan_file(module, entry):
    """The new content of a file entry, checked, in a temporary file; None when the file is right."""
    path, b_path = entry['path'], to_bytes(entry['path'], errors='surrogate_or_strict')
    if os.path.isdir(b_path):
        module.fail_json(msg='%s is a directory' % path, path=path)
    exists = os.path.lexists(b_path)
    if exists and not entry['force']:
        return None, None
    if entry['src'] is not None:
        try:
            b_content = read(to_bytes(entry['src'], errors='surrogate_or_strict'))
        except (IOError, OSError) as exc:
            module.fail_json(msg='Cannot read %s for %s: %s' % (entry['src'], path, to_native(exc)), path=path)
    else:
        b_content = to_bytes(entry['content'], errors='surrogate_or_strict')
    b_before = read(b_path) if exists else None
    if b_before == b_content:
        return None, None
    b_dir = os.path.dirname(b_path)
    fd, tmp = tempfile.mkstemp(dir=b_dir if os.path.isdir(b_dir) else None, prefix=b'.lticontainer.')  # mode 0600
    with os.fdopen(fd, 'wb') as f:
        f.write(b_content)
    if entry['validate']:
        if '%s' not in entry['validate']:
            module.fail_json(msg='validate must contain %%s: %s' % entry['validate'], path=path)
        rc, out, err = module.run_command(shlex.split(entry['validate'] % to_native(tmp)))
        if rc != 0:
            os.unlink(tmp)
            module.fail_json(msg='The new content of %s failed %s (nothing was changed)' % (path, entry['validate']),
                             path=path, rc=rc, stdout=out, stderr=err)
    diff = dict(before_header=path, after_header=path,
                before=text(b_before or b''), after=text(b_content))
    return tmp, diff if None not in (diff['before'], diff['after']) else None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(type='list', elements='dict', required=True, options=dict(
                path=dict(type='path', required=True),
                state=dict(type='str', default='file', choices=['file', 'directory', 'absent', 'attributes', 'link']),
                content=dict(type='str'),
                src=dict(type='path'),
                force=dict(type='bool', default=True),
                validate=dict(type='str'),
                owner=dict(type='str'),
                group=dict(type='str'),
                mode=dict(type='raw'),
            ), mutually_exclusive=[('content', 'src')],
                required_if=[('state', 'file', ('content', 'src'), True), ('state', 'link', ('src',))]),
        ),
        supports_check_mode=True,
    )
    entries = module.params['files']
    changed_paths, diffs, temps = [], [], {}
    try:
        # Everything is read and checked before the first change.
        for index, entry in enumerate(entries):
            b_path = to_bytes(entry['path'], errors='surrogate_or_strict')
            if entry['state'] == 'attributes' and not os.path.lexists(b_path):
                module.fail_json(msg='%s does not exist' % entry['path'], path=entry['path'])
            if entry['state'] == 'link' and os.path.isdir(b_path) and not os.path.islink(b_path):
                module.fail_json(msg='%s is a directory' % entry['path'], path=entry['path'])
            if entry['state'] == 'file':
                tmp, diff = plan_file(module, entry)
                if tmp is not None:
                    temps[index] = tmp
                    if diff:
                        diffs.append(diff)
        for index, entry in enumerate(entries):
            path = entry['path']
            b_path = to_bytes(path, errors='surrogate_or_strict')
            changed = False
            if entry['state'] == 'absent':
                changed = os.path.lexists(b_path)
                if changed and not module.check_mode:
                    if os.path.isdir(b_path) and not os.path.islink(b_path):
                        os.rmdir(b_path)
                    else:
                        os.unlink(b_path)
            elif entry['state'] == 'directory':
                if os.path.lexists(b_path) and not os.path.isdir(b_path):
                    module.fail_json(msg='%s exists and is not a directory' % path, path=path)
                changed = not os.path.isdir(b_path)
                if changed and not module.check_mode:
                    os.makedirs(b_path)
            elif entry['state'] == 'link':
                b_src = to_bytes(entry['src'], errors='surrogate_or_strict')
                changed = not os.path.islink(b_path) or os.readlink(b_path) != b_src
                if changed and not module.check_mode:
                    make_parents(os.path.dirname(b_path))
                    tmp = b'%s.lticontainer.%d' % (b_path, os.getpid())
                    os.symlink(b_src, tmp)
                    os.rename(tmp, b_path)
            elif index in temps:
                changed = True
                if not module.check_mode:
                    make_parents(os.path.dirname(b_path))
                    # A new file is 0666 & ~umask between the rename and the mode below: keep it private.
                    old_umask = os.umask(0o077)
                    try:
                        module.atomic_move(temps.pop(index), b_path)
                    finally:
                        os.umask(old_umask)
            elif not entry['force'] and os.path.lexists(b_path):
                continue
            if entry['state'] not in ('absent', 'link') and os.path.lexists(b_path):
                file_args = module.load_file_common_arguments(entry, path=path)
                changed = module.set_fs_attributes_if_different(file_args, changed)
            if changed:
                changed_paths.append(path)
    finally:
        for tmp in temps.values():
            if os.path.exists(tmp):
                os.unlink(tmp)
    result = dict(changed=bool(changed_paths), changed_paths=changed_paths)
    if module._diff:
        result['diff'] = diffs
    module.exit_json(**result)


if __name__ == '__main__':
    main()
