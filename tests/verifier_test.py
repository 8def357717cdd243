#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run one corpus of signed certificates through `deprive verify` and through the offline
verifier page (docs/verify.html) in headless Chromium, and fail when either differs from the
expected verdict and reason code, or from the other (messages and consistency problems too).

The corpus is made by tests/test_verifier.c (the cmocka suite "verifier"), which runs this
script: a directory with manifest.json, a list of cases {name, pub, cert, sig, verdict, reason,
outcome?, keyid?} whose files are in that directory. Reason codes: docs/verify.md.

usage: verifier_test.py --probe
       verifier_test.py --deprive BIN --page HTML --source-dir DIR --corpus DIR
--probe exits 0 when selenium, chromium and chromedriver are there, else 77 with the reason.
"""
import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import time

SKIP = 77
BROWSERS = ["chromium", "chromium-browser"]
DRIVERS = ["chromedriver"]

# What `deprive verify` prints, as reason codes: it prints no code itself (docs/verify.md says
# what a code there would need). The first line of stderr, after "certificate INVALID: ".
INVALID_MESSAGES = [
    (r"\d+ consistency problems?:$", "inconsistent"),
    (r"signature: malformed signature file: ", "malformed-signature"),
    (r"signature: legacy \(non-prehashed\) signature not accepted", "legacy-signature"),
    (r"signature: key id mismatch: ", "key-mismatch"),
    (r"signature: signature does not match the data", "signature-invalid"),
    (r"signature: trusted comment signature is invalid", "comment-invalid"),
    (r"trusted comment is not a deprive certificate comment: ", "comment-mismatch"),
    (r"trusted comment carries no certificate sha256 and keyid", "comment-mismatch"),
    (r"the certificate's SHA-256 [0-9a-f]{64} differs from the signed ", "comment-mismatch"),
    (r"the trusted comment names key ", "comment-mismatch"),
    (r"certificate id '.*' is not the signed '", "comment-mismatch"),
    (r"signed, but not valid JSON: ", "malformed-certificate"),
    (r"signer\.keyid '.*' is not the key ", "signer-mismatch"),
]
ERROR_MESSAGES = [
    (r"'.*' is not a minisign public key file", "bad-key"),
    (r"'.*': not a minisign public key", "bad-key"),
    (r"'.*': unsupported public key algorithm", "bad-key"),
    (r"'.*' is larger than \d+ bytes", "too-large"),
]
# codes whose message the page words exactly as deprive (the others name local paths, or
# quote jansson's parse error)
SAME_MESSAGE = {"malformed-signature", "legacy-signature", "key-mismatch", "signature-invalid",
                "comment-invalid", "comment-mismatch", "signer-mismatch", "inconsistent", "valid"}


def which(names):
    for n in names:
        p = shutil.which(n)
        if p:
            return p
    return None


def probe():
    try:
        import selenium  # noqa: F401
    except ImportError:
        print("python3 has no selenium (Debian: python3-selenium)")
        return SKIP
    if which(BROWSERS) is None:
        print("no chromium (Debian: chromium)")
        return SKIP
    if which(DRIVERS) is None:
        print("no chromedriver (Debian: chromium-driver)")
        return SKIP
    return 0


# ---- deprive verify ------------------------------------------------------------------------

def run_deprive(deprive, corpus, case):
    p = subprocess.run([deprive, "verify", "-p", os.path.join(corpus, case["pub"]), "-x",
                        os.path.join(corpus, case["sig"]), os.path.join(corpus, case["cert"])],
                       capture_output=True, timeout=60)
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    res = {"rc": p.returncode, "verdict": "?", "reason": "?", "outcome": "", "keyid": "",
           "message": "", "problems": [], "raw": (out + err).strip()}
    lines = err.splitlines()
    first = lines[0] if lines else ""
    if p.returncode == 0:
        m = re.fullmatch(r"certificate valid: ([A-Z]+), signed by key ([0-9A-F]{16})", out.strip())
        if m:
            res.update(verdict="VALID", reason="valid", outcome=m.group(1), keyid=m.group(2),
                       message=out.strip())
    elif p.returncode == 1 and first.startswith("deprive: certificate INVALID: "):
        msg = first[len("deprive: certificate INVALID: "):]
        res.update(verdict="INVALID", message=msg)
        for pat, code in INVALID_MESSAGES:
            if re.match(pat, msg):
                res["reason"] = code
                break
        if res["reason"] == "inconsistent":
            res["problems"] = [l[4:] for l in lines[1:] if l.startswith("  - ")]
    elif p.returncode == 2 and first.startswith("deprive: "):
        msg = first[len("deprive: "):]
        res.update(verdict="ERROR", message=msg)
        for pat, code in ERROR_MESSAGES:
            if re.match(pat, msg):
                res["reason"] = code
                break
    return res


# ---- the page ------------------------------------------------------------------------------

READ_STATE = """
const v = document.getElementById('verdict');
if (!v) return null;
return {
  ready: v.getAttribute('data-ready'), state: v.getAttribute('data-state'),
  run: v.getAttribute('data-run'), verdict: v.getAttribute('data-verdict'),
  reason: v.getAttribute('data-reason'), outcome: v.getAttribute('data-outcome'),
  keyid: v.getAttribute('data-keyid'),
  message: document.getElementById('verdict-message').textContent,
  problems: Array.from(document.querySelectorAll('#problems li')).map(l => l.textContent),
  keybox: document.getElementById('keybox').textContent,
  certificate: document.getElementById('certificate').textContent,
  foreign: document.querySelectorAll('img, iframe, object, embed, a, form, svg').length,
  scripts: document.scripts.length,
};
"""


def start_browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = which(BROWSERS)
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--disable-extensions", "--no-first-run", "--window-size=1200,900"]:
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(which(DRIVERS)), options=opts)


def wait_for(driver, pred, what, timeout=30.0):
    end = time.monotonic() + timeout
    while True:
        st = driver.execute_script(READ_STATE)
        if st is not None and pred(st):
            return st
        if time.monotonic() > end:
            raise RuntimeError(f"timed out waiting for {what}: {st}")
        time.sleep(0.02)


def run_page(driver, url, corpus, case):
    from selenium.webdriver.common.by import By
    driver.get(url)
    wait_for(driver, lambda s: s["ready"] == "1", "the page to set up")
    for kind in ("pub", "cert", "sig"):
        driver.find_element(By.ID, "in-" + kind).send_keys(os.path.join(corpus, case[kind]))
    st = wait_for(driver, lambda s: s["state"] == "done" and s["run"] == "1", "the verdict")
    st["console"] = driver.get_log("browser")
    return st


# Files dropped on the page (as a person drags them there), named without extensions so the
# page tells them apart by their first line. The files' bytes are handed in from here.
DROP = """
const files = arguments[0].map(([name, b64]) =>
  new File([Uint8Array.from(atob(b64), c => c.charCodeAt(0))], name));
const dt = new DataTransfer();
files.forEach(f => dt.items.add(f));
document.body.dispatchEvent(
  new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
"""


def run_page_drop(driver, url, corpus, case):
    driver.get(url)
    wait_for(driver, lambda s: s["ready"] == "1", "the page to set up")
    files = []
    for name, kind in (("signature", "sig"), ("key", "pub"), ("certificate", "cert")):
        with open(os.path.join(corpus, case[kind]), "rb") as f:
            files.append([name, base64.b64encode(f.read()).decode()])
    driver.execute_script(DROP, files)
    st = wait_for(driver, lambda s: s["state"] == "done" and s["run"] == "1", "the verdict")
    st["console"] = driver.get_log("browser")
    return st


# ---- comparing -----------------------------------------------------------------------------

def compare(case, cli, page):
    """The list of disagreements (empty when everything agrees)."""
    bad = []
    want = (case["verdict"], case["reason"])
    if (cli["verdict"], cli["reason"]) != want:
        bad.append(f"deprive verify: {cli['verdict']} {cli['reason']} (exit {cli['rc']}: "
                   f"{cli['raw'][:300]})")
    if (page["verdict"], page["reason"]) != want:
        bad.append(f"page: {page['verdict']} {page['reason']} ({page['message'][:300]})")
    if case["verdict"] == "VALID":
        for who, got in (("deprive verify", cli), ("page", page)):
            if got["outcome"] != case["outcome"] or got["keyid"] != case["keyid"]:
                bad.append(f"{who}: outcome {got['outcome']} key {got['keyid']}, want "
                           f"{case['outcome']} key {case['keyid']}")
        if case["keyid"] not in page["keybox"] or "Compare this key id" not in page["keybox"]:
            bad.append("page: the key id and the advice to compare it are not shown")
    if case["reason"] in SAME_MESSAGE and page["message"] != cli["message"]:
        bad.append(f"messages differ:\n    deprive: {cli['message']}\n"
                   f"    page:    {page['message']}")
    if case["reason"] == "malformed-certificate" and not (
            page["message"].startswith("signed, but not valid JSON") and
            cli["message"].startswith("signed, but not valid JSON")):
        bad.append("the JSON refusal is worded differently")
    if page["problems"] != cli["problems"]:
        bad.append("consistency problems differ:\n    deprive: " + json.dumps(cli["problems"]) +
                   "\n    page:    " + json.dumps(page["problems"]))
    if case["reason"] == "inconsistent" and not page["problems"]:
        bad.append("an inconsistent certificate without problems listed")
    if page["console"]:
        bad.append("browser console: " + json.dumps(page["console"])[:600])
    if page["foreign"] != 0 or page["scripts"] != 4:
        bad.append(f"page DOM: {page['foreign']} foreign elements, {page['scripts']} scripts")
    return bad


# Untrusted text from the good certificate that must appear as text, not markup, and the
# right-to-left override escaped as deprive escapes it.
SHOWN_AS_TEXT = [
    "DCIM/<img src=x onerror=alert(1)>.jpg",
    "DC <script>alert('x')</script> Example",
    "Crown Court at \"Exampleton\" & Co",
    "Downloads/photo\\xe2\\x80\\xaegpj.jpg",
]


def summary(r):
    return f"{r['verdict']} {r['reason']}" + (f" {r['outcome']}" if r.get("outcome") else "")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--probe", action="store_true")
    ap.add_argument("--deprive")
    ap.add_argument("--page")
    ap.add_argument("--source-dir")
    ap.add_argument("--corpus")
    a = ap.parse_args()
    if a.probe:
        return probe()
    if not (a.deprive and a.page and a.source_dir and a.corpus):
        ap.error("--deprive, --page, --source-dir and --corpus are required")
    if probe() != 0:
        return SKIP
    t0 = time.monotonic()
    failures = 0

    # the committed page is what its sources build
    p = subprocess.run([sys.executable, os.path.join(a.source_dir, "scripts", "build-verifier.py"),
                        "--check", "-o", a.page], capture_output=True, text=True)
    if p.returncode != 0:
        print(f"FAIL docs/verify.html is stale or its sources do not build:\n{p.stdout}{p.stderr}")
        failures += 1

    with open(os.path.join(a.corpus, "manifest.json"), encoding="utf-8") as f:
        cases = json.load(f)
    url = "file://" + os.path.abspath(a.page)
    driver = start_browser()
    t_browser = time.monotonic() - t0
    rows = []
    try:
        for case in cases:
            cli = run_deprive(a.deprive, a.corpus, case)
            page = run_page(driver, url, a.corpus, case)
            bad = compare(case, cli, page)
            if case["name"] == "good":
                for text in SHOWN_AS_TEXT:
                    if text not in page["certificate"]:
                        bad.append(f"page: '{text}' is not shown as text")
                dropped = run_page_drop(driver, url, a.corpus, case)
                got = (dropped["verdict"], dropped["reason"], dropped["console"])
                if got != ("VALID", "valid", []):
                    bad.append(f"page, files dropped: {dropped['verdict']} {dropped['reason']} "
                               f"{dropped['message']} {dropped['console']}")
            rows.append((case, cli, page, bad))
            failures += 1 if bad else 0
    finally:
        driver.quit()

    w = max(len(c["name"]) for c, _, _, _ in rows)
    print(f"{'case':<{w}}  {'expected':<32} {'deprive verify':<32} {'page':<32}")
    for case, cli, page, bad in rows:
        exp, got_c, got_p = summary(case), summary(cli), summary(page)
        print(f"{case['name']:<{w}}  {exp:<32} {got_c:<32} {got_p:<32} "
              f"{'ok' if not bad else 'FAIL'}")
        for b in bad:
            print("    " + b)
    took = time.monotonic() - t0
    print(f"verifier: {len(rows)} cases through deprive verify and the page, "
          f"{failures} failure(s); {took:.1f} s ({t_browser:.1f} s starting the browser)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
