"""What a worker process loads: `dramatiq mailservice.jobs.worker`.

The broker comes from the settings (MAILSERVICE_BROKER_URL), then every actor
module is imported so the worker knows every job.
"""

from mailservice.jobs import broker  # noqa: F401  (first: sets the broker)
from mailservice.mailings import jobs as _mailings  # noqa: F401
from mailservice.outbound import jobs as _outbound  # noqa: F401
