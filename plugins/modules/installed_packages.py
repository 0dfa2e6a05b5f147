#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lticontainer.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: installed_packages
short_description: The installed packages as ansible_facts.packages, from the package database
description:
  - Sets C(ansible_facts.packages) as M(ansible.builtin.package_facts) does (a list per package name, each entry with
    C(name), C(version), C(arch) and C(source)), from one C(dpkg-query) or C(rpm -qa) of the package database.
  - M(ansible.builtin.package_facts) opens python-apt's cache of every package the repositories list (some 60,000 on
    Debian) to find the few hundred installed, which takes a second on every converge; this takes a few milliseconds.
  - Only installed packages are listed. On Debian and Ubuntu, those are the packages whose dpkg status is
    C(installed); a package removed with its configuration kept, or half installed, is not listed.
version_added: 1.0.0
author:
  - lticontainer.hub contributors
options: {}
attributes:
  check_mode:
    support: full
    description: Reads the package database in check mode too.
  diff_mode:
    support: none
  facts:
    support: full
  platform:
    platforms: posix
    support: full
    description: Hosts with C(dpkg-query) (Debian, Ubuntu) or C(rpm) (Rocky Linux, RHEL).
'''

EXAMPLES = r'''
- name: Gather the installed packages
  lticontainer.hub.installed_packages:

- name: Install what is missing
  ansible.builtin.package:
    name: "{{ wanted }}"
  when: wanted | difference(ansible_facts.packages) | length > 0
'''

RETURN = r'''
ansible_facts:
  description: The installed packages.
  returned: always
  type: dict
  contains:
    packages:
      description: Each installed package's name, with a list of its installed versions.
      type: dict
      sample: {bash: [{name: bash, version: 5.2.15-2+b7, arch: amd64, source: apt}]}
'''

from ansible.module_utils.basic import AnsibleModule

# A tab between fields: neither a name, a version nor an architecture holds one.
QUERIES = (
    ('dpkg-query', 'apt', ['--show', '--showformat', '${db:Status-Status}\\t${Package}\\t${Version}\\t${Architecture}\\n']),
    ('rpm', 'rpm', ['--query', '--all', '--queryformat', 'installed\\t%{NAME}\\t%{VERSION}-%{RELEASE}\\t%{ARCH}\\n']),
)


def main():
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    for program, source, args in QUERIES:
        path = module.get_bin_path(program)
        if path:
            break
    else:
        module.fail_json(msg='Neither dpkg-query nor rpm is on this host.')
    # The same output whatever the host's language.
    rc, out, err = module.run_command([path] + args, environ_update=dict(LC_ALL='C'))
    if rc != 0:
        module.fail_json(msg='%s failed: %s' % (program, err.strip()), rc=rc)
    packages = {}
    for line in out.splitlines():
        fields = line.split('\t')
        if len(fields) == 4 and fields[0] == 'installed':
            packages.setdefault(fields[1], []).append(
                dict(name=fields[1], version=fields[2], arch=fields[3], source=source))
    module.exit_json(changed=False, ansible_facts=dict(packages=packages))


if __name__ == '__main__':
    main()
