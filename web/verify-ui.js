/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive offline verifier: the page - file inputs and drops, the verdict, and the certificate
 * drawn for people. Everything from the files is untrusted: it reaches the page only as text
 * nodes (never markup), escaped first as deprive escapes it for a terminal, so no control or
 * bidirectional character can hide or reorder what is shown. The page's Content Security
 * Policy (scripts by hash only, Trusted Types, no network) backs this up. */
(function () {
    "use strict";

    const V = globalThis.DepriveVerify;
    const J = V.J;
    const KINDS = ["pub", "cert", "sig"];
    const LABELS = { pub: "the public key", cert: "the certificate", sig: "the signature" };
    const state = { pub: null, cert: null, sig: null };
    let runs = 0;
    let busy = Promise.resolve();

    /* ---- building DOM from text only --------------------------------------------------------- */

    /* el("td", "cls", child...): children are nodes or strings (made text nodes). */
    function el(tag, cls, ...children) {
        const e = document.createElement(tag);
        if (cls)
            e.className = cls;
        for (const c of children) {
            if (c === null || c === undefined)
                continue;
            e.append(typeof c === "string" ? document.createTextNode(c) : c);
        }
        return e;
    }

    const $ = (id) => document.getElementById(id);
    const esc = (s) => V.escapeText(s);

    function clear(node) {
        while (node.firstChild)
            node.removeChild(node.firstChild);
    }

    /* dp_quote_bytes: printable ASCII as is, everything else \xNN, backslash \\. */
    function quoteBytes(b) {
        let s = "";
        for (const c of b) {
            if (c === 0x5c)
                s += "\\\\";
            else if (c >= 0x20 && c < 0x7f)
                s += String.fromCharCode(c);
            else
                s += "\\x" + (c < 16 ? "0" : "") + c.toString(16);
        }
        return s;
    }

    /* A file name: a string, or {"base64": …} for bytes that are not UTF-8. */
    function bytesValueText(v) {
        if (J.isStr(v))
            return esc(v.v);
        const raw = V.jsonBytes(v);
        return raw === null ? show(v) : quoteBytes(raw);
    }

    /* dp_json_location_text: path elements joined by " -> " (an archive member is a chain). */
    function locationText(loc) {
        if (!J.isArr(loc) || J.size(loc) === 0)
            return "?";
        return J.items(loc).map((e, i) => {
            if (J.isStr(e))
                return esc(e.v);
            const r = i > 0 ? V.jsonRange(e) : null;
            if (r !== null) {
                const total = r.reduce((a, p) => a + p[1], 0n);
                return `bytes ${r[0][0]}-${r[0][0] + r[0][1] - 1n}` +
                    (r.length > 1 ? ` and ${r.length - 1} more pieces (${total} bytes)` : "");
            }
            const raw = V.jsonBytes(e);
            return raw === null ? "?" : quoteBytes(raw);
        }).join(" -> ");
    }

    /* A JSON value as one line of text for people. */
    function show(v) {
        if (v === null || J.isNull(v))
            return "\u2014";
        switch (v.t) {
        case "str":
            return esc(v.v);
        case "int":
            return v.v.toString();
        case "real":
            return String(v.v);
        case "true":
            return "yes";
        case "false":
            return "no";
        case "arr":
            return v.v.map(show).join(", ");
        default:
            return J.members(v).map(([k, x]) => `${esc(k)}: ${show(x)}`).join(", ");
        }
    }

    const at = (o, p) => show(J.path(o, p));

    /* A two-column table of [label, text] rows. */
    function facts(rows) {
        const t = el("table", "facts");
        for (const [label, value] of rows)
            t.append(el("tr", null, el("th", null, label), el("td", null, value)));
        return t;
    }

    function section(title, ...children) {
        return el("section", "part", el("h3", null, title), ...children);
    }

    /* ---- the certificate, drawn -------------------------------------------------------------- */

    function drawOutcome(cert) {
        const res = J.str(J.path(cert, "outcome.result"));
        const sum = J.path(cert, "outcome.summary");
        const r = J.path(cert, "outcome.rescan");
        const rows = [
            ["Outcome", res !== null ? esc(res) : "\u2014"],
            ["Targets", at(sum, "targets")],
            ["Names (hard links)", at(sum, "names")],
            ["Erased", at(sum, "erased")],
            ["Skipped", at(sum, "skipped")],
            ["Failed", at(sum, "failed")],
            ["Rejected by the examiner", at(sum, "rejected")],
            ["Re-scan performed", at(r, "performed")],
        ];
        if (J.isTrue(J.get(r, "performed")))
            rows.push(["Re-scan findings", at(r, "findings")],
                ["Re-scan root", show(J.get(r, "root"))],
                ["Re-scan started", at(r, "started")], ["Re-scan finished", at(r, "finished")]);
        rows.push(["Wipe method", at(cert, "outcome.wipe.method")],
            ["Wipe started", at(cert, "outcome.wipe.started")],
            ["Wipe finished", at(cert, "outcome.wipe.finished")],
            ["Journal head", at(cert, "outcome.journal.head")],
            ["Journal records", at(cert, "outcome.journal.records")]);
        const out = section("Outcome", facts(rows));
        const remaining = J.items(J.get(r, "remaining"));
        if (remaining.length > 0) {
            const ul = el("ul", "remaining");
            for (const m of remaining)
                ul.append(el("li", null, locationText(J.get(m, "location"))));
            out.append(el("p", "warn", "Still found by the re-scan:"), ul);
        }
        const left = J.items(J.get(r, "left_by_decision"));
        if (left.length > 0) {
            const ul = el("ul", null);
            for (const m of left)
                ul.append(el("li", null, `${locationText(J.get(m, "location"))} ` +
                                         `(${at(m, "status")}: ${at(m, "reason")})`));
            out.append(el("p", null, "Left in place by the examiner's decision (perceptual-only " +
                                     "candidates rejected or not decided):"), ul);
        }
        return out;
    }

    function drawCase(cert) {
        return section("Order and exhibit",
            facts(V.CASE_FIELDS.map(([path, label]) => [label, at(cert, path)])));
    }

    function drawIdentity(cert, result) {
        const tool = `${at(cert, "identity.tool.name")} ${at(cert, "identity.tool.version")} ` +
            `(build ${at(cert, "identity.tool.build")})`;
        return section("Certificate",
            facts([
                ["Certificate id", at(cert, "identity.certificate_id")],
                ["Issued", at(cert, "identity.issued")],
                ["Scan started", at(cert, "identity.started")],
                ["Finished", at(cert, "identity.finished")],
                ["Examining host", at(cert, "identity.host")],
                ["Tool", tool],
                ["SHA-256 of the certificate file", result.sha256],
                ["Signer key id named inside", at(cert, "signer.keyid")],
            ]));
    }

    function drawFilesystem(cert) {
        const fs = J.path(cert, "exhibit.filesystem");
        return section("Filesystem examined",
            facts([
                ["Type", at(fs, "type")],
                ["Source", at(fs, "source")],
                ["Mount point", at(fs, "mount_point")],
                ["Options", at(fs, "options")],
                ["Block device", at(fs, "block_device")],
                ["Rotational", at(fs, "rotational")],
                ["Discard", at(fs, "discard")],
                ["Read-only", at(fs, "read_only")],
            ]));
    }

    function drawHashSet(cert) {
        const t = el("table", "grid",
            el("tr", null, el("th", null, "List file"), el("th", null, "Format"),
               el("th", null, "Entries"), el("th", null, "SHA-256 of the list")));
        for (const l of J.items(J.path(cert, "hash_set.lists")))
            t.append(el("tr", null, el("td", null, bytesValueText(J.get(l, "file"))),
                        el("td", null, at(l, "format")), el("td", null, at(l, "entries")),
                        el("td", "mono", at(l, "sha256"))));
        return section("Hash lists",
            facts([["Supplied by", at(cert, "hash_set.supplier")],
                   ["Entries", at(cert, "hash_set.entries")],
                   ["Perceptual matching", at(cert, "hash_set.perceptual_thresholds")]]), t);
    }

    function drawScan(cert) {
        const tot = J.path(cert, "scan.totals");
        const root = J.path(cert, "scan.root");
        const out = section("Scan",
            facts([
                ["Root", J.isArr(root) ? locationText(root) : show(root)],
                ["Stayed on one filesystem", at(cert, "scan.one_filesystem")],
                ["Digests computed", at(cert, "scan.digests")],
                ["Files seen", at(tot, "files")],
                ["Files read", at(tot, "files_read")],
                ["Bytes read", at(tot, "bytes_read")],
                ["Directories", at(tot, "directories")],
                ["Not examinable (skipped)", at(tot, "skipped")],
                ["Findings", at(tot, "findings")],
                ["Started", at(cert, "scan.started")],
                ["Finished", at(cert, "scan.finished")],
            ]));
        const skips = J.items(J.path(cert, "scan.skips"));
        if (skips.length > 0) {
            const t = el("table", "grid",
                el("tr", null, el("th", null, "Not examined"), el("th", null, "Reason"),
                   el("th", null, "Detail")));
            for (const s of skips) {
                let detail = "";
                if (J.get(s, "error"))
                    detail = at(s, "error");
                else if (J.get(s, "size"))
                    detail = `size ${at(s, "size")}, limit ${at(s, "limit")} ` +
                        `(${at(s, "limit_source")})`;
                t.append(el("tr", null, el("td", null, locationText(J.get(s, "location"))),
                            el("td", null, at(s, "reason")), el("td", null, detail)));
            }
            out.append(t);
        }
        return out;
    }

    function assuranceText(t) {
        const a = J.str(J.get(t, "assurance"));
        if (a === null)
            return "\u2014";
        const label = Object.prototype.hasOwnProperty.call(V.ASSURANCE, a) ? V.ASSURANCE[a] : null;
        return label !== null ? `${label} (${a})` : esc(a);
    }

    function drawTarget(t, i) {
        const names = el("ul", "names");
        for (const n of J.items(J.get(t, "names")))
            names.append(el("li", null, locationText(J.get(n, "location")),
                el("span", "note", J.isTrue(J.get(n, "removed")) ? " removed" : " NOT removed")));
        const factsList = el("ul", "assurance-facts");
        for (const f of J.items(J.get(t, "assurance_facts")))
            factsList.append(el("li", null, show(f)));
        const matched = J.items(J.get(t, "matched")).map((m) =>
            `${at(m, "method")} ${at(m, "algo")}, ${at(m, "list")} line ${at(m, "line")}`)
            .join("; ");
        const digests = J.get(t, "digests");
        const main = J.get(digests, "sha256") ? ["SHA-256", at(digests, "sha256")]
            : J.get(digests, "sha1") ? ["SHA-1", at(digests, "sha1")] : ["MD5", at(digests, "md5")];
        const status = J.str(J.get(t, "status"));
        const rows = [
            ["Status", status !== null ? esc(status) : "\u2014"],
            ["Assurance", assuranceText(t)],
            ["Reason not erased", at(t, "reason")],
            ["Action", at(t, "action")],
            ["Size (bytes)", at(t, "size")],
            ["Type", at(t, "mime")],
            [main[0], main[1]],
            ["Matched", matched || "\u2014"],
            ["Perceptual-only match", at(t, "perceptual_only")],
            ["Verification", at(t, "verification")],
        ];
        if (J.get(t, "consent") && !J.isNull(J.get(t, "consent")))
            rows.push(["Consent", at(t, "consent")]);
        if (J.isObj(J.get(t, "embedded")))
            rows.push(["Embedded copy", at(t, "embedded")]);
        const card = el("div", "target " + (status === "erased" ? "ok" : "not-ok"),
            el("h4", null, `Target ${i + 1}`), el("p", null, "Names:"), names, facts(rows));
        if (factsList.firstChild)
            card.append(el("p", null, "Assurance rests on:"), factsList);
        return card;
    }

    function drawTargets(cert) {
        const out = section("Targets (one per file; hard links share one)");
        const targets = J.items(J.get(cert, "targets"));
        if (targets.length === 0)
            out.append(el("p", null, "No targets."));
        targets.forEach((t, i) => out.append(drawTarget(t, i)));
        return out;
    }

    function drawRisks(cert) {
        const ol = el("ol", "risks");
        for (const r of J.items(J.path(cert, "outcome.residual_risks")))
            ol.append(el("li", null, show(r)));
        return section("Residual risks (what this certificate cannot promise)", ol);
    }

    function drawCertificate(result) {
        const box = $("certificate");
        clear(box);
        if (!result.cert) {
            box.hidden = true;
            return;
        }
        box.hidden = false;
        box.append(el("h2", null, "3. The certificate"));
        if (result.verdict !== "VALID")
            box.append(el("p", "warn", "Shown for inspection only: this certificate is INVALID. " +
                                       "Do not rely on anything below."));
        const cert = result.cert;
        for (const draw of [drawOutcome, drawCase, drawIdentity, drawFilesystem, drawHashSet,
                            drawScan, drawTargets, drawRisks]) {
            try {
                box.append(draw(cert, result));
            } catch (e) {
                box.append(el("p", "warn", `This part could not be drawn: ${esc(e)}`));
            }
        }
    }

    /* ---- the verdict ------------------------------------------------------------------------- */

    const WORDS = { VALID: "VALID", INVALID: "INVALID", ERROR: "CANNOT CHECK" };

    function signedAt(tc) {
        if (!tc || tc.timestamp < 0n || tc.timestamp > 8640000000000n)
            return "\u2014";
        return new Date(Number(tc.timestamp) * 1000).toISOString().replace(".000Z", "Z");
    }

    function drawVerdict(result) {
        const box = $("verdict");
        box.setAttribute("data-verdict", result.verdict);
        box.setAttribute("data-reason", result.code);
        box.setAttribute("data-keyid", result.keyid);
        box.setAttribute("data-signature-keyid", result.signatureKeyid);
        const outcome = result.verdict === "VALID"
            ? J.str(J.path(result.cert, "outcome.result")) : "";
        box.setAttribute("data-outcome", outcome || "");
        box.className = "card verdict " + result.verdict.toLowerCase();
        $("verdict-word").textContent = WORDS[result.verdict];
        $("verdict-reason").textContent = result.code;
        $("verdict-summary").textContent = result.summary;
        $("verdict-message").textContent = result.message;
        const ul = $("problems");
        clear(ul);
        for (const p of result.problems)
            ul.append(el("li", null, p));
        const key = $("keybox");
        clear(key);
        if (result.keyid) {
            key.append(el("p", "keyid", "Public key opened: key id ",
                          el("code", null, result.keyid)));
            if (result.signatureKeyid && result.signatureKeyid !== result.keyid)
                key.append(el("p", null, "The signature names key id ",
                              el("code", null, result.signatureKeyid)));
            key.append(el("p", "compare",
                "Compare this key id with the one your force publishes, obtained by a trusted " +
                "route (not from whoever handed you the certificate). Anyone can make a " +
                "certificate that is VALID against their own key; only the key id tells you " +
                "whose key it is. minisign writes it without leading zeros in the public key " +
                "file's first line."));
        }
        if (result.verdict === "VALID") {
            key.prepend(el("p", "outcome", "Outcome: ", el("strong", null, esc(outcome))));
            if (outcome !== "ERASED")
                key.append(el("p", "warn", "Authentic and consistent, but the outcome is " +
                              `${esc(outcome)}: not everything listed was erased by deprive ` +
                              "(see the outcome and the targets below)."));
            key.append(facts([
                ["Outcome", esc(outcome)],
                ["Certificate id", result.trusted ? result.trusted.certId : "\u2014"],
                ["Signed at (UTC, from the signed comment)", signedAt(result.trusted)],
                ["File name when signed", result.trusted ? esc(result.trusted.file) : "\u2014"],
                ["SHA-256 of the certificate file", result.sha256],
            ]));
        }
    }

    function fail(message) {
        return { verdict: "ERROR", code: "page-error", summary: V.REASONS["page-error"][1],
                 message: message, problems: [], keyid: "", signatureKeyid: "", cert: null };
    }

    async function run() {
        const box = $("verdict");
        box.setAttribute("data-state", "working");
        $("verdict-word").textContent = "Checking\u2026";
        let result;
        try {
            const sodium = globalThis.sodium;
            if (!sodium)
                throw new Error("the cryptography library did not load (it needs WebAssembly, " +
                                "which this browser may have turned off)");
            await sodium.ready;
            result = await V.verify(sodium, state);
        } catch (e) {
            result = fail("the page could not check these files: " +
                          esc(e && e.message ? e.message : e));
        }
        drawVerdict(result);
        drawCertificate(result);
        box.setAttribute("data-run", String(++runs));
        box.setAttribute("data-state", "done");
    }

    /* ---- inputs ------------------------------------------------------------------------------ */

    function showNames() {
        for (const k of KINDS)
            $("name-" + k).textContent = state[k] ? esc(state[k].name) : "not chosen";
        if (KINDS.every((k) => state[k]))
            return;
        const box = $("verdict");
        box.setAttribute("data-state", "idle");
        box.className = "card verdict";
        $("verdict-word").textContent = "Waiting for " +
            KINDS.filter((k) => !state[k]).map((k) => LABELS[k]).join(", ") + ".";
    }

    async function take(kind, file) {
        const part = file.size > V.LIMITS[kind] ? file.slice(0, V.LIMITS[kind] + 1) : file;
        state[kind] = { name: file.name, bytes: new Uint8Array(await part.arrayBuffer()) };
    }

    /* Queue the work so that quick changes are checked in order. */
    function enqueue(job) {
        busy = busy.then(job).catch((e) => {
            drawVerdict(fail("the page could not read the files: " +
                             esc(e && e.message ? e.message : e)));
            $("verdict").setAttribute("data-state", "done");
        });
        return busy;
    }

    function settled() {
        showNames();
        if (KINDS.every((k) => state[k]))
            return run();
        return null;
    }

    /* Which file a dropped one is: by name, else by its first line. */
    async function classify(file) {
        const name = file.name.toLowerCase();
        if (name.endsWith(".minisig"))
            return "sig";
        if (name.endsWith(".pub"))
            return "pub";
        if (name.endsWith(".json"))
            return "cert";
        const first = await file.slice(0, 4096).arrayBuffer();
        const head = new TextDecoder().decode(new Uint8Array(first));
        if (head.startsWith("untrusted comment:"))
            return head.includes("\ntrusted comment:") ? "sig" : "pub";
        return "cert";
    }

    function setup() {
        for (const k of KINDS) {
            const input = $("in-" + k);
            input.addEventListener("change", () => {
                const f = input.files && input.files[0];
                if (f)
                    enqueue(async () => {
                        await take(k, f);
                        await settled();
                    });
            });
        }
        $("clear").addEventListener("click", () => enqueue(async () => {
            for (const k of KINDS) {
                state[k] = null;
                $("in-" + k).value = "";
            }
            clear($("problems"));
            clear($("keybox"));
            for (const a of ["data-verdict", "data-reason", "data-outcome", "data-keyid",
                             "data-signature-keyid"])
                $("verdict").setAttribute(a, "");
            $("verdict-reason").textContent = "";
            $("verdict-summary").textContent = "";
            $("verdict-message").textContent = "";
            drawCertificate({ cert: null });
            showNames();
        }));
        document.addEventListener("dragover", (ev) => {
            ev.preventDefault();
            document.body.classList.add("dragging");
        });
        document.addEventListener("dragleave", () => document.body.classList.remove("dragging"));
        document.addEventListener("drop", (ev) => {
            ev.preventDefault();
            document.body.classList.remove("dragging");
            const files = [...(ev.dataTransfer ? ev.dataTransfer.files : [])];
            enqueue(async () => {
                for (const f of files)
                    await take(await classify(f), f);
                await settled();
            });
        });
        const codes = $("codes");
        for (const [code, [verdict, text]] of Object.entries(V.REASONS))
            codes.append(el("tr", null, el("td", null, el("code", null, code)),
                            el("td", null, WORDS[verdict]), el("td", null, text)));
        showNames();
        $("verdict").setAttribute("data-ready", "1");
    }

    if (document.readyState === "loading")
        document.addEventListener("DOMContentLoaded", setup);
    else
        setup();
})();
