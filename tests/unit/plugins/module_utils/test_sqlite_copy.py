"""Tests for module_utils/sqlite_copy: a consistent copy of a database in use."""

import os
import sqlite3

import pytest

from ansible_collections.lticontainer.hub.plugins.module_utils.sqlite_copy import CopyError, copy_database, describe


def make_db(path, rows=3):
    conn = sqlite3.connect(path)
    conn.execute('CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, encrypted_auth_state BLOB)')
    conn.executemany('INSERT INTO users (name, encrypted_auth_state) VALUES (?, ?)',
                     [('student%02d' % i, os.urandom(64)) for i in range(rows)])
    conn.commit()
    return conn


def test_copy_holds_what_was_committed_not_an_open_transaction(tmp_path):
    src, dest = str(tmp_path / 'hub.sqlite'), str(tmp_path / 'copy.sqlite')
    writer = make_db(src)
    # A writer in the middle of a transaction, as a running hub may be.
    writer.execute('BEGIN')
    writer.execute("INSERT INTO users (name) VALUES ('half-written')")
    info = copy_database(src, dest)
    writer.rollback()
    assert info['integrity'] == 'ok'
    assert info['tables'] == {'users': 3}
    copied = sqlite3.connect(dest).execute('SELECT name, encrypted_auth_state FROM users ORDER BY id').fetchall()
    assert copied == writer.execute('SELECT name, encrypted_auth_state FROM users ORDER BY id').fetchall()
    assert info['size'] == os.path.getsize(dest) and len(info['sha256']) == 64


def test_copy_replaces_dest_and_its_stale_journal(tmp_path):
    src, dest = str(tmp_path / 'backup.sqlite'), str(tmp_path / 'jupyterhub.sqlite')
    make_db(src, rows=5).close()
    make_db(dest, rows=1).close()
    with open(dest + '-journal', 'wb') as f:
        f.write(b'a journal of the database being replaced')
    copy_database(src, dest)
    assert not os.path.exists(dest + '-journal')
    assert describe(dest)['tables'] == {'users': 5}
    # Nothing but the copy is left in the directory.
    assert sorted(os.listdir(str(tmp_path))) == ['backup.sqlite', 'jupyterhub.sqlite']


def test_source_is_never_written(tmp_path):
    src = str(tmp_path / 'hub.sqlite')
    make_db(src).close()
    before = (os.stat(src).st_mtime_ns, open(src, 'rb').read())
    copy_database(src, str(tmp_path / 'copy.sqlite'))
    assert (os.stat(src).st_mtime_ns, open(src, 'rb').read()) == before
    assert sorted(os.listdir(str(tmp_path))) == ['copy.sqlite', 'hub.sqlite']


def test_missing_or_broken_source_fails_and_leaves_dest(tmp_path):
    dest = str(tmp_path / 'jupyterhub.sqlite')
    make_db(dest, rows=2).close()
    with pytest.raises(CopyError, match='does not exist'):
        copy_database(str(tmp_path / 'absent.sqlite'), dest)
    broken = str(tmp_path / 'broken.sqlite')
    with open(broken, 'wb') as f:
        f.write(b'not a database' * 100)
    with pytest.raises((CopyError, sqlite3.DatabaseError)):
        copy_database(broken, dest)
    assert describe(dest)['tables'] == {'users': 2}
    assert sorted(os.listdir(str(tmp_path))) == ['broken.sqlite', 'jupyterhub.sqlite']
