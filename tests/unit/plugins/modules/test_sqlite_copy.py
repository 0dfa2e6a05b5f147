"""Tests for the lticontainer.hub.sqlite_copy module, run in-process through main()."""

import json
import os
import stat

import pytest

from ansible_collections.lticontainer.hub.plugins.modules import sqlite_copy as module

from ..module_utils.test_sqlite_copy import make_db
from .test_hub_config import patch_module_args


def run(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


def test_copy_gets_the_mode_asked_for(capsys, tmp_path):
    src, dest = str(tmp_path / 'hub.sqlite'), str(tmp_path / 'copy.sqlite')
    make_db(src).close()
    os.chmod(src, 0o644)
    result = run(capsys, src=src, dest=dest, mode='0600')
    assert result['changed'] is True and not result.get('failed')
    assert result['integrity'] == 'ok' and result['tables'] == {'users': 3}
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o600


def test_check_mode_reads_the_source_and_writes_nothing(capsys, tmp_path):
    src, dest = str(tmp_path / 'hub.sqlite'), str(tmp_path / 'copy.sqlite')
    make_db(src).close()
    result = run(capsys, src=src, dest=dest, _ansible_check_mode=True)
    assert result['changed'] is True and result['tables'] == {'users': 3}
    assert not os.path.exists(dest)


def test_a_missing_source_fails(capsys, tmp_path):
    result = run(capsys, src=str(tmp_path / 'absent.sqlite'), dest=str(tmp_path / 'copy.sqlite'))
    assert result['failed'] and 'does not exist' in result['msg']
