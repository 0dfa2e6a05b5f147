"""Tests for the lticontainer.hub.files module, run in-process through main()."""

import json
import os
import stat

import pytest

from ansible_collections.lticontainer.hub.plugins.modules import files as module

from .test_hub_config import patch_module_args


def run(capsys, files, **args):
    with patch_module_args(dict(files=files, **args)):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def tight_umask():
    old = os.umask(0o077)
    yield
    os.umask(old)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def layout(tmp_path, rule='table inet guard {}\n'):
    return [
        dict(path=str(tmp_path / 'etc'), state='directory', mode='0750'),
        dict(path=str(tmp_path / 'etc' / 'guard.nft'), content=rule, mode='0644'),
        dict(path=str(tmp_path / 'etc' / 'token'), content='s3cret\n', mode='0600'),
    ]


def test_a_layout_is_made_and_a_second_run_changes_nothing(capsys, tmp_path):
    result = run(capsys, layout(tmp_path))
    assert result['changed'] is True and not result.get('failed')
    assert result['changed_paths'] == [str(tmp_path / 'etc'), str(tmp_path / 'etc' / 'guard.nft'),
                                       str(tmp_path / 'etc' / 'token')]
    assert (tmp_path / 'etc' / 'guard.nft').read_text() == 'table inet guard {}\n'
    assert mode(tmp_path / 'etc') == 0o750 and mode(tmp_path / 'etc' / 'token') == 0o600
    assert mode(tmp_path / 'etc' / 'guard.nft') == 0o644
    again = run(capsys, layout(tmp_path))
    assert again['changed'] is False and again['changed_paths'] == []


def test_only_what_differs_is_reported_with_a_diff(capsys, tmp_path):
    run(capsys, layout(tmp_path))
    os.chmod(tmp_path / 'etc' / 'token', 0o644)
    result = run(capsys, layout(tmp_path, rule='table inet guard { }\n'), _ansible_diff=True)
    assert result['changed_paths'] == [str(tmp_path / 'etc' / 'guard.nft'), str(tmp_path / 'etc' / 'token')]
    assert mode(tmp_path / 'etc' / 'token') == 0o600
    assert result['diff'] == [dict(before_header=str(tmp_path / 'etc' / 'guard.nft'),
                                   after_header=str(tmp_path / 'etc' / 'guard.nft'),
                                   before='table inet guard {}\n', after='table inet guard { }\n')]


def test_check_mode_reports_and_writes_nothing(capsys, tmp_path):
    result = run(capsys, layout(tmp_path), _ansible_check_mode=True)
    assert result['changed'] is True and len(result['changed_paths']) == 3
    assert not (tmp_path / 'etc').exists()


def test_a_failed_validation_changes_nothing(capsys, tmp_path):
    run(capsys, layout(tmp_path))
    files = layout(tmp_path, rule='new rule\n')
    files[2]['content'] = 'new secret\n'
    files[2]['validate'] = 'false %s'
    result = run(capsys, files)
    assert result['failed'] and 'token failed false %s' in result['msg']
    # The entry before the failing one keeps its content, and no temporary file is left.
    assert (tmp_path / 'etc' / 'guard.nft').read_text() == 'table inet guard {}\n'
    assert (tmp_path / 'etc' / 'token').read_text() == 's3cret\n'
    assert sorted(os.listdir(tmp_path / 'etc')) == ['guard.nft', 'token']


def test_a_passing_validation_sees_the_new_content(capsys, tmp_path):
    path = tmp_path / 'unit'
    result = run(capsys, [dict(path=str(path), content='[Unit]\n', validate='grep -q ^.Unit. %s')])
    assert result['changed'] is True and path.read_text() == '[Unit]\n'


def test_force_false_keeps_an_existing_file_as_it_is(capsys, tmp_path):
    path = tmp_path / 'crypt_key'
    path.write_text('generated once\n')
    os.chmod(path, 0o640)
    result = run(capsys, [dict(path=str(path), content='another\n', force=False, mode='0600')])
    assert result['changed'] is False
    assert path.read_text() == 'generated once\n' and mode(path) == 0o640
    path.unlink()
    assert run(capsys, [dict(path=str(path), content='another\n', force=False, mode='0600')])['changed'] is True
    assert path.read_text() == 'another\n' and mode(path) == 0o600


def test_src_copies_a_file_of_the_host_into_a_new_directory(capsys, tmp_path, tight_umask):
    (tmp_path / 'src.sh').write_text('#!/bin/sh\n')
    dest = tmp_path / 'usr' / 'bin' / 'helper'
    files = [dict(path=str(dest), src=str(tmp_path / 'src.sh'), mode='0755')]
    assert run(capsys, files)['changed'] is True
    assert dest.read_text() == '#!/bin/sh\n' and mode(dest) == 0o755
    # Readable by the daemons that read a drop-in directory, whatever the umask.
    assert mode(tmp_path / 'usr') == 0o755 and mode(tmp_path / 'usr' / 'bin') == 0o755
    missing = run(capsys, [dict(path=str(dest), src=str(tmp_path / 'absent'))])
    assert missing['failed'] and 'Cannot read' in missing['msg']


def test_absent_removes_and_then_changes_nothing(capsys, tmp_path):
    path = tmp_path / 'old.service'
    path.write_text('x')
    assert run(capsys, [dict(path=str(path), state='absent')])['changed_paths'] == [str(path)]
    assert not path.exists()
    assert run(capsys, [dict(path=str(path), state='absent')])['changed'] is False


def test_a_file_entry_needs_a_content(capsys, tmp_path):
    result = run(capsys, [dict(path=str(tmp_path / 'x'))])
    assert result['failed'] and 'content' in result['msg'] and 'src' in result['msg']


def test_attributes_mends_a_file_s_mode_and_leaves_its_content(capsys, tmp_path):
    cert = tmp_path / 'hub.crt'
    cert.write_text('PEM')
    os.chmod(cert, 0o600)
    entry = dict(path=str(cert), state='attributes', mode='0644')
    assert run(capsys, [entry])['changed_paths'] == [str(cert)]
    assert mode(cert) == 0o644 and cert.read_text() == 'PEM'
    assert run(capsys, [entry])['changed'] is False


def test_attributes_of_a_missing_file_fail_before_anything_changes(capsys, tmp_path):
    made = tmp_path / 'etc'
    result = run(capsys, [dict(path=str(made), state='directory'), dict(path=str(tmp_path / 'x'), state='attributes')])
    assert result['failed'] and 'does not exist' in result['msg'] and not made.exists()


def test_link_replaces_what_is_there_and_then_changes_nothing(capsys, tmp_path):
    link = tmp_path / 'run' / 'docker.sock'
    link.parent.mkdir()
    link.write_text('a stale file')
    entry = dict(path=str(link), state='link', src='/run/podman/podman.sock')
    assert run(capsys, [entry])['changed_paths'] == [str(link)]
    assert os.readlink(link) == '/run/podman/podman.sock'
    assert run(capsys, [entry])['changed'] is False
    assert run(capsys, [dict(entry, src='/run/other.sock')])['changed'] is True
    assert os.readlink(link) == '/run/other.sock' and os.listdir(link.parent) == ['docker.sock']


def test_link_over_a_directory_fails_before_anything_changes(capsys, tmp_path):
    (tmp_path / 'd').mkdir()
    made = tmp_path / 'etc'
    result = run(capsys, [dict(path=str(made), state='directory'), dict(path=str(tmp_path / 'd'), state='link', src='/x')])
    assert result['failed'] and 'is a directory' in result['msg'] and not made.exists()
