"""The vendored Twilio Voice SDK is the version the code and the vendor README record, and
its licence is beside it (dashboards/static/vendor/README.md says how to refresh it)."""

from __future__ import annotations

import re
from pathlib import Path

from dashboards.softphone import VOICE_SDK_VERSION

VENDOR = Path(__file__).resolve().parents[2] / "dashboards" / "static" / "vendor"


def test_the_bundle_is_the_recorded_version():
    bundle = (VENDOR / "twilio-voice" / "twilio.min.js").read_text()
    assert re.findall(r'var RELEASE_VERSION="([^"]+)"', bundle) == [VOICE_SDK_VERSION]
    assert 'var PACKAGE_NAME="@twilio/voice-sdk"' in bundle
    row = next(line for line in (VENDOR / "README.md").read_text().splitlines()
               if line.startswith("| `twilio-voice/"))
    assert f"| {VOICE_SDK_VERSION} |" in row
    assert f"@twilio/voice-sdk@{VOICE_SDK_VERSION}" in (VENDOR / "README.md").read_text()
    assert "Apache License" in (VENDOR / "twilio-voice" / "LICENSE.md").read_text()
