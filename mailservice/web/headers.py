"""Security headers: the app's own pages and the frames that show mail."""

from __future__ import annotations

from urllib.parse import quote

# The app's pages: its own scripts and styles only, never inline script.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)

PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def mail_frame_headers(allow_remote: bool) -> dict[str, str]:
    """Headers of a sanitised mail body: sandboxed, no script, remote only if asked."""
    images = "data: https: http:" if allow_remote else "data:"
    # `sandbox` here sandboxes the body even when opened outside our iframe.
    csp = (
        f"default-src 'none'; img-src {images}; style-src 'unsafe-inline'; "
        f"font-src data:; base-uri 'none'; form-action 'none'; "
        f"frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox"
    )
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "SAMEORIGIN",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "private, no-store",
    }


def download_headers(filename: str, preview: str | None) -> dict[str, str]:
    """Headers of an attachment: its real name (RFC 6266, RFC 8187), no sniffing.

    `preview` is "image" or "pdf" to show it in the browser, None to download it.
    """
    fallback = (
        "".join(
            c if c.isascii() and c.isprintable() and c not in '"\\;' else "_"
            for c in filename
        )
        or "attachment"
    )
    disposition = "inline" if preview else "attachment"
    headers = {
        "Content-Disposition": (
            f'{disposition}; filename="{fallback}"; '
            f"filename*=UTF-8''{quote(filename, safe='')}"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "private, no-store",
    }
    if preview == "image":
        headers["Content-Security-Policy"] = (
            "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
        )
    elif preview is None:
        headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    # A PDF preview gets no CSP: a sandbox would stop the browser's PDF viewer,
    # which runs none of the document's own scripts anyway.
    return headers
