"""Domain error sentences the UI shows translated (listed so the catalogs get them).

The errors themselves stay English in the code and logs; `Formats.plain` looks
each one up when a page shows it. A sentence that changes in the code must
change here too, or it shows in English.
"""


def _(message: str) -> str:
    return message


ERROR_TEXTS = [
    _("a message can only be moved within its own mailbox"),
    _("this mailbox has no archive folder"),
    _("this mailbox has no trash folder"),
    _("this message is no longer in that folder"),
    _("the folder was renumbered on the server; wait for the next sync"),
    _(
        "the message was moved or deleted on the server meanwhile; "
        "the next sync shows where it is now"
    ),
    _("choose a contact, or create one"),
    _("not on your to-assign list"),
    _("too many failed logins; try again in 15 minutes"),
]
