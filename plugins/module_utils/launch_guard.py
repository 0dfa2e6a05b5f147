# -*- coding: utf-8 -*-
# Copyright: (c) lticontainer.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The launch guard hub_config renders into the spawner's configuration file, around
upstream's LTIContainerSpawner (whose file is never edited).

Upstream's spawner applies whatever a launch's custom parameters ask for: any image, any CPU
and memory (0 is unlimited), and it maps an LMS user name that matches a host account onto that
account's uid and home. Two JupyterHub hooks run before it does:

- ``refuse_unsafe_login`` (``Authenticator.post_auth_hook``) refuses, with HTTP 403 and the reason,
  LMS user names that do not match the username pattern, reserved names and the names of the
  host's system accounts, before a hub user exists for them;
- ``guard_launch`` (``Spawner.pre_spawn_hook``, after upstream's ``userdata_hook`` parsed the launch
  and before its ``start()``) checks the name again, refuses system uids and gids, foreign uids and
  homes outside their directory, refuses images that are neither listed nor match an allowed
  pattern (before anything is pulled), and clamps CPU and memory to the maxima. A refused launch
  is an HTTP 403 whose message the student sees.

A third piece is not a guard but a fix: upstream's single-user server answers every page with
``Content-Security-Policy: frame-ancestors 'self'``, so Moodle's iframe cannot show JupyterLab.
``framed_args`` (called by the subclass of upstream's class the rendered file defines) merges
into the ``--ServerApp.tornado_settings=`` argument upstream's ``get_args`` passes the CSP
header with Moodle's origin and cross-site xsrf cookie options, keeping upstream's keys.

The text below runs inside the rendered file, which defines ``GUARD`` (the settings) and
``LOGIN_DEFS`` and imports ast, fnmatch, grp, json, math, os, pwd and re before it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Names the username pattern must never accept, whatever a site sets: a leading dot ('.', '..',
# dot files), path separators and control characters would escape or hide the student's home.
UNSAFE_NAMES = ('', '.', '..', '.x', 'a/b', '/a', 'a\\b', 'a\nb', 'a\x00b', 'a\tb', 'a\x7fb', 'a\rb')

SOURCE = r'''

try:
    from tornado.web import HTTPError as _HTTPError
except ImportError:  # hub_config runs these functions to check settings, outside the hub
    class _HTTPError(Exception):
        def __init__(self, status_code, log_message, *args):
            super().__init__(log_message % args)
            self.status_code = status_code


class LaunchRefused(_HTTPError):
    """HTTP 403: JupyterHub shows the message on the page that pressed Start (an HTTPError passes
    through its spawn handler) and in the server's progress events (jupyterhub_message)."""

    def __init__(self, message):
        self.jupyterhub_message = message
        super().__init__(403, '%s', message)

    # JupyterHub 4.1 sets a failed spawn's reason to 'error', which its error page turns into
    # "Failed to start your server on the last attempt": the reason stays the message instead.
    @property
    def reason(self):
        return self.jupyterhub_message

    @reason.setter
    def reason(self, _value):
        pass


def _login_defs():
    """This host's UID_MIN, UID_MAX and GID_MIN: accounts outside them are the system's."""
    found = {'UID_MIN': 1000, 'UID_MAX': 60000, 'GID_MIN': 1000}
    try:
        with open(LOGIN_DEFS) as defs:
            for line in defs:
                words = line.split()
                if len(words) > 1 and words[0] in found and words[1].isdigit():
                    found[words[0]] = int(words[1])
    except OSError:
        pass
    return found


def name_refusal(name):
    """Why an LMS user name may not be used on this hub, or None."""
    if not re.fullmatch(GUARD['username_pattern'], name):
        return 'is not a valid user name on this hub'
    if name in GUARD['reserved_names']:
        return 'is reserved on this hub'
    try:
        uid = pwd.getpwnam(name).pw_uid
    except KeyError:
        return None
    defs = _login_defs()
    if not defs['UID_MIN'] <= uid <= defs['UID_MAX']:
        return 'is a system account of this hub'
    return None


def refuse_unsafe_login(authenticator, handler, authentication):
    """post_auth_hook: a refused name gets HTTP 403 with the reason, and no hub user."""
    name = authentication['name']
    reason = name_refusal(name)
    if reason:
        authenticator.log.warning('lticontainer: refused the login of %s: the name %s', ascii(name), reason)
        raise LaunchRefused('The LMS user name %s %s.' % (ascii(name), reason))
    return authentication


def _refuse(spawner, message):
    spawner.log.warning('lticontainer: refused the launch of %s: %s', spawner.user.name, message)
    raise LaunchRefused('This hub does not start the server: %s.' % message)


def _check_ids(spawner, name):
    """Upstream maps the name to a uid and gid (a host account's, the patched LMS's
    ext_user_userid/groupid, or base_id + the LMS id): never a system id or another account's."""
    defs = _login_defs()
    groupname = spawner._get_groupname()
    uid, gid = spawner.get_userid(), spawner.group_id
    if uid < defs['UID_MIN']:
        _refuse(spawner, 'uid %d is a system id' % uid)
    try:
        owner = pwd.getpwuid(uid).pw_name
    except KeyError:
        owner = name
    if owner != name:
        _refuse(spawner, 'uid %d belongs to another account of this host' % uid)
    try:
        default_gid = grp.getgrnam(spawner.default_group).gr_gid
    except KeyError:
        default_gid = None
    if gid < defs['GID_MIN'] and gid != default_gid:
        _refuse(spawner, 'gid %d is a system id' % gid)
    home = spawner.homedir
    if os.path.normpath(home) != home or not home.startswith('/'):
        _refuse(spawner, 'the home %s of the group %s is not a plain path' % (ascii(home), ascii(groupname)))


def canonical_image(ref):
    """Docker's familiar form of an image reference, with its tag: python -> python:latest,
    docker.io/library/python:3 -> python:3."""
    ref = ref.strip()
    for prefix in ('docker.io/library/', 'index.docker.io/library/', 'docker.io/', 'index.docker.io/'):
        if ref.startswith(prefix):
            ref = ref[len(prefix):]
            break
    if '@' not in ref and ':' not in ref.rsplit('/', 1)[-1]:
        ref += ':latest'
    return ref


def image_allowed(ref):
    ref = canonical_image(ref)
    return (ref in [canonical_image(image) for image in GUARD['allowed_images']]
            or any(fnmatch.fnmatchcase(ref, pattern) for pattern in GUARD['allowed_image_patterns']))


def _sent(spawner, key):
    """The value of custom_<key> the launch sent (upstream matches the prefix; the last wins)."""
    value = None
    for field, sent in (spawner.userdata or {}).items():
        if field.startswith('custom_' + key):
            value = str(sent).strip()
    return value


def _number(text, kind):
    """int (Moodle writes thousands separators) or finite float; None when it is not a number."""
    if kind is int:
        text = text.replace(',', '')
        return int(text) if re.fullmatch('[0-9]+', text) else None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _limit(spawner, key, what, kind):
    """The course default when the launch sends nothing; the maximum for more, 0 or not a number."""
    default, maximum = GUARD[what], GUARD['max_' + what]
    raw = _sent(spawner, key)
    if not raw:
        return default
    value = _number(raw, kind)
    if value is not None and 0 < value <= maximum:
        return value
    why = 'not a number' if value is None else 'no limit' if value <= 0 else 'over the maximum'
    spawner.log.warning('lticontainer: %s asked for %s %s (%s): clamped to the maximum, %s',
                        spawner.user.name, what, ascii(raw), why, maximum)
    return maximum


def _guarantee(spawner, key, kind, limit):
    raw = _sent(spawner, key)
    value = _number(raw, kind) if raw else None
    return min(value, limit) if value is not None and value > 0 else None


def guard_launch(spawner):
    """pre_spawn_hook: after upstream's userdata_hook has parsed the launch, before its start()."""
    name = spawner.user.name
    reason = name_refusal(name)
    if reason:
        _refuse(spawner, 'the user name %s %s' % (ascii(name), reason))
    _check_ids(spawner, name)
    image = spawner.custom_image
    if image and not image_allowed(image):
        _refuse(spawner, 'the course asks for the image %s, which is not on its list' % ascii(image))
    if not image:
        # The spawner keeps the last launch's image; a launch without one gets the default.
        spawner.image = GUARD['default_image']
    spawner.cpu_limit = _limit(spawner, 'lms_cpulimit', 'cpu_limit', float)
    spawner.mem_limit = _limit(spawner, 'lms_memlimit', 'mem_limit', int)
    spawner.cpu_guarantee = _guarantee(spawner, 'lms_cpugrnt', float, spawner.cpu_limit)
    spawner.mem_guarantee = _guarantee(spawner, 'lms_memgrnt', int, spawner.mem_limit)
    # Upstream's start() would apply the raw values again.
    spawner.custom_cpulimit = spawner.custom_memlimit = spawner.custom_cpugrnt = spawner.custom_memgrnt = ''


TORNADO_ARG = '--ServerApp.tornado_settings='
# Printable ASCII a string may keep as it is in a command-line literal (no space, no quote, no backslash).
_LITERAL_PLAIN = frozenset(chr(code) for code in range(0x21, 0x7f)) - frozenset('"\\\'')


def _literal_string(text):
    out = []
    for char in text:
        if char in _LITERAL_PLAIN:
            out.append(char)
        elif char in '"\\':
            out.append('\\' + char)
        elif ord(char) < 0x10000:
            out.append('\\u%04x' % ord(char))
        else:
            out.append('\\U%08x' % ord(char))
    return '"' + ''.join(out) + '"'


def cli_literal(value):
    """value as one command-line word the single-user server reads back: traitlets evaluates a
    Dict argument as a Python literal, and the image's start script splits its arguments at
    spaces. So JSON's form, but True, False and None, and strings with every space, quote and
    non-ASCII character escaped (\\u0020, \\u0027; \\U for characters beyond the BMP)."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, str):
        return _literal_string(value)
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError('%r has no literal' % value)
        return repr(value)
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise TypeError('dict keys must be strings: %r' % (list(value),))
        return '{' + ','.join('%s:%s' % (_literal_string(k), cli_literal(v)) for k, v in value.items()) + '}'
    if isinstance(value, (list, tuple)):
        return '[' + ','.join(cli_literal(v) for v in value) + ']'
    raise TypeError('%r has no command-line literal' % type(value).__name__)


def _read_settings(text):
    """Upstream writes JSON; a Python literal (ours) reads too."""
    try:
        value = json.loads(text)
    except ValueError:
        value = ast.literal_eval(text)
    if not isinstance(value, dict):
        raise ValueError('%s is not a dict' % TORNADO_ARG)
    return value


def framed_args(args):
    """The single-user server's arguments, with Moodle's pages allowed to frame it: the
    tornado_settings argument (upstream's, merged, its keys kept) gets the CSP header with
    Moodle's origin and the xsrf cookie made cross-site, as the hub's own cookies are."""
    settings, kept = {}, []
    for arg in args:
        if arg.startswith(TORNADO_ARG):
            settings.update(_read_settings(arg[len(TORNADO_ARG):]))
        else:
            kept.append(arg)
    headers = dict(settings.get('headers') or {})
    headers['Content-Security-Policy'] = "frame-ancestors 'self' " + GUARD['moodle_origin']
    xsrf = dict(settings.get('xsrf_cookie_kwargs') or {})
    xsrf.update(samesite='None', secure=True)
    settings.update(headers=headers, xsrf_cookie_kwargs=xsrf)
    return kept + [TORNADO_ARG + cli_literal(settings)]
'''
