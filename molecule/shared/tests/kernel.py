"""A cell run as JupyterLab runs it: a kernel started through the student's server's REST API, then an
execute_request over the kernel's websocket (`/api/kernels/ID/channels`), in the student's cookie
session, through whatever proxy serves the hub. Standard library only: a minimal RFC 6455 client
speaking either of jupyter_server's kernel websocket protocols: JSON messages in text frames (what a
client gets when it asks for no subprotocol), or V1, JupyterLab 4's binary frames
(`v1.kernel.websocket.jupyter.org`: a count and offsets as little-endian 64-bit numbers, then the
channel's name and the message's JSON parts)."""
import base64
import datetime
import hashlib
import json
import os
import socket
import ssl
import struct
import urllib.error
import urllib.parse
import urllib.request
import uuid

GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'  # RFC 6455's
V1 = 'v1.kernel.websocket.jupyter.org'
PARTS = ('header', 'parent_header', 'metadata', 'content')


def _cookie_header(student, url):
    """The Cookie header the student's browser sends to url (its session, the server's _xsrf, ...)."""
    request = urllib.request.Request(url)
    student.hub.cookies.add_cookie_header(request)
    return request.get_header('Cookie') or ''


def xsrf(student):
    """The single-user server's _xsrf cookie (set by its pages): a page's API calls send it back."""
    return next(c.value for c in student.hub.cookies if c.name == '_xsrf' and not c.path.startswith('/hub'))


def start_kernel(student):
    """POST /user/NAME/api/kernels as JupyterLab does (the _xsrf cookie's value as X-XSRFToken); the kernel's id."""
    request = urllib.request.Request(
        student.hub.url('/user/%s/api/kernels' % student.name), data=json.dumps({'name': 'python3'}).encode(),
        method='POST', headers={'X-XSRFToken': xsrf(student), 'Content-Type': 'application/json'})
    try:
        response = student.hub.opener.open(request, timeout=student.hub.timeout)
    except urllib.error.HTTPError as err:
        response = err
    with response:
        status, body = response.getcode(), response.read()
    assert status == 201, (status, body)
    return json.loads(body)['id']


def v1_frame(message):
    """A message as JupyterLab 4 sends it in a binary frame (no buffers)."""
    channel = message['channel'].encode()
    parts = [json.dumps(message[part], separators=(',', ':')).encode() for part in PARTS]
    offsets = [8 * (1 + 1 + len(parts) + 1)]
    for part in [channel] + parts:
        offsets.append(offsets[-1] + len(part))
    return b''.join([struct.pack('<Q', len(offsets))] + [struct.pack('<Q', o) for o in offsets] + [channel] + parts)


def v1_message(frame):
    """The message in a server's binary frame, shaped as the JSON protocol's."""
    count = struct.unpack('<Q', frame[:8])[0]
    offsets = struct.unpack('<%dQ' % count, frame[8:8 * (count + 1)])
    message = {'channel': frame[offsets[0]:offsets[1]].decode()}
    for part, start, end in zip(PARTS, offsets[1:], offsets[2:]):
        message[part] = json.loads(frame[start:end])
    message['msg_type'] = message['header']['msg_type']
    return message


class KernelChannel:
    """One kernel websocket, opened with the student's cookies; session is the client's session id
    (JupyterLab sends it as ?session_id= and in every message header). protocol: None for JSON text
    frames, V1 for JupyterLab 4's binary ones."""

    def __init__(self, student, kernel_id, timeout=30, protocol=None):
        self.student, self.session, self.protocol = student, str(uuid.uuid4()), protocol
        url = student.hub.url('/user/%s/api/kernels/%s/channels?session_id=%s&_xsrf=%s' % (
            student.name, kernel_id, self.session, urllib.parse.quote(xsrf(student))))
        parts = urllib.parse.urlsplit(url)
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # the hub's self-signed certificate
        raw = socket.create_connection((parts.hostname, parts.port or 443), timeout=timeout)
        self.sock = context.wrap_socket(raw, server_hostname=parts.hostname)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((
            'GET %s?%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
            'Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nX-XSRFToken: %s\r\nCookie: %s\r\n%s\r\n'
            % (parts.path, parts.query, parts.netloc, key, xsrf(student), _cookie_header(student, url),
               'Sec-WebSocket-Protocol: %s\r\n' % protocol if protocol else '')).encode())
        self.buffer = b''
        while b'\r\n\r\n' not in self.buffer:
            self._read()
        head, self.buffer = self.buffer.split(b'\r\n\r\n', 1)
        status = head.split(b'\r\n', 1)[0].decode()
        assert ' 101 ' in status, head.decode('utf-8', 'replace')
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        assert ('sec-websocket-accept: ' + accept).lower() in head.decode().lower(), head
        if protocol:  # the server agreed to it
            assert ('sec-websocket-protocol: ' + protocol).lower() in head.decode().lower(), head

    def _read(self):
        chunk = self.sock.recv(65536)
        assert chunk, 'the proxy closed the websocket'
        self.buffer += chunk

    def send(self, message):
        """One masked frame, as a browser sends: text, or binary in V1."""
        if self.protocol:
            payload, first = v1_frame(message), 0x82
        else:
            payload, first = json.dumps(message).encode(), 0x81
        mask, length = os.urandom(4), len(payload)
        head = struct.pack('!B', first) + (struct.pack('!B', 0x80 | length) if length < 126
                                           else struct.pack('!BH', 0x80 | 126, length))
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def receive(self):
        """The next message from the server (unmasked text or binary frames; pings and the like skipped)."""
        while True:
            while len(self.buffer) < 2:
                self._read()
            opcode, length, start = self.buffer[0] & 0x0f, self.buffer[1] & 0x7f, 2
            if length == 126:
                while len(self.buffer) < 4:
                    self._read()
                length, start = struct.unpack('!H', self.buffer[2:4])[0], 4
            elif length == 127:
                while len(self.buffer) < 10:
                    self._read()
                length, start = struct.unpack('!Q', self.buffer[2:10])[0], 10
            while len(self.buffer) < start + length:
                self._read()
            payload, self.buffer = self.buffer[start:start + length], self.buffer[start + length:]
            if opcode == 0x1:
                return json.loads(payload.decode())
            if opcode == 0x2:
                return v1_message(payload)
            assert opcode != 0x8, 'the server closed the websocket: %r' % payload

    def execute(self, code, cell_id):
        """An execute_request as JupyterLab sends it for a notebook cell; (its msg_id, the stdout the
        kernel printed, the execute_reply's content)."""
        msg_id = str(uuid.uuid4())
        self.send({
            'header': {'msg_id': msg_id, 'username': self.student.name, 'session': self.session,
                       'msg_type': 'execute_request', 'version': '5.3',
                       'date': datetime.datetime.now(datetime.timezone.utc).isoformat()},
            'parent_header': {}, 'metadata': {'deletedCells': [], 'recordTiming': False, 'cellId': cell_id},
            'content': {'code': code, 'silent': False, 'store_history': True, 'user_expressions': {},
                        'allow_stdin': False, 'stop_on_error': True},
            'buffers': [], 'channel': 'shell'})
        stdout = ''
        while True:
            message = self.receive()
            if message.get('parent_header', {}).get('msg_id') != msg_id:
                continue
            if message['msg_type'] == 'stream':
                stdout += message['content']['text']
            elif message['msg_type'] == 'execute_reply':
                return msg_id, stdout, message['content']

    def close(self):
        self.sock.close()
