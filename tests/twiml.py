"""Reading TwiML answers the way Twilio would: element by element."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from werkzeug.test import TestResponse


@dataclass(frozen=True)
class Spoken:
    language: str
    voice: str
    text: str


def parse(response: TestResponse) -> ET.Element:
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/xml"
    root = ET.fromstring(response.data)
    assert root.tag == "Response"
    return root


def verbs(root: ET.Element) -> list[str]:
    return [child.tag for child in root]


def spoken(element: ET.Element) -> list[Spoken]:
    """Every <Say> in document order, including those inside a <Gather>."""
    return [
        Spoken(say.get("language", ""), say.get("voice", ""), say.text or "")
        for say in element.iter("Say")
    ]


def texts(element: ET.Element) -> list[str]:
    return [say.text for say in spoken(element)]


def only(root: ET.Element, tag: str) -> ET.Element:
    found = root.findall(tag)
    assert len(found) == 1, f"expected one <{tag}>, got {verbs(root)}"
    return found[0]
