"""The tls role's http-01 responder (roles/tls/files/acme_http01.py): it serves the tokens in its
directory under /.well-known/acme-challenge/ and answers 404 to everything else."""

import http.client
import importlib.util
import os
import socket
import threading

import pytest

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_SPEC = importlib.util.spec_from_file_location('acme_http01', os.path.join(_ROOT, 'roles', 'tls', 'files', 'acme_http01.py'))
acme_http01 = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(acme_http01)

TOKEN = 'LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0'
KEY_AUTHORIZATION = TOKEN + '.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI'


@pytest.fixture
def responder(tmp_path):
    challenges = tmp_path / 'challenges'
    challenges.mkdir()
    (challenges / TOKEN).write_text(KEY_AUTHORIZATION)
    (tmp_path / 'secret').write_text('not to be served')
    server = acme_http01.make_server(str(challenges), port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def get(port, path, method='GET', address='127.0.0.1'):
    connection = http.client.HTTPConnection(address, port, timeout=5)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_serves_a_pending_token(responder):
    assert get(responder, '/.well-known/acme-challenge/' + TOKEN) == (200, KEY_AUTHORIZATION.encode())


def test_head_has_no_body(responder):
    assert get(responder, '/.well-known/acme-challenge/' + TOKEN, method='HEAD') == (200, b'')


@pytest.mark.skipif(not socket.has_ipv6, reason='no IPv6 here')
def test_answers_on_ipv6_too(responder):
    try:
        assert get(responder, '/.well-known/acme-challenge/' + TOKEN, address='::1')[0] == 200
    except OSError:
        pytest.skip('no IPv6 loopback here')


@pytest.mark.parametrize('path', [
    '/',
    '/.well-known/acme-challenge/',
    '/.well-known/acme-challenge/unknown-token',
    '/.well-known/acme-challenge/../secret',
    '/.well-known/acme-challenge/%2e%2e%2fsecret',
    '/.well-known/acme-challenge/' + TOKEN + '/x',
    '/.well-known/' + TOKEN,
    '/hub/login',
])
def test_everything_else_is_not_found(responder, path):
    assert get(responder, path)[0] == 404


def test_refuses_other_methods(responder):
    assert get(responder, '/.well-known/acme-challenge/' + TOKEN, method='POST')[0] == 501


def test_token_of():
    assert acme_http01.token_of('/.well-known/acme-challenge/abc_-1?x=1') == 'abc_-1'
    assert acme_http01.token_of('/.well-known/acme-challenge/a.b') is None
    assert acme_http01.token_of('/x/.well-known/acme-challenge/abc') is None


def test_notify_ready_tells_systemd(tmp_path, monkeypatch):
    path = str(tmp_path / 'notify')
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(path)
        monkeypatch.setenv('NOTIFY_SOCKET', path)
        acme_http01.notify_ready()
        assert sock.recv(64) == b'READY=1'
