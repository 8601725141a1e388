"""The values the APIs document for the fields a judgement reads: anything else is unknown to vio-checks.

normalize.py names a field whose value is absent, of the wrong type or not listed here in the record's
`missing` (see model.unreported), so a status the product does not know is judged unverified, never OK;
the judges read the same sets to tell transitional from resting states. One table, no I/O, no imports:
the warm path loads it.
"""

from __future__ import annotations

# --- Nova ------------------------------------------------------------------------------------------
#: Server statuses of an operation in progress (the VM should leave them by itself).
SERVER_TRANSITIONAL = frozenset({
    "BUILD", "MIGRATING", "RESIZE", "REBOOT", "HARD_REBOOT", "REBUILD", "REVERT_RESIZE", "PASSWORD",
})
#: Server statuses that stay until someone acts.
SERVER_RESTING = frozenset({
    "ACTIVE", "SHUTOFF", "SUSPENDED", "PAUSED", "SHELVED", "SHELVED_OFFLOADED", "RESCUE", "VERIFY_RESIZE",
    "SOFT_DELETED", "DELETED",
})
#: Every server status Nova documents.
SERVER_STATUSES = SERVER_TRANSITIONAL | SERVER_RESTING | {"ERROR", "UNKNOWN"}
#: A server's host_status (2.16+), upper-cased; "" (no host) is documented too.
HOST_STATUSES = frozenset({"UP", "DOWN", "MAINTENANCE", "UNKNOWN"})
#: os-hypervisors and os-services (Nova and Cinder), lower-cased.
UP_DOWN = frozenset({"up", "down"})
ENABLED_DISABLED = frozenset({"enabled", "disabled"})

# --- Cinder ----------------------------------------------------------------------------------------
VOLUME_TRANSITIONAL = frozenset({
    "creating", "attaching", "detaching", "deleting", "extending", "backing-up", "restoring-backup",
    "downloading", "uploading", "retyping", "maintenance",
})
VOLUME_RESTING = frozenset({"available", "in-use", "awaiting-transfer", "reserved"})


def volume_status_known(status: str) -> bool:
    """Cinder documents its transitional and resting statuses, and `error` with any suffix (error_deleting,
    error_backing-up, ...): every `error*` is a known failure."""
    return status in VOLUME_TRANSITIONAL or status in VOLUME_RESTING or status.startswith("error")


# --- Neutron ---------------------------------------------------------------------------------------
PORT_STATUSES = frozenset({"ACTIVE", "BUILD", "DOWN", "ERROR", "N/A"})
#: Router statuses of the reference plugin and the service-plugin framework (PENDING_*, ALLOCATING).
ROUTER_STATUSES = frozenset({
    "ACTIVE", "ALLOCATING", "BUILD", "DOWN", "ERROR", "PENDING_CREATE", "PENDING_UPDATE", "PENDING_DELETE",
})
#: An HA router's ha_state per hosting L3 agent, lower-cased.
HA_STATES = frozenset({"active", "standby", "unknown"})


# --- Octavia ---------------------------------------------------------------------------------------
#: provisioning_status of load balancers, listeners, pools and members (octavia/common/constants.py,
#: PROVISIONING_STATUSES; api-ref "Provisioning Status Codes").
LB_PROVISIONING = frozenset({
    "ACTIVE", "DELETED", "ERROR", "PENDING_CREATE", "PENDING_UPDATE", "PENDING_DELETE",
})
#: operating_status (octavia/common/constants.py, SUPPORTED_OPERATING_STATUSES; api-ref "Operating Status
#: Codes"): DRAINING (a member not taking new connections) and NO_MONITOR (no health monitor: Octavia
#: cannot tell) included.
LB_OPERATING = frozenset({"ONLINE", "DRAINING", "OFFLINE", "DEGRADED", "ERROR", "NO_MONITOR"})

# --- Glance ----------------------------------------------------------------------------------------
#: Image statuses of an upload or import in progress (glance/doc/source/statuses.rst; `uploading` and
#: `importing` are the interoperable import's staging and import steps).
IMAGE_TRANSITIONAL = frozenset({"queued", "saving", "uploading", "importing"})
#: Image statuses that stay until someone acts: `deactivated` (an admin blocked its data),
#: `pending_delete` (deleted, its data left to glance-scrubber: "not recoverable") and `deleted`.
IMAGE_RESTING = frozenset({"active", "deactivated", "pending_delete", "deleted"})
#: Every image status Glance documents (lower case): `killed` is an upload that failed.
IMAGE_STATUSES = IMAGE_TRANSITIONAL | IMAGE_RESTING | {"killed"}

# --- Heat ------------------------------------------------------------------------------------------
#: A stack's `stack_status` is ACTION_STATUS (heat/engine/stack.py: Stack.ACTIONS and Stack.STATUSES).
STACK_ACTIONS = frozenset({
    "INIT", "CREATE", "DELETE", "UPDATE", "ROLLBACK", "SUSPEND", "RESUME", "ADOPT", "SNAPSHOT", "CHECK",
    "RESTORE",
})
STACK_STATES = frozenset({"IN_PROGRESS", "FAILED", "COMPLETE"})


def stack_status_known(status: str) -> bool:
    """A documented Heat stack status: one of STACK_ACTIONS, `_`, one of STACK_STATES (CREATE_FAILED)."""
    action, _, state = status.partition("_")
    return action in STACK_ACTIONS and state in STACK_STATES
