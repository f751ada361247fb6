"""The web inbox: a Starlette app with server-rendered pages in Polish and English."""
