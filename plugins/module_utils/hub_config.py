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

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover - python2 is not supported, keeps sanity happy
    from urlparse import urlsplit  # type: ignore

KINDS = ('hub', 'spawner')

# What Moodle's mod_lticontainer calls with its token on JupyterHub 4.1:
# GET /hub/api/users, DELETE /hub/api/users/NAME/server, DELETE /hub/api/users/NAME.
# Upstream grants only 'admin:users', which lacks delete:servers (403 on the server stop).
SERVICE_SCOPES = ['list:users', 'read:users', 'read:servers', 'delete:servers', 'delete:users']

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
SECRET_KEYS = frozenset(['lti_consumer_secret', 'api_token'])

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
    try:
        return str(ipaddress.ip_address(_word(value)))
    except ValueError:
        raise _Invalid('%r is not an IPv4 or IPv6 address' % value)


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


def _consumer_key(value):
    value = _word(value)
    if _placeholder(value):
        raise _Invalid('is an upstream example or placeholder value; choose a real one')
    return value


def _admin_users(value):
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


def _iframe_url(value):
    # Goes into a Content-Security-Policy header: no directive separators or control chars.
    value = _nonempty(value)
    if ';' in value or ',' in value or re.search(r'[\x00-\x1f]', value):
        raise _Invalid('must be CSP frame-ancestors sources (no ";" or ",")')
    return value


def _http_url(value):
    value = _word(value)
    try:
        parts = urlsplit(value)
        parts.port  # raises ValueError on a bad port
    except ValueError:
        raise _Invalid('must be an http(s) URL')
    if parts.scheme not in ('http', 'https') or not parts.hostname:
        raise _Invalid('must be an http(s) URL')
    return value


def _environment(value):
    if not isinstance(value, dict):
        raise _Invalid('must be a mapping of variable names to strings')
    for name, val in value.items():
        if not isinstance(name, str) or not re.match(r'^[A-Za-z_][A-Za-z0-9_]*$', name):
            raise _Invalid('%r is not a valid environment variable name' % (name,))
        if not isinstance(val, str):
            raise _Invalid('%s must be a string (quote it in YAML)' % name)
    return dict(value)


# ---------------------------------------------------------------- schemas
# key -> (checker, default); _REQUIRED marks settings without a default.
SCHEMAS = {
    'hub': {
        'ip_addr': (_ip, _REQUIRED),
        'port': (_int_range(1, 65535), 443),
        'hub_api_port': (_int_range(1, 65535), 8081),
        'lti_consumer_key': (_consumer_key, _REQUIRED),
        'lti_consumer_secret': (_secret(16), _REQUIRED),
        'api_token': (_secret(8), _REQUIRED),
        'ssl_cert': (_abspath, _REQUIRED),
        'ssl_key': (_abspath, _REQUIRED),
        'time_zone': (_word, 'JST-9'),
        'time_format': (_nonempty, '%Y %b %d %a %H:%M:%S'),
        'username_key': (_choice(USERNAME_KEYS), 'ext_user_username'),
        'crypt_key_file': (_abspath, _REQUIRED),
        'cookie_secret_file': (_abspath, '/var/lib/jupyterhub/jupyterhub_cookie_secret'),
        'db_url': (_word, 'sqlite:////var/lib/jupyterhub/jupyterhub.sqlite'),
        'spawner_dir': (_abspath, '/usr/local/etc/ltictr'),
        'image': (_word, _REQUIRED),
        'privileged': (_bool, False),
        'start_timeout': (_int_range(1), 120),
        'concurrent_spawn_limit': (_int_range(1), 200),
        'admin_users': (_admin_users, ['admin']),
    },
    'spawner': {
        'use_group': (_bool, True),
        'group_home_dir': (_home_dir(False), '/home/{groupname}'),
        'user_home_dir': (_home_dir(True), '/home/{groupname}/{username}'),
        'projects_dir': (_dirname, 'jupyter'),
        'works_dir': (_dirname, 'works'),
        'volumes_dir': (_dirname, '.volumes'),
        'notebook_dir': (_abspath, None),  # None: same as user_home_dir
        'default_group': (_group_name, 'others'),
        'teacher_gid': (_int_range(1000, 60000), 7000),
        'base_id': (_int_range(1000), 30000),
        'act_limit': (_int_range(0), 6000),
        'cpu_limit': (_float_min(0), 1.0),
        'mem_limit': (_mem_limit, 1073741824),
        'default_url': (_default_url, '/lab'),
        'http_timeout': (_int_range(1), 60),
        'notice_poll': (_int_range(1), 60),
        'iframe_url': (_iframe_url, 'https://*'),
        'proxy_should_start': (_bool, True),
        'proxy_cleanup': (_bool, True),
        'proxy_api_url': (_http_url, 'http://localhost:8001'),
        'proxy_token_file': (_abspath, _REQUIRED),
        'environment': (_environment, {}),
    },
}

# Spawner environment defaults; the user's `environment` is merged over these.
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


def defaults(kind):
    """Return {key: default} for kind; required keys are left out."""
    return dict((k, v[1]) for k, v in SCHEMAS[kind].items() if v[1] is not _REQUIRED)


def required_keys(kind):
    return sorted(k for k, v in SCHEMAS[kind].items() if v[1] is _REQUIRED)


def secret_values(kind, settings):
    """The values in settings that must be masked in any output."""
    return [v for k, v in (settings or {}).items()
            if k in SECRET_KEYS and isinstance(v, str) and v]


def validate(kind, settings, prefix=''):
    """Check settings for kind and apply defaults.

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
    if kind == 'hub' and 'port' in result and result.get('port') == result.get('hub_api_port'):
        errors.append('%shub_api_port: must differ from %sport (both %d)'
                      % (prefix, prefix, result['port']))
    if kind == 'spawner' and 'user_home_dir' in result and result.get('notebook_dir') is None:
        result['notebook_dir'] = result['user_home_dir']
    return result, errors


def _copy(value):
    return list(value) if isinstance(value, list) else dict(value) if isinstance(value, dict) else value


# ---------------------------------------------------------------- rendering

HEADER = (
    '# Generated by the Ansible module lticontainer.hub.hub_config. Do not edit by hand:\n'
    '# changes are overwritten on the next run; change the role variables instead.\n'
)

READ_SECRET = '''

def _read_secret(path):
    # Secrets live in their own root-only files, so this file never holds them.
    with open(path) as f:
        return f.read().strip()


'''


def _assign(name, value):
    # repr() makes every value a Python literal: strings cannot break out of their quotes.
    return '%s = %r\n' % (name, value)


def render(kind, settings):
    """Render validated settings (from validate()) as the Python config text."""
    if kind == 'hub':
        return _render_hub(settings)
    if kind == 'spawner':
        return _render_spawner(settings)
    raise ValueError('unknown kind %r' % (kind,))


def spawner_environment(s):
    env = dict((k, s[v] if v in ('projects_dir', 'works_dir', 'volumes_dir') else v)
               for k, v in BASE_ENVIRONMENT)
    env.update(s['environment'])
    return env


def _render_spawner(s):
    out = [HEADER, '# LTIContainerSpawner settings, star-imported by jupyterhub_lticontainer_config.py.\n',
           READ_SECRET]
    names = [
        ('spawner_use_group', 'use_group'), ('group_home_dir', 'group_home_dir'),
        ('user_home_dir', 'user_home_dir'), ('projects_dir', 'projects_dir'),
        ('works_dir', 'works_dir'), ('volumes_dir', 'volumes_dir'),
        ('notebook_dir', 'notebook_dir'), ('default_group', 'default_group'),
        ('teacher_gid', 'teacher_gid'), ('base_id', 'base_id'), ('act_limit', 'act_limit'),
        ('cpu_limit', 'cpu_limit'), ('mem_limit', 'mem_limit'), ('default_url', 'default_url'),
        ('http_timeout', 'http_timeout'), ('notice_poll', 'notice_poll'),
        ('iframe_url', 'iframe_url'), ('proxy_should_start', 'proxy_should_start'),
        ('proxy_cleanup', 'proxy_cleanup'), ('proxy_api_url', 'proxy_api_url'),
    ]
    out.extend(_assign(name, s[key]) for name, key in names)
    out.append('# Must equal LTICTR_API_Token in ltictr_proxy.conf; read at start, never stored here.\n')
    out.append('proxy_api_token = _read_secret(%r)\n' % s['proxy_token_file'])
    out.append('\nspawner_environment = {\n')
    out.extend('    %r: %r,\n' % item for item in sorted(spawner_environment(s).items()))
    out.append('}\n')
    return ''.join(out)


def _render_hub(s):
    a = _assign
    return ''.join([
        HEADER,
        '# JupyterHub configuration for LTIContainerSpawner: jupyterhub -f <this file>\n',
        '\nimport os\nimport sys\n',
        READ_SECRET,
        a('time_zone', s['time_zone']),
        a('time_format', s['time_format']),
        "os.environ['TZ'] = time_zone\n",
        '\n# The spawner class and its settings (proxy_*, spawner names, iframe_url ...).\n',
        a('spawner_dir', s['spawner_dir']),
        'if spawner_dir not in sys.path:\n    sys.path.append(spawner_dir)\n',
        'from lticontainerspawner import *  # noqa: E402,F401,F403\n',
        'from lticontainerspawner_config import *  # noqa: E402,F401,F403\n',
        '\n# Our values come after the star imports so nothing imported can override them.\n',
        a('my_ip_addr', s['ip_addr']),
        a('my_port_num', s['port']),
        a('hub_api_port', s['hub_api_port']),
        a('ltiauth_consumer_key', s['lti_consumer_key']),
        a('ltiauth_secret_key', s['lti_consumer_secret']),
        a('api_token', s['api_token']),
        a('ssl_server_cert', s['ssl_cert']),
        a('ssl_private_key', s['ssl_key']),
        a('crypt_key_file', s['crypt_key_file']),
        a('admin_users', s['admin_users']),
        a('service_scopes', SERVICE_SCOPES),
        '# URLs need an IPv6 address in brackets.\n',
        "my_url_host = '[' + my_ip_addr + ']' if ':' in my_ip_addr else my_ip_addr\n",
        '\n# Encrypts auth_state (the LTI launch data); the key is read from its file, not stored here.\n',
        "os.environ['JUPYTERHUB_CRYPT_KEY'] = _read_secret(crypt_key_file)\n",
        '\nc = get_config()  # noqa: F821\n',
        '\n# Network\n',
        "c.JupyterHub.bind_url = 'https://' + my_url_host + ':' + str(my_port_num)\n",
        "c.JupyterHub.hub_bind_url = 'http://' + my_url_host + ':' + str(hub_api_port)\n",
        'c.JupyterHub.hub_connect_ip = my_ip_addr\n',
        'c.JupyterHub.ssl_cert = ssl_server_cert\n',
        'c.JupyterHub.ssl_key = ssl_private_key\n',
        '# Moodle embeds the hub in an iframe: cookies must be cross-site, and framing allowed.\n',
        'c.JupyterHub.tornado_settings = {\n',
        "    'cookie_options': {'SameSite': 'None', 'Secure': True},\n",
        "    'headers': {'Content-Security-Policy': \"frame-ancestors 'self' \" + iframe_url},\n",
        '}\n',
        a('c.JupyterHub.cookie_secret_file', s['cookie_secret_file']),
        a('c.JupyterHub.db_url', s['db_url']),
        a('c.JupyterHub.concurrent_spawn_limit', s['concurrent_spawn_limit']),
        'c.JupyterHub.shutdown_on_logout = True\n',
        '\n# LTI 1.1 authentication\n',
        "c.JupyterHub.authenticator_class = 'ltiauthenticator.LTIAuthenticator'\n",
        'c.LTI11Authenticator.consumers = {ltiauth_consumer_key: ltiauth_secret_key}\n',
        a('c.LTI11Authenticator.username_key', s['username_key']),
        'c.Authenticator.admin_users = set(admin_users)\n',
        'c.Authenticator.allow_all = True\n',
        'c.Authenticator.enable_auth_state = True\n',
        '\n# The API token Moodle uses, with the scopes of the calls it makes.\n',
        "c.JupyterHub.services = [{'name': 'admin-service', 'api_token': api_token}]\n",
        "c.JupyterHub.load_roles = [\n",
        "    {'name': 'service-role', 'scopes': service_scopes, 'services': ['admin-service']},\n",
        ']\n',
        '\n# Proxy\n',
        'c.ConfigurableHTTPProxy.should_start = proxy_should_start\n',
        'c.ConfigurableHTTPProxy.api_url = proxy_api_url\n',
        'c.ConfigurableHTTPProxy.auth_token = proxy_api_token\n',
        'c.JupyterHub.cleanup_proxy = proxy_cleanup\n',
        '\n# Spawner\n',
        'c.JupyterHub.spawner_class = LTIContainerSpawner  # noqa: F405\n',
        'c.Spawner.auth_state_hook = LTIContainerSpawner.userdata_hook  # noqa: F405\n',
        a('c.Spawner.start_timeout', s['start_timeout']),
        'c.Spawner.http_timeout = http_timeout\n',
        'c.Spawner.default_url = default_url\n',
        'c.Spawner.cpu_limit = cpu_limit\n',
        'c.Spawner.mem_limit = mem_limit\n',
        'c.Spawner.environment = spawner_environment\n',
        a('c.DockerSpawner.image', s['image']),
        'c.DockerSpawner.remove = True\n',
        "# Containers start as root; the image's start script drops to the user.\n",
        "c.DockerSpawner.extra_create_kwargs = {'user': 'root'}\n",
        "c.DockerSpawner.extra_host_config = {'privileged': %r}\n" % s['privileged'],
        'c.DockerSpawner.notebook_dir = notebook_dir\n',
        'c.DockerSpawner.volumes = {user_home_dir: notebook_dir}\n',
        'c.LTIContainerSpawner.use_group = spawner_use_group\n',
    ] + ['c.LTIContainerSpawner.%s = %s\n' % (n, n) for n in (
        'default_group', 'group_home_dir', 'user_home_dir', 'projects_dir', 'works_dir',
        'volumes_dir', 'teacher_gid', 'base_id', 'act_limit', 'notice_poll')])
