# -*- coding: utf-8 -*-
# Copyright: lticontainer.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""LTI 1.1 launch helpers for the lti_launch module.

Standard library only: the module runs on the hub host with the system
python3 (3.9+), where neither requests nor oauthlib can be assumed.
"""

import base64
import hashlib
import hmac
import http.client
import http.cookiejar
import json
import os
import secrets
import shutil
import socket
import ssl
import stat
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

DEFAULT_CUSTOM = {'lms_sessioninfo': '1,1'}
# Environment keys worth reporting: the spawner's own (NB_*, LTI_*); the rest
# (JUPYTERHUB_API_TOKEN among them) stays out of results.
REPORTED_ENV_PREFIXES = ('NB_', 'LTI_')


# ---------------------------------------------------------------- OAuth 1.0a

def oauth_escape(value):
    """RFC 5849 section 3.6 percent-encoding (only ALPHA DIGIT - . _ ~ kept)."""
    return urllib.parse.quote(str(value).encode('utf-8'), safe='~')


def base_string_uri(url):
    """RFC 5849 3.4.1.2: lower-case scheme and host, default port dropped, no query."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ('http', 'https') or not parts.hostname:
        raise ValueError('not an http(s) URL with a host: %s' % url)
    host = parts.hostname.lower()
    if ':' in host:  # IPv6 literal
        host = '[%s]' % host
    port = parts.port
    if port and (scheme, port) not in (('http', 80), ('https', 443)):
        host = '%s:%d' % (host, port)
    return '%s://%s%s' % (scheme, host, parts.path or '/')


def normalize_parameters(params):
    """RFC 5849 3.4.1.3.2: encode, sort by name then value, join with '&'."""
    pairs = sorted((oauth_escape(k), oauth_escape(v)) for k, v in params.items()
                   if k != 'oauth_signature')
    return '&'.join('%s=%s' % kv for kv in pairs)


def signature_base_string(method, url, params):
    return '&'.join((method.upper(), oauth_escape(base_string_uri(url)),
                     oauth_escape(normalize_parameters(params))))


def hmac_sha1(base_string, consumer_secret, token_secret=''):
    key = '%s&%s' % (oauth_escape(consumer_secret), oauth_escape(token_secret))
    digest = hmac.new(key.encode('utf-8'), base_string.encode('utf-8'), hashlib.sha1).digest()
    return base64.b64encode(digest).decode('ascii')


def sign_launch(url, params, key, secret, timestamp=None, nonce=None):
    """Return params plus the six oauth_* fields of a body-signed POST to url.

    A fresh nonce and the current time by default: the hub refuses replayed
    nonces and timestamps more than 30 s off.
    """
    signed = dict((k, str(v)) for k, v in params.items())
    signed.update({
        'oauth_consumer_key': key,
        'oauth_nonce': nonce or secrets.token_hex(16),
        'oauth_signature_method': 'HMAC-SHA1',
        'oauth_timestamp': str(int(time.time()) if timestamp is None else timestamp),
        'oauth_version': '1.0',
    })
    signed['oauth_signature'] = hmac_sha1(signature_base_string('POST', url, signed), secret)
    return signed


# ---------------------------------------------------------------- launch fields

def launch_fields(user_id='2', username='lti-check', roles='Learner', context_id='1',
                  resource_link_id='1', lis_outcome_service_url=None, custom=None):
    """The unsigned form fields Moodle's mod_lti sends for an LTI 1.1 launch.

    custom keys are given without the 'custom_' prefix (a key that already
    carries it is kept as is, never doubled); DEFAULT_CUSTOM fills the keys
    not given because the spawner refuses a launch without lms_sessioninfo.
    """
    fields = {
        'lti_message_type': 'basic-lti-launch-request',
        'lti_version': 'LTI-1p0',
        'resource_link_id': str(resource_link_id),
        'user_id': str(user_id),
        'roles': roles,
        'context_id': str(context_id),
        'context_type': 'CourseSection',
        'launch_presentation_document_target': 'iframe',
        'tool_consumer_info_product_family_code': 'moodle',
        'ext_lms': 'moodle-2',
    }
    if username:
        fields['ext_user_username'] = username
    if lis_outcome_service_url:
        fields['lis_outcome_service_url'] = lis_outcome_service_url
    merged = dict(DEFAULT_CUSTOM)
    for name, value in (custom or {}).items():
        name = name if name.startswith('custom_') else 'custom_' + name
        merged[name[len('custom_'):]] = value
    for name, value in merged.items():
        fields['custom_' + name] = '' if value is None else str(value)
    return fields


def hub_user_name(username, user_id):
    """The name the hub gives the user: ext_user_username else user_id, lower-cased
    (JupyterHub's default normalize_username)."""
    return (username or str(user_id)).lower()


# ---------------------------------------------------------------- HTTP client

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # Hand 3xx responses back to the caller so each hop is recorded and checked.
    def http_error_302(self, req, fp, code, msg, headers):
        return fp

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


class HubClient(object):
    """A browser-like session against one hub: cookie jar, manual redirects,
    one step record per request (method, path, status, location)."""

    def __init__(self, base_url, validate_certs=True, ca_path=None, timeout=30):
        self.base_url = base_url.rstrip('/')
        self.prefix = urllib.parse.urlsplit(self.base_url).path.rstrip('/')
        self.timeout = timeout
        self.steps = []
        self.cookies = http.cookiejar.CookieJar()
        if not validate_certs:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        else:
            context = ssl.create_default_context(cafile=ca_path)
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),  # talk to the hub directly, never via a proxy
            urllib.request.HTTPSHandler(context=context),
            urllib.request.HTTPCookieProcessor(self.cookies),
            _NoRedirect())

    def url(self, path):
        """Absolute URL of a hub path ('/hub/...', relative to the base URL's path)."""
        if '://' in path:
            return path
        if path.startswith(self.prefix + '/'):
            path = path[len(self.prefix):]
        return self.base_url + path

    def on_hub(self, location, areas=('/hub/',)):
        """Whether a redirect target stays on this hub's host and under one of areas."""
        target = urllib.parse.urljoin(self.base_url + '/', location)
        if base_string_uri(target).split('/')[:3] != base_string_uri(self.base_url).split('/')[:3]:
            return False  # another host (or port): not the hub
        target = urllib.parse.urlsplit(target)
        return any(target.path.startswith(self.prefix + area) for area in areas)

    def request(self, method, path, data=None, headers=None, record=True):
        """Send one request; return (status, headers, body bytes). Never follows redirects;
        4xx/5xx come back as statuses, connection failures raise urllib.error.URLError."""
        url = self.url(path)
        body = None
        headers = dict(headers or {})
        if data is not None:
            body = urllib.parse.urlencode(data).encode('utf-8')
            headers['Content-Type'] = 'application/x-www-form-urlencoded'
        req = urllib.request.Request(url, data=body, headers=headers, method=method)
        try:
            resp = self.opener.open(req, timeout=self.timeout)
        except urllib.error.HTTPError as err:
            resp = err
        with resp:
            status, resp_headers, content = resp.getcode(), resp.headers, resp.read()
        if record:
            self.record(method, url, status, resp_headers.get('Location'))
        return status, resp_headers, content

    def record(self, method, url, status, location=None):
        parts = urllib.parse.urlsplit(url)
        step = {'method': method, 'path': parts.path + ('?' + parts.query if parts.query else ''),
                'status': status, 'location': location}
        # Polling repeats the same request: keep one entry per distinct outcome.
        if not self.steps or self.steps[-1] != step:
            self.steps.append(step)

    def follow(self, method, path, max_hops=10, areas=('/hub/',)):
        """Request path and follow its redirects while they stay on the hub;
        return the last (status, headers, body)."""
        url = self.url(path)
        # As a browser's page navigation: JupyterHub 4.1 then skips its XSRF check on GET
        # without logging the request as insecure.
        nav = {'Sec-Fetch-Mode': 'navigate'}
        status, headers, body = self.request(method, url, headers=nav)
        for _hop in range(max_hops):
            location = headers.get('Location')
            if status not in (301, 302, 303, 307, 308) or not location or not self.on_hub(location, areas):
                break
            url = urllib.parse.urljoin(url, location)
            status, headers, body = self.request('GET', url, headers=nav)
        return status, headers, body

    def api(self, method, path, token):
        """Hub REST API call with a token; returns (status, parsed JSON or None)."""
        status, _headers, body = self.request(method, path, headers={
            'Authorization': 'token %s' % token, 'Accept': 'application/json'})
        try:
            return status, json.loads(body.decode('utf-8')) if body else None
        except ValueError:
            return status, None


def server_state(user_model):
    """(ready, url, description) of the user's default server from GET /hub/api/users/NAME."""
    servers = (user_model or {}).get('servers') or {}
    server = servers.get('')
    if not server:
        pending = (user_model or {}).get('pending')
        return False, None, 'no server' + (' (pending: %s)' % pending if pending else '')
    if server.get('ready'):
        return True, server.get('url'), 'ready'
    return False, server.get('url'), 'pending: %s' % (server.get('pending') or 'unknown')


# ---------------------------------------------------------------- container engine

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


def find_user_container(socket_path, user):
    """The inspect data of the running container the spawner made for user
    (its Config.Env holds JUPYTERHUB_USER=user), or None."""
    for summary in engine_get(socket_path, '/containers/json'):
        info = engine_get(socket_path, '/containers/%s/json' % urllib.parse.quote(summary['Id']))
        if env_dict((info.get('Config') or {}).get('Env')).get('JUPYTERHUB_USER') == user:
            return info
    return None


def container_limits(info):
    """What a user relies on from a container's inspect data: name, image, CPU and
    memory limits (None = unlimited), named volumes and the spawner's NB_*/LTI_* env."""
    host = info.get('HostConfig') or {}
    config = info.get('Config') or {}
    cpu = None
    if host.get('NanoCpus'):
        cpu = host['NanoCpus'] / 1e9
    elif (host.get('CpuQuota') or 0) > 0:
        cpu = host['CpuQuota'] / float(host.get('CpuPeriod') or 100000)  # engine default period
    memory = host.get('Memory') or None
    env = env_dict(config.get('Env'))
    return {
        'name': (info.get('Name') or '').lstrip('/'),
        'image': config.get('Image'),
        'cpu_limit': round(cpu, 6) if cpu is not None else None,
        'mem_limit': int(memory) if memory else None,
        'volumes': [{'name': m.get('Name'), 'destination': m.get('Destination')}
                    for m in info.get('Mounts') or [] if m.get('Type') == 'volume'],
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


# ---------------------------------------------------------------- SSH socket tunnel (Moodle's)

DOCKER_SOCKET = '/var/run/docker.sock'
PODMAN_SOCKET = '/var/run/podman/podman.sock'
TUNNEL_TIMEOUT = 15.0   # seconds for ssh to log in and listen on the local socket
TUNNEL_KILL_AFTER = 5.0  # seconds between SIGTERM and SIGKILL when closing
# The child's environment variable the askpass script prints; the password travels only there.
ASKPASS_PASSWORD_VAR = 'LTICONTAINER_TUNNEL_PASSWORD'
ASKPASS_SCRIPT = '#!/bin/sh\nprintf \'%%s\\n\' "$%s"\n' % ASKPASS_PASSWORD_VAR


class TunnelError(Exception):
    pass


def default_local_socket(host):
    """Moodle's local end of the tunnel for a container host."""
    return '/tmp/lticontainer_%s.sock' % host


def tunnel_argv(ssh_bin, host, user, local_socket, remote_socket=DOCKER_SOCKET, port=22):
    """ssh arguments of Moodle's tunnel, minus -f (the caller owns the process), with password
    login only, no host key bookkeeping and an exit as soon as the forward cannot be set up."""
    for name, value in (('host', host), ('user', user)):
        if not value or value.startswith('-') or any(c.isspace() for c in value):
            raise ValueError('tunnel %s %r is not usable in an ssh destination' % (name, value))
    for name, value in (('local socket', local_socket), ('remote socket', remote_socket)):
        if not value or not value.startswith('/') or ':' in value:
            raise ValueError('tunnel %s %r must be an absolute path without ":"' % (name, value))
    if not 0 < int(port) < 65536:
        raise ValueError('tunnel port %r is out of range' % (port,))
    options = ('StrictHostKeyChecking=no', 'ServerAliveInterval=120', 'ServerAliveCountMax=3',
               'UserKnownHostsFile=/dev/null', 'ExitOnForwardFailure=yes', 'PubkeyAuthentication=no',
               'PreferredAuthentications=password,keyboard-interactive', 'NumberOfPasswordPrompts=1',
               'ConnectTimeout=10', 'LogLevel=ERROR')
    argv = [ssh_bin, '-N', '-L', '%s:%s' % (local_socket, remote_socket), '-p', str(int(port))]
    for option in options:
        argv += ['-o', option]
    argv.append('%s@%s' % (user, host))
    return argv


def write_askpass(directory):
    """An SSH_ASKPASS program in directory (mode 0700) printing $ASKPASS_PASSWORD_VAR; returns its path."""
    path = os.path.join(directory, 'askpass.sh')
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o700)
    with os.fdopen(fd, 'w') as script:
        script.write(ASKPASS_SCRIPT)
    os.chmod(path, 0o700)  # whatever the umask
    return path


def askpass_env(askpass_path, password, base_env=None):
    """The ssh child's environment: askpass forced even without a terminal (OpenSSH 8.4+; older
    ones use it too, as the child has no tty and DISPLAY is set), the password in one variable."""
    env = dict(os.environ if base_env is None else base_env)
    env.update({'SSH_ASKPASS': askpass_path, 'SSH_ASKPASS_REQUIRE': 'force',
                ASKPASS_PASSWORD_VAR: password})
    env.setdefault('DISPLAY', ':0')
    return env


def socket_accepts(path, timeout=1.0):
    """Whether a unix socket at path accepts a connection."""
    if not os.path.exists(path):
        return False
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
        return True
    except OSError:
        return False
    finally:
        sock.close()


def _process_stderr(proc, stderr_path=None):
    try:
        if stderr_path:
            with open(stderr_path, 'rb') as handle:
                data = handle.read()
        elif proc.stderr is not None and proc.poll() is not None:
            data = proc.stderr.read()
        else:
            data = b''
    except (OSError, ValueError):
        data = b''
    if isinstance(data, bytes):
        data = data.decode('utf-8', 'replace')
    return data.strip()


def wait_for_socket(path, proc, timeout=TUNNEL_TIMEOUT, stderr_path=None, interval=0.05):
    """Return once path accepts connections; raise TunnelError (with the process's stderr)
    when proc exits first or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            text = _process_stderr(proc, stderr_path)
            raise TunnelError(text or 'ssh exited with status %d before %s was listening' % (proc.returncode, path))
        if socket_accepts(path):
            return
        if time.monotonic() >= deadline:
            text = _process_stderr(proc, stderr_path)
            raise TunnelError('nothing listening on %s after %g s%s' % (path, timeout, ': ' + text if text else ''))
        time.sleep(interval)


class SshTunnel(object):
    """Moodle's SSH socket forward LOCAL -> REMOTE on USER@HOST, made with a password given
    through SSH_ASKPASS, as a child process this object owns: open(), then close() (also as
    a context manager). The password is only ever in the child's environment."""

    def __init__(self, ssh_bin, host, user, password, port=22, remote_socket=DOCKER_SOCKET,
                 local_socket=None, timeout=TUNNEL_TIMEOUT):
        self.host, self.user, self.port = host, user, int(port)
        self.remote_socket = remote_socket
        self.local_socket = local_socket or default_local_socket(host)
        self.timeout = timeout
        self.argv = tunnel_argv(ssh_bin, host, user, self.local_socket, remote_socket, self.port)
        self._password = password
        self.proc = None
        self.workdir = None
        self._owns_socket = False

    @property
    def destination(self):
        return '%s@%s:%d' % (self.user, self.host, self.port)

    def scrub(self, text):
        return text.replace(self._password, '********') if self._password and text else text

    def stderr(self):
        """What ssh wrote to stderr so far, without the password."""
        if not self.workdir:
            return ''
        return self.scrub(_process_stderr(self.proc, os.path.join(self.workdir, 'ssh.stderr')))

    def _clear_local_socket(self):
        path = self.local_socket
        if not os.path.lexists(path):
            return
        if os.path.isdir(path) and not os.path.islink(path):
            raise TunnelError('%s is a directory' % path)
        if stat.S_ISSOCK(os.lstat(path).st_mode) and socket_accepts(path):
            # Someone's live forward (Moodle's own, say): neither hijack nor break it.
            raise TunnelError('%s is in use by a running tunnel; choose another local socket' % path)
        os.unlink(path)  # stale leftover of an earlier tunnel

    def open(self):
        """Start ssh and wait until the local socket accepts connections; TunnelError otherwise
        (everything started is cleaned up before it is raised)."""
        try:
            self._clear_local_socket()
            self._owns_socket = True
            self.workdir = tempfile.mkdtemp(prefix='lticontainer-tunnel-')
            askpass = write_askpass(self.workdir)
            stderr_path = os.path.join(self.workdir, 'ssh.stderr')
            with open(stderr_path, 'wb') as stderr:
                self.proc = subprocess.Popen(
                    self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
                    env=askpass_env(askpass, self._password), start_new_session=True, close_fds=True)
            wait_for_socket(self.local_socket, self.proc, self.timeout, stderr_path)
        except (OSError, TunnelError) as err:
            self.close()
            raise TunnelError(self.scrub(str(err)))
        return self

    def close(self):
        """Stop ssh (SIGTERM, SIGKILL after TUNNEL_KILL_AFTER s), remove the local socket and the
        askpass directory. Safe to call more than once."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(TUNNEL_KILL_AFTER)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        if self._owns_socket:
            try:
                os.unlink(self.local_socket)
            except OSError:
                pass
            self._owns_socket = False
        if self.workdir:
            shutil.rmtree(self.workdir, True)
            self.workdir = None

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc_info):
        self.close()
