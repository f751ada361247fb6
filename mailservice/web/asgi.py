"""The inbox for any ASGI server: `uvicorn mailservice.web.asgi:app --workers 4`."""

from mailservice.config import get_settings
from mailservice.web.app import create_app

app = create_app(get_settings())
