"""vio-checks: monitor VMware Integrated OpenStack through the OpenStack APIs."""

__version__ = "0.2.0"
