# -*- coding: utf-8 -*-
# Copyright: lticontainer.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: gc_freeze
type: aggregate
short_description: Keep the forked workers' garbage collector off the controller's objects
description:
  - Ansible forks a worker process for each task on each host. The worker inherits the hundred thousand or so
    objects the controller holds, and each full run of its cycle collector walks them all, though the worker uses few.
  - Before each task, this plugin collects the controller's young objects and then moves every object left to
    Python's permanent generation (C(gc.freeze())), which no collection walks, in the controller or in a worker.
  - On a second converge of C(site.yml) (about 90 tasks) the run's time fell by 1.2-1.9 s, as much as the controller's
    CPU time, and the controller's peak memory did not change (the collection's C(docs/benchmark.md)).
  - Cyclic garbage that outlived the young collection is kept until the run ends; everything else is freed as before.
version_added: 1.0.0
author:
  - lticontainer.hub contributors
requirements:
  - Enabled in the configuration, for example C(callbacks_enabled = lticontainer.hub.gc_freeze) in C(ansible.cfg).
'''

import gc

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'lticontainer.hub.gc_freeze'
    CALLBACK_NEEDS_ENABLED = True

    # The strategy announces a task (or a handler) and then forks its workers.
    def v2_playbook_on_task_start(self, task, is_conditional):
        freeze()

    def v2_playbook_on_handler_task_start(self, task):
        freeze()


def freeze():
    # The young generations first: what dies young is freed rather than kept for the whole run.
    gc.collect(1)
    gc.freeze()
