"""A corpus of hostile input: markup, links, Markdown structure, invisible characters.

`HOSTILE` holds one-line strings (short enough for a person's name); `MULTILINE` strings that
need a free-text field; `HUGE` the 1 MB runs; `FILE_NAMES` names that make bad file names.
tests/test_hostile.py puts every one of them through every command that stores or shows text.
"""

from __future__ import annotations

SCRIPT = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//x.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</script>",
    "</textarea><script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "<body onload=alert(1)>",
    "<details open ontoggle=alert(1)>",
    '" onmouseover="alert(1)',
    "' onfocus='alert(1)' autofocus='",
    "<iframe src=\"data:text/html,<script>alert(1)</script>\"></iframe>",
    "<style>body{display:none}</style>",
    "<base href=//evil.example/>",
    "<meta http-equiv=refresh content=0;url=javascript:alert(1)>",
    "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "{{ 7*7 }} {% if true %}jinja{% endif %}",
]

LINKS = [
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click]( javascript:alert(1) )",
    "[click](java\tscript:alert(1))",
    "[click](java&#x09;script:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](%6Aavascript:alert(1))",
    "[click](jav&#x61;script&colon;alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](DATA:text/html,<script>alert(1)</script>)",
    "![pic](data:image/svg+xml,<svg onload=alert(1)>)",
    "<javascript:alert(1)>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href='&#x6A;avascript:alert(1)'>x</a>",
    "[x][evil] and [evil]",
    "[evil]: javascript:alert(1)",
    "https://example.org/?q=<script>",
]

MARKDOWN = [
    "# Injected heading",
    "## Allegations",
    "---",
    "===",
    "| injected | table |",
    "a | b | c",
    "|---|---|",
    "<!-- hidden comment -->",
    "<!-- unclosed comment",
    "```",
    "~~~python",
    "    indented code",
    "> quoted",
    "- list item",
    "1. numbered",
    "*emphasis* **strong** _under_ `code`",
    "\\*escaped\\* \\",
    "title: injected front matter",
]

INVISIBLE = [
    "\u202egnp.exe",  # right-to-left override
    "\u2066isolated\u2069 \u202aembedded\u202c",
    "Han\u200bDong",  # zero-width space
    "\ufeffbom \u200d joiner \u200c non-joiner",
    "\u061c arabic letter mark \u200f",
]

HOSTILE = SCRIPT + LINKS + MARKDOWN + INVISIBLE

MULTILINE = [
    "first line\n\n# A heading on line three",
    "| a | b |\n|---|---|\n| c | d |",
    "[ref]: javascript:alert(1)\n\n[click][ref]",
    "```\n<script>alert(1)</script>\n```",
    "<!--\n-->\n<script>alert(1)</script>",
    "---\ntitle: injected\n---",
    "text\n===\nmore",
    "<div>\n<script>alert(1)</script>\n</div>",
    "  \n\t\r\nwhite space\r\n",
]

# 1 MB runs (source texts accept 5 MB); statements take up to 2,000 characters.
HUGE = ["*" * 1_000_000, ">" * 1_000_000]
LONG_STATEMENTS = ["*" * 2_000, ">" * 2_000, "[" * 1_000 + "]" * 1_000, "<" * 2_000]

FILE_NAMES = [
    "../../x",
    "..",
    ".",
    "/etc/passwd",
    "a/b\\c",
    "CON",
    "con",
    "NUL.txt",
    "com1",
    "LPT9",
    "!!!",
    "中文名字",
    "😀",
    "😀😀😀",
    "🇨🇦",
    "Han Dong",
    "Hán Dong",
    "HAN-DONG",
    "han dong 2",
    "x" * 200,
    "x" * 199 + "y",
    "é" * 200,
]
TOO_LONG_NAME = "x" * 300
