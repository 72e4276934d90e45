#!/usr/bin/python3
"""Runs one Swift WSGI server like /usr/bin/swift-<name>-server does, with two differences that keep
everything inside the data dir:
- swift.conf (hash path suffix, storage policies) is read from the directory of CONFIG, not /etc/swift;
- nothing goes to syslog: run with -v, log records go to stderr, which start.sh sends to <data-dir>/log/.
Usage: run_server.py account|container|object|proxy|object-updater CONFIG -v"""
import logging
import logging.handlers
import os
import sys

from swift.common import utils


class NoSyslogHandler(logging.NullHandler):
    """Stands in for the syslog handler Swift's get_logger() adds to every logger (the access log included)."""

    def __init__(self, *args, **kwargs):
        super().__init__()


utils.ThreadSafeSysLogHandler = NoSyslogHandler  # get_logger() looks the class up at each call

from swift.common.storage_policy import reload_storage_policies  # noqa: E402 (after the patch)
from swift.common.wsgi import run_wsgi  # noqa: E402

# pyeclib (imported with the storage policies) opens a syslog socket of its own at import.
for handler in list(logging.getLogger('pyeclib').handlers):
    if isinstance(handler, logging.handlers.SysLogHandler):
        logging.getLogger('pyeclib').removeHandler(handler)
        handler.close()

if __name__ == '__main__':
    server_name = sys.argv.pop(1)
    conf_file, options = utils.parse_options(once=server_name == 'object-updater')
    utils.set_swift_dir(os.path.dirname(conf_file))
    reload_storage_policies()
    if server_name == 'object-updater':
        # Replays container updates the object server could not make at once (container server stopped or
        # starting: "async pendings"), as on a real cluster; without it such objects never show in listings.
        from swift.common.daemon import run_daemon
        from swift.obj.updater import ObjectUpdater
        run_daemon(ObjectUpdater, conf_file, **options)
        sys.exit(0)
    extra = {}
    if server_name == 'object':
        from swift.obj import server
        extra['global_conf_callback'] = server.global_conf_callback
    sys.exit(run_wsgi(conf_file, '%s-server' % server_name, **extra, **options))
