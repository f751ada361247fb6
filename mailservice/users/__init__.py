"""Staff users of the web inbox: roles, passwords, sessions and mailbox grants."""
