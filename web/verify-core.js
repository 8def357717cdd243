/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive offline verifier: the checks of `deprive verify`, ported from the C sources line by
 * line (src/attest/sign.c: the minisign files; sign_doc.c and cert_sign.c: the trusted comment
 * and the order of the checks; cert_check.c: dp_cert_check; jansson's parser as deprive calls
 * it, JSON_REJECT_DUPLICATES). No DOM here: verify-ui.js draws the result. A change to any of
 * those C files needs the same change here; tests/verifier_test.py runs one corpus through both
 * and fails when they disagree (docs/verify.md). */
(function (root) {
    "use strict";

    /* ---- limits and names, as in the C sources ---------------------------------------------- */

    const PUBFILE_MAX = 65536; /* sign.c */
    const SIGFILE_MAX = 1 << 16; /* cmd_verify.c */
    const CERT_FILE_MAX = 256 * 1024 * 1024; /* DP_CERT_FILE_MAX */
    const TRUSTED_COMMENT_MAX = 8173; /* DP_SIGN_TRUSTED_COMMENT_MAX */
    const COMMENT_LINE_MAX = 1022; /* sign.c */
    const JSON_MAX_DEPTH = 2048; /* jansson's JSON_PARSER_MAX_DEPTH */
    const PROBLEMS_MAX = 10000; /* cert_check.c */
    const CERT_FORMAT = "deprive-erasure-certificate";
    const CERT_SCHEMA = 1n;

    /* The reason codes (docs/verify.md): verdict and one line for people. */
    const REASONS = {
        "valid": ["VALID", "the signature, its trusted comment and the certificate all check"],
        "bad-key": ["ERROR", "the public key file is not a minisign public key"],
        "too-large": ["ERROR", "a file is larger than deprive verify reads"],
        "malformed-signature": ["INVALID", "the signature file is not a minisign signature"],
        "legacy-signature": ["INVALID",
            "legacy (non-prehashed) signature: deprive verify does not accept it"],
        "key-mismatch": ["INVALID", "the signature was made with another key"],
        "signature-invalid": ["INVALID",
            "the signature does not match the certificate (altered, or forged)"],
        "comment-invalid": ["INVALID", "the trusted comment was altered after signing"],
        "comment-mismatch": ["INVALID",
            "the signed trusted comment is not this certificate's (digest, key id or " +
            "certificate id)"],
        "malformed-certificate": ["INVALID", "the signed file is not JSON as deprive reads it"],
        "signer-mismatch": ["INVALID", "the certificate names another signing key"],
        "inconsistent": ["INVALID", "the certificate is not internally consistent"],
        "page-error": ["ERROR",
            "this page could not run its checks (WebAssembly or Web Crypto turned off, or a " +
            "bug)"],
    };

    const UTF8 = new TextEncoder();

    class Stop {
        constructor(code, message, problems) {
            this.code = code;
            this.message = message;
            this.problems = problems || [];
        }
    }

    function stop(code, message, problems) {
        throw new Stop(code, message, problems);
    }

    /* ---- bytes ------------------------------------------------------------------------------- */

    function ascii(s) {
        return UTF8.encode(s);
    }

    function startsWith(bytes, start, len, prefix) {
        if (len < prefix.length)
            return false;
        for (let i = 0; i < prefix.length; i++)
            if (bytes[start + i] !== prefix[i])
                return false;
        return true;
    }

    function indexOfByte(bytes, b, from, to) {
        for (let i = from; i < to; i++)
            if (bytes[i] === b)
                return i;
        return -1;
    }

    function concat(a, b) {
        const out = new Uint8Array(a.length + b.length);
        out.set(a, 0);
        out.set(b, a.length);
        return out;
    }

    function sameBytes(a, b) {
        if (a.length !== b.length)
            return false;
        for (let i = 0; i < a.length; i++)
            if (a[i] !== b[i])
                return false;
        return true;
    }

    function hex(bytes) {
        let s = "";
        for (const b of bytes)
            s += (b < 16 ? "0" : "") + b.toString(16);
        return s;
    }

    /* Bytes as text for a message: UTF-8 where it is, U+FFFD where not (shown, never parsed). */
    function bytesText(bytes) {
        return new TextDecoder("utf-8", { fatal: false, ignoreBOM: true }).decode(bytes);
    }

    /* ---- text for people: dp_text_escape_append (util.c), as deprive prints it --------------- */

    /* util.c utf8_seq: length of the valid UTF-8 sequence at u[i] (1..4), 0 when none starts. */
    function utf8Seq(u, i) {
        const c = u[i], n = u.length - i;
        const len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
            : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
        if (len === 0 || len > n)
            return 0;
        for (let k = 1; k < len; k++)
            if ((u[i + k] & 0xc0) !== 0x80)
                return 0;
        if ((c === 0xe0 && u[i + 1] < 0xa0) || (c === 0xed && u[i + 1] > 0x9f) ||
            (c === 0xf0 && u[i + 1] < 0x90) || (c === 0xf4 && u[i + 1] > 0x8f))
            return 0;
        return len;
    }

    /* Unicode's bidirectional controls (U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069). */
    function bidiControl(u, i, len) {
        if (len === 2)
            return u[i] === 0xd8 && u[i + 1] === 0x9c;
        if (len !== 3 || u[i] !== 0xe2)
            return false;
        const b = u[i + 1], c = u[i + 2];
        return (b === 0x80 && (c === 0x8e || c === 0x8f || (c >= 0xaa && c <= 0xae))) ||
            (b === 0x81 && c >= 0xa6 && c <= 0xa9);
    }

    /* Untrusted bytes as text that cannot hide or reorder anything: controls, C1 controls,
     * bidirectional controls and bytes that are not UTF-8 become \xNN, a backslash \\. */
    function escapeBytes(u) {
        const out = [];
        const push = (s) => {
            for (let k = 0; k < s.length; k++)
                out.push(s.charCodeAt(k));
        };
        const xx = (b) => push("\\x" + (b < 16 ? "0" : "") + b.toString(16));
        for (let i = 0; i < u.length;) {
            const len = utf8Seq(u, i);
            const c = u[i];
            const c1 = len === 2 && c === 0xc2 && u[i + 1] <= 0x9f;
            if (bidiControl(u, i, len)) {
                for (let k = 0; k < len; k++)
                    xx(u[i + k]);
                i += len;
                continue;
            }
            if (len === 1 && c === 0x5c) {
                push("\\\\");
            } else if (len === 0 || c1 || (len === 1 && (c < 0x20 || c === 0x7f))) {
                xx(c1 ? u[i + 1] : c);
                i += c1 ? 2 : 1;
                continue;
            } else {
                for (let k = 0; k < len; k++)
                    out.push(u[i + k]);
            }
            i += len;
        }
        return new TextDecoder("utf-8").decode(Uint8Array.from(out));
    }

    function escapeText(s) {
        return escapeBytes(UTF8.encode(String(s)));
    }

    /* minisign prints the key id as a little-endian uint64 in %016llX: the bytes reversed. */
    function keyidHex(id) {
        let s = "";
        for (let i = id.length - 1; i >= 0; i--)
            s += (id[i] < 16 ? "0" : "") + id[i].toString(16).toUpperCase();
        return s;
    }

    /* ---- base64 as libsodium decodes it ------------------------------------------------------ */

    /* libsodium's b64_char_to_byte. The Debian 12 libsodium (1.0.18) that deprive links reads a
     * byte >= 0x80 as a negative char and decodes it as '/' (63); sign.c refuses such bytes
     * before decoding, json.c (dp_json_bytes_get, for locations) does not, so the same is done
     * here to give the same verdict. */
    function b64CharToByte(c) {
        if (c >= 0x41 && c <= 0x5a)
            return c - 0x41;
        if (c >= 0x61 && c <= 0x7a)
            return c - 0x61 + 26;
        if (c >= 0x30 && c <= 0x39)
            return c - 0x30 + 52;
        if (c === 0x2b)
            return 62;
        if (c === 0x2f || c >= 0x80)
            return 63;
        return 0xff;
    }

    /* sodium_base642bin(bin, maxlen, b64, len, NULL, &got, NULL, VARIANT_ORIGINAL): the decoded
     * bytes, or null when it returns -1 (stray character, bad padding, leftover bits, too long). */
    function base642bin(src, maxlen) {
        let acc = 0, accLen = 0, pos = 0, ok = true;
        const out = [];
        while (pos < src.length) {
            const d = b64CharToByte(src[pos]);
            if (d === 0xff)
                break;
            acc = ((acc << 6) + d) >>> 0;
            accLen += 6;
            if (accLen >= 8) {
                accLen -= 8;
                if (out.length >= maxlen) {
                    ok = false;
                    break;
                }
                out.push((acc >>> accLen) & 0xff);
            }
            pos++;
        }
        if (accLen > 4 || (acc & ((1 << accLen) - 1)) !== 0) {
            ok = false;
        } else if (ok) {
            let padding = accLen >> 1;
            while (padding > 0) {
                if (pos >= src.length || src[pos] !== 0x3d) {
                    ok = false;
                    break;
                }
                padding--;
                pos++;
            }
        }
        if (pos !== src.length)
            ok = false;
        return ok ? Uint8Array.from(out) : null;
    }

    /* sign.c b64_alphabet: only the standard alphabet, then at most two '='. */
    function b64Alphabet(s) {
        const n = s.length;
        let pad = 0;
        while (pad < 2 && pad < n && s[n - 1 - pad] === 0x3d)
            pad++;
        for (let i = 0; i < n - pad; i++) {
            const c = s[i];
            const alnum = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ||
                (c >= 0x30 && c <= 0x39);
            if (!alnum && c !== 0x2b && c !== 0x2f)
                return false;
        }
        return true;
    }

    /* sign.c b64_exact: exactly n bytes of standard padded base64, else null. */
    function b64Exact(s, n) {
        if (!b64Alphabet(s))
            return null;
        const bin = base642bin(s, n);
        return bin !== null && bin.length === n ? bin : null;
    }

    /* ---- minisign files (sign.c) ------------------------------------------------------------- */

    const COMMENT_PREFIX = ascii("untrusted comment: ");
    const TRUSTED_PREFIX = ascii("trusted comment: ");
    const ALG_ED = ascii("Ed");
    const ALG_HASHED = ascii("ED");

    /* Line reader: a line ends at "\n" (or the end); trailing CRs are dropped, as minisign does. */
    class Cursor {
        constructor(bytes) {
            this.b = bytes;
            this.p = 0;
        }
        next() {
            if (this.p >= this.b.length)
                return null;
            const nl = indexOfByte(this.b, 0x0a, this.p, this.b.length);
            const start = this.p;
            let n = nl >= 0 ? nl - start : this.b.length - start;
            this.p = nl >= 0 ? nl + 1 : this.b.length;
            while (n > 0 && this.b[start + n - 1] === 0x0d)
                n--;
            return this.b.subarray(start, start + n);
        }
        restBlank() {
            for (let i = this.p; i < this.b.length; i++)
                if (this.b[i] !== 0x0a && this.b[i] !== 0x0d)
                    return false;
            return true;
        }
    }

    /* No NUL and no CR inside a line. */
    function lineClean(line) {
        return indexOfByte(line, 0, 0, line.length) < 0 &&
            indexOfByte(line, 0x0d, 0, line.length) < 0;
    }

    /* dp_sign_pubkey_load: {keyid (8 bytes), pk (32 bytes)}; ERROR bad-key otherwise. */
    function parsePublicKey(bytes, name) {
        if (bytes.length > PUBFILE_MAX)
            stop("too-large", `'${escapeText(name)}' is larger than ${PUBFILE_MAX} bytes`);
        const c = new Cursor(bytes);
        const l1 = c.next();
        const l2 = l1 !== null && startsWith(l1, 0, l1.length, COMMENT_PREFIX) ? c.next() : null;
        if (l2 === null || !c.restBlank())
            stop("bad-key",
                `'${escapeText(name)}' is not a minisign public key file (comment line, key line)`);
        const blob = b64Exact(l2, 42);
        if (blob === null)
            stop("bad-key",
                `'${escapeText(name)}': not a minisign public key (base64 of 42 bytes expected)`);
        if (!sameBytes(blob.subarray(0, 2), ALG_ED))
            stop("bad-key", `'${escapeText(name)}': unsupported public key algorithm`);
        return { keyid: blob.slice(2, 10), pk: blob.slice(10, 42) };
    }

    function malformed(why) {
        stop("malformed-signature", `signature: malformed signature file: ${why}`);
    }

    /* sig_parse: the four lines of a .minisig. */
    function parseSignature(bytes) {
        const c = new Cursor(bytes);
        let l = c.next();
        if (l === null || !startsWith(l, 0, l.length, COMMENT_PREFIX))
            malformed("the first line is not an untrusted comment");
        if (!lineClean(l) || l.length > COMMENT_LINE_MAX)
            malformed("the untrusted comment line is too long or holds control bytes");
        l = c.next();
        const blob = l === null ? null : b64Exact(l, 74);
        if (blob === null)
            malformed("the second line is not a base64 signature");
        l = c.next();
        if (l === null || !startsWith(l, 0, l.length, TRUSTED_PREFIX))
            malformed("the third line is not a trusted comment");
        const tc = l.subarray(TRUSTED_PREFIX.length);
        if (!lineClean(tc) || tc.length > TRUSTED_COMMENT_MAX)
            malformed("the trusted comment is too long or holds control bytes");
        l = c.next();
        const global = l === null ? null : b64Exact(l, 64);
        if (global === null)
            malformed("the fourth line is not a base64 global signature");
        if (!c.restBlank())
            malformed("unexpected data after the global signature");
        return { alg: blob.slice(0, 2), keyid: blob.slice(2, 10), sig: blob.slice(10, 74),
                 tc: tc.slice(), global: global };
    }

    /* dp_sign_verify (flags 0: legacy signatures refused): the trusted comment's bytes. */
    function verifySignature(sodium, key, sig, data) {
        const hashed = sameBytes(sig.alg, ALG_HASHED);
        if (!hashed && !sameBytes(sig.alg, ALG_ED))
            malformed("unsupported signature algorithm");
        if (!hashed)
            stop("legacy-signature", "signature: legacy (non-prehashed) signature not accepted");
        if (!sameBytes(sig.keyid, key.keyid))
            stop("key-mismatch", "signature: key id mismatch: signed with key " +
                 `${keyidHex(sig.keyid)}, the public key is ${keyidHex(key.keyid)}`);
        const state = sodium.crypto_generichash_init(null, 64);
        const CHUNK = 1 << 20;
        for (let off = 0; off < data.length; off += CHUNK)
            sodium.crypto_generichash_update(state,
                data.subarray(off, Math.min(off + CHUNK, data.length)));
        const prehash = sodium.crypto_generichash_final(state, 64);
        if (!sodium.crypto_sign_verify_detached(sig.sig, prehash, key.pk))
            stop("signature-invalid",
                "signature: signature does not match the data (altered, or another key)");
        if (!sodium.crypto_sign_verify_detached(sig.global, concat(sig.sig, sig.tc), key.pk))
            stop("comment-invalid",
                "signature: trusted comment signature is invalid (trusted comment altered)");
        return sig.tc;
    }

    /* ---- the trusted comment (cert_sign.c) --------------------------------------------------- */

    function isHexText(s, want, upper) {
        if (typeof s !== "string" || s.length !== want)
            return false;
        return (upper ? /^[0-9A-F]*$/ : /^[0-9a-f]*$/).test(s);
    }

    function isUuid(s) {
        return typeof s === "string" &&
            /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(s);
    }

    /* strtoll(tmp, &end, 10) with *end == '\0' and no ERANGE; null otherwise. */
    function strtollWhole(s) {
        let i = 0;
        while (i < s.length && " \t\n\v\f\r".includes(s[i]))
            i++;
        let neg = false;
        if (s[i] === "+" || s[i] === "-") {
            neg = s[i] === "-";
            i++;
        }
        let j = i;
        while (j < s.length && s[j] >= "0" && s[j] <= "9")
            j++;
        if (j === i || j !== s.length)
            return null;
        const v = neg ? -BigInt(s.slice(i, j)) : BigInt(s.slice(i, j));
        if (v > 9223372036854775807n || v < -9223372036854775808n)
            return null;
        return v;
    }

    const TC_KEYS = ["timestamp", "file", "sha256", "keyid", "certificate"];

    /* trusted_field: one "key:value" field; false when it is not deprive's. */
    function trustedField(out, f, seen) {
        const colon = indexOfByte(f, 0x3a, 0, f.length);
        if (colon < 0)
            return false;
        const key = String.fromCharCode(...f.subarray(0, colon));
        const k = TC_KEYS.indexOf(key);
        if (k < 0)
            return true; /* unknown keys are ignored */
        if (seen.has(k))
            return false;
        seen.add(k);
        const v = f.subarray(colon + 1);
        if (v.length >= 256)
            return false;
        const tmp = String.fromCharCode(...v); /* one char per byte, as C sees them */
        switch (k) {
        case 0: {
            const t = strtollWhole(tmp);
            if (v.length === 0 || t === null || tmp[0] === "-")
                return false;
            out.timestamp = t;
            return true;
        }
        case 1:
            out.file = bytesText(v);
            return true;
        case 2:
            if (!/^[0-9a-fA-F]{64}$/.test(tmp))
                return false;
            out.sha256 = tmp.toLowerCase();
            return true;
        case 3:
            if (!isHexText(tmp, 16, true))
                return false;
            out.keyid = tmp;
            return true;
        default:
            if (!isUuid(tmp))
                return false;
            out.certId = tmp;
            return true;
        }
    }

    /* dp_cert_trusted_parse */
    function parseTrusted(tc) {
        const out = { timestamp: -1n, file: "", sha256: "", keyid: "", certId: "" };
        const seen = new Set();
        let p = 0;
        for (;;) {
            const tab = indexOfByte(tc, 0x09, p, tc.length);
            const end = tab >= 0 ? tab : tc.length;
            const f = tc.subarray(p, end);
            if (!trustedField(out, f, seen))
                stop("comment-mismatch", "trusted comment is not a deprive certificate " +
                     `comment: bad field '${escapeBytes(f.subarray(0, 80))}'`);
            if (tab < 0)
                break;
            p = tab + 1;
        }
        if (!seen.has(2) || !seen.has(3))
            stop("comment-mismatch", "trusted comment carries no certificate sha256 and keyid");
        return out;
    }

    /* ---- JSON as jansson reads it (json_loadb, JSON_REJECT_DUPLICATES) ----------------------- */

    /* Values keep what jansson keeps and JSON.parse loses: integer (BigInt) against real, key
     * order, duplicate keys refused.
     * {t: "obj"|"arr"|"str"|"int"|"real"|"true"|"false"|"null", v} */
    const TRUE = { t: "true" }, FALSE = { t: "false" }, NULL = { t: "null" };

    class JsonError {
        constructor(line, text) {
            this.line = line;
            this.text = text;
        }
    }

    function parseJson(bytes) {
        let s;
        try {
            /* jansson checks every byte is UTF-8 and keeps a BOM (an invalid token) */
            s = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
        } catch (e) {
            throw new JsonError(1, "unable to decode the text as UTF-8");
        }
        let i = 0, depth = 0;
        const lineAt = () => {
            let n = 1;
            for (let k = 0; k < i && k < s.length; k++)
                if (s.charCodeAt(k) === 10)
                    n++;
            return n;
        };
        const fail = (text) => {
            throw new JsonError(lineAt(), text);
        };
        const isDigit = (ch) => ch >= "0" && ch <= "9";
        const isAlpha = (ch) => (ch >= "a" && ch <= "z") || (ch >= "A" && ch <= "Z");

        /* lex_scan: the next token {k: "{" "}" "[" "]" ":" "," "str" "int" "real" "true" "false"
         * "null" "eof"}; errors throw. */
        function scan() {
            while (i < s.length && " \t\n\r".includes(s[i]))
                i++;
            if (i >= s.length)
                return { k: "eof" };
            const ch = s[i];
            if ("{}[]:,".includes(ch)) {
                i++;
                return { k: ch };
            }
            if (ch === "\"")
                return scanString();
            if (isDigit(ch) || ch === "-")
                return scanNumber();
            if (isAlpha(ch)) {
                const st = i;
                while (i < s.length && isAlpha(s[i]))
                    i++;
                const word = s.slice(st, i);
                if (word === "true" || word === "false" || word === "null")
                    return { k: word };
                fail(`invalid token near '${word.slice(0, 20)}'`);
            }
            fail("invalid token");
            return null;
        }

        function scanNumber() {
            const st = i;
            if (s[i] === "-")
                i++;
            if (s[i] === "0") {
                i++;
                if (isDigit(s[i] || ""))
                    fail("invalid token");
            } else if (isDigit(s[i] || "")) {
                while (isDigit(s[i] || ""))
                    i++;
            } else {
                fail("invalid token");
            }
            if (s[i] !== "." && s[i] !== "e" && s[i] !== "E") {
                const v = BigInt(s.slice(st, i));
                if (v > 9223372036854775807n)
                    fail("too big integer");
                if (v < -9223372036854775808n)
                    fail("too big negative integer");
                return { k: "int", v: v };
            }
            if (s[i] === ".") {
                i++;
                if (!isDigit(s[i] || ""))
                    fail("invalid token");
                while (isDigit(s[i] || ""))
                    i++;
            }
            if (s[i] === "e" || s[i] === "E") {
                i++;
                if (s[i] === "+" || s[i] === "-")
                    i++;
                if (!isDigit(s[i] || ""))
                    fail("invalid token");
                while (isDigit(s[i] || ""))
                    i++;
            }
            const r = Number(s.slice(st, i));
            if (!Number.isFinite(r))
                fail("real number overflow");
            return { k: "real", v: r };
        }

        function hex4(at) {
            const h = s.slice(at, at + 4);
            return /^[0-9a-fA-F]{4}$/.test(h) ? parseInt(h, 16) : -1;
        }

        function scanString() {
            i++; /* the opening quote */
            let out = "";
            for (;;) {
                if (i >= s.length)
                    fail("premature end of input");
                const ch = s[i];
                const code = s.charCodeAt(i);
                if (ch === "\"") {
                    i++;
                    break;
                }
                if (code <= 0x1f)
                    fail(code === 10 ? "unexpected newline"
                        : `control character 0x${code.toString(16)}`);
                if (ch !== "\\") {
                    out += ch;
                    i++;
                    continue;
                }
                const e = s[i + 1];
                if (e === "u") {
                    let v = hex4(i + 2);
                    if (v < 0)
                        fail("invalid escape");
                    i += 6;
                    if (v >= 0xd800 && v <= 0xdbff) {
                        if (s[i] !== "\\" || s[i + 1] !== "u")
                            fail(`invalid Unicode '\\u${v.toString(16).toUpperCase()}'`);
                        const v2 = hex4(i + 2);
                        if (v2 < 0)
                            fail("invalid escape");
                        if (v2 < 0xdc00 || v2 > 0xdfff)
                            fail("invalid Unicode surrogate pair");
                        i += 6;
                        v = ((v - 0xd800) << 10) + (v2 - 0xdc00) + 0x10000;
                    } else if (v >= 0xdc00 && v <= 0xdfff) {
                        fail(`invalid Unicode '\\u${v.toString(16).toUpperCase()}'`);
                    }
                    out += String.fromCodePoint(v);
                    continue;
                }
                const simple = { "\"": "\"", "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n",
                                 "r": "\r", "t": "\t" };
                if (e === undefined || !Object.prototype.hasOwnProperty.call(simple, e))
                    fail("invalid escape");
                out += simple[e];
                i += 2;
            }
            return { k: "str", v: out };
        }

        function parseValue(tok) {
            depth++;
            if (depth > JSON_MAX_DEPTH)
                fail("maximum parsing depth reached");
            let v;
            switch (tok.k) {
            case "str":
                if (tok.v.includes("\u0000"))
                    fail("\\u0000 is not allowed without JSON_ALLOW_NUL");
                v = { t: "str", v: tok.v };
                break;
            case "int":
                v = { t: "int", v: tok.v };
                break;
            case "real":
                v = { t: "real", v: tok.v };
                break;
            case "true":
                v = TRUE;
                break;
            case "false":
                v = FALSE;
                break;
            case "null":
                v = NULL;
                break;
            case "{":
                v = parseObject();
                break;
            case "[":
                v = parseArray();
                break;
            default:
                fail("unexpected token");
            }
            depth--;
            return v;
        }

        function parseObject() {
            const m = new Map();
            let tok = scan();
            if (tok.k === "}")
                return { t: "obj", v: m };
            for (;;) {
                if (tok.k !== "str")
                    fail("string or '}' expected");
                const key = tok.v;
                if (key.includes("\u0000"))
                    fail("NUL byte in object key not supported");
                if (m.has(key))
                    fail("duplicate object key");
                if (scan().k !== ":")
                    fail("':' expected");
                m.set(key, parseValue(scan()));
                tok = scan();
                if (tok.k !== ",")
                    break;
                tok = scan();
            }
            if (tok.k !== "}")
                fail("'}' expected");
            return { t: "obj", v: m };
        }

        function parseArray() {
            const a = [];
            let tok = scan();
            if (tok.k === "]")
                return { t: "arr", v: a };
            while (tok.k !== "eof") {
                a.push(parseValue(tok));
                tok = scan();
                if (tok.k !== ",")
                    break;
                tok = scan();
            }
            if (tok.k !== "]")
                fail("']' expected");
            return { t: "arr", v: a };
        }

        const first = scan();
        if (first.k !== "[" && first.k !== "{")
            fail("'[' or '{' expected");
        const doc = parseValue(first);
        if (scan().k !== "eof")
            fail("end of file expected");
        return doc;
    }

    /* ---- jansson's accessors, as cert_check.c uses them -------------------------------------- */

    const J = {
        get(o, k) {
            return o && o.t === "obj" ? o.v.get(k) || null : null;
        },
        /* cert_jpath: a dotted path, null when a step is missing */
        path(o, p) {
            let cur = o;
            for (const seg of p.split(".")) {
                if (cur === null)
                    return null;
                cur = J.get(cur, seg);
            }
            return cur;
        },
        str(v) {
            return v && v.t === "str" ? v.v : null;
        },
        isStr(v) {
            return !!v && v.t === "str";
        },
        isInt(v) {
            return !!v && v.t === "int";
        },
        isObj(v) {
            return !!v && v.t === "obj";
        },
        isArr(v) {
            return !!v && v.t === "arr";
        },
        isBool(v) {
            return v === TRUE || v === FALSE;
        },
        isTrue(v) {
            return v === TRUE;
        },
        isFalse(v) {
            return v === FALSE;
        },
        isNull(v) {
            return v === NULL;
        },
        items(v) { /* json_array_foreach: nothing for a non-array */
            return v && v.t === "arr" ? v.v : [];
        },
        members(v) { /* json_object_foreach: insertion order, nothing for a non-object */
            return v && v.t === "obj" ? [...v.v] : [];
        },
        size(v) {
            if (v && v.t === "arr")
                return v.v.length;
            if (v && v.t === "obj")
                return v.v.size;
            return 0;
        },
        /* json_equal: NULL is equal to nothing */
        equal(a, b) {
            if (!a || !b || a.t !== b.t)
                return false;
            if (a === b)
                return true;
            switch (a.t) {
            case "obj":
                if (a.v.size !== b.v.size)
                    return false;
                for (const [k, v] of a.v)
                    if (!J.equal(v, b.v.get(k) || null))
                        return false;
                return true;
            case "arr":
                return a.v.length === b.v.length && a.v.every((v, i) => J.equal(v, b.v[i]));
            case "str":
            case "int":
            case "real":
                return a.v === b.v;
            default:
                return true; /* true, false, null */
            }
        },
    };

    /* json_int_t arithmetic: two's complement wrap, as the C sums do */
    const wrap64 = (v) => BigInt.asIntN(64, v);

    /* ---- dp_cert_check (cert_check.c) -------------------------------------------------------- */

    /* The case fields (cert_case.c case_fields): path, label, required. */
    const CASE_FIELDS = [
        ["authority.order_reference", "Order reference", true],
        ["authority.order_type", "Order type", false],
        ["authority.legal_basis", "Legal basis", false],
        ["authority.court", "Court", false],
        ["authority.case_number", "Case number", false],
        ["authority.conviction_date", "Conviction date", false],
        ["authority.order_date", "Order date", false],
        ["authority.force", "Force", false],
        ["authority.officer.name", "Officer", true],
        ["authority.officer.role", "Officer role", false],
        ["authority.officer.staff_number", "Officer staff number", false],
        ["authority.authorising_officer.name", "Authorising officer", false],
        ["authority.authorising_officer.role", "Authorising officer role", false],
        ["authority.authorising_officer.staff_number", "Authorising officer staff number", false],
        ["authority.independent_verifier.name", "Independent verifier", false],
        ["authority.independent_verifier.role", "Verifier role", false],
        ["authority.independent_verifier.organisation", "Verifier organisation", false],
        ["exhibit.exhibit_reference", "Exhibit reference", true],
        ["exhibit.property_number", "Property number", false],
        ["exhibit.seal_number", "Seal number", false],
        ["exhibit.device.make", "Device make", false],
        ["exhibit.device.model", "Device model", false],
        ["exhibit.device.serial", "Device serial", false],
        ["exhibit.device.imei", "Device IMEI", false],
        ["exhibit.media_type", "Media type", false],
        ["exhibit.media_class", "Media class", false],
        ["exhibit.capacity", "Capacity", false],
        ["exhibit.encryption", "Encryption", false],
        ["hash_set.supplier", "Hash set supplier", false],
    ];

    /* assurance.c: statuses (planned parses but is never certified) and levels */
    const STATUSES = ["erased", "skipped", "failed", "planned", "rejected"];
    const ASSURANCE = {
        "overwritten-in-place-verified": "overwritten in place, verified",
        "overwritten-medium-unknown": "overwritten; medium class unknown",
        "flash-media-residual-risk": "overwritten; flash residual risk",
        "overwritten-not-in-place": "overwritten, NOT in place (CoW/moved)",
        "free-space-overwritten": "overwritten + free space overwritten",
        "overwritten-verified-placement-unknown": "overwritten, verified; placement unknown",
        "shared-extents-remain": "NOT ERASED: shared extents remain",
        "not-erased": "NOT ERASED",
    };
    const OUTCOMES = ["ERASED", "PARTIAL", "FAILED"];
    const SIZE_LIMITS = ["filesystem", "max-file-size"];

    /* dp_assurance_fits */
    function assuranceFits(level, status) {
        switch (status) {
        case "erased":
            return level !== "not-erased" && level !== "shared-extents-remain";
        case "failed":
            return level === "not-erased" || level === "shared-extents-remain";
        default:
            return level === "not-erased";
        }
    }

    function isUtc(s) {
        return typeof s === "string" &&
            /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/.test(s);
    }

    function algoHexlen(name) {
        return { md5: 32, sha1: 40, sha256: 64, pdq: 64 }[name] || 0;
    }

    /* dp_json_bytes_get: a string, or {"base64": …} decoding to bytes without NUL; the bytes or
     * null. */
    function jsonBytes(v) {
        if (J.isStr(v))
            return UTF8.encode(v.v); /* jansson refuses \u0000: no NUL here */
        const b = J.get(v, "base64");
        if (!J.isObj(v) || J.size(v) !== 1 || !J.isStr(b))
            return null;
        const src = UTF8.encode(b.v);
        const bin = base642bin(src, src.length);
        if (bin === null || bin.includes(0))
            return null;
        return bin;
    }

    /* dp_json_ranges_get: an embedded copy's byte ranges, the last element of its location:
     * {"offset": N, "length": L}, or {"ranges": [[N, L], ...]} (a stream stored in pieces, at
     * most 65536, none overlapping); N >= 0, L > 0, N + L < 2^63. Returns [[N, L], ...] as
     * BigInts, or null. */
    function jsonRange(v) {
        const one = (o, l) => J.isInt(o) && J.isInt(l) && o.v >= 0n && l.v > 0n &&
            o.v <= 9223372036854775807n - l.v ? [o.v, l.v] : null;
        if (!J.isObj(v))
            return null;
        const arr = J.get(v, "ranges");
        if (arr === null) {
            const r = J.size(v) === 2 ? one(J.get(v, "offset"), J.get(v, "length")) : null;
            return r === null ? null : [r];
        }
        if (J.size(v) !== 1 || !J.isArr(arr) || J.size(arr) === 0 || J.size(arr) > 65536)
            return null;
        const out = J.items(arr).map((e) => J.isArr(e) && J.size(e) === 2
            ? one(J.items(e)[0], J.items(e)[1]) : null);
        if (out.some((r) => r === null))
            return null;
        const sorted = out.slice().sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
        for (let i = 1; i < sorted.length; i++)
            if (sorted[i - 1][0] + sorted[i - 1][1] > sorted[i][0])
                return null;
        return out;
    }

    /* A location: path elements; an embedded copy's ranges may come last; a remnant is
     * [{"device": DEV}, {"offset", "length"}] (cert_check.c). */
    function locationOk(loc) {
        if (!J.isArr(loc) || J.size(loc) === 0)
            return false;
        const n = J.size(loc);
        const first = J.items(loc)[0];
        if (J.isObj(first) && J.get(first, "device") !== null) {
            const r = n === 2 ? jsonRange(J.items(loc)[1]) : null;
            return jsonBytes(J.get(first, "device")) !== null && r !== null && r.length === 1;
        }
        return J.items(loc).every((el, i) =>
            (i > 0 && i + 1 === n && jsonRange(el) !== null) || jsonBytes(el) !== null);
    }

    /* An embedded copy whose range was overwritten in place: its container keeps its names,
     * and the bytes outside the range were proved unchanged; or, inside an archive member
     * (replace-member), the range zeroed in a rewritten archive read back with every other
     * member unchanged (cert_check.c range_overwritten). */
    function rangeOverwritten(t) {
        const e = J.get(t, "embedded");
        const m = J.get(e, "method");
        if (J.isStr(m) && m.v === "replace-member")
            return J.isTrue(J.get(e, "outside_unchanged")) && J.isTrue(J.get(e, "range_zeroed")) &&
                J.isTrue(J.get(J.get(t, "archive"), "kept_verified"));
        return J.isStr(m) && m.v === "overwrite-range" && J.isTrue(J.get(e, "outside_unchanged"));
    }

    function checkCertificate(cert) {
        const problems = [];
        const prob = (text) => {
            if (problems.length < PROBLEMS_MAX)
                problems.push(text);
        };

        /* a non-negative integer at path under o (BigInt), or -1n after reporting the problem */
        function wantCount(o, path, label) {
            const v = J.path(o, path);
            const name = `${label}${label ? "." : ""}${path}`;
            if (!J.isInt(v)) {
                prob(`${name}: missing or not an integer`);
                return -1n;
            }
            if (v.v < 0n) {
                prob(`${name}: negative`);
                return -1n;
            }
            return v.v;
        }

        function tooLargeOk(s) {
            const size = J.get(s, "size"), limit = J.get(s, "limit");
            const src = J.str(J.get(s, "limit_source"));
            return J.isInt(size) && J.isInt(limit) && limit.v > 0n && size.v > limit.v &&
                src !== null && SIZE_LIMITS.includes(src);
        }

        function checkCaseFields() {
            for (const [path, , required] of CASE_FIELDS) {
                const v = J.path(cert, path);
                if (required && (!J.isStr(v) || v.v.length === 0))
                    prob(`${path}: missing`);
                else if (v !== null && !J.isStr(v) && !J.isNull(v))
                    prob(`${path}: not a string`);
            }
        }

        function checkIdentity() {
            const fmt = J.str(J.get(cert, "format"));
            const schema = J.get(cert, "schema");
            if (fmt === null || fmt !== CERT_FORMAT)
                prob(`format: not "${CERT_FORMAT}"`);
            if (!J.isInt(schema) || schema.v !== CERT_SCHEMA)
                prob(`schema: not ${CERT_SCHEMA} (this deprive reads schema ${CERT_SCHEMA} only)`);
            if (!isUuid(J.str(J.path(cert, "identity.certificate_id"))))
                prob("identity.certificate_id: not a UUID");
            for (const t of ["identity.issued", "identity.started", "identity.finished"])
                if (!isUtc(J.str(J.path(cert, t))))
                    prob(`${t}: not a YYYY-MM-DDTHH:MM:SSZ time`);
            if (J.str(J.path(cert, "identity.tool.name")) === null ||
                J.str(J.path(cert, "identity.tool.version")) === null)
                prob("identity.tool: name or version missing");
            if (J.str(J.path(cert, "identity.host")) === null)
                prob("identity.host: missing");
            checkCaseFields();
            if (!isHexText(J.str(J.path(cert, "signer.keyid")), 16, true))
                prob("signer.keyid: not 16 upper-case hex digits");
        }

        function checkHashSet() {
            const lists = J.path(cert, "hash_set.lists");
            const tot = J.path(cert, "hash_set.entries");
            if (!J.isArr(lists) || J.size(lists) === 0) {
                prob("hash_set.lists: missing or empty");
                return;
            }
            const sum = new Map();
            J.items(lists).forEach((l, i) => {
                const label = `hash_set.lists[${i}]`;
                if (!isHexText(J.str(J.get(l, "sha256")), 64, false))
                    prob(`${label}.sha256: not 64 lower-case hex digits`);
                if (jsonBytes(J.get(l, "file")) === null)
                    prob(`${label}.file: missing`);
                if (!J.isObj(J.get(l, "entries")))
                    prob(`${label}.entries: missing`);
                for (const [algo, cnt] of J.members(J.get(l, "entries"))) {
                    if (!J.isInt(cnt) || cnt.v < 0n) {
                        prob(`${label}.entries.${algo}: not a count`);
                        continue;
                    }
                    sum.set(algo, wrap64((sum.get(algo) || 0n) + cnt.v));
                }
            });
            const sumJson = { t: "obj",
                              v: new Map([...sum].map(([k, v]) => [k, { t: "int", v: v }])) };
            if (!J.equal(sumJson, tot))
                prob("hash_set.entries: not the sum of the lists' entries");
        }

        function skippedByReason(totals) {
            let sum = 0n;
            for (const [key, v] of J.members(J.get(totals, "skipped_by_reason"))) {
                if (!J.isInt(v) || v.v < 0n)
                    prob(`scan.totals.skipped_by_reason.${key}: not a count`);
                else
                    sum = wrap64(sum + v.v);
            }
            return sum;
        }

        function checkSkips(skipped) {
            const skips = J.path(cert, "scan.skips");
            if (!J.isArr(skips))
                prob("scan.skips: missing");
            else if (skipped >= 0n && BigInt(J.size(skips)) !== skipped)
                prob(`scan.skips: ${J.size(skips)} listed, but scan.totals.skipped says ` +
                     `${skipped}`);
            J.items(skips).forEach((s, i) => {
                const reason = J.str(J.get(s, "reason"));
                if (!locationOk(J.get(s, "location")) || reason === null)
                    prob(`scan.skips[${i}]: no location or reason`);
                else if (reason === "too-large" && !tooLargeOk(s))
                    prob(`scan.skips[${i}]: too-large without a size over its limit`);
            });
        }

        function checkScan() {
            const totals = J.path(cert, "scan.totals");
            if (!J.isObj(totals)) {
                prob("scan.totals: missing");
                return -1n;
            }
            if (!locationOk(J.path(cert, "scan.root")) && !J.isStr(J.path(cert, "scan.root")))
                prob("scan.root: missing");
            if (!J.isBool(J.path(cert, "scan.one_filesystem")))
                prob("scan.one_filesystem: not a boolean");
            for (const [key, v] of J.members(totals)) {
                if (J.isInt(v) && v.v < 0n)
                    prob(`scan.totals.${key}: negative`);
                else if (!J.isInt(v) && !J.isObj(v))
                    prob(`scan.totals.${key}: not a count`);
            }
            const files = wantCount(totals, "files", "scan.totals");
            const read = wantCount(totals, "files_read", "scan.totals");
            const skipped = wantCount(totals, "skipped", "scan.totals");
            const findings = wantCount(totals, "findings", "scan.totals");
            if (files >= 0n && read > files)
                prob(`scan.totals: more files read (${read}) than seen (${files})`);
            const sum = skippedByReason(totals);
            if (skipped >= 0n && sum !== skipped)
                prob(`scan.totals.skipped: ${skipped}, but the reasons add up to ${sum}`);
            checkSkips(skipped);
            return findings;
        }

        function checkDigests(dg, label) {
            if (!J.isObj(dg) || J.size(dg) === 0) {
                prob(`${label}.digests: missing`);
                return;
            }
            for (const [algo, v] of J.members(dg)) {
                const n = algoHexlen(algo);
                if (n === 0)
                    prob(`${label}.digests.${algo}: unknown algorithm`);
                else if (!isHexText(J.str(v), n, false))
                    prob(`${label}.digests.${algo}: not ${n} lower-case hex digits`);
            }
        }

        function checkMatched(matched, label) {
            if (!J.isArr(matched) || J.size(matched) === 0) {
                prob(`${label}.matched: missing or empty`);
                return;
            }
            J.items(matched).forEach((m, i) => {
                const algo = J.str(J.get(m, "algo"));
                const line = J.get(m, "line");
                if (J.str(J.get(m, "method")) === null || algo === null || algoHexlen(algo) === 0 ||
                    !J.isInt(line) || line.v < 1n || J.get(m, "list") === null)
                    prob(`${label}.matched[${i}]: needs method, a known algo, list and line`);
            });
        }

        /* count_status: the target's status if certifiable, else null */
        function countStatus(t, L, n) {
            const status = J.str(J.get(t, "status"));
            const known = status !== null && STATUSES.includes(status) && status !== "planned";
            n.targets++;
            if (status === null)
                prob(`${L}.status: missing`);
            else if (!known)
                prob(`${L}.status: unknown value '${status}'`);
            else
                n[status]++;
            return known ? status : null;
        }

        function checkNames(t, L, erased, n) {
            const names = J.get(t, "names");
            if (!J.isArr(names) || J.size(names) === 0)
                prob(`${L}.names: missing or empty`);
            J.items(names).forEach((nm, j) => {
                n.names++;
                if (!locationOk(J.get(nm, "location")))
                    prob(`${L}.names[${j}].location: missing or malformed`);
                const rm = J.get(nm, "removed");
                if (!J.isBool(rm))
                    prob(`${L}.names[${j}].removed: not a boolean`);
                else if (erased && !J.isTrue(rm) && !rangeOverwritten(t))
                    prob(`${L}.names[${j}]: target erased but this name was not removed`);
            });
        }

        function checkAssurance(t, L, ws) {
            const status = J.str(J.get(t, "status"));
            const as = J.str(J.get(t, "assurance"));
            const reason = J.str(J.get(t, "reason"));
            const levelOk = as !== null && Object.prototype.hasOwnProperty.call(ASSURANCE, as) &&
                assuranceFits(as, ws);
            if (ws === "erased") {
                const vr = J.str(J.path(t, "verification.result"));
                const facts = J.get(t, "assurance_facts");
                if (!levelOk)
                    prob(`${L}.assurance: erased target without a valid assurance level`);
                if (vr === null || vr !== "match")
                    prob(`${L}.verification.result: erased target not verified ` +
                         `('${vr !== null ? vr : "missing"}')`);
                if (!J.isArr(facts) || J.size(facts) === 0)
                    prob(`${L}.assurance_facts: missing or empty`);
                return;
            }
            if (!levelOk)
                prob(`${L}.assurance: must be not-erased for a ${status} target`);
            if (reason === null || reason === "")
                prob(`${L}.reason: a ${status} target needs the reason`);
        }

        /* A remnant: device space, no inode; erased only by a fill whose read-back found
         * none of its windows left (cert_check.c check_remnant). */
        function checkRemnant(t, rem, L, erased) {
            if (!J.isObj(rem) || !J.isInt(J.get(rem, "offset")) || !J.isInt(J.get(rem, "length")))
                prob(`${L}.remnant: malformed`);
            const ino = J.get(t, "inode");
            if (ino !== null && !J.isNull(ino))
                prob(`${L}.inode: a remnant has no inode`);
            if (!erased)
                return;
            const left = J.path(t, "verification.windows_left");
            if (!J.isInt(left) || left.v !== 0n)
                prob(`${L}.verification.windows_left: an erased remnant must have none left`);
            const by = J.str(J.get(rem, "removed_by"));
            const scrub = by === "slack scrub";
            if (by === null || (by !== "free-space fill" && !scrub))
                prob(`${L}.remnant.removed_by: an erased remnant is removed by the free-space ` +
                     "fill or a slack scrub");
            if (scrub && !J.isTrue(J.path(rem, "slack_scrub.content_unchanged")))
                prob(`${L}.remnant.slack_scrub: the file holding it not proved unchanged`);
        }

        function checkTarget(t, i, n) {
            const L = `targets[${i}]`;
            const ws = countStatus(t, L, n);
            checkNames(t, L, ws === "erased", n);
            wantCount(t, "size", L);
            const rem = J.get(t, "remnant");
            if (rem === null)
                wantCount(t, "inode", L);
            else
                checkRemnant(t, rem, L, ws === "erased");
            checkDigests(J.get(t, "digests"), L);
            checkMatched(J.get(t, "matched"), L);
            if (ws !== null)
                checkAssurance(t, L, ws);
        }

        function checkSummary(n, scanFindings) {
            const sum = J.path(cert, "outcome.summary");
            for (const key of ["targets", "names", "erased", "skipped", "failed", "rejected"]) {
                const v = wantCount(sum, key, "outcome.summary");
                if (v >= 0n && v !== BigInt(n[key]))
                    prob(`outcome.summary.${key}: says ${v}, the targets give ${n[key]}`);
            }
            if (scanFindings >= 0n && scanFindings !== BigInt(n.names))
                prob(`targets: ${n.names} names, but the scan reported ${scanFindings} findings`);
        }

        function checkLeftByDecision(r) {
            const left = J.get(r, "left_by_decision");
            if (left === null)
                return 0n; /* certificates before perceptual matching */
            if (!J.isArr(left)) {
                prob("outcome.rescan.left_by_decision: not an array");
                return -1n;
            }
            J.items(left).forEach((e, i) => {
                let found = false;
                for (const t of J.items(J.get(cert, "targets"))) {
                    const s = J.str(J.get(t, "status"));
                    found = found || (J.isTrue(J.get(t, "perceptual_only")) && s !== null &&
                                      (s === "rejected" || s === "skipped") &&
                                      J.equal(J.get(t, "digests"), J.get(e, "digests")));
                }
                if (!found)
                    prob(`outcome.rescan.left_by_decision[${i}]: no perceptual-only target ` +
                         "left by the examiner has these digests");
            });
            return BigInt(J.size(left));
        }

        /* the re-scan's findings count; -1n when there is no (valid) re-scan */
        function checkRescan() {
            const r = J.path(cert, "outcome.rescan");
            const perf = J.get(r, "performed");
            if (!J.isBool(perf)) {
                prob("outcome.rescan.performed: not a boolean");
                return -1n;
            }
            if (!J.isTrue(perf))
                return -1n;
            const n = wantCount(r, "findings", "outcome.rescan");
            const tn = wantCount(r, "totals.findings", "outcome.rescan");
            const rem = J.get(r, "remaining");
            if (n >= 0n && (!J.isArr(rem) || BigInt(J.size(rem)) !== n))
                prob(`outcome.rescan.remaining: does not list ${n} finding(s)`);
            const left = checkLeftByDecision(r);
            if (n >= 0n && tn >= 0n && left >= 0n && n + left !== tn)
                prob(`outcome.rescan.findings: ${n} (and ${left} left by the examiner's ` +
                     `decision), but its totals say ${tn}`);
            if (!J.equal(J.get(r, "root"), J.path(cert, "scan.root")))
                prob("outcome.rescan.root: not the scanned root");
            if (!J.isTrue(J.path(cert, "scan.one_filesystem")) &&
                !J.isFalse(J.get(r, "one_filesystem")))
                prob("outcome.rescan.one_filesystem: the re-scan stayed on one filesystem but " +
                     "the scan did not");
            const shas = { t: "arr", v: J.items(J.path(cert, "hash_set.lists")).map((l) =>
                J.get(l, "sha256") || NULL) };
            if (!J.equal(shas, J.get(r, "hash_lists")))
                prob("outcome.rescan.hash_lists: not the scan's hash lists");
            return n < 0n ? 0n : n;
        }

        /* cert_outcome_rule */
        function outcomeRule(rescan, allErased) {
            if (rescan !== 0n)
                return "FAILED";
            return allErased ? "ERASED" : "PARTIAL";
        }

        function checkResult(n, rescan) {
            const res = J.str(J.path(cert, "outcome.result"));
            const want = outcomeRule(rescan, n.erased + n.rejected === n.targets);
            if (res === null) {
                prob("outcome.result: missing");
            } else if (!OUTCOMES.includes(res)) {
                prob(`outcome.result: unknown value '${res}'`);
            } else if (res !== want && res === "ERASED") {
                J.items(J.get(cert, "targets")).forEach((t, i) => {
                    const s = J.str(J.get(t, "status"));
                    if (s === null || s !== "erased")
                        prob(`outcome.result: ERASED, but targets[${i}] is ` +
                             `${s !== null ? s : "unknown"}`);
                });
                if (rescan < 0n)
                    prob("outcome.result: ERASED, but there is no re-scan");
                else if (rescan > 0n)
                    prob(`outcome.result: ERASED, but the re-scan found ${rescan} match(es)`);
            } else if (res !== want) {
                prob(`outcome.result: ${res}, but the targets and the re-scan make it ${want}`);
            }
        }

        /* A swept scan: the re-scan swept the device too, and its remnants are among its
         * findings (cert_check.c check_sweep). */
        function checkSweep(rescan) {
            const sw = J.get(cert, "sweep");
            if (sw === null)
                return;
            const after = J.get(sw, "after");
            const res = J.str(J.path(cert, "outcome.result"));
            if (!J.isObj(sw) || !J.isObj(J.get(sw, "before"))) {
                prob("sweep: malformed");
                return;
            }
            if (J.isObj(after)) {
                const left = wantCount(after, "remnants", "sweep.after");
                if (left >= 0n && rescan >= 0n && left > rescan)
                    prob(`sweep.after.remnants: ${left}, more than the re-scan's ${rescan} ` +
                         "finding(s)");
            } else if (res === "ERASED") {
                prob("sweep.after: ERASED, but the device was not swept again after the wipe");
            }
        }

        function checkOutcome(n) {
            const rescan = checkRescan();
            checkSweep(rescan);
            checkResult(n, rescan);
            const head = J.path(cert, "outcome.journal.head");
            const recs = J.path(cert, "outcome.journal.records");
            if (!J.isNull(head) && !isHexText(J.str(head), 64, false))
                prob("outcome.journal.head: not 64 lower-case hex digits");
            if (J.isStr(head) && (!J.isInt(recs) || recs.v < 0n))
                prob("outcome.journal.records: not a count");
            const risks = J.path(cert, "outcome.residual_risks");
            if (!J.isArr(risks) || J.size(risks) === 0)
                prob("outcome.residual_risks: missing or empty");
            J.items(risks).forEach((r, i) => {
                if (!J.isStr(r))
                    prob(`outcome.residual_risks[${i}]: not a string`);
            });
        }

        if (!J.isObj(cert)) {
            prob("not a JSON object");
        } else {
            checkIdentity();
            checkHashSet();
            const scanFindings = checkScan();
            const n = { targets: 0, names: 0, erased: 0, skipped: 0, failed: 0, rejected: 0 };
            const targets = J.get(cert, "targets");
            if (!J.isArr(targets))
                prob("targets: missing");
            J.items(targets).forEach((t, i) => checkTarget(t, i, n));
            checkSummary(n, scanFindings);
            checkOutcome(n);
        }
        return problems;
    }

    /* ---- dp_cert_verify, as `deprive verify` runs it ----------------------------------------- */

    async function sha256Hex(data) {
        if (!root.crypto || !root.crypto.subtle)
            throw new Error("this browser offers no SHA-256 here (crypto.subtle is missing)");
        return hex(new Uint8Array(await root.crypto.subtle.digest("SHA-256", data)));
    }

    /* inputs: {pub, cert, sig}, each {name, bytes: Uint8Array}. Resolves to
     * {verdict, code, summary, message, problems, keyid, sha256, trusted, cert}; `cert` (the
     * parsed document) only when the signature verified and the file is JSON. */
    async function verify(sodium, inputs) {
        const result = { keyid: "", sha256: "", trusted: null, cert: null, signatureKeyid: "" };
        try {
            const key = parsePublicKey(inputs.pub.bytes, inputs.pub.name);
            result.keyid = keyidHex(key.keyid);
            if (inputs.cert.bytes.length > CERT_FILE_MAX)
                stop("too-large",
                     `'${escapeText(inputs.cert.name)}' is larger than ${CERT_FILE_MAX} bytes`);
            if (inputs.sig.bytes.length > SIGFILE_MAX)
                stop("too-large",
                     `'${escapeText(inputs.sig.name)}' is larger than ${SIGFILE_MAX} bytes`);
            const data = inputs.cert.bytes;
            result.sha256 = await sha256Hex(data);
            const sig = parseSignature(inputs.sig.bytes);
            result.signatureKeyid = keyidHex(sig.keyid);
            const tcBytes = verifySignature(sodium, key, sig, data);
            const tc = parseTrusted(tcBytes);
            result.trusted = tc;
            if (tc.sha256 !== result.sha256)
                stop("comment-mismatch", `the certificate's SHA-256 ${result.sha256} differs ` +
                     `from the signed ${tc.sha256}`);
            if (tc.keyid !== result.keyid)
                stop("comment-mismatch", `the trusted comment names key ${tc.keyid}, not the ` +
                     `public key ${result.keyid}`);
            let cert;
            try {
                cert = parseJson(data);
            } catch (e) {
                if (!(e instanceof JsonError))
                    throw e;
                stop("malformed-certificate",
                     `signed, but not valid JSON: line ${e.line}: ${e.text}`);
            }
            result.cert = cert;
            const cid = J.str(J.path(cert, "identity.certificate_id"));
            const signer = J.str(J.path(cert, "signer.keyid"));
            if (cid === null || cid !== tc.certId)
                stop("comment-mismatch",
                     `certificate id '${escapeText(cid !== null ? cid : "")}' is not the ` +
                     `signed '${tc.certId}'`);
            if (signer === null || signer !== result.keyid)
                stop("signer-mismatch",
                     `signer.keyid '${escapeText(signer !== null ? signer : "")}' is not the ` +
                     `key ${result.keyid}`);
            const problems = checkCertificate(cert);
            if (problems.length > 0)
                stop("inconsistent", `${problems.length} consistency ` +
                     `problem${problems.length === 1 ? "" : "s"}:`, problems.map(escapeText));
            result.code = "valid";
            result.message = `certificate valid: ${J.str(J.path(cert, "outcome.result"))}, ` +
                `signed by key ${result.keyid}`;
            result.problems = [];
        } catch (e) {
            if (!(e instanceof Stop))
                throw e;
            result.code = e.code;
            result.message = e.message;
            result.problems = e.problems;
        }
        result.verdict = REASONS[result.code][0];
        result.summary = REASONS[result.code][1];
        return result;
    }

    root.DepriveVerify = {
        verify: verify,
        /* the most of each file deprive verify reads: one byte more shows it is too large */
        LIMITS: { pub: PUBFILE_MAX, cert: CERT_FILE_MAX, sig: SIGFILE_MAX },
        REASONS: REASONS,
        CASE_FIELDS: CASE_FIELDS,
        ASSURANCE: ASSURANCE,
        J: J,
        jsonBytes: jsonBytes,
        jsonRange: jsonRange,
        /* for verify-ui.js's rendering and the development harness */
        escapeText: escapeText,
        escapeBytes: escapeBytes,
        keyidHex: keyidHex,
        parseJson: parseJson,
        checkCertificate: checkCertificate,
    };
})(typeof globalThis !== "undefined" ? globalThis : this);
