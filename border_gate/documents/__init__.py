"""Paperless clearance documents: content, rendering (WeasyPrint), signing (pyHanko), verification.

Modules, in the order a document passes through them: `content` (what goes on it),
`render` (HTML and PDF/A-3u), `authority` (the signing key and certificate), `sign`
(PAdES), `pipeline` (all of it, timed), `verify` (offline check), `cli` (the command).
Import the module you need: importing this package loads neither WeasyPrint nor pyHanko.
"""
