"""What a listener reads on a page, for the translation tests (server-side and browser):
every text node and every label-like attribute, minus the parts that are meant to be in
another language or in no language at all."""

import re
from html.parser import HTMLParser

# Text a Chinese page may show as is: no letters at all (numbers, "·", "✓", "—", "/"), the
# two excerpt letters, key names in <kbd>, a pseudonymous participant code, a resume code (or
# its XXXX-XXXX-XXXX-XXXX placeholder).
UNTRANSLATED_OK = re.compile(
    r"^(?:[\W\d_]*|[AB]|Space|Enter|Esc|P-[2-9A-Z]{8}|[2-9A-Z]{4}(?:-[2-9A-Z]{4}){3})$"
)
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
LABEL_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


class _Reader(HTMLParser):
    def __init__(self, page_language: str):
        super().__init__(convert_charrefs=True)
        self.page_language = page_language
        self.stack: list[tuple[str, bool]] = []  # (tag, skipped)
        self.texts: list[str] = []

    def _skipped(self) -> bool:
        return any(skipped for _tag, skipped in self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        # Parts marked as another language (the switcher's "English") and code are meant so.
        other = attrs.get("lang") not in (None, self.page_language)
        skipped = other or tag in ("script", "style")
        if not skipped and not self._skipped():
            self.texts += [attrs[name] for name in LABEL_ATTRIBUTES if attrs.get(name)]
        if tag not in VOID:
            self.stack.append((tag, skipped))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break

    def handle_data(self, data):
        text = " ".join(data.split())
        if text and not self._skipped():
            self.texts.append(text)


def visible_texts(html: str, page_language: str) -> list[str]:
    reader = _Reader(page_language)
    reader.feed(html)
    return reader.texts


def untranslated(texts: list[str]) -> list[str]:
    """The texts a Chinese page shows that are neither Chinese nor on the short allowlist."""
    return [text for text in texts if not CJK.search(text) and not UNTRANSLATED_OK.match(text)]
