"""Documents: HTML templates rendered to PDF (invoices, reminders, confirmations)."""
