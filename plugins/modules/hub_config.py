#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) lticontainer.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: hub_config
short_description: Render the JupyterHub and LTIContainerSpawner configuration files
description:
  - Writes C(jupyterhub_lticontainer_config.py) (O(kind=hub)) or C(lticontainerspawner_config.py)
    (O(kind=spawner)), the two Python files JupyterHub loads for LTIContainerSpawner, from validated settings.
  - All settings are validated first; on any error the module fails, listing every error,
    before anything is touched. Secret values are never quoted in error messages.
  - The rendered text is compiled to prove it is valid Python, then written atomically.
    The file is changed only when its content or attributes differ.
  - The hub file loads the spawner file with C(load_subconfig); it records the sha256 of the files the hub
    depends on (O(settings) C(watch_files)), so that a change to any of them changes the hub file. The spawner
    file likewise records the sha256 of the spawner class it imports.
  - Secrets that live in files (the JupyterHub crypt key, the proxy token) are read by the rendered
    configuration at hub start; they are never written into it. The LTI consumer secret and the API token
    are written into the hub file, so keep its O(mode) restrictive; diffs mask them, before and after.
version_added: 1.0.0
author:
  - lticontainer.hub contributors
options:
  path:
    description: Path of the file to write. Its directory must exist.
    type: path
    required: true
  kind:
    description:
      - V(hub) renders the hub configuration (C(jupyterhub_lticontainer_config.py)).
      - V(spawner) renders the spawner configuration (C(lticontainerspawner_config.py)), a traitlets
        configuration file the hub file loads.
    type: str
    required: true
    choices: [hub, spawner]
  variable_prefix:
    description:
      - "Prefix put before each setting name in error messages, so that a role reports
        its own variable names (for example V(jupyterhub_) gives C(jupyterhub_api_token: ...))."
    type: str
    default: ''
  settings:
    description:
      - The settings for O(kind). Unknown keys are an error. Every key is required unless marked optional,
        since the roles own the values. Integers, floats and booleans may also be given as strings.
      - "O(kind=hub) keys:
        C(ip_addr) IPv4/IPv6 address (not C(0.0.0.0) or C(::)) the hub binds to and the students' containers call;
        C(port) HTTPS port the proxy serves; C(hub_api_port) the hub API's plain HTTP port;
        C(proxy_api_port) the proxy's API port on 127.0.0.1 (the three ports differ);
        C(proxy_env_file) absolute path of the systemd EnvironmentFile holding C(CONFIGPROXY_AUTH_TOKEN=...), read at start;
        C(proxy) what serves C(port) and the proxy API as its own unit, V(configurable-http-proxy) or V(ltictr_proxy)
        (upstream's, whose C(ltictr_api_server) speaks the same API with the same token); the hub starts neither;
        C(lti_consumer_key) LTI 1.1 consumer key, no whitespace;
        C(lti_consumer_secret) (secret) LTI 1.1 shared secret, at least 16 characters;
        C(api_token) (secret) token Moodle uses for the hub API (service C(admin-service)), at least 8 characters;
        C(metrics_token) (secret, optional) token of the C(metrics) service, scope C(read:metrics) only, for
        Prometheus to scrape C(/hub/metrics); at least 16 characters, not the API token; empty (the default): no such service;
        C(time_zone) exported as C(TZ);
        C(username_key) one of V(ext_user_username), V(custom_lis_user_username), V(ext_d2l_username),
        V(lis_person_sourcedid), V(user_id);
        C(crypt_key_file) absolute path of the file holding C(JUPYTERHUB_CRYPT_KEY), read at start;
        C(cookie_secret_file), C(db_url);
        C(concurrent_spawn_limit) > 0;
        C(admin_users) list of hub administrators, may be empty;
        C(frame_ancestors) CSP C(frame-ancestors) sources allowed to embed the hub;
        C(frame_ancestors_allow_wildcard) whether C(frame_ancestors) may hold a source that allows any site of a scheme
        (C(*), C(https:), C(https://*), C(https://*.example.org)), refused otherwise;
        C(spawner_config) (optional) absolute path of the spawner's configuration file, loaded last;
        C(watch_files) (optional) absolute paths whose sha256 the file records."
      - "The API token's role gets exactly the scopes Moodle's calls need:
        C(list:users), C(read:users), C(read:servers), C(delete:servers), C(delete:users)."
      - "Upstream example values, values made of one repeated character and values containing
        C(example) or C(changeme) are refused for C(lti_consumer_key), C(lti_consumer_secret) and C(api_token)."
      - "The spawner file adds two hooks around upstream's class, which it does not change:
        C(Authenticator.post_auth_hook) refuses at login (HTTP 403 with the reason) LMS user names that do not match
        C(username_pattern), are in C(reserved_names) or name a system account of the host (outside C(UID_MIN)..C(UID_MAX)
        of C(/etc/login.defs)); C(Spawner.pre_spawn_hook) checks the name again and refuses a launch (the student sees why)
        with an image not allowed, before anything is pulled, or that upstream would run with a system uid or gid, another
        account's uid or a home outside its group's directory; it clamps CPU and memory and logs what it clamped."
      - "The hub spawns a subclass of upstream's class whose C(get_args) merges into the C(--ServerApp.tornado_settings)
        argument upstream passes the single-user server the header C(Content-Security-Policy: frame-ancestors 'self'
        <moodle_origin>) and C(xsrf_cookie_kwargs) C(SameSite=None), C(Secure), keeping upstream's keys, so that Moodle's
        iframe shows JupyterLab (the server's own default, C(frame-ancestors 'self'), refuses it). The value is one word
        that traitlets reads as a Python literal: no space or quote, escaped inside strings."
      - "O(kind=spawner) keys:
        C(spawner_dir) absolute path of the directory holding C(lticontainerspawner.py);
        C(image) default single-user image, one that C(allowed_images) or C(allowed_image_patterns) allows;
        C(allowed_images) (non-empty) and C(allowed_image_patterns) (C(fnmatch) patterns, may be empty) the images a launch's
        C(lms_image) may name, compared in Docker's familiar form with a tag (C(python) is C(python:latest));
        C(privileged) run containers privileged; C(no_new_privileges) start them with C(no-new-privileges);
        C(pids_limit) processes per container, >= 16;
        C(active_server_limit) servers running at once, an integer >= 0 (0 no limit) or V(auto) (the host's memory less
        2 GiB, in servers of C(mem_limit), when the hub starts);
        C(username_pattern) regular expression an LMS user name must fully match, refused when it accepts a name that starts
        with a dot or holds a path separator or a control character; C(reserved_names) names refused whatever the pattern;
        C(moodle_origin) Moodle's origin (scheme, host, optional port), the only site besides the hub that may frame a
        student's server;
        C(start_timeout), C(http_timeout) seconds, > 0;
        C(use_group); C(group_home_dir) absolute; C(user_home_dir) absolute, must contain C({username});
        C(projects_dir), C(works_dir), C(volumes_dir) single directory names;
        C(default_group) group for users unknown to the host; C(teacher_group) and C(teacher_gid) (1000-60000) the
        teachers' group; C(base_id) >= 1000; C(act_limit) seconds, >= 0;
        C(cpu_limit) CPUs when the launch asks for none, > 0 and at most C(max_cpu_limit);
        C(mem_limit) bytes when the launch asks for none, > 0 and at most C(max_mem_limit); also V(512M), V(1G), V(2,147,483,648);
        C(max_cpu_limit) and C(max_mem_limit) what a launch asking for more, for 0 or for something that is not a number gets;
        C(default_url) must match C(^/[a-z/]*$); C(notice_poll) seconds, > 0;
        C(environment) (optional) container environment, merged over
        C(GRANT_SUDO=no), C(PRJCT_DIR=<projects_dir>), C(WORK_DIR=<works_dir>), C(VOLUME_DIR=<volumes_dir>),
        C(NB_UMASK=0037), C(CONDA_DIR=/opt/conda), C(CHOWN_HOME=yes), C(CHOWN_HOME_OPTS=-R); values must be strings;
        C(container_proxy) (optional) the outbound proxy the students' containers get, a mapping of C(http_proxy) and
        C(https_proxy) (C(http://) or C(https://) URLs, empty for none) and C(no_proxy) (a list of hosts, domains and
        addresses): each set URL is passed as C(http_proxy)/C(HTTP_PROXY) and C(https_proxy)/C(HTTPS_PROXY), and
        C(no_proxy)/C(NO_PROXY) is that list followed by the hub's own address, which the spawner knows when it starts
        a server; entries of C(environment) win. Empty (the default), or neither URL set: no proxy variables."
    type: dict
    required: true
extends_documentation_fragment:
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    description: Reports whether the file would change; writes nothing.
  diff_mode:
    support: full
    description: Returns the old and new file text, the LTI secret and the API and metrics tokens masked in both.
  platform:
    platforms: posix
    support: full
    description: Runs on the JupyterHub host.
"""

EXAMPLES = r"""
- name: Render the spawner configuration
  lticontainer.hub.hub_config:
    path: /usr/local/etc/ltictr/lticontainerspawner_config.py
    kind: spawner
    variable_prefix: lticontainerspawner_
    settings:
      spawner_dir: /usr/local/etc/ltictr
      image: ghcr.io/jupyter-fumihax/jupyterhub-ltictr.singleuser:latest
      allowed_images: [ghcr.io/jupyter-fumihax/jupyterhub-ltictr.singleuser:latest]
      allowed_image_patterns: ["ghcr.io/myuni/*"]
      privileged: false
      no_new_privileges: true
      pids_limit: 1024
      active_server_limit: auto
      username_pattern: "[a-z0-9_][a-z0-9_.@-]{0,99}"
      reserved_names: [admin, administrator, root, docker, podman, jupyterhub]
      moodle_origin: https://moodle.example.ac.jp
      start_timeout: 120
      http_timeout: 60
      use_group: true
      group_home_dir: /home/{groupname}
      user_home_dir: /home/{groupname}/{username}
      projects_dir: jupyter
      works_dir: works
      volumes_dir: .volumes
      default_group: others
      teacher_group: TEACHER
      teacher_gid: 7000
      base_id: 30000
      act_limit: 6000
      cpu_limit: 1.0
      max_cpu_limit: 2.0
      mem_limit: 2G
      max_mem_limit: 4G
      default_url: /lab
      notice_poll: 60
      environment:
        TZ: Asia/Tokyo
    mode: "0644"
  register: spawner

- name: Render the hub configuration, which loads the spawner's
  lticontainer.hub.hub_config:
    path: /usr/local/etc/ltictr/jupyterhub_lticontainer_config.py
    kind: hub
    variable_prefix: jupyterhub_
    settings:
      ip_addr: "{{ ansible_facts.default_ipv4.address }}"
      port: 443
      hub_api_port: 8081
      proxy_api_port: 8001
      proxy_env_file: /var/lib/jupyterhub/proxy.env
      proxy: configurable-http-proxy
      lti_consumer_key: "{{ jupyterhub_lti_consumer_key }}"
      lti_consumer_secret: "{{ jupyterhub_lti_consumer_secret }}"
      api_token: "{{ jupyterhub_api_token }}"
      time_zone: JST-9
      username_key: ext_user_username
      crypt_key_file: /var/lib/jupyterhub/jupyterhub_crypt_key
      cookie_secret_file: /var/lib/jupyterhub/jupyterhub_cookie_secret
      db_url: sqlite:////var/lib/jupyterhub/jupyterhub.sqlite
      concurrent_spawn_limit: 200
      admin_users: []
      frame_ancestors: "'self' https://moodle.example.ac.jp"
      frame_ancestors_allow_wildcard: false
      spawner_config: /usr/local/etc/ltictr/lticontainerspawner_config.py
      watch_files:
        - /usr/local/etc/ltictr/lticontainerspawner_config.py
        - /usr/local/etc/ltictr/lticontainerspawner.py
    owner: root
    group: root
    mode: "0600"
"""

RETURN = r"""
path:
  description: The file written (or that would be written in check mode).
  returned: always
  type: str
  sample: /usr/local/etc/ltictr/jupyterhub_lticontainer_config.py
checksum:
  description: SHA1 of the rendered content.
  returned: always
  type: str
  sample: 2a8c6f0e4e6c8d4b1f1d7a3b0e3c0b5f0f9a1c2d
watched:
  description: sha256 of each of the settings' C(watch_files), null for a file that does not exist.
  returned: with O(kind=hub)
  type: dict
  sample: {/usr/local/etc/ltictr/lticontainerspawner.py: b7b744d1281aae0f48a184b2ff78b0c90217a279cef1a4178f5801348856c11e}
spawner_class:
  description: The spawner class file in C(spawner_dir), when it exists; its version is upstream's header line.
  returned: with O(kind=spawner)
  type: dict
  contains:
    path:
      description: Path of C(lticontainerspawner.py).
      type: str
    sha256:
      description: Its sha256, null when the file does not exist (yet).
      type: str
    version:
      description: The version its header names, null when none is found.
      type: str
  sample: {path: /usr/local/etc/ltictr/lticontainerspawner.py, version: v1.4.4,
           sha256: b7b744d1281aae0f48a184b2ff78b0c90217a279cef1a4178f5801348856c11e}
errors:
  description: Every validation error, each starting with O(variable_prefix) and the setting name.
  returned: when the settings are invalid
  type: list
  elements: str
  sample: ["jupyterhub_api_token: must be at least 8 characters"]
"""

import hashlib
import os
import re
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible_collections.lticontainer.hub.plugins.module_utils.hub_config import (
    KINDS, mask_secret_lines, render, secret_values, validate,
)

CLASS_FILE = 'lticontainerspawner.py'
# Upstream's header: "# LTIContainerSpawner v1.4.4 for LTI by Fumi.Iseki".
VERSION_LINE = re.compile(r'LTIContainerSpawner\s+(v[0-9][0-9.]*)')


def sha256(path):
    """sha256 of a file, None when it does not exist."""
    digest = hashlib.sha256()
    try:
        with open(path, 'rb') as f:
            for block in iter(lambda: f.read(65536), b''):
                digest.update(block)
    except (IOError, OSError):
        return None
    return digest.hexdigest()


def spawner_class(spawner_dir):
    """Which spawner class file the spawner configuration will import."""
    path = os.path.join(spawner_dir, CLASS_FILE)
    info = dict(path=path, sha256=sha256(path), version=None)
    if info['sha256']:
        with open(path, 'rb') as f:
            match = VERSION_LINE.search(to_native(f.read(4096), errors='surrogate_or_strict'))
        info['version'] = match.group(1) if match else None
    return info


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            kind=dict(type='str', required=True, choices=list(KINDS)),
            settings=dict(type='dict', required=True, no_log=True),
            variable_prefix=dict(type='str', default=''),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    path, kind = module.params['path'], module.params['kind']
    settings = module.params['settings']
    # no_log on the dict masks every leaf value (ports, '0', paths ...) wherever it appears in
    # the output, which mangles path, checksum and diff; mask only the real secrets instead.
    module.no_log_values = set(secret_values(kind, settings))

    values, errors = validate(kind, settings, module.params['variable_prefix'])
    if errors:
        module.fail_json(msg='Invalid settings: ' + '; '.join(errors), errors=errors, path=path)

    if kind == 'hub':
        extra = dict(watched=dict((p, sha256(p)) for p in values['watch_files']))
        depends = extra['watched']
    else:
        extra = dict(spawner_class=spawner_class(values['spawner_dir']))
        depends = {extra['spawner_class']['path']: extra['spawner_class']['sha256']}
    content = render(kind, values, depends)
    try:
        compile(content, path, 'exec')
    except SyntaxError as exc:  # a bug in render(), never the user's input
        module.fail_json(msg='Rendered %s config is not valid Python: %s' % (kind, to_native(exc)))
    b_content = to_bytes(content, errors='surrogate_or_strict')

    b_path = to_bytes(path, errors='surrogate_or_strict')
    if os.path.isdir(b_path):
        module.fail_json(msg='%s is a directory' % path, path=path)
    before = None
    if os.path.exists(b_path):
        with open(b_path, 'rb') as f:
            before = f.read()
    changed = before != b_content

    result = dict(changed=changed, path=path, checksum=hashlib.sha1(b_content).hexdigest(), **extra)
    if module._diff:
        result['diff'] = dict(before=mask_secret_lines(to_native(before or b'', errors='surrogate_or_strict')),
                              after=mask_secret_lines(content), before_header=path, after_header=path)

    if changed and not module.check_mode:
        b_dir = os.path.dirname(b_path) or b'.'
        if not os.path.isdir(b_dir):
            module.fail_json(msg='Directory of %s does not exist' % path, path=path)
        fd, tmp = tempfile.mkstemp(dir=b_dir, prefix=b'.hub_config.')  # mode 0600
        try:
            with os.fdopen(fd, 'wb') as f:
                f.write(b_content)
            # atomic_move gives a new file 0666 & ~umask until set_fs_attributes applies `mode`;
            # a tight umask keeps the secrets unreadable to others in between.
            old_umask = os.umask(0o077)
            try:
                module.atomic_move(tmp, b_path, unsafe_writes=module.params['unsafe_writes'])
            finally:
                os.umask(old_umask)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    # In check mode with a new file there is nothing to compare attributes against.
    if os.path.exists(b_path):
        file_args = module.load_file_common_arguments(module.params, path=path)
        result['changed'] = module.set_fs_attributes_if_different(file_args, result['changed'])
    module.exit_json(**result)


if __name__ == '__main__':
    main()
