"""Where headless Chromium lives here and how to start it without dialling out."""

CHROMIUM = "/usr/bin/chromium"
# This machine has no internet: keep Chromium from dialling out at start and while idle.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
