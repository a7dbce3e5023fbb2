"""The pages realitygap writes load nothing from the network (no CDN, no web fonts): scanned in their HTML.
The browser tests check the same at run time (nothing fetched but local files)."""

from __future__ import annotations

import pytest

from tests.browser import remote_references


def test_report_references_no_remote_url(small_report):
    assert remote_references(small_report.read_text()) == []


@pytest.mark.parametrize("html, expected", [
    ('<img src="https://cdn.example/a.png">', ["<img src>: https://cdn.example/a.png"]),
    ('<script src="//cdn.example/x.js"></script>', ["<script src>: //cdn.example/x.js"]),
    ('<link rel="stylesheet" href="http://cdn.example/s.css">', ["<link href>: http://cdn.example/s.css"]),
    ('<img srcset="a.png 1x, https://cdn.example/b.png 2x">', ["<img srcset>: https://cdn.example/b.png"]),
    ("<style>@import 'https://fonts.example/f.css'; body{background:url(//x.example/b.png)}</style>",
     ["<style>: https://fonts.example/f.css", "<style>: //x.example/b.png"]),
    ('<div style="background: url(\'https://x.example/b.png\')"></div>', ["<div style>: https://x.example/b.png"]),
    ('<img src="assets/a.png"><img src="data:image/png;base64,AAAA"><a href="https://example.org">docs</a>', []),
])
def test_remote_references_finds_what_a_page_would_fetch(html, expected):
    assert remote_references(html) == expected
