"""Make this collection importable as ansible_collections.lticontainer.hub in unit tests.

Done at import time (not in a fixture) because test modules import the collection's
code when pytest collects them, before any fixture runs.
"""

import atexit
import os
import shutil
import sys
import tempfile

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_TMP = tempfile.mkdtemp(prefix='lticontainer-hub-tests-')
os.makedirs(os.path.join(_TMP, 'ansible_collections', 'lticontainer'))
os.symlink(_ROOT, os.path.join(_TMP, 'ansible_collections', 'lticontainer', 'hub'))
sys.path.insert(0, _TMP)
atexit.register(shutil.rmtree, _TMP, True)
