# -*- coding: utf-8 -*-
# Copyright: (c) lticontainer.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validate settings for, and render, the two Python files JupyterHub loads
for LTIContainerSpawner: the hub config (kind ``hub``) and the spawner config
(kind ``spawner``).

Pure functions, standard library only: this runs on the managed host with its
system python3 (3.9+).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.lticontainer.hub.plugins.module_utils.addresses import address_problem
from ansible_collections.lticontainer.hub.plugins.module_utils.launch_guard import SOURCE as GUARD_SOURCE
from ansible_collections.lticontainer.hub.plugins.module_utils.launch_guard import UNSAFE_NAMES
from ansible_collections.lticontainer.hub.plugins.module_utils.proxy import environment as proxy_environment
from ansible_collections.lticontainer.hub.plugins.module_utils.proxy import no_proxy_list, url_problem

KINDS = ('hub', 'spawner')

# What Moodle's mod_lticontainer calls with its token on JupyterHub 4.1:
# GET /hub/api/users, DELETE /hub/api/users/NAME/server, DELETE /hub/api/users/NAME.
# Upstream grants only 'admin:users', which lacks delete:servers (403 on the server stop).
SERVICE_SCOPES = ['list:users', 'read:users', 'read:servers', 'delete:servers', 'delete:users']

# What serves the hub's HTTPS port and the proxy API, each as its own systemd unit.
PROXIES = ('configurable-http-proxy', 'ltictr_proxy')

USERNAME_KEYS = ('ext_user_username', 'custom_lis_user_username', 'ext_d2l_username',
                 'lis_person_sourcedid', 'user_id')

# Values upstream ships as examples; a deployment that keeps them is open to anyone.
UPSTREAM_EXAMPLE_SECRETS = frozenset([
    'b18e82ec683724743236fade71350720029a29144a585c66f6741d8e9c6e0d83',
    'c0fe2924dbb0f4701d898d36aaf9fd89c7a3ed3a7db6f0003d0e825a7eccb41c',
    'ABCDEFG',
    'XXXXXXXX',
])

# Keys whose values must never appear in messages or module output.
SECRET_KEYS = frozenset(['lti_consumer_secret', 'api_token', 'metrics_token'])

_REQUIRED = object()
_BOOL_STRINGS = {'true': True, 'yes': True, 'on': True, '1': True,
                 'false': False, 'no': False, 'off': False, '0': False}
_BYTE_UNITS = {'': 1, 'K': 1024, 'M': 1024 ** 2, 'G': 1024 ** 3, 'T': 1024 ** 4}


class _Invalid(Exception):
    """Raised by a checker; the message follows '<setting name>: '."""


# ---------------------------------------------------------------- checkers
# Each checker takes the raw value and returns the normalized one or raises _Invalid.
# Messages do not quote the value, so they are safe for secrets too.

def _string(value):
    if not isinstance(value, str):
        raise _Invalid('must be a string')
    return value


def _nonempty(value):
    value = _string(value)
    if not value.strip():
        raise _Invalid('must not be empty')
    if any(ch in value for ch in '\r\n\0'):
        raise _Invalid('must be a single line')
    return value


def _word(value):
    value = _nonempty(value)
    if re.search(r'\s', value):
        raise _Invalid('must not contain whitespace')
    return value


def _abspath(value):
    value = _word(value)
    if not value.startswith('/'):
        raise _Invalid('must be an absolute path')
    return value


def _dirname(value):
    # A single directory level below the user's home (upstream: jupyter/works/.volumes).
    value = _word(value)
    if '/' in value or value in ('.', '..'):
        raise _Invalid('must be a single directory name (no "/", not "." or "..")')
    return value


def _int_range(minimum, maximum=None):
    def check(value):
        if isinstance(value, bool):
            raise _Invalid('must be an integer')
        if isinstance(value, str) and re.match(r'^\s*-?\d+\s*$', value):
            value = int(value)
        if not isinstance(value, int):
            raise _Invalid('must be an integer')
        if value < minimum or (maximum is not None and value > maximum):
            if maximum is None:
                raise _Invalid('must be >= %d' % minimum)
            raise _Invalid('must be between %d and %d' % (minimum, maximum))
        return value
    return check


def _float_min(minimum):
    def check(value):
        if isinstance(value, bool):
            raise _Invalid('must be a number')
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise _Invalid('must be a number')
        if value != value or value < minimum or value == float('inf'):
            raise _Invalid('must be a finite number >= %s' % minimum)
        return value
    return check


def _bool(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _BOOL_STRINGS:
        return _BOOL_STRINGS[value.strip().lower()]
    raise _Invalid('must be a boolean')


def _choice(choices):
    def check(value):
        if value not in choices:
            raise _Invalid('must be one of: %s' % ', '.join(choices))
        return value
    return check


def _ip(value):
    value = _word(value)
    problem = address_problem(value)
    if problem:
        # The containers call the hub API at this address: "every address" is none they can call.
        raise _Invalid('%r %s' % (value, problem))
    return str(ipaddress.ip_address(value))


def _placeholder(value):
    low = value.lower()
    return (value in UPSTREAM_EXAMPLE_SECRETS or len(set(value)) == 1
            or 'example' in low or 'changeme' in low)


def _secret(min_len):
    def check(value):
        value = _word(value)
        if len(value) < min_len:
            raise _Invalid('must be at least %d characters' % min_len)
        if _placeholder(value):
            raise _Invalid('is an upstream example or placeholder value; generate a real one')
        return value
    return check


def _optional(check):
    """check, except that an empty string (the setting is off) passes as it is."""
    return lambda value: value if value == '' else check(value)


def _consumer_key(value):
    value = _word(value)
    if _placeholder(value):
        raise _Invalid('is an upstream example or placeholder value; choose a real one')
    return value


def _admin_users(value):
    # May be empty: nobody is a hub administrator.
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _Invalid('must be a list of non-empty strings')
    return list(value)


def _home_dir(need_username):
    def check(value):
        value = _abspath(value)
        if need_username and '{username}' not in value:
            raise _Invalid("must contain '{username}'")
        return value
    return check


def _group_name(value):
    value = _word(value)
    if not re.match(r'^[a-z_][a-z0-9_-]{0,31}$', value):
        raise _Invalid('must be a valid group name (lowercase letters, digits, "_" or "-", at most 32)')
    return value


def _mem_limit(value):
    # Moodle writes bytes with thousands separators ("2,147,483,648"); people write "1G".
    if isinstance(value, str):
        m = re.match(r'^\s*(\d[\d,]*)\s*([KMGT]?)(i?B)?\s*$', value, re.IGNORECASE)
        if not m:
            raise _Invalid("must be bytes as an integer or a size like '512M', '1G', '2,147,483,648'")
        value = int(m.group(1).replace(',', '')) * _BYTE_UNITS[m.group(2).upper()]
    return _int_range(0)(value)


def _default_url(value):
    value = _string(value)
    if not re.match(r'^/[a-z/]*$', value):
        raise _Invalid("must match ^/[a-z/]*$ (e.g. '/lab' or '/tree')")
    return value


def _frame_ancestors(value):
    # Goes into a Content-Security-Policy header: no directive separators or control chars.
    value = _nonempty(value)
    if ';' in value or ',' in value or re.search(r'[\x00-\x1f]', value):
        raise _Invalid('must be CSP frame-ancestors sources (no ";" or ",")')
    return value


# CSP sources that let any site (of a scheme) embed the hub.
_WILDCARD_SOURCE = re.compile(r'^(\*|[a-z][a-z0-9+.-]*:)$|\*', re.IGNORECASE)


def frame_ancestors_wildcards(value):
    """The sources in a frame-ancestors value that allow more than named origins."""
    return [src for src in value.split() if _WILDCARD_SOURCE.search(src)]


def _words(allow_empty):
    def check(value):
        if not isinstance(value, (list, tuple)):
            raise _Invalid('must be a list of strings')
        try:
            value = [_word(v) for v in value]
        except _Invalid as exc:
            raise _Invalid('each item %s' % exc)
        if not value and not allow_empty:
            raise _Invalid('must not be empty')
        return value
    return check


def _names(value):
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
        raise _Invalid('must be a list of non-empty strings')
    return list(value)


def _username_pattern(value):
    value = _nonempty(value)
    try:
        pattern = re.compile(value)
    except re.error as exc:
        raise _Invalid('is not a regular expression: %s' % exc)
    accepted = [name for name in UNSAFE_NAMES if pattern.fullmatch(name)]
    if accepted:
        raise _Invalid('accepts %s: a name must not start with a dot nor hold a path separator or a control '
                       'character' % ', '.join(repr(name) for name in accepted))
    return value


# Moodle's origin as browsers send it: scheme, host and an optional port, nothing else.
_ORIGIN = re.compile(r'^https?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$')


def _origin(value):
    value = _nonempty(value)
    if not _ORIGIN.match(value):
        raise _Invalid("must be an origin: scheme, host and optional port, no path (e.g. 'https://moodle.example.ac.jp')")
    return value


def _server_limit(value):
    # 'auto' sizes it from the host's memory when the hub starts; 0 is JupyterHub's "no limit".
    if value == 'auto':
        return value
    try:
        return _int_range(0)(value)
    except _Invalid:
        raise _Invalid("must be 'auto' or an integer >= 0 (0: no limit)")


def _abspaths(value):
    if not isinstance(value, (list, tuple)):
        raise _Invalid('must be a list of absolute paths')
    return [_abspath(v) for v in value]


def _environment(value):
    if not isinstance(value, dict):
        raise _Invalid('must be a mapping of variable names to strings')
    for name, val in value.items():
        if not isinstance(name, str) or not re.match(r'^[A-Za-z_][A-Za-z0-9_]*$', name):
            raise _Invalid('%r is not a valid environment variable name' % (name,))
        if not isinstance(val, str):
            raise _Invalid('%s must be a string (quote it in YAML)' % name)
    return dict(value)


def _container_proxy(value):
    # The outbound proxy the students' containers get; {} (the default): none.
    if not isinstance(value, dict):
        raise _Invalid('must be a mapping with http_proxy, https_proxy and no_proxy')
    unknown = sorted(set(value) - set(CONTAINER_PROXY_KEYS))
    if unknown:
        raise _Invalid('unknown key %s (known: %s)' % (', '.join(unknown), ', '.join(CONTAINER_PROXY_KEYS)))
    result = {}
    for key in ('http_proxy', 'https_proxy'):
        url = value.get(key) or ''
        problem = url_problem(url) if url else None
        if problem:
            raise _Invalid('%s %s' % (key, problem))
        result[key] = url
    try:
        result['no_proxy'] = no_proxy_list(value.get('no_proxy') or [])
    except ValueError as exc:
        raise _Invalid('no_proxy %s' % exc)
    return result if result['http_proxy'] or result['https_proxy'] else {}


# ---------------------------------------------------------------- schemas
# key -> (checker, default). Settings the roles own have no default here (_REQUIRED): each
# value is defined once, in a role's defaults, and passed in; only optional ones have one.
SCHEMAS = {
    'hub': {
        'ip_addr': (_ip, _REQUIRED),
        'port': (_int_range(1, 65535), _REQUIRED),
        'hub_api_port': (_int_range(1, 65535), _REQUIRED),
        'proxy_api_port': (_int_range(1, 65535), _REQUIRED),
        'proxy_env_file': (_abspath, _REQUIRED),
        'proxy': (_choice(PROXIES), _REQUIRED),
        'lti_consumer_key': (_consumer_key, _REQUIRED),
        'lti_consumer_secret': (_secret(16), _REQUIRED),
        'api_token': (_secret(8), _REQUIRED),
        'metrics_token': (_optional(_secret(16)), ''),  # '': no metrics service
        'time_zone': (_word, _REQUIRED),
        'username_key': (_choice(USERNAME_KEYS), _REQUIRED),
        'crypt_key_file': (_abspath, _REQUIRED),
        'cookie_secret_file': (_abspath, _REQUIRED),
        'db_url': (_word, _REQUIRED),
        'concurrent_spawn_limit': (_int_range(1), _REQUIRED),
        'admin_users': (_admin_users, _REQUIRED),
        'frame_ancestors': (_frame_ancestors, _REQUIRED),
        'frame_ancestors_allow_wildcard': (_bool, _REQUIRED),
        'spawner_config': (_abspath, None),  # None: JupyterHub's own default spawner
        'watch_files': (_abspaths, []),
    },
    'spawner': {
        'spawner_dir': (_abspath, _REQUIRED),
        'image': (_word, _REQUIRED),
        'allowed_images': (_words(False), _REQUIRED),
        'allowed_image_patterns': (_words(True), _REQUIRED),
        'privileged': (_bool, _REQUIRED),
        'no_new_privileges': (_bool, _REQUIRED),
        'pids_limit': (_int_range(16), _REQUIRED),
        'active_server_limit': (_server_limit, _REQUIRED),
        'username_pattern': (_username_pattern, _REQUIRED),
        'reserved_names': (_names, _REQUIRED),
        'moodle_origin': (_origin, _REQUIRED),
        'start_timeout': (_int_range(1), _REQUIRED),
        'http_timeout': (_int_range(1), _REQUIRED),
        'use_group': (_bool, _REQUIRED),
        'group_home_dir': (_home_dir(False), _REQUIRED),
        'user_home_dir': (_home_dir(True), _REQUIRED),
        'projects_dir': (_dirname, _REQUIRED),
        'works_dir': (_dirname, _REQUIRED),
        'volumes_dir': (_dirname, _REQUIRED),
        'default_group': (_group_name, _REQUIRED),
        'teacher_group': (_word, _REQUIRED),
        'teacher_gid': (_int_range(1000, 60000), _REQUIRED),
        'base_id': (_int_range(1000), _REQUIRED),
        'act_limit': (_int_range(0), _REQUIRED),
        'cpu_limit': (_float_min(0), _REQUIRED),
        'max_cpu_limit': (_float_min(0), _REQUIRED),
        'mem_limit': (_mem_limit, _REQUIRED),
        'max_mem_limit': (_mem_limit, _REQUIRED),
        'default_url': (_default_url, _REQUIRED),
        'notice_poll': (_int_range(1), _REQUIRED),
        'environment': (_environment, {}),
        'container_proxy': (_container_proxy, {}),
    },
}

CONTAINER_PROXY_KEYS = ('http_proxy', 'https_proxy', 'no_proxy')

# Spawner environment defaults (upstream's); the user's `environment` is merged over these.
BASE_ENVIRONMENT = (
    ('GRANT_SUDO', 'no'),
    ('PRJCT_DIR', 'projects_dir'),   # value taken from the setting of that name
    ('WORK_DIR', 'works_dir'),
    ('VOLUME_DIR', 'volumes_dir'),
    ('NB_UMASK', '0037'),
    ('CONDA_DIR', '/opt/conda'),
    ('CHOWN_HOME', 'yes'),
    ('CHOWN_HOME_OPTS', '-R'),
)

# The rendered hub file's assignments that hold a secret; diffs mask their values, old and new.
SECRET_ASSIGNMENTS = ('ltiauth_secret_key = ', 'api_token = ', 'metrics_token = ')


def required_keys(kind):
    return sorted(k for k, v in SCHEMAS[kind].items() if v[1] is _REQUIRED)


def secret_values(kind, settings):
    """The values in settings that must be masked in any output."""
    return [v for k, v in (settings or {}).items()
            if k in SECRET_KEYS and isinstance(v, str) and v]


def mask_secret_lines(text):
    """text with the value of every secret assignment replaced, for diffs: the old file's
    secrets are not in the module's no_log values, so they are masked by position instead."""
    return ''.join(line.split(' = ', 1)[0] + " = '********'\n" if line.startswith(SECRET_ASSIGNMENTS) else line
                   for line in text.splitlines(True))


def validate(kind, settings, prefix=''):
    """Check settings for kind and apply the optional ones' defaults.

    Returns (normalized_settings, errors); errors is a list of strings, each
    starting with prefix + the setting name. Secret values are never quoted.
    """
    if kind not in SCHEMAS:
        return {}, ['kind: must be one of: %s' % ', '.join(KINDS)]
    if not isinstance(settings, dict):
        return {}, ['%ssettings: must be a mapping' % prefix]
    schema = SCHEMAS[kind]
    errors = []
    result = {}
    for key in sorted(settings, key=str):
        if key not in schema:
            errors.append('%s%s: unknown setting for kind %s (known: %s)'
                          % (prefix, key, kind, ', '.join(sorted(schema))))
    for key, (check, default) in schema.items():
        value = settings.get(key)
        if value is None:
            if default is _REQUIRED:
                errors.append('%s%s: is required' % (prefix, key))
                continue
            result[key] = _copy(default)
            continue
        try:
            result[key] = check(value)
        except _Invalid as exc:
            errors.append('%s%s: %s' % (prefix, key, exc))
    errors.extend(prefix + e for e in (_check_hub if kind == 'hub' else _check_spawner)(result, prefix))
    return result, errors


def _check_hub(s, prefix):
    """Errors between hub settings (each without the prefix of its first name)."""
    errors = []
    ports = [(k, s[k]) for k in ('port', 'hub_api_port', 'proxy_api_port') if k in s]
    for i, (key, port) in enumerate(ports):
        for other, other_port in ports[:i]:
            if port == other_port:
                errors.append('%s: must differ from %s%s (both %d)' % (key, prefix, other, port))
    # JupyterHub refuses to start when two services share a token.
    if s.get('metrics_token') and s.get('metrics_token') == s.get('api_token'):
        errors.append('metrics_token: must differ from %sapi_token' % prefix)
    if 'frame_ancestors' in s and not s.get('frame_ancestors_allow_wildcard', True):
        wildcards = frame_ancestors_wildcards(s['frame_ancestors'])
        if wildcards:
            errors.append('frame_ancestors: %s would let any site embed the hub; name Moodle\'s origin, or set '
                          '%sframe_ancestors_allow_wildcard' % (' '.join(wildcards), prefix))
    return errors


def _check_spawner(s, prefix):
    errors = []
    for key in ('cpu_limit', 'mem_limit'):
        if key in s and 'max_' + key in s and not 0 < s[key] <= s['max_' + key]:
            errors.append('%s: must be more than 0 (no limit is not a default) and at most %smax_%s (%s)'
                          % (key, prefix, key, s['max_' + key]))
    images = ('image', 'allowed_images', 'allowed_image_patterns')
    if all(k in s for k in images) and not guard(s)['image_allowed'](s['image']):
        errors.append('image: %s is neither in %sallowed_images nor matches %sallowed_image_patterns'
                      % (s['image'], prefix, prefix))
    return errors


def guard(s):
    """The launch guard's functions, run here as in the rendered file, with settings s."""
    import ast
    import fnmatch
    import grp
    import json
    import math
    import os
    import pwd
    namespace = dict(GUARD=guard_settings(s), LOGIN_DEFS='/etc/login.defs', ast=ast, fnmatch=fnmatch, grp=grp,
                     json=json, math=math, os=os, pwd=pwd, re=re, __name__='lticontainer_guard')
    exec(compile(GUARD_SOURCE, '<launch guard>', 'exec'), namespace)
    return namespace


def guard_settings(s):
    """What the rendered guard reads (GUARD)."""
    settings = dict((key, s.get(key)) for key in (
        'username_pattern', 'reserved_names', 'allowed_images', 'allowed_image_patterns', 'cpu_limit',
        'max_cpu_limit', 'mem_limit', 'max_mem_limit', 'moodle_origin'))
    settings['default_image'] = s.get('image')
    return settings


def _copy(value):
    return list(value) if isinstance(value, list) else dict(value) if isinstance(value, dict) else value


# ---------------------------------------------------------------- rendering

HEADER = (
    '# Generated by the Ansible module lticontainer.hub.hub_config. Do not edit by hand:\n'
    '# changes are overwritten on the next run; change the role variables instead.\n'
)

READ_SECRETS = '''

def _read_secret(path):
    # Secrets live in their own root-only files, so this file never holds them.
    with open(path) as f:
        return f.read().strip()


def _read_env_secret(path, name):
    # A systemd EnvironmentFile (NAME=value lines), shared with the unit that needs the value.
    for line in _read_secret(path).splitlines():
        key, _sep, value = line.partition('=')
        if key.strip() == name:
            return value.strip()
    raise SystemExit('%s has no %s' % (path, name))


'''


# Why the hub does not start its proxy, and which one answers api_url.
PROXY_NOTES = {
    'configurable-http-proxy': (
        "\n# configurable-http-proxy runs as its own systemd unit, so it and the students' routes\n"
        '# outlive a restart of the hub; the hub finds its routes again when it starts.\n'),
    'ltictr_proxy': (
        "\n# LTIContainerSpawner's ltictr_proxy serves the HTTPS port in place of configurable-http-proxy\n"
        "# and reports the students' cell executions to Moodle; its ltictr_api_server speaks the same API\n"
        "# at api_url with the same token. It runs as its own systemd unit, so it and the students' routes\n"
        '# outlive a restart of the hub; the hub finds its routes again when it starts.\n'),
}


def _assign(name, value):
    # repr() makes every value a Python literal: strings cannot break out of their quotes.
    return '%s = %r\n' % (name, value)


def render(kind, settings, depends=None):
    """Render validated settings (from validate()) as the Python config text. depends maps each
    file the config loads (the hub's watch_files, the spawner's class) to its sha256 (None when
    absent); the header records them, so that a change to any of them changes the text."""
    if kind not in KINDS:
        raise ValueError('unknown kind %r' % (kind,))
    return (_render_hub if kind == 'hub' else _render_spawner)(settings, depends or {})


def _depends_header(depends, paths):
    if not paths:
        return []
    return (['#\n# Files it depends on, as they were when it was written: a change to any of them changes\n'
             '# this file, and so restarts the hub.\n']
            + ['#   %s %s\n' % (path, depends.get(path) or 'absent') for path in paths])


# Stands for the rendered config's _no_proxy function in the spawner's environment.
NO_PROXY_AT_SPAWN = object()


def spawner_environment(s):
    env = dict((k, s[v] if v in ('projects_dir', 'works_dir', 'volumes_dir') else v)
               for k, v in BASE_ENVIRONMENT)
    proxy = s['container_proxy']
    if proxy:
        env.update(proxy_environment(proxy['http_proxy'], proxy['https_proxy']))
        env['no_proxy'] = env['NO_PROXY'] = NO_PROXY_AT_SPAWN
    env.update(s['environment'])
    return env


def _host_config(s):
    """What every student's container gets from the engine, whatever the launch asks for."""
    config = {'privileged': s['privileged'], 'auto_remove': False, 'pids_limit': s['pids_limit']}
    if s['no_new_privileges']:
        config['security_opt'] = ['no-new-privileges']
    return config


# The class the hub spawns: upstream's, whose single-user server Moodle's pages may frame.
SPAWNER_CLASS = 'MoodleFramedLTIContainerSpawner'
SPAWNER_SUBCLASS = """

# Upstream's single-user server sends frame-ancestors 'self', which keeps it out of Moodle's iframe.
class %s(LTIContainerSpawner):
    \"\"\"Upstream's class; its single-user server lets Moodle's pages frame it.\"\"\"

    def get_args(self):
        return framed_args(super().get_args())


c.JupyterHub.spawner_class = %s
""" % (SPAWNER_CLASS, SPAWNER_CLASS)

# Left to the system, the hub and the proxy when 'auto' sizes the active server limit.
AUTO_SERVER_RESERVE = 2 * 1024 ** 3


def _env_value(value):
    return '_no_proxy' if value is NO_PROXY_AT_SPAWN else repr(value)


CONTAINER_NO_PROXY = '''

def _no_proxy(spawner):
    hub_host = urlsplit(spawner.hub_connect_url or spawner.hub.api_url).hostname
    return ','.join(container_no_proxy + [hub_host])


'''


def _render_spawner(s, depends):
    a = _assign
    out = [HEADER, "# LTIContainerSpawner's settings, loaded by the hub's configuration (load_subconfig).\n"]
    out += _depends_header(depends, sorted(depends))
    out += [
        '\nimport ast\nimport fnmatch\nimport grp\nimport json\nimport math\nimport os\nimport pwd\nimport re\nimport sys\n\n'
        'c = get_config()  # noqa: F821\n\n',
        a('spawner_dir', s['spawner_dir']),
        'if spawner_dir not in sys.path:\n    sys.path.append(spawner_dir)\n',
        'from lticontainerspawner import LTIContainerSpawner  # noqa: E402\n',
        "# The hub spawns upstream's class through the subclass at the end of this file.\n",
        '# The spawner reads the LTI launch (custom parameters) from auth_state.\n',
        'c.Spawner.auth_state_hook = LTIContainerSpawner.userdata_hook\n',
        a('c.Spawner.start_timeout', s['start_timeout']),
        a('c.Spawner.http_timeout', s['http_timeout']),
        a('c.Spawner.default_url', s['default_url']),
        '# Course defaults; a launch may ask for others (lms_cpulimit, lms_memlimit), up to the maxima below.\n',
        a('c.Spawner.cpu_limit', s['cpu_limit']),
        a('c.Spawner.mem_limit', s['mem_limit']),
    ]
    if s['container_proxy']:
        out += [
            "\n# The outbound proxy, passed on to the students' containers. The hub's own address (the spawner\n",
            '# knows it only when it starts a server) is always reached directly: what the students run must\n',
            '# not send the hub API to the proxy.\n',
            'from urllib.parse import urlsplit  # noqa: E402\n\n',
            a('container_no_proxy', s['container_proxy']['no_proxy']),
            CONTAINER_NO_PROXY,
        ]
    out += ['c.Spawner.environment = {\n']
    out.extend('    %r: %s,\n' % (k, _env_value(v)) for k, v in sorted(spawner_environment(s).items()))
    out += [
        '}\n',
        a('c.DockerSpawner.image', s['image']),
        "# Stopping a server removes its container (the spawner's remove); the engine itself must not\n",
        '# (AutoRemove): Docker before 24.0.8 removes such containers when it restarts (moby/moby#46308).\n',
        'c.DockerSpawner.remove = True\n',
        "# Containers start as root; the image's start script drops to the student's uid. A fork bomb\n",
        '# stops at pids_limit; no-new-privileges: no setuid program gives the student root again.\n',
        "c.DockerSpawner.extra_create_kwargs = {'user': 'root'}\n",
        a('c.DockerSpawner.extra_host_config', _host_config(s)),
    ]
    out += [a('c.LTIContainerSpawner.%s' % name, s[key]) for name, key in (
        ('use_group', 'use_group'), ('default_group', 'default_group'), ('group_home_dir', 'group_home_dir'),
        ('user_home_dir', 'user_home_dir'), ('projects_dir', 'projects_dir'), ('works_dir', 'works_dir'),
        ('volumes_dir', 'volumes_dir'), ('teacher_gname', 'teacher_group'), ('teacher_gid', 'teacher_gid'),
        ('base_id', 'base_id'), ('act_limit', 'act_limit'), ('notice_poll', 'notice_poll'))]
    if s['active_server_limit'] == 'auto':
        out += [
            "\n# Servers running at once: the host's memory, less %d GiB for the system, the hub and the proxy,\n"
            % (AUTO_SERVER_RESERVE // 1024 ** 3),
            "# in servers of the course default memory (lticontainerspawner_active_server_limit: auto).\n",
            "c.JupyterHub.active_server_limit = max(1, (os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES')\n"
            "                                          - %d) // %d)\n" % (AUTO_SERVER_RESERVE, s['mem_limit']),
        ]
    else:
        out += ['\n# Servers running at once (0: no limit).\n',
                a('c.JupyterHub.active_server_limit', s['active_server_limit'])]
    out += [
        '\n# The launch guard: upstream applies whatever a launch asks for; these hooks run first.\n',
        'GUARD = {\n',
    ]
    out.extend('    %r: %r,\n' % item for item in sorted(guard_settings(s).items()))
    out += [
        '}\n',
        "LOGIN_DEFS = '/etc/login.defs'\n",
        GUARD_SOURCE,
        '\n\nc.Authenticator.post_auth_hook = refuse_unsafe_login\n',
        'c.Spawner.pre_spawn_hook = guard_launch\n',
        SPAWNER_SUBCLASS,
    ]
    return ''.join(out)


def _render_hub(s, depends):
    a = _assign
    out = [HEADER, '# JupyterHub configuration for LTIContainerSpawner: jupyterhub -f <this file>\n']
    out += _depends_header(depends, s['watch_files'])
    out += [
        '\nimport os\n',
        READ_SECRETS,
        'c = get_config()  # noqa: F821\n\n',
        a('os.environ[\'TZ\']', s['time_zone']),
        '# Encrypts auth_state (the LTI launch data); the key is read from its file, not stored here.\n',
        "os.environ['JUPYTERHUB_CRYPT_KEY'] = _read_secret(%r)\n" % s['crypt_key_file'],
        '\n# Network: the proxy serves HTTPS at bind_url; students\' containers call the hub API\n',
        '# over plain HTTP at hub_bind_url, so the address must be one they reach.\n',
        a('my_ip_addr', s['ip_addr']),
        '# URLs need an IPv6 address in brackets.\n',
        "url_host = '[' + my_ip_addr + ']' if ':' in my_ip_addr else my_ip_addr\n",
        "c.JupyterHub.bind_url = 'https://' + url_host + ':%d'\n" % s['port'],
        "c.JupyterHub.hub_bind_url = 'http://' + url_host + ':%d'\n" % s['hub_api_port'],
        'c.JupyterHub.hub_connect_ip = my_ip_addr\n',
        PROXY_NOTES[s['proxy']],
        'c.ConfigurableHTTPProxy.should_start = False\n',
        "c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:%d'\n" % s['proxy_api_port'],
        "c.ConfigurableHTTPProxy.auth_token = _read_env_secret(%r, 'CONFIGPROXY_AUTH_TOKEN')\n"
        % s['proxy_env_file'],
        "# Students' servers outlive the hub too: a restart neither stops them nor drops their routes.\n",
        'c.JupyterHub.cleanup_servers = False\n',
        'c.JupyterHub.cleanup_proxy = False\n',
        '\n# Moodle embeds the hub in an iframe: cookies must be cross-site, and framing allowed.\n',
        'c.JupyterHub.tornado_settings = {\n',
        "    'cookie_options': {'SameSite': 'None', 'Secure': True},\n",
        "    'headers': {'Content-Security-Policy': %r},\n" % ('frame-ancestors ' + s['frame_ancestors']),
        '}\n',
        a('c.JupyterHub.cookie_secret_file', s['cookie_secret_file']),
        a('c.JupyterHub.db_url', s['db_url']),
        a('c.JupyterHub.concurrent_spawn_limit', s['concurrent_spawn_limit']),
        'c.JupyterHub.shutdown_on_logout = True\n',
        '\n# LTI 1.1 authentication\n',
        a('ltiauth_consumer_key', s['lti_consumer_key']),
        a('ltiauth_secret_key', s['lti_consumer_secret']),
        "c.JupyterHub.authenticator_class = 'ltiauthenticator.LTIAuthenticator'\n",
        'c.LTI11Authenticator.consumers = {ltiauth_consumer_key: ltiauth_secret_key}\n',
        a('c.LTI11Authenticator.username_key', s['username_key']),
        'c.Authenticator.admin_users = set(%r)\n' % sorted(s['admin_users']),
        'c.Authenticator.allow_all = True\n',
        'c.Authenticator.enable_auth_state = True\n',
        '\n# The API token Moodle uses, with the scopes of the calls it makes.\n',
        a('api_token', s['api_token']),
        "c.JupyterHub.services = [{'name': 'admin-service', 'api_token': api_token}]\n",
        'c.JupyterHub.load_roles = [\n',
        "    {'name': 'service-role', 'scopes': %r, 'services': ['admin-service']},\n" % SERVICE_SCOPES,
        ']\n',
        '# /hub/metrics answers authenticated requests only.\n',
        'c.JupyterHub.authenticate_prometheus = True\n',
    ]
    if s['metrics_token']:
        out += [
            '\n# Prometheus scrapes /hub/metrics with this token, which may read the metrics and nothing else.\n',
            a('metrics_token', s['metrics_token']),
            "c.JupyterHub.services.append({'name': 'metrics', 'api_token': metrics_token})\n",
            "c.JupyterHub.load_roles.append({'name': 'metrics', 'scopes': ['read:metrics'], 'services': ['metrics']})\n",
        ]
    if s['spawner_config']:
        out += [
            '\n# The spawner: its own file, from the lticontainerspawner role.\n',
            a('spawner_config', s['spawner_config']),
            'if not os.path.isfile(spawner_config):\n',
            "    raise SystemExit(spawner_config + ' is missing: install the spawner (lticontainerspawner role)')\n",
            'load_subconfig(spawner_config)  # noqa: F821\n',
        ]
    return ''.join(out)
