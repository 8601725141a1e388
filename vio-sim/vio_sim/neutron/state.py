"""Neutron's kinds, as the store ingests them: those of ``networks``, ``ports`` and ``agents`` (no HTTP;
``api`` serves them)."""

from __future__ import annotations

from . import agents, networks, ports

KINDS = (*networks.KINDS, *ports.KINDS, agents.KIND)
