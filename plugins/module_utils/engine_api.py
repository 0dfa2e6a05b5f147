# -*- coding: utf-8 -*-
# Copyright: lticontainer.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The container engine's Docker-compatible API (Docker or Podman) over a unix socket:
the user's container as the spawner made it, and what Moodle's mod_lticontainer lists.

Standard library only: the lti_launch module runs on the hub host (or Moodle's) with the
system python3 (3.9+), where the docker SDK cannot be assumed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import http.client
import json
import socket
import urllib.parse

# Environment keys worth reporting: the spawner's own (NB_*, LTI_*); the rest
# (JUPYTERHUB_API_TOKEN among them) stays out of results.
REPORTED_ENV_PREFIXES = ('NB_', 'LTI_')


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, socket_path, timeout=30):
        http.client.HTTPConnection.__init__(self, 'localhost', timeout=timeout)
        self.socket_path = socket_path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


def engine_get(socket_path, path, timeout=30):
    """GET a Docker-compatible API path (Docker or Podman) over a unix socket; parsed JSON."""
    conn = _UnixHTTPConnection(socket_path, timeout=timeout)
    try:
        conn.request('GET', path, headers={'Host': 'localhost'})
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            raise IOError('engine API GET %s: HTTP %d %s' % (path, resp.status, body[:200].decode('utf-8', 'replace')))
        return json.loads(body.decode('utf-8'))
    finally:
        conn.close()


def env_dict(env_list):
    return dict(item.split('=', 1) if '=' in item else (item, '') for item in env_list or [])


# ---------------------------------------------------------------- the user's container

def find_user_container(socket_path, user):
    """The inspect data of the running container the spawner made for user
    (its Config.Env holds JUPYTERHUB_USER=user), or None."""
    for summary in engine_get(socket_path, '/containers/json'):
        info = engine_get(socket_path, '/containers/%s/json' % urllib.parse.quote(summary['Id']))
        if env_dict((info.get('Config') or {}).get('Env')).get('JUPYTERHUB_USER') == user:
            return info
    return None


def container_report(info):
    """What a user relies on from a container's inspect data: its full Id (which tells a
    container that survived a restart from a new one), name, image, CPU and memory limits
    (None = unlimited), bind mounts (the spawner binds the student's home from the host),
    named volumes and the spawner's NB_*/LTI_* env."""
    host = info.get('HostConfig') or {}
    config = info.get('Config') or {}
    cpu = None
    if host.get('NanoCpus'):
        cpu = host['NanoCpus'] / 1e9
    elif (host.get('CpuQuota') or 0) > 0:
        cpu = host['CpuQuota'] / float(host.get('CpuPeriod') or 100000)  # engine default period
    memory = host.get('Memory') or None
    env = env_dict(config.get('Env'))
    mounts = info.get('Mounts') or []
    return {
        'id': info.get('Id'),
        'name': (info.get('Name') or '').lstrip('/'),
        'image': config.get('Image'),
        'cpu_limit': round(cpu, 6) if cpu is not None else None,
        'mem_limit': int(memory) if memory else None,
        'binds': [{'source': m.get('Source'), 'destination': m.get('Destination')}
                  for m in mounts if m.get('Type') == 'bind'],
        'volumes': [{'name': m.get('Name'), 'destination': m.get('Destination')}
                    for m in mounts if m.get('Type') == 'volume'],
        'env': dict((k, v) for k, v in env.items() if k.startswith(REPORTED_ENV_PREFIXES)),
    }


# ---------------------------------------------------------------- engine listings (what Moodle shows)

def engine_listing(socket_path, timeout=30):
    """What mod_lticontainer lists through its tunnel: image tags (docker images), all
    container names (docker ps -a) and volume names (docker volume ls)."""
    images = []
    for image in engine_get(socket_path, '/images/json', timeout) or []:
        for tag in image.get('RepoTags') or []:
            if tag and tag != '<none>:<none>' and tag not in images:  # dangling images carry no tag
                images.append(tag)
    containers = []
    for summary in engine_get(socket_path, '/containers/json?all=1', timeout) or []:
        names = summary.get('Names') or []
        if names:  # the first name is the container's own; later ones are legacy link aliases
            containers.append(names[0].lstrip('/'))
    volumes = [v.get('Name') for v in (engine_get(socket_path, '/volumes', timeout) or {}).get('Volumes') or []]
    return {'images': images, 'containers': containers, 'volumes': volumes}
