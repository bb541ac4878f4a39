"""The outbox worker in a process of its own, for the killed-worker test.

    LANGGANAN_TEST_ADAPTERS=sms=tests.campaigns.delivery.support.HttpSmsAdapter \
    DATABASE_URL=… python -m tests.campaigns.delivery.worker_runner [worker [options]]

Only this runner reads ``LANGGANAN_TEST_ADAPTERS`` (``channel=dotted.path`` pairs, comma
separated) and puts those adapters in the channel registry. Without arguments it then runs the
worker's delivery task until nothing is due and prints the task's result as JSON; with
``worker [options]`` it runs ``langganan worker [options]`` (the django-q2 cluster's processes
are forked, so they see the same registry).
"""

from __future__ import annotations

import json
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "langganan.config.settings")
    import django

    django.setup()

    from django.utils.module_loading import import_string

    from langganan.campaigns.channels import base
    from langganan.campaigns.worker import deliver_outbox

    for entry in filter(None, os.environ.get("LANGGANAN_TEST_ADAPTERS", "").split(",")):
        channel, path = entry.split("=", 1)
        base.ADAPTERS[channel] = import_string(path)
    if sys.argv[1:2] == ["worker"]:
        from langganan.cli import cli

        cli(sys.argv[1:], prog_name="langganan")
    print(json.dumps(deliver_outbox(budget_s=300, batch=10)), flush=True)


if __name__ == "__main__":
    main()
