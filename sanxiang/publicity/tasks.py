"""Background jobs of the publicity domain: thin wrappers over services."""

from . import services


def expire_publicity_job() -> int:
    """Records leave the portal on their 公示截止期 (issue 3, item 6)."""
    return services.expire_publicity()
