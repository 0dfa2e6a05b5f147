#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) lticontainer.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: hub_config
short_description: Render the JupyterHub and LTIContainerSpawner configuration files
description:
  - Writes C(jupyterhub_lticontainer_config.py) (O(kind=hub)) or C(lticontainerspawner_config.py)
    (O(kind=spawner)), the two Python files JupyterHub loads for LTIContainerSpawner,
    from validated settings.
  - All settings are validated first; on any error the module fails, listing every error,
    before anything is touched. Secret values are never quoted in error messages.
  - The rendered text is compiled to prove it is valid Python, then written atomically.
    The file is changed only when its content or attributes differ.
  - Secrets that live in files (the JupyterHub crypt key, the proxy token) are read by the
    rendered configuration at hub start; they are never written into it.
    The LTI consumer secret and the API token are written into the hub file, so keep its O(mode) restrictive.
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
      - V(spawner) renders the spawner configuration (C(lticontainerspawner_config.py)),
        which the hub file star-imports from the C(spawner_dir) setting.
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
      - The settings for O(kind). Unknown keys are an error. Keys with a null value take their default.
      - Integers, floats and booleans may also be given as strings.
      - "O(kind=hub) keys:
        C(ip_addr) (required) IPv4/IPv6 address the hub binds to (C(my_ip_addr));
        C(port) (default V(443)) HTTPS port;
        C(hub_api_port) (default V(8081)) internal hub API port, different from C(port);
        C(lti_consumer_key) (required) LTI 1.1 consumer key, no whitespace;
        C(lti_consumer_secret) (required, secret) LTI 1.1 shared secret, at least 16 characters;
        C(api_token) (required, secret) token Moodle uses for the hub API (service C(admin-service)), at least 8 characters;
        C(ssl_cert), C(ssl_key) (required) absolute paths of the TLS certificate and key;
        C(time_zone) (default V(JST-9)) also exported as C(TZ);
        C(time_format) (default V(%Y %b %d %a %H:%M:%S));
        C(username_key) (default V(ext_user_username)) one of V(ext_user_username), V(custom_lis_user_username),
        V(ext_d2l_username), V(lis_person_sourcedid), V(user_id);
        C(crypt_key_file) (required) absolute path of the file holding C(JUPYTERHUB_CRYPT_KEY), read at start;
        C(cookie_secret_file) (default V(/var/lib/jupyterhub/jupyterhub_cookie_secret));
        C(db_url) (default V(sqlite:////var/lib/jupyterhub/jupyterhub.sqlite));
        C(spawner_dir) (default V(/usr/local/etc/ltictr)) directory holding C(lticontainerspawner.py)
        and C(lticontainerspawner_config.py);
        C(image) (required) default single-user image;
        C(privileged) (default V(false)) run containers privileged;
        C(start_timeout) (default V(120)) seconds, > 0;
        C(concurrent_spawn_limit) (default V(200)), > 0;
        C(admin_users) (default V([admin])) list of hub admin user names."
      - "The API token's role gets exactly the scopes Moodle's calls need:
        C(list:users), C(read:users), C(read:servers), C(delete:servers), C(delete:users)."
      - "Upstream example values, values made of one repeated character and values containing
        C(example) or C(changeme) are refused for C(lti_consumer_key), C(lti_consumer_secret) and C(api_token)."
      - "O(kind=spawner) keys:
        C(use_group) (default V(true));
        C(group_home_dir) (default V(/home/{groupname})) absolute;
        C(user_home_dir) (default V(/home/{groupname}/{username})) absolute, must contain C({username});
        C(projects_dir) (default V(jupyter)), C(works_dir) (default V(works)), C(volumes_dir) (default V(.volumes))
        single directory names;
        C(notebook_dir) (default the value of C(user_home_dir)) path inside the container;
        C(default_group) (default V(others)) group for users unknown to the host;
        C(teacher_gid) (default V(7000)) 1000-60000;
        C(base_id) (default V(30000)) >= 1000;
        C(act_limit) (default V(6000)) seconds, >= 0;
        C(cpu_limit) (default V(1.0)) CPUs, >= 0, 0 means no limit;
        C(mem_limit) (default V(1073741824)) bytes, >= 0, 0 means no limit; also V(512M), V(1G), V(2,147,483,648);
        C(default_url) (default V(/lab)) must match C(^/[a-z/]*$);
        C(http_timeout) (default V(60)), C(notice_poll) (default V(60)) seconds, > 0;
        C(iframe_url) (default V(https://*)) CSP frame-ancestors source(s) allowed to embed the hub;
        C(proxy_should_start) (default V(true)) false when ltictr_proxy replaces configurable-http-proxy;
        C(proxy_cleanup) (default V(true));
        C(proxy_api_url) (default V(http://localhost:8001)) http(s) URL;
        C(proxy_token_file) (required) absolute path of the file holding the proxy API token, read at start;
        C(environment) (default V({})) container environment, merged over
        C(GRANT_SUDO=no), C(PRJCT_DIR=<projects_dir>), C(WORK_DIR=<works_dir>), C(VOLUME_DIR=<volumes_dir>),
        C(NB_UMASK=0037), C(CONDA_DIR=/opt/conda), C(CHOWN_HOME=yes), C(CHOWN_HOME_OPTS=-R); values must be strings."
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
    description: Returns the old and new file text (secrets masked).
  platform:
    platforms: posix
    support: full
    description: Runs on the JupyterHub host.
'''

EXAMPLES = r'''
- name: Render the spawner configuration
  lticontainer.hub.hub_config:
    path: /usr/local/etc/ltictr/lticontainerspawner_config.py
    kind: spawner
    variable_prefix: jupyterhub_
    settings:
      proxy_token_file: /etc/jupyterhub/proxy_token
      mem_limit: 2G
      environment:
        TZ: Asia/Tokyo
    mode: "0644"

- name: Render the hub configuration
  lticontainer.hub.hub_config:
    path: /usr/local/etc/ltictr/jupyterhub_lticontainer_config.py
    kind: hub
    variable_prefix: jupyterhub_
    settings:
      ip_addr: "{{ ansible_default_ipv4.address }}"
      lti_consumer_key: "{{ jupyterhub_lti_consumer_key }}"
      lti_consumer_secret: "{{ jupyterhub_lti_consumer_secret }}"
      api_token: "{{ jupyterhub_api_token }}"
      ssl_cert: /etc/ssl/certs/jh.crt
      ssl_key: /etc/ssl/private/jh.key
      crypt_key_file: /etc/jupyterhub/crypt_key
      image: ghcr.io/jupyter-fumihax/jupyterhub-ltictr.singleuser
    owner: root
    group: root
    mode: "0600"
'''

RETURN = r'''
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
errors:
  description: Every validation error, each starting with O(variable_prefix) and the setting name.
  returned: when the settings are invalid
  type: list
  elements: str
  sample: ["jupyterhub_api_token: must be at least 8 characters"]
'''

import hashlib
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible_collections.lticontainer.hub.plugins.module_utils.hub_config import (
    KINDS, render, secret_values, validate,
)


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

    content = render(kind, values)
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

    result = dict(changed=changed, path=path, checksum=hashlib.sha1(b_content).hexdigest())
    if module._diff:
        result['diff'] = dict(before=to_native(before or b'', errors='surrogate_or_strict'),
                              after=content, before_header=path, after_header=path)

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
