"""A real Icinga 2 and a real Nagios 4 for the end-to-end tests, each on a throw-away tree: the names the
test files import, in one place. The code lives in the harness package, one module per job:

    harness/process.py   free ports, polling with a bound, starting and stopping a daemon's process group
    harness/scenario.py  E2E_SCENARIO, PREFIX, the state numbers, "one parent per child" of the generated file
    harness/core.py      Obj and Core: the driving loop, passive rounds, notifications, queries by custom vars
    harness/icinga2.py   Icinga2 (API, deploy, reload) and make_pki
    harness/nagios.py    Nagios4 (external command file, status.dat, objects.cache)
    harness/stories.py   the HA router and nova-conductor cluster stories, for any Icinga 2 version

Both cores run our real check executables (the venv's bin directory) against the simulator, with the config
`vio-icinga` generates, and report what the monitoring core itself decided: states, state types,
reachability and the notifications it actually sent (a test notification command appends one line per
notification to a file, so "suppressed" is observed, not inferred).

Active checks are disabled globally, so nothing runs on a timer: a test drives every check itself, parents
before children (`drive`), each object re-checked until its state is HARD, through the API
(`reschedule-check` with force) or Nagios' external command file (SCHEDULE_FORCED_*_CHECK). Forced checks
run even with active checks disabled, and the core's own "re-check the parents at once" is skipped.

    icinga = Icinga2(tmp_path / "icinga2", pki, cloud.env).start()
    icinga.deploy(cloud)          # vio-icinga deploy through the config packages API, waits for the reload
    objs = icinga.drive()         # name → Obj (state, state_type, reachable, output, vars)
    objs[PREFIX].state, icinga.notified(), icinga.below(name), icinga.one("vm", vio_name="web-01")
    icinga.stop()

bench/ imports the harness modules themselves (`tests.harness.icinga2`), not this file.
"""

from __future__ import annotations

from harness.core import (
    API_PASSWORD,
    API_USER,
    BIN,
    CHECK_DUMMY_DIR,
    ICINGA_DIR,
    IN_CI,
    REPO,
    Core,
    Obj,
    not_run,
    require,
)
from harness.icinga2 import (
    DEPLOY_ENV,
    ICINGA2,
    NODE,
    Icinga2,
    make_pki,
    notification_conf,
    state_defines,
    user_defines,
)
from harness.nagios import NAGIOS4, Nagios4
from harness.process import (
    die_with_parent,
    free_port,
    log_tail_on_failure,
    notify_script,
    running,
    stop_process,
    wait_for,
)
from harness.scenario import (
    CRITICAL,
    DOWN,
    E2E_SCENARIO,
    HARD,
    OK,
    PREFIX,
    SOFT,
    UNKNOWN,
    UP,
    WARNING,
    assert_one_parent_each,
    dependency_children,
)
from harness.stories import (
    ACTIVE_AGENT,
    CONDUCTORS,
    HA_ROUTER,
    STANDBY_AGENT,
    cluster_story,
    ha_router_story,
    problem_lines,
)

__all__ = [
    "ACTIVE_AGENT", "API_PASSWORD", "API_USER", "BIN", "CHECK_DUMMY_DIR", "CONDUCTORS", "CRITICAL", "DEPLOY_ENV",
    "DOWN", "E2E_SCENARIO", "HARD", "HA_ROUTER", "ICINGA2", "ICINGA_DIR", "IN_CI", "NAGIOS4", "NODE", "OK", "PREFIX",
    "REPO", "SOFT", "STANDBY_AGENT", "UNKNOWN", "UP", "WARNING", "Core", "Icinga2", "Nagios4", "Obj",
    "assert_one_parent_each", "cluster_story", "dependency_children", "die_with_parent", "free_port",
    "ha_router_story", "log_tail_on_failure", "make_pki", "not_run", "notification_conf", "notify_script",
    "problem_lines", "require", "running", "state_defines", "stop_process", "user_defines", "wait_for",
]
