#!/usr/bin/python3
# Installed by the lticontainer.hub.tls role (roles/tls/files/acme_http01.py): do not edit here.
"""Answer ACME http-01 challenges, and nothing else.

    acme_http01.py DIRECTORY [PORT]

Serves GET and HEAD of /.well-known/acme-challenge/TOKEN with the content of DIRECTORY/TOKEN
(RFC 8555, section 8.3); every other request gets 404. No directory listing, no other path.
Listens on PORT (80) on every address, IPv6 and IPv4 where the host has IPv6, IPv4 only
otherwise, and tells systemd (Type=notify) once it listens, so that the challenge is not
validated before anything answers. Stdlib only.
"""

import http.server
import os
import re
import socket
import socketserver
import sys

PREFIX = '/.well-known/acme-challenge/'
# base64url, as RFC 8555 makes tokens: no dots, no slashes, so no way out of DIRECTORY.
TOKEN = re.compile(r'^[A-Za-z0-9_-]{1,256}$')


def token_of(path):
    """The token a request path asks for, or None."""
    path = path.split('?', 1)[0].split('#', 1)[0]
    if not path.startswith(PREFIX):
        return None
    token = path[len(PREFIX):]
    return token if TOKEN.match(token) else None


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = 'acme-http01'
    sys_version = ''

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.answer(with_body=True)

    def do_HEAD(self):  # noqa: N802
        self.answer(with_body=False)

    def answer(self, with_body):
        token = token_of(self.path)
        content = None
        if token is not None:
            try:
                with open(os.path.join(self.server.directory, token), 'rb') as f:
                    content = f.read()
            except OSError:
                pass
        if content is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header('Content-Type', 'application/octet-stream')
        self.send_header('Content-Length', str(len(content)))
        self.end_headers()
        if with_body:
            self.wfile.write(content)

    def log_message(self, format, *args):  # noqa: A002 (http.server's signature)
        # To the journal: who asked for what, with which answer.
        sys.stderr.write('%s %s\n' % (self.address_string(), format % args))


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, directory, address, port):
        self.directory = directory
        self.address_family = socket.AF_INET6 if ':' in address else socket.AF_INET
        super().__init__((address, port), Handler, bind_and_activate=False)
        if self.address_family == socket.AF_INET6:
            # One socket for IPv6 and IPv4.
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        try:
            self.server_bind()
            self.server_activate()
        except OSError:
            self.server_close()
            raise


def make_server(directory, port=80):
    """Listen on every address: dual-stack where the host has IPv6, else IPv4."""
    try:
        return Server(directory, '::', port)
    except OSError as error:
        if error.errno not in (97, 99):  # EAFNOSUPPORT, EADDRNOTAVAIL: no IPv6 here
            raise
        return Server(directory, '0.0.0.0', port)


def notify_ready():
    """sd_notify(READY=1), for units of Type=notify; nothing outside systemd."""
    target = os.environ.get('NOTIFY_SOCKET')
    if not target:
        return
    if target.startswith('@'):
        target = '\0' + target[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.connect(target)
        sock.sendall(b'READY=1')


def main(argv):
    if len(argv) not in (2, 3):
        sys.stderr.write(__doc__)
        return 2
    server = make_server(argv[1], int(argv[2]) if len(argv) == 3 else 80)
    notify_ready()
    server.serve_forever()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
