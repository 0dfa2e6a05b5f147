# -*- coding: utf-8 -*-
# Copyright: lticontainer.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Moodle's SSH socket tunnel to the hub's container engine: ssh forwarding a local unix
socket to the engine's, logged in with a password given through SSH_ASKPASS.

Standard library only: the lti_launch module runs on the Moodle host (or a stand-in) with
the system python3 (3.9+); it runs the ssh client, as Moodle does.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import socket
import stat
import subprocess
import tempfile
import time

from ansible_collections.lticontainer.hub.plugins.module_utils.addresses import bare_host, url_host

DOCKER_SOCKET = '/var/run/docker.sock'
TUNNEL_TIMEOUT = 15.0   # seconds for ssh to log in and listen on the local socket
TUNNEL_KILL_AFTER = 5.0  # seconds between SIGTERM and SIGKILL when closing
# The child's environment variable the askpass script prints; the password travels only there.
ASKPASS_PASSWORD_VAR = 'LTICONTAINER_TUNNEL_PASSWORD'
ASKPASS_SCRIPT = '#!/bin/sh\nprintf \'%%s\\n\' "$%s"\n' % ASKPASS_PASSWORD_VAR


class TunnelError(Exception):
    pass


def default_local_socket(host):
    """Moodle's local end of the tunnel for a container host. An IPv6 literal's colons become
    underscores: ssh's -L takes no path with a colon."""
    return '/tmp/lticontainer_%s.sock' % bare_host(host).replace(':', '_')


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
    # ssh takes an IPv6 literal bare (user@2001:db8::10), not in a URL's brackets.
    argv.append('%s@%s' % (user, bare_host(host)))
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
        return '%s@%s:%d' % (self.user, url_host(bare_host(self.host)), self.port)

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
