#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Build docs/verify.html, the offline certificate verifier, from web/.

One self-contained file: the vendored libsodium.js (web/vendor, checked against
web/vendor/SHA256SUMS), web/verify-core.js, web/verify-ui.js and web/verify.css are inlined
into web/verify.template.html, with a Content Security Policy that allows exactly those
scripts (by hash) and that style, and no network. Deterministic: the same inputs give the
same bytes, so the committed page can be checked against its sources (--check).

usage: scripts/build-verifier.py [--check] [-o OUTPUT]
"""
import argparse
import base64
import hashlib
import html
import os
import re
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WEB = os.path.join(ROOT, "web")
VENDOR = os.path.join(WEB, "vendor")
DEFAULT_OUT = os.path.join(ROOT, "docs", "verify.html")
OWN_SCRIPTS = ["verify-core.js", "verify-ui.js"]


def die(msg):
    sys.stderr.write(f"build-verifier: {msg}\n")
    sys.exit(2)


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        die(f"cannot read '{path}': {e}")


def vendored():
    """[(file name, text)] in SHA256SUMS order, each checked against its listed digest."""
    out = []
    for line in read(os.path.join(VENDOR, "SHA256SUMS")).splitlines():
        m = re.fullmatch(r"([0-9a-f]{64})  ([A-Za-z0-9._-]+)", line)
        if m is None:
            die(f"web/vendor/SHA256SUMS: bad line '{line}'")
        want, name = m.groups()
        path = os.path.join(VENDOR, name)
        with open(path, "rb") as f:
            data = f.read()
        got = hashlib.sha256(data).hexdigest()
        if got != want:
            die(f"web/vendor/{name}: SHA-256 {got}, but SHA256SUMS says {want}")
        out.append((name, want, data.decode("utf-8")))
    if not out:
        die("web/vendor/SHA256SUMS lists no file")
    return out


def csp_hash(text):
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode() + "'"


def inline_safe(name, text, closing):
    # an inline element ends at its first closing tag; "<!--" changes how scripts are parsed
    low = text.lower()
    if closing in low or "<!--" in low:
        die(f"{name} contains '{closing}' or '<!--': it cannot be inlined as it is")


def build():
    libs = vendored()
    scripts = []
    for name, _digest, text in libs:
        inline_safe(f"web/vendor/{name}", text, "</script")
        scripts.append(text)
    for name in OWN_SCRIPTS:
        text = read(os.path.join(WEB, name))
        inline_safe(f"web/{name}", text, "</script")
        scripts.append(text)
    css = read(os.path.join(WEB, "verify.css"))
    inline_safe("web/verify.css", css, "</style")
    # the element's content, exactly as the browser hashes it
    script_bodies = ["\n" + s.rstrip("\n") + "\n" for s in scripts]
    style_body = "\n" + css.rstrip("\n") + "\n"
    csp = "; ".join([
        "default-src 'none'",
        "script-src " + " ".join(csp_hash(b) for b in script_bodies) + " 'wasm-unsafe-eval'",
        "style-src " + csp_hash(style_body),
        "img-src 'none'",
        "connect-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    ])
    m = re.fullmatch(r"libsodium-([0-9][0-9A-Za-z.-]*)\.js", libs[0][0])
    version = m.group(1) if m else "(unknown version)"
    vendor_list = "\n".join(
        f"<li><code>{html.escape(name)}</code> <code>{digest}</code></li>"
        for name, digest, _ in libs)
    page = read(os.path.join(WEB, "verify.template.html"))
    subst = {
        "@CSP@": csp,
        "@STYLE@": "<style>" + style_body + "</style>",
        "@SODIUM_VERSION@": html.escape(version),
        "@VENDOR_LIST@": vendor_list,
        "@SCRIPTS@": "\n".join("<script>" + b + "</script>" for b in script_bodies),
    }
    for key, value in subst.items():
        if page.count(key) != 1:
            die(f"web/verify.template.html: '{key}' must appear exactly once")
        page = page.replace(key, value)
    return page.encode("utf-8")


def main():
    ap = argparse.ArgumentParser(description="Build docs/verify.html from web/.")
    ap.add_argument("--check", action="store_true",
                    help="do not write: exit 1 when the output differs from what would be built")
    ap.add_argument("-o", "--output", default=DEFAULT_OUT,
                    help="output file (default: docs/verify.html)")
    a = ap.parse_args()
    page = build()
    if a.check:
        try:
            with open(a.output, "rb") as f:
                have = f.read()
        except OSError as e:
            sys.stderr.write(f"build-verifier: cannot read '{a.output}': {e}\n")
            return 1
        if have != page:
            sys.stderr.write(f"build-verifier: '{a.output}' is not what web/ builds: run "
                             "scripts/build-verifier.py\n")
            return 1
        return 0
    out_dir = os.path.dirname(os.path.abspath(a.output))
    fd, tmp = tempfile.mkstemp(prefix=".verify.", dir=out_dir)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(page)
        os.chmod(tmp, 0o644)
        os.replace(tmp, a.output)
    except OSError as e:
        os.unlink(tmp)
        die(f"cannot write '{a.output}': {e}")
    print(f"build-verifier: wrote {a.output} ({len(page)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
