# -*- coding: utf-8 -*-
"""FakeEngine, a test double of the Docker API on a unix socket, shared by the engine_api
tests and the lti_launch module's flow (directly and behind its ssh test double)."""

import http.server
import json
import os
import socketserver
import tempfile
import threading
import urllib.parse

import pytest

RUNNING, EXITED = {'Running': True, 'Status': 'running'}, {'Running': False, 'Status': 'exited'}


class FakeEngine(http.server.BaseHTTPRequestHandler):
    """Test double of the Docker API on a unix socket: one unrelated running container, the user's,
    an exited one (only listed with all=1), images (two of them untagged) and volumes."""
    containers = {
        'aaa': {'Id': 'aaa', 'Name': '/other', 'Config': {'Image': 'x', 'Env': ['JUPYTERHUB_USER=someone']},
                'HostConfig': {}, 'Mounts': [], 'State': RUNNING},
        'bbb': {'Id': 'bbb', 'Name': '/jupyterhub-42-1-moodle.example.org-1a2b3c4d-student01',
                'Config': {'Image': 'lticontainer-singleuser:abc',
                           'Env': ['JUPYTERHUB_USER=student01', 'JUPYTERHUB_API_TOKEN=secret', 'NB_USER=student01']},
                'HostConfig': {'NanoCpus': 500000000, 'Memory': 268435456},
                'Mounts': [{'Type': 'bind', 'Source': '/home/others/student01',
                            'Destination': '/home/others/student01'},
                           {'Type': 'volume', 'Name': 'lms_vol_task_42_moodle.example.org', 'Destination': '/v'}],
                'State': RUNNING},
        'ccc': {'Id': 'ccc', 'Name': '/jupyterhub-42-1-moodle.example.org-1a2b3c4d-student02',
                'Config': {'Image': 'lticontainer-singleuser:abc', 'Env': ['JUPYTERHUB_USER=student02']},
                'HostConfig': {}, 'Mounts': [], 'State': EXITED},
    }
    images = [
        {'Id': 'sha256:1', 'RepoTags': ['lticontainer-singleuser:abc', 'lticontainer-singleuser:latest']},
        {'Id': 'sha256:2', 'RepoTags': ['jupyterhub/jupyterhub:4.1.6']},
        {'Id': 'sha256:3', 'RepoTags': None},               # untagged, as Docker 25+ and Podman report it
        {'Id': 'sha256:4', 'RepoTags': ['<none>:<none>']},  # untagged, as older Docker reports it
    ]
    volumes = ['lms_vol_task_42_moodle.example.org', 'lms_sub_submit_42_moodle.example.org']

    def log_message(self, *args):
        pass

    def address_string(self):
        return 'unix'

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        show_all = urllib.parse.parse_qs(url.query).get('all') in (['1'], ['true'])
        if url.path == '/containers/json':
            body = [{'Id': cid, 'Names': [info['Name']], 'Image': info['Config']['Image'],
                     'State': info['State']['Status']}
                    for cid, info in self.containers.items() if show_all or info['State']['Running']]
        elif url.path == '/images/json':
            body = self.images
        elif url.path == '/volumes':
            body = {'Volumes': [{'Name': name, 'Driver': 'local'} for name in self.volumes], 'Warnings': None}
        elif url.path.startswith('/containers/') and url.path.endswith('/json'):
            body = self.containers.get(url.path.split('/')[2])
        else:
            body = None
        data = json.dumps(body).encode()
        self.send_response(200 if body else 404)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


@pytest.fixture
def engine_socket():
    path = os.path.join(tempfile.mkdtemp(prefix='fake-engine-'), 'docker.sock')
    server = _UnixServer(path, FakeEngine)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield path
    server.shutdown()
    server.server_close()
