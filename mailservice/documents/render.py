"""HTML to PDF with WeasyPrint, by one long-lived renderer per process.

`import weasyprint` costs over half a second and building its font configuration
more, so a worker keeps one renderer for its lifetime (measurements.md). Documents
come from templates admins edit, so they may fetch nothing from the network or
the disk: only `data:` URLs (an embedded logo) are loaded.
"""

from __future__ import annotations

import logging
import threading
import time

from mailservice.errors import MailserviceError

log = logging.getLogger(__name__)

# Printed documents: A4 with margins; a template's own @page rules come later
# and win.
BASE_CSS = "@page { size: A4; margin: 18mm 16mm; } body { font-family: 'DejaVu Sans'; }"
IMAGE_CACHE_LIMIT = 64  # images kept between documents (a logo, a stamp)


class DocumentRenderError(MailserviceError):
    """Raised when a document's HTML cannot be turned into a PDF."""


class PdfRenderer:
    """WeasyPrint with its fonts, base stylesheet and image cache kept warm."""

    def __init__(self) -> None:
        started = time.perf_counter()
        import weasyprint
        from weasyprint.text.fonts import FontConfiguration

        self._weasyprint = weasyprint
        self._fonts = FontConfiguration()
        self._base_css = weasyprint.CSS(string=BASE_CSS, font_config=self._fonts)
        self._fetcher = weasyprint.URLFetcher(allowed_protocols=["data"])
        self._cache: dict = {}
        # One document at a time per process: rendering is CPU-bound under the
        # GIL anyway, and WeasyPrint does not promise thread safety.
        self._lock = threading.Lock()
        log.info("pdf renderer ready in %.2fs", time.perf_counter() - started)

    def render(self, html: str) -> bytes:
        """The PDF of one HTML document."""
        with self._lock:
            if len(self._cache) > IMAGE_CACHE_LIMIT:
                self._cache.clear()  # bounded: memory must not grow per document
            try:
                document = self._weasyprint.HTML(
                    string=html, url_fetcher=self._fetcher, base_url="about:blank"
                )
                return document.write_pdf(
                    stylesheets=[self._base_css],
                    font_config=self._fonts,
                    cache=self._cache,
                )
            except Exception as exc:  # WeasyPrint raises many kinds on bad input
                raise DocumentRenderError(
                    f"the document cannot be rendered to PDF: {type(exc).__name__}: "
                    f"{exc}"
                ) from exc


_renderer: PdfRenderer | None = None
_renderer_lock = threading.Lock()


def renderer() -> PdfRenderer:
    """The process's renderer, made on first use."""
    global _renderer
    if _renderer is None:
        with _renderer_lock:
            if _renderer is None:
                _renderer = PdfRenderer()
    return _renderer


def render_pdf(html: str) -> bytes:
    """Render an HTML document to PDF bytes with the process's warm renderer."""
    return renderer().render(html)
