"""Mail accounts: IMAP and SMTP connection data and their encrypted secrets."""
