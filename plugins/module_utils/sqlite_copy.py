# -*- coding: utf-8 -*-
# Copyright: lticontainer.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A consistent copy of an SQLite database, also while a program writes to it, with SQLite's
online backup API; the copy is checked and then put in place in one rename.

Standard library only: the sqlite_copy module runs on the hub host with the system python3.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import sqlite3
import tempfile

# Files SQLite keeps beside a database while it writes: a copy put in their place must not meet
# a stale journal of the database it replaces.
SIDE_FILES = ('-journal', '-wal', '-shm')


class CopyError(Exception):
    pass


def _connect_readonly(path, timeout):
    # mode=ro: the source is never created, changed or left with a journal by the copy.
    uri = 'file:%s?mode=ro' % path.replace('?', '%3f').replace('#', '%23')
    return sqlite3.connect(uri, uri=True, timeout=timeout)


def describe(path):
    """What a database holds: its integrity check result and its tables, rows per table."""
    conn = _connect_readonly(path, timeout=30)
    try:
        integrity = conn.execute('PRAGMA integrity_check').fetchone()[0]
        names = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        rows = dict((name, conn.execute('SELECT COUNT(*) FROM "%s"' % name.replace('"', '""')).fetchone()[0])
                    for name in names)
    finally:
        conn.close()
    return {'integrity': integrity, 'tables': rows}


def sha256(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 16), b''):
            digest.update(block)
    return digest.hexdigest()


def copy_database(src, dest, timeout=30):
    """Copy src to dest consistently (the online backup API copies one snapshot of the
    database, retrying pages a writer changes meanwhile). The copy is written beside dest,
    checked with PRAGMA integrity_check, and renamed over dest; stale journal files of the
    replaced dest are removed. Returns describe() of the copy, with its size and sha256.
    Raises CopyError when src is missing or not a sound database."""
    if not os.path.isfile(src):
        raise CopyError('%s does not exist' % src)
    directory = os.path.dirname(os.path.abspath(dest))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.sqlite_copy.')
    os.close(fd)
    try:
        source = _connect_readonly(src, timeout)
        try:
            target = sqlite3.connect(tmp)
            try:
                source.backup(target)
            finally:
                target.close()
        except sqlite3.DatabaseError as exc:
            raise CopyError('cannot copy %s: %s' % (src, exc))
        finally:
            source.close()
        info = describe(tmp)
        if info['integrity'] != 'ok':
            raise CopyError('the copy of %s fails its integrity check: %s' % (src, info['integrity']))
        with open(tmp, 'rb') as f:
            os.fsync(f.fileno())
        os.rename(tmp, dest)
        for suffix in SIDE_FILES:
            if os.path.exists(dest + suffix):
                os.unlink(dest + suffix)
        info.update(size=os.path.getsize(dest), sha256=sha256(dest))
        return info
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
