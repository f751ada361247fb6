"""Contacts (customers and suppliers), their people and addresses, and mail linking."""
