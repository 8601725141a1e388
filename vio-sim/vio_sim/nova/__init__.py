"""Nova v2.1 as VIO shows it (VMwareVCDriver: one hypervisor per vSphere cluster).

``state`` holds the kinds the store ingests (flavors, compute services, hypervisors, servers, migrations)
and imports no HTTP; ``api`` (versions and routing), ``servers``, ``hosts`` (``/os-services``,
``/os-hypervisors``, ``/os-availability-zone``), ``flavors`` and ``migrations`` render and serve them.
This file imports nothing, so that the store reaches ``state`` without the API.
"""
