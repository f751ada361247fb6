"""The one family of domain exceptions; each message is something a person can act on."""


class MailserviceError(Exception):
    """Base of every error the product reports to a person."""


class ConfigurationError(MailserviceError):
    """Raised when settings are missing or inconsistent."""


class SecretKeyError(MailserviceError):
    """Raised when a stored secret cannot be decrypted with the configured key."""


class AccountError(MailserviceError):
    """Raised when an account is unknown or its definition is invalid."""


class ImapLoginError(AccountError):
    """Raised when the IMAP server refuses the login of an account (not retried)."""


class ImapConnectionError(AccountError):
    """Raised when the IMAP server cannot be reached or drops us (retried later)."""


class ContactImportError(MailserviceError):
    """Raised when a contacts file cannot be read at all (bad rows are reported apart)."""


class InvalidNipError(MailserviceError):
    """Raised when a NIP fails its checksum or format."""


class NotFoundError(MailserviceError):
    """Raised when a named record does not exist."""


class ContactError(MailserviceError):
    """Raised when a contact change is refused: a bad address, a taken domain..."""


class UserError(MailserviceError):
    """Raised when a user cannot be created or changed: bad e-mail, role, password."""


class AccessDeniedError(MailserviceError):
    """Raised when a user asks for mail of an account not granted to them."""


class LoginThrottledError(MailserviceError):
    """Raised when too many failed logins came for one e-mail or from one address."""


class ImapActionError(MailserviceError):
    """Raised when a change made in the inbox cannot be written to the IMAP server."""


class MessageParseError(MailserviceError):
    """Raised when a message cannot be read as MIME; it is kept raw and set aside."""


class HeaderInjectionError(MailserviceError):
    """Raised when a header value would carry a line break or a bad address."""


class OutboundError(MailserviceError):
    """Raised when an outgoing message cannot be composed, queued or changed."""


class TemplateError(MailserviceError):
    """Raised when a message template or signature is unknown or cannot render."""


class TemplateValidationError(TemplateError):
    """Raised when a template edit has errors; `.problems` lists them with lines."""

    def __init__(self, problems) -> None:
        self.problems = list(problems)
        lines = "; ".join(str(problem) for problem in self.problems)
        super().__init__(f"the template has {len(self.problems)} problem(s): {lines}")


class SmtpTemporaryError(OutboundError):
    """Raised when the SMTP server refuses for now (4xx, dropped link): retried."""


class SmtpPermanentError(OutboundError):
    """Raised when the SMTP server refuses for good (5xx): shown to the sender."""


class DemoError(MailserviceError):
    """Raised when the embedded demo servers cannot be started or loaded."""


class MailingError(MailserviceError):
    """Raised when a mailing cannot be created, changed, previewed or started."""


class RecipientListError(MailingError):
    """Raised when a recipient list has bad rows; `.problems` names each by line."""

    def __init__(self, problems) -> None:
        self.problems = list(problems)
        shown = "; ".join(str(problem) for problem in self.problems[:20])
        more = len(self.problems) - 20
        tail = f" (and {more} more)" if more > 0 else ""
        super().__init__(
            f"the recipient list has {len(self.problems)} bad row(s): {shown}{tail}"
        )
