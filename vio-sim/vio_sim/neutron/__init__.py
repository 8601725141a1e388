"""Neutron v2.0 as VIO shows it (ML2 with agents, or NSX without).

``state`` gathers the kinds the store ingests from ``networks`` (networks, subnets, routers), ``ports``
(ports, floating ips) and ``agents``, none of which imports HTTP; ``api`` serves them. This file imports
nothing, so that the store reaches ``state`` without the API.
"""
