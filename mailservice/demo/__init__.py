"""The embedded demo: IMAP and SMTP servers on loopback, loaded with sample mail.

`mailservice demo` (scripts/demo.sh) needs no mail account and no server
installed: it starts both servers, adds them as the account "demo", syncs it
through the same code a real account uses, and prints what it found.
"""
