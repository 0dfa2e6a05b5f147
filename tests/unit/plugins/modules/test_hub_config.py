"""Tests for the lticontainer.hub.hub_config module, run in-process through main()."""

import hashlib
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

from ..module_utils.test_hub_config import HUB, SECRET, SPAWNER, TOKEN


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
    assert "c.JupyterHub.bind_url = 'https://' + url_host + ':443'" in result['diff']['after']


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


def test_spawner_kind_reports_the_class_it_will_import(capsys, tmp_path):
    path = str(tmp_path / 'lticontainerspawner_config.py')
    settings = dict(SPAWNER, spawner_dir=str(tmp_path), mem_limit='512M')
    result, _out = run(capsys, path=path, kind='spawner', settings=settings)
    assert result['changed'] is True
    with open(path) as f:
        assert 'c.Spawner.mem_limit = 536870912' in f.read()
    assert result['spawner_class'] == dict(path=str(tmp_path / 'lticontainerspawner.py'), sha256=None, version=None)
    (tmp_path / 'lticontainerspawner.py').write_text('#\n# LTIContainerSpawner v1.4.4 for LTI by Fumi.Iseki\n')
    result, _out = run(capsys, path=path, kind='spawner', settings=settings)
    assert result['changed'] is True  # the file records the class, which changed
    assert result['spawner_class']['version'] == 'v1.4.4'
    assert result['spawner_class']['sha256'] == hashlib.sha256(
        (tmp_path / 'lticontainerspawner.py').read_bytes()).hexdigest()


def test_hub_kind_records_and_returns_the_watched_files(capsys, target, tmp_path):
    watched = tmp_path / 'spawner_config.py'
    settings = dict(HUB, watch_files=[str(watched)])
    result, _out = run(capsys, path=target, settings=settings)
    assert result['watched'] == {str(watched): None}
    watched.write_text('one\n')
    result, _out = run(capsys, path=target, settings=settings)
    assert result['changed'] is True
    assert result['watched'] == {str(watched): hashlib.sha256(b'one\n').hexdigest()}
    result, _out = run(capsys, path=target, settings=settings)
    assert result['changed'] is False
    # A changed dependency changes the hub file: that is what restarts the hub.
    watched.write_text('two\n')
    result, _out = run(capsys, path=target, settings=settings)
    assert result['changed'] is True


def test_diff_masks_the_old_secrets_as_well(capsys, target):
    run(capsys, path=target)
    rotated = dict(HUB, lti_consumer_secret='New-Lti-Secret-0a1b2c3d', api_token='New-Api-Tok3n-4e5f')
    result, out = run(capsys, path=target, settings=rotated, _ansible_diff=True)
    assert result['changed'] is True
    for secret in (SECRET, TOKEN, 'New-Lti-Secret-0a1b2c3d', 'New-Api-Tok3n-4e5f'):
        assert secret not in out


def test_missing_directory_fails(capsys, tmp_path):
    result, _out = run(capsys, path=str(tmp_path / 'nope' / 'x.py'))
    assert result['failed'] is True and 'does not exist' in result['msg']
