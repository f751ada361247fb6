"""Message templates and signatures: Jinja2 in a sandbox, stored with their history."""
