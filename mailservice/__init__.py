"""mailservice: a mail hub for the customer-relations work of small businesses."""
