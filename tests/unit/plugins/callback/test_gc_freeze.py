"""The lticontainer.hub.gc_freeze callback: at each task's start (and each handler's), the controller's
objects go to the permanent generation that no collection walks, in the controller and in a worker it forks
then; young cyclic garbage is freed first, not kept for the run."""

import gc
import os
import weakref

import pytest

from ansible_collections.lticontainer.hub.plugins.callback.gc_freeze import CallbackModule


class Cycle:
    pass


@pytest.fixture
def callback():
    yield CallbackModule()
    gc.unfreeze()


def tracked():
    return len(gc.get_objects())


@pytest.mark.parametrize('start', ['task', 'handler'])
def test_the_controllers_objects_are_frozen_when_a_task_starts(callback, start):
    before = tracked()
    if start == 'task':
        callback.v2_playbook_on_task_start(None, False)
    else:
        callback.v2_playbook_on_handler_task_start(None)
    assert gc.get_freeze_count() > before * 0.9
    assert tracked() < before * 0.1


def test_young_cyclic_garbage_is_freed_not_frozen(callback):
    garbage = Cycle()
    garbage.itself = garbage
    dead = weakref.ref(garbage)
    del garbage
    callback.v2_playbook_on_task_start(None, False)
    assert dead() is None


def test_a_worker_forked_after_the_start_does_not_walk_them(callback):
    callback.v2_playbook_on_task_start(None, False)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        # What the worker's full collection would walk.
        os.write(write, str(tracked()).encode())
        os._exit(0)
    os.close(write)
    walked = int(os.read(read, 64))
    os.waitpid(pid, 0)
    assert walked < gc.get_freeze_count() * 0.1
