#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lticontainer.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: lti_launch
short_description: Launch JupyterHub like Moodle does (signed LTI 1.1) and check the spawned server
description:
  - Sends a signed LTI 1.1 launch (OAuth 1.0a HMAC-SHA1, form body) to C({url}/hub/lti/launch), the way
    Moodle's mod_lti does, with the LTIContainerSpawner custom parameters given in O(custom).
  - Then does what the student's "Start" button does (C(GET /hub/spawn) with the session cookie), polls the
    hub REST API C(GET /hub/api/users/NAME) with O(api_token) until the default server is ready, and measures
    the time from the launch to readiness.
  - When O(engine_socket) exists on the managed host, inspects the user's container (found by
    C(JUPYTERHUB_USER=NAME) in its environment) and returns its Id, image, CPU and memory limits, bind mounts,
    named volumes and the spawner's C(NB_*)/C(LTI_*) environment.
  - With O(tunnel_host), reaches the container engine the way Moodle's mod_lticontainer does, through an SSH
    socket forward made as a login-less tunnel user with a password, then lists what Moodle lists through it
    (image tags, all containers, volumes). See the notes.
  - Finally stops the server through the API (C(DELETE /hub/api/users/NAME/server)), as Moodle does, unless
    O(stop_server=false).
  - Uses only the Python standard library on the managed host and only the network address in O(url).
  - The hub accepts a launch only when its clock and the managed host's clock differ by less than 30 seconds.
version_added: 1.0.0
author:
  - lticontainer.hub contributors
attributes:
  check_mode:
    support: full
    description: Validates the options and returns RV(changed=true) without sending anything; a launch cannot be simulated.
  diff_mode:
    support: none
options:
  url:
    description:
      - Base URL of the hub as a browser or Moodle reaches it, for example V(https://hub.example.org),
        V(https://172.17.0.2:443) or, over IPv6, V(https://[2001:db8::10]/) (the address in brackets). The launch is
        signed over exactly this scheme, host and port.
      - May carry a path prefix when the hub runs under one; C(/hub/...) is appended to it.
    type: str
    required: true
  consumer_key:
    description: LTI consumer key the hub knows.
    type: str
    required: true
  consumer_secret:
    description: LTI shared secret of O(consumer_key).
    type: str
    required: true
  api_token:
    description:
      - Hub API token (the one Moodle uses) to poll the server's readiness and to stop it.
      - Needs the scopes C(read:users) and C(read:servers), and C(delete:servers) to stop the server.
    type: str
    required: true
  user_id:
    description: LMS user id (C(user_id)); the spawner needs it to be an integer.
    type: str
    default: '2'
  username:
    description:
      - Moodle user name, sent as C(ext_user_username), which the hub uses as its user name (lower-cased).
      - An empty string sends no C(ext_user_username); the hub user is then named after O(user_id).
    type: str
    default: lti-check
  roles:
    description: LTI roles, for example V(Learner) or V(Instructor) for a teacher.
    type: str
    default: Learner
  context_id:
    description: Course id (C(context_id)).
    type: str
    default: '1'
  resource_link_id:
    description: Activity id (C(resource_link_id)).
    type: str
    default: '1'
  lis_outcome_service_url:
    description: Moodle's outcome service URL; the spawner takes the Moodle host name from it.
    type: str
    default: https://moodle.example.org/mod/lti/service.php
  custom:
    description:
      - LTI custom parameters without the C(custom_) prefix, for example C(lms_image), C(lms_cpulimit),
        C(lms_memlimit), C(lms_vol_NAME), C(lms_sub_NAME). A key that already starts with C(custom_) is sent as is.
      - C(lms_sessioninfo=1,1) is added unless given, because the spawner refuses a launch without it.
    type: dict
    default: {}
  validate_certs:
    description: Verify the hub's TLS certificate.
    type: bool
    default: true
  ca_path:
    description: PEM file of the CA(s) to verify the hub's certificate with.
    type: path
  timeout:
    description: Seconds to wait for the user's server to become ready after the launch.
    type: int
    default: 120
  engine_socket:
    description:
      - Docker-compatible API socket (Docker or Podman) on the managed host. When it exists, the user's
        running container is inspected, and the module fails if there is none.
    type: path
    default: /var/run/docker.sock
  stop_server:
    description: Stop the user's server through the hub API after the checks.
    type: bool
    default: true
  tunnel_host:
    description:
      - Host name or address of the hub's container host for SSH, as Moodle's tunnel uses it (Moodle takes it
        from the JupyterHub URL). When set, the module opens Moodle's SSH socket tunnel before the launch,
        inspects the user's container through it instead of O(engine_socket), and lists images, containers
        and volumes through it.
      - Needs the C(ssh) client on the managed host (run the task on the Moodle host, or a stand-in, with
        C(delegate_to)).
    type: str
  tunnel_port:
    description: SSH port of O(tunnel_host).
    type: int
    default: 22
  tunnel_user:
    description: The tunnel user (Moodle's "container host user"), which logs in with a password only.
    type: str
    default: docker
  tunnel_password:
    description:
      - Password of O(tunnel_user). Required with O(tunnel_host).
      - Given to C(ssh) as Moodle does, through an C(SSH_ASKPASS) program that prints it from the C(ssh)
        child's environment; it is never on a command line, never written to a file and never returned.
    type: str
  tunnel_remote_socket:
    description:
      - The engine's API socket on O(tunnel_host) the tunnel forwards to; the tunnel user needs read and
        write access to it.
      - V(/var/run/docker.sock) for Docker, V(/var/run/podman/podman.sock) for Podman (Moodle's "use Podman").
    type: str
    default: /var/run/docker.sock
  tunnel_local_socket:
    description:
      - Local end of the tunnel on the managed host. Defaults to Moodle's C(/tmp/lticontainer_<tunnel_host>.sock).
      - A stale file at this path is removed first; a socket there that still accepts connections (a live
        tunnel, for example Moodle's own) is left alone and the module fails, so pick another path on a
        Moodle host whose tunnel is up.
    type: path
notes:
  - Each run logs the user in and spawns a server, so the module always reports RV(changed=true).
  - A refused launch (wrong key or secret, clock skew, replayed nonce) fails with RV(status=401).
  - "The SSH tunnel: Moodle runs C(ssh -oStrictHostKeyChecking=no -oServerAliveInterval=120
    -oServerAliveCountMax=3 -fNL /tmp/lticontainer_HOST.sock:REMOTE USER@HOST). The module runs the same
    forward without C(-f) (it owns the process and stops it at the end, also when the module fails), with
    password authentication only (C(PubkeyAuthentication=no), one prompt), no known-hosts bookkeeping and
    C(ExitOnForwardFailure=yes). It waits up to 15 seconds for the local socket to accept connections;
    otherwise it fails with the C(ssh) error, for example C(Permission denied) for a wrong password."
  - The local socket and the temporary askpass directory are removed when the module ends.
seealso:
  - name: LTI 1.1 implementation guide
    description: The launch fields and their meaning.
    link: https://www.imsglobal.org/specs/ltiv1p1/implementation-guide
'''

EXAMPLES = r'''
- name: Launch as a student with an image, limits and volumes, like a Moodle activity
  lticontainer.hub.lti_launch:
    url: https://172.17.0.2:443
    consumer_key: "{{ jupyterhub_lti_consumer_key }}"
    consumer_secret: "{{ jupyterhub_lti_consumer_secret }}"
    api_token: "{{ jupyterhub_api_token }}"
    user_id: "7"
    username: student01
    context_id: "42"
    custom:
      lms_image: "lticontainer-singleuser : abc"
      lms_cpulimit: "0.5"
      lms_memlimit: "268,435,456"
      lms_vol_task: "task"
      lms_sub_submit: "submit"
    validate_certs: false
  register: launch

- name: The container got what the activity asked for
  ansible.builtin.assert:
    that:
      - launch.container.cpu_limit == 0.5
      - launch.container.mem_limit == 268435456
      - launch.container.volumes | length == 2
      - launch.stopped

- name: A wrong secret must be refused with HTTP 401
  lticontainer.hub.lti_launch:
    url: https://hub.example.org
    consumer_key: "{{ jupyterhub_lti_consumer_key }}"
    consumer_secret: not-the-secret
    api_token: "{{ jupyterhub_api_token }}"
  register: refused
  failed_when: refused.status | default(0) != 401

- name: From a Moodle stand-in, check the tunnel Moodle uses to reach the hub's container engine
  lticontainer.hub.lti_launch:
    url: https://hub.example.org
    consumer_key: "{{ jupyterhub_lti_consumer_key }}"
    consumer_secret: "{{ jupyterhub_lti_consumer_secret }}"
    api_token: "{{ jupyterhub_api_token }}"
    username: student01
    tunnel_host: hub.example.org
    tunnel_user: docker
    tunnel_password: "{{ lticontainer_tunnel_password }}"
    # Podman: tunnel_remote_socket: /var/run/podman/podman.sock
    tunnel_local_socket: /tmp/lticontainer_check.sock  # leaves a running Moodle tunnel alone
  delegate_to: moodle-standin
  register: via_tunnel

- name: Moodle would see the single-user image and the student's container
  ansible.builtin.assert:
    that:
      - via_tunnel.tunnel.ok
      - "'lticontainer-singleuser:latest' in via_tunnel.tunnel.images"
      - via_tunnel.container.name in via_tunnel.tunnel.containers
'''

RETURN = r'''
user:
  description: The hub user name the launch logged in.
  returned: always
  type: str
  sample: student01
status:
  description: HTTP status of the launch POST.
  returned: when a launch was sent
  type: int
  sample: 302
steps:
  description:
    - The HTTP requests made, in order, with their status and C(Location) header. Repeated identical
      readiness polls appear once.
  returned: when a launch was sent
  type: list
  elements: dict
  sample:
    - {method: POST, path: /hub/lti/launch, status: 302, location: /hub/home}
    - {method: GET, path: /hub/spawn, status: 302, location: /hub/spawn-pending/student01}
    - {method: GET, path: /hub/spawn-pending/student01, status: 200, location: null}
    - {method: GET, path: /hub/api/users/student01, status: 200, location: null}
    - {method: DELETE, path: /hub/api/users/student01/server, status: 204, location: null}
launch_to_ready_seconds:
  description: Seconds from sending the launch to the hub reporting the server ready.
  returned: success
  type: float
  sample: 4.37
server_url:
  description: The server's URL path as the hub reports it.
  returned: success
  type: str
  sample: /user/student01/
container:
  description: The user's container, seen through O(engine_socket) or through the SSH tunnel.
  returned: success, when O(engine_socket) exists or O(tunnel_host) is set
  type: dict
  contains:
    id:
      description:
        - The container's full Id. A container that survived a restart (of the hub, say) keeps it; a new one
          has another.
      type: str
      sample: 4f9c1e0b7d2a6c3e8b5f1a0d9e7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c
    name:
      description: Container name.
      type: str
      sample: jupyterhub-42-1-moodle.example.org-1a2b3c4d-student01
    image:
      description: Image the container runs (C(Config.Image)).
      type: str
      sample: lticontainer-singleuser:abc
    cpu_limit:
      description: CPU limit in CPUs, null when unlimited.
      type: float
      sample: 0.5
    mem_limit:
      description: Memory limit in bytes, null when unlimited.
      type: int
      sample: 268435456
    binds:
      description:
        - Bind mounts from the host (C(source), C(destination)), the C(Mounts) entries of type C(bind); the
          spawner binds the student's home.
      type: list
      elements: dict
      sample:
        - source: /home/others/student01
          destination: /home/others/student01
    volumes:
      description: Named volumes mounted (C(name), C(destination)).
      type: list
      elements: dict
      sample:
        - name: lms_vol_task_42_moodle.example.org
          destination: /home/others/student01/jupyter/works/.volumes/lms_vol_task_42_moodle.example.org
    env:
      description: The spawner's C(NB_*) and C(LTI_*) environment variables (no other variable is returned).
      type: dict
      sample: {NB_USER: student01, NB_UID: '30007', NB_GROUP: others, NB_GID: '1000', LTI_COURSE: '42'}
stopped:
  description: Whether the hub accepted the request to stop the server (HTTP 202 or 204).
  returned: success
  type: bool
  sample: true
stop_status:
  description: HTTP status of C(DELETE /hub/api/users/NAME/server), null when O(stop_server=false).
  returned: success
  type: int
  sample: 204
tunnel:
  description:
    - Moodle's SSH socket tunnel and what Moodle lists through it. The lists are present once the
      container has been inspected through the tunnel.
  returned: when O(tunnel_host) is set (and not in check mode)
  type: dict
  contains:
    ok:
      description: Whether the tunnel was set up and the engine answered through it.
      type: bool
      sample: true
    host:
      description: O(tunnel_host).
      type: str
      sample: hub.example.org
    port:
      description: O(tunnel_port).
      type: int
      sample: 22
    user:
      description: O(tunnel_user).
      type: str
      sample: docker
    remote_socket:
      description: O(tunnel_remote_socket).
      type: str
      sample: /var/run/docker.sock
    local_socket:
      description: The local end of the tunnel (removed when the module ends).
      type: str
      sample: /tmp/lticontainer_hub.example.org.sock
    images:
      description: Image tags (C(RepoTags) of all images, flattened; untagged images left out), as C(docker images).
      type: list
      elements: str
      sample: [lticontainer-singleuser:latest, jupyterhub/singleuser:4]
    containers:
      description: Names of all containers, running or not, as C(docker ps -a).
      type: list
      elements: str
      sample: [jupyterhub-42-1-moodle.example.org-1a2b3c4d-student01]
    volumes:
      description: Volume names, as C(docker volume ls).
      type: list
      elements: str
      sample: [lms_vol_task_42_moodle.example.org, lms_sub_submit_42_moodle.example.org]
  sample:
    ok: true
    host: hub.example.org
    port: 22
    user: docker
    remote_socket: /var/run/docker.sock
    local_socket: /tmp/lticontainer_hub.example.org.sock
    images: [lticontainer-singleuser:latest]
    containers: [jupyterhub-42-1-moodle.example.org-1a2b3c4d-student01]
    volumes: [lms_vol_task_42_moodle.example.org]
'''

import http.client
import os
import time
import urllib.error

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lticontainer.hub.plugins.module_utils.engine_api import (
    container_report, engine_listing, find_user_container)
from ansible_collections.lticontainer.hub.plugins.module_utils.hub_client import HubClient, server_state
from ansible_collections.lticontainer.hub.plugins.module_utils.lti_oauth import (
    base_string_uri, hub_user_name, launch_fields, sign_launch)
from ansible_collections.lticontainer.hub.plugins.module_utils.ssh_tunnel import (
    SshTunnel, TunnelError, default_local_socket, tunnel_argv)

POLL_INTERVAL = 1.0  # seconds between readiness polls
REQUEST_TIMEOUT = 60  # per request; the hub's GET /hub/spawn waits up to slow_spawn_timeout itself
TUNNEL_TIMEOUT = 15  # seconds for the SSH tunnel's local socket to accept connections
ENGINE_ERRORS = (OSError, ValueError, http.client.HTTPException)
LAUNCH_PATH = '/hub/lti/launch'
USER_API_PATH = '/hub/api/users/%s'


def open_tunnel(module, params, result):
    """Start Moodle's SSH tunnel; fails the module (nothing left running) when it does not come up."""
    tunnel = SshTunnel(params['ssh_bin'], params['tunnel_host'], params['tunnel_user'], params['tunnel_password'],
                       port=params['tunnel_port'], remote_socket=params['tunnel_remote_socket'],
                       local_socket=params['tunnel_local_socket'], timeout=TUNNEL_TIMEOUT)
    result['tunnel'] = {'ok': False, 'host': tunnel.host, 'port': tunnel.port, 'user': tunnel.user,
                        'remote_socket': tunnel.remote_socket, 'local_socket': tunnel.local_socket}
    try:
        tunnel.open()
    except TunnelError as err:
        module.fail_json(msg='the SSH tunnel to %s failed: %s' % (tunnel.destination, err), **result)
    result['tunnel']['ok'] = True
    return tunnel


def run(module, params):
    """The launch, spawn, readiness check, inspection and stop; returns the result dict."""
    user = hub_user_name(params['username'], params['user_id'])
    hub = HubClient(params['url'], params['validate_certs'], params['ca_path'], REQUEST_TIMEOUT)
    # Nothing changes on the hub until it accepts the launch.
    result = {'changed': False, 'user': user, 'steps': hub.steps}

    def fail(msg, **extra):
        result.update(extra)
        module.fail_json(msg=msg, **result)

    tunnel = open_tunnel(module, params, result) if params['tunnel_host'] else None
    try:  # fail_json raises SystemExit: the finally closes the tunnel on every path
        return launch(module, params, hub, result, fail, tunnel)
    finally:
        if tunnel is not None:
            tunnel.close()


def launch(module, params, hub, result, fail, tunnel=None):
    """The steps after the tunnel (if any) is up, in order; returns result. A step that fails
    calls fail, which ends the module with what result holds so far."""
    user = result['user']
    try:
        result['status'], sent = send_launch(hub, params, fail)
        result['changed'] = True
        start_server(hub, user, fail)
        server_url = wait_until_ready(hub, params, user, sent, fail)
        result['launch_to_ready_seconds'] = round(time.monotonic() - sent, 2)
        result['server_url'] = server_url
        socket_path = container_socket(params, tunnel)
        if socket_path:
            result['container'] = inspect_container(socket_path, user, result, fail, tunnel)
        if tunnel:
            result['tunnel'].update(list_through_tunnel(tunnel, result, fail))
        result['stopped'], result['stop_status'] = False, None
        if params['stop_server']:
            result['stopped'], result['stop_status'] = stop_server(module, hub, params['api_token'], user)
    except urllib.error.URLError as err:
        fail('cannot reach the hub at %s: %s' % (params['url'], getattr(err, 'reason', err)))
    return result


def send_launch(hub, params, fail):
    """POST the signed launch form, as Moodle has the student's browser do; returns the HTTP
    status and the monotonic time it was sent. Fails unless the hub answers with a redirect that
    stays on it: that is how it accepts the signature and logs the user in."""
    fields = launch_fields(params['user_id'], params['username'], params['roles'], params['context_id'],
                           params['resource_link_id'], params['lis_outcome_service_url'], params['custom'])
    signed = sign_launch(hub.url(LAUNCH_PATH), fields, params['consumer_key'], params['consumer_secret'])
    sent = time.monotonic()
    status, headers, _body = hub.request('POST', LAUNCH_PATH, data=signed)
    location = headers.get('Location')
    # /user/ too: the hub sends a user whose server already runs straight to it.
    if status not in (302, 303) or not location or not hub.on_hub(location, ('/hub/', '/user/')):
        fail('the hub refused the launch: HTTP %d%s' % (status, ' (redirect to %s)' % location if location else ''),
             status=status)
    return status, sent


def start_server(hub, user, fail):
    """What the student's "Start" button does: GET /hub/spawn with the session cookie, following
    the hub's redirects while they stay on it (to spawn-pending while the server starts)."""
    status, _headers, _body = hub.follow('GET', '/hub/spawn')
    if status >= 400:
        fail('GET /hub/spawn as %s failed: HTTP %d' % (user, status))


def wait_until_ready(hub, params, user, sent, fail):
    """Poll the hub API until it reports the user's default server ready; returns the server's URL.
    Fails when the API refuses the token, or params['timeout'] s after sent."""
    api_path = USER_API_PATH % user
    deadline = sent + params['timeout']
    while True:
        status, model = hub.api('GET', api_path, params['api_token'])
        if status in (401, 403):
            fail('the hub API refused the token: HTTP %d on %s (it needs read:users and read:servers)'
                 % (status, api_path), status=status)
        ready, server_url, state = server_state(model if status == 200 else None)
        if ready:
            return server_url
        if time.monotonic() >= deadline:
            fail('the server of user %s was not ready within %d s (last: HTTP %d, %s)'
                 % (user, params['timeout'], status, state), status=status)
        time.sleep(POLL_INTERVAL)


def container_socket(params, tunnel):
    """Where to inspect the user's container: the tunnel's local end; else engine_socket when it
    exists on this host; else None (no engine here, nothing to inspect)."""
    if tunnel:
        return tunnel.local_socket
    path = params['engine_socket']
    return path if path and os.path.exists(path) else None


def inspect_container(socket_path, user, result, fail, tunnel=None):
    """The report on the user's running container, found through socket_path (see container_socket).
    Fails when the engine does not answer or runs no container for user."""
    try:
        info = find_user_container(socket_path, user)
    except ENGINE_ERRORS as err:
        engine_failed('cannot inspect containers through %s: %s' % (socket_path, err), result, fail, tunnel)
    if info is None:
        fail('no running container with JUPYTERHUB_USER=%s found through %s' % (user, socket_path))
    return container_report(info)


def list_through_tunnel(tunnel, result, fail):
    """What Moodle lists through its tunnel: image tags, all container names, volume names."""
    try:
        return engine_listing(tunnel.local_socket)
    except ENGINE_ERRORS as err:
        engine_failed('cannot list images, containers and volumes through the SSH tunnel to %s: %s'
                      % (tunnel.destination, err), result, fail, tunnel)


def engine_failed(msg, result, fail, tunnel=None):
    """Fail because the engine did not answer. Through the tunnel, the tunnel is then not ok
    either, and ssh's complaints so far (e.g. the tunnel user may not open the remote socket)
    end the message."""
    if tunnel:
        result['tunnel']['ok'] = False
    text = tunnel.stderr() if tunnel else ''
    fail(msg + (' (ssh: %s)' % text if text else ''))


def stop_server(module, hub, api_token, user):
    """Stop the user's server through the API, as Moodle does; returns (stopped, HTTP status).
    A refusal only warns: the checks have passed, the server merely keeps running."""
    status, _model = hub.api('DELETE', USER_API_PATH % user + '/server', api_token)
    stopped = status in (202, 204)
    if not stopped:
        module.warn('the hub did not stop the server of %s: HTTP %d (the token needs delete:servers)'
                    % (user, status))
    return stopped, status


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type='str', required=True),
            consumer_key=dict(type='str', required=True, no_log=False),
            consumer_secret=dict(type='str', required=True, no_log=True),
            api_token=dict(type='str', required=True, no_log=True),
            user_id=dict(type='str', default='2'),
            username=dict(type='str', default='lti-check'),
            roles=dict(type='str', default='Learner'),
            context_id=dict(type='str', default='1'),
            resource_link_id=dict(type='str', default='1'),
            lis_outcome_service_url=dict(type='str', default='https://moodle.example.org/mod/lti/service.php'),
            custom=dict(type='dict', default={}),
            validate_certs=dict(type='bool', default=True),
            ca_path=dict(type='path'),
            timeout=dict(type='int', default=120),
            engine_socket=dict(type='path', default='/var/run/docker.sock'),
            stop_server=dict(type='bool', default=True),
            tunnel_host=dict(type='str'),
            tunnel_port=dict(type='int', default=22),
            tunnel_user=dict(type='str', default='docker'),
            tunnel_password=dict(type='str', no_log=True),
            tunnel_remote_socket=dict(type='str', default='/var/run/docker.sock'),
            tunnel_local_socket=dict(type='path'),
        ),
        required_by={'tunnel_host': ('tunnel_password',)},  # required_if cannot test "any host"
        supports_check_mode=True,
    )
    params = module.params
    try:
        base_string_uri(params['url'])
    except ValueError as err:
        module.fail_json(msg='url: %s' % err)
    if not params['user_id'].isdigit():
        module.fail_json(msg='user_id must be a non-negative integer (the spawner parses it), got %r' % params['user_id'])
    if params['timeout'] <= 0:
        module.fail_json(msg='timeout must be positive')
    if params['ca_path'] and not os.path.isfile(params['ca_path']):
        module.fail_json(msg='ca_path %s is not a file' % params['ca_path'])
    params['url'] = params['url'].rstrip('/')
    if params['tunnel_host']:
        params['tunnel_local_socket'] = params['tunnel_local_socket'] or default_local_socket(params['tunnel_host'])
        try:
            tunnel_argv('ssh', params['tunnel_host'], params['tunnel_user'], params['tunnel_local_socket'],
                        params['tunnel_remote_socket'], params['tunnel_port'])
        except ValueError as err:
            module.fail_json(msg=str(err))
        params['ssh_bin'] = module.get_bin_path('ssh', required=True)

    if module.check_mode:
        module.exit_json(changed=True, user=hub_user_name(params['username'], params['user_id']),
                         msg='check mode: no launch was sent (a launch logs in and spawns; it cannot be simulated)')
    module.exit_json(**run(module, params))


if __name__ == '__main__':
    main()
