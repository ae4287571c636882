"""The feed writer: RSS 2.0 whose every text and attribute goes through
:func:`xml_text`, so a published record holding characters XML 1.0 cannot
carry (C0 controls other than tab, newline and carriage return; lone
surrogates; U+FFFE/U+FFFF) no longer makes its agency's feed answer 500
(Django's writer raises UnserializableContentError on them). Such
characters are dropped: they carry no meaning, and a feed must stay
readable. Intake refuses them in new records (sanxiang.core.text); records
stored before that still reach the feed."""

from __future__ import annotations

import re

from django.utils.feedgenerator import Rss201rev2Feed
from django.utils.xmlutils import SimplerXMLGenerator

# Everything outside XML 1.0's Char production (§2.2).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value) -> str:
    """``value`` as text XML 1.0 can hold."""
    return _NOT_XML.sub("", str(value))


class XmlSafeGenerator(SimplerXMLGenerator):
    def characters(self, content):
        super().characters(xml_text(content) if content else content)

    def startElement(self, name, attrs):
        super().startElement(name, {k: xml_text(v) for k, v in attrs.items()} if attrs else attrs)


class XmlSafeRssFeed(Rss201rev2Feed):
    def write(self, outfile, encoding):
        # Rss201rev2Feed.write with our generator (Django builds its own inside).
        handler = XmlSafeGenerator(outfile, encoding, short_empty_elements=True)
        handler.startDocument()
        self.add_stylesheets(handler)
        handler.startElement("rss", self.rss_attributes())
        handler.startElement("channel", self.root_attributes())
        self.add_root_elements(handler)
        self.write_items(handler)
        self.endChannelElement(handler)
        handler.endElement("rss")
