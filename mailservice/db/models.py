"""Imports every domain's models so that one metadata holds the whole schema."""

from mailservice.db.base import Base
from mailservice.accounts import models as _accounts  # noqa: F401
from mailservice.contacts import models as _contacts  # noqa: F401
from mailservice.inbox import models as _inbox  # noqa: F401
from mailservice.mailings import models as _mailings  # noqa: F401
from mailservice.messages import models as _messages  # noqa: F401
from mailservice.outbound import models as _outbound  # noqa: F401
from mailservice.templating import models as _templating  # noqa: F401
from mailservice.threads import models as _threads  # noqa: F401
from mailservice.users import models as _users  # noqa: F401

__all__ = ["Base"]
