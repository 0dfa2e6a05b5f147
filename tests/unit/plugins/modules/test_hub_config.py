"""Tests for the lticontainer.hub.hub_config module, run in-process through main()."""

import json
import os
import stat

import pytest

from ansible.module_utils import basic
from ansible_collections.lticontainer.hub.plugins.modules import hub_config as module

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    import contextlib

    from ansible.module_utils.common.text.converters import to_bytes

    @contextlib.contextmanager
    def patch_module_args(args):
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved

SECRET = 'Lti-Secret-9f8e7d6c5b4a'
TOKEN = 'Api-Tok3n-a1b2c3'
HUB = dict(
    ip_addr='192.0.2.10', lti_consumer_key='moodle-key', lti_consumer_secret=SECRET, api_token=TOKEN,
    ssl_cert='/etc/ssl/certs/jh.crt', ssl_key='/etc/ssl/private/jh.key',
    crypt_key_file='/etc/jupyterhub/crypt_key', image='ghcr.io/jupyter-fumihax/jupyterhub-ltictr.singleuser',
)


def run(capsys, **args):
    """Run the module; return its parsed JSON result."""
    args.setdefault('kind', 'hub')
    args.setdefault('settings', HUB)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    out = capsys.readouterr().out
    return json.loads(out), out


@pytest.fixture
def target(tmp_path):
    return str(tmp_path / 'jupyterhub_lticontainer_config.py')


def test_first_run_writes_then_is_idempotent(capsys, target):
    result, _out = run(capsys, path=target, mode='0600')
    assert result['changed'] is True and not result.get('failed')
    assert result['path'] == target
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    with open(target) as f:
        compile(f.read(), target, 'exec')
    result2, _out = run(capsys, path=target, mode='0600')
    assert result2['changed'] is False
    assert result2['checksum'] == result['checksum']


def test_mode_drift_alone_is_a_change(capsys, target):
    run(capsys, path=target, mode='0600')
    os.chmod(target, 0o644)
    result, _out = run(capsys, path=target, mode='0600')
    assert result['changed'] is True
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600


def test_check_mode_writes_nothing(capsys, target):
    result, _out = run(capsys, path=target, mode='0600', _ansible_check_mode=True)
    assert result['changed'] is True
    assert not os.path.exists(target)
    assert os.listdir(os.path.dirname(target)) == []  # no stray temp file either


def test_check_mode_on_changed_settings_keeps_file(capsys, target):
    run(capsys, path=target)
    with open(target) as f:
        before = f.read()
    result, _out = run(capsys, path=target, settings=dict(HUB, port=8443), _ansible_check_mode=True)
    assert result['changed'] is True
    with open(target) as f:
        assert f.read() == before


def test_diff_has_before_and_after(capsys, target):
    result, _out = run(capsys, path=target, _ansible_diff=True)
    assert result['diff']['before'] == ''
    assert "my_ip_addr = '192.0.2.10'" in result['diff']['after']
    result, _out = run(capsys, path=target, settings=dict(HUB, ip_addr='192.0.2.11'), _ansible_diff=True)
    assert "'192.0.2.10'" in result['diff']['before'] and "'192.0.2.11'" in result['diff']['after']


def test_secrets_are_masked_but_ordinary_output_is_not(capsys, target):
    result, out = run(capsys, path=target, _ansible_diff=True)
    assert SECRET not in out and TOKEN not in out
    # Only the secrets are masked: the path, checksum and other values stay readable.
    assert result['path'] == target
    assert 'my_port_num = 443' in result['diff']['after']


def test_bad_input_fails_listing_all_errors_and_leaves_file_untouched(capsys, target):
    run(capsys, path=target)
    with open(target) as f:
        before = f.read()
    bad = dict(HUB, port=99999, api_token='XXXXXXXX', lti_consumer_secret='tiny')
    result, out = run(capsys, path=target, settings=bad, variable_prefix='jupyterhub_')
    assert result['failed'] is True
    assert 'jupyterhub_port:' in result['msg']
    assert 'jupyterhub_api_token:' in result['msg']
    assert 'jupyterhub_lti_consumer_secret:' in result['msg']
    assert len(result['errors']) == 3
    assert 'tiny' not in out and 'XXXXXXXX' not in out
    with open(target) as f:
        assert f.read() == before


def test_spawner_kind(capsys, tmp_path):
    path = str(tmp_path / 'lticontainerspawner_config.py')
    result, _out = run(capsys, path=path, kind='spawner',
                       settings=dict(proxy_token_file='/etc/jupyterhub/proxy_token', mem_limit='512M'))
    assert result['changed'] is True
    with open(path) as f:
        text = f.read()
    assert 'mem_limit = 536870912' in text
    assert "proxy_api_token = _read_secret('/etc/jupyterhub/proxy_token')" in text


def test_missing_directory_fails(capsys, tmp_path):
    result, _out = run(capsys, path=str(tmp_path / 'nope' / 'x.py'))
    assert result['failed'] is True and 'does not exist' in result['msg']
