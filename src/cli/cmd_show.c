/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive show: print an erasure certificate for a person, optionally render it as PDF. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deprive/cert.h"
#include "deprive/pdf.h"
#include "deprive/sign.h"
#include "deprive/util.h"

static void usage(FILE *f)
{
    fputs("usage: deprive show [-p PUBKEY [-x SIGFILE]] [--pdf OUT.pdf] CERT.json\n"
          "\n"
          "Print an erasure certificate as readable text, and with --pdf render it as a\n"
          "printable A4 PDF. With -p the signature is verified first (as 'deprive verify'\n"
          "does) and nothing is rendered unless it is valid; without -p the signature is\n"
          "not checked, which the output says.\n"
          "\n"
          "  -p, --public-key FILE   verify the signature with this public key\n"
          "  -x, --sig FILE          detached signature (default: CERT.json.minisig)\n"
          "      --pdf FILE          write a PDF rendering to FILE (replaced atomically)\n"
          "  -h, --help              show this help\n"
          "\n"
          "Exit status: 0 shown; 1 the certificate is invalid or inconsistent (nothing\n"
          "rendered); 2 error (unreadable file, not JSON, cannot write the PDF, usage).\n",
          f);
}

enum { OPT_PDF = 256 };

static const struct option longopts[] = {
    {"public-key", required_argument, NULL, 'p'},
    {"sig", required_argument, NULL, 'x'},
    {"pdf", required_argument, NULL, OPT_PDF},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct show_args {
    const char *pub, *sig, *pdf, *cert;
};

static int parse_args(struct show_args *a, int argc, char **argv)
{
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":p:x:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            a->pub = optarg;
            break;
        case 'x':
            a->sig = optarg;
            break;
        case OPT_PDF:
            a->pdf = optarg;
            break;
        case 'h':
            usage(stdout);
            return DP_EXIT_OK;
        case ':':
            return cli_usage_error("show", "option '%s' needs an argument", argv[optind - 1]);
        default:
            return cli_usage_error("show", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error("show", optind >= argc ? "a certificate file is required"
                                                      : "exactly one certificate file, please");
    a->cert = argv[optind];
    if (a->sig != NULL && a->pub == NULL)
        return cli_usage_error("show", "-x SIGFILE needs -p PUBKEY");
    return -1;
}

/* Verify with -p; fills keyid and the parsed certificate. Returns -1 to go on, else an exit
 * code. */
static int verify(const struct show_args *a, const char *data, size_t len, json_t **cert,
                  char keyid[DP_SIGN_KEYID_HEX_SIZE])
{
    struct dp_error err = {0};
    struct dp_sign_pubkey *pk = NULL;
    struct dp_cert_verified v = {0};
    char *sig = NULL, *sig_path = NULL;
    size_t sig_len = 0;
    int rc = DP_EXIT_ERROR;
    if (a->sig == NULL && asprintf(&sig_path, "%s.minisig", a->cert) < 0) {
        sig_path = NULL;
        cli_err("out of memory");
        goto out;
    }
    if (dp_sign_pubkey_load(&pk, a->pub, &err) != DP_OK ||
        dp_read_file(a->sig ? a->sig : sig_path, 1 << 16, &sig, &sig_len, &err) != DP_OK) {
        cli_dp_err(&err);
        goto out;
    }
    enum dp_status st = dp_cert_verify(&v, pk, data, len, sig, sig_len, &err);
    if (st == DP_ERR_VERIFY) {
        cli_err("certificate INVALID: %s", err.msg);
        rc = DP_EXIT_NEGATIVE;
        goto out;
    }
    if (st != DP_OK) {
        cli_dp_err(&err);
        goto out;
    }
    memcpy(keyid, v.keyid, DP_SIGN_KEYID_HEX_SIZE);
    *cert = json_incref(v.cert);
    rc = -1;
out:
    dp_cert_verified_release(&v);
    dp_sign_pubkey_free(pk);
    free(sig);
    free(sig_path);
    return rc;
}

/* Without -p: parse and check consistency only. */
static int parse_unverified(const char *path, const char *data, size_t len, json_t **cert)
{
    json_error_t je;
    *cert = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    if (*cert == NULL) {
        cli_err("'%s' is not JSON: line %d: %s", path, je.line, je.text);
        return DP_EXIT_ERROR;
    }
    struct dp_error err = {0};
    enum dp_status st = dp_cert_check(*cert, NULL, &err);
    if (st == DP_ERR_VERIFY) {
        cli_err("certificate INVALID: %s", err.msg);
        return DP_EXIT_NEGATIVE;
    }
    if (st != DP_OK) {
        cli_dp_err(&err);
        return DP_EXIT_ERROR;
    }
    cli_info("signature not checked (no -p PUBKEY); use 'deprive verify' to check it");
    return -1;
}

int cmd_show(int argc, char **argv)
{
    struct show_args a = {0};
    int rc = parse_args(&a, argc, argv);
    if (rc >= 0)
        return rc;
    char *data = NULL;
    size_t len = 0;
    json_t *cert = NULL;
    struct dp_error err = {0};
    char keyid[DP_SIGN_KEYID_HEX_SIZE] = "";
    rc = DP_EXIT_ERROR;
    if (dp_read_file(a.cert, DP_CERT_FILE_MAX, &data, &len, &err) != DP_OK) {
        cli_dp_err(&err);
        goto out;
    }
    int vr =
        a.pub ? verify(&a, data, len, &cert, keyid) : parse_unverified(a.cert, data, len, &cert);
    if (vr >= 0) {
        rc = vr;
        goto out;
    }
    uint8_t sha[32];
    char sha_hex[65];
    dp_sha256_buf(sha, data, len);
    dp_hex_encode(sha_hex, sha, 32);
    if (dp_cert_render_text(stdout, cert, &err) != DP_OK) {
        cli_dp_err(&err);
        goto out;
    }
    printf("  %-34s %s\n  %-34s %s\n", "Certificate file SHA-256", sha_hex, "Signature",
           keyid[0] ? "verified" : "NOT CHECKED (no -p)");
    if (fflush(stdout) != 0) {
        cli_err("cannot write to standard output: %s", strerror(errno));
        goto out;
    }
    if (a.pdf != NULL) {
        if (dp_pdf_render(cert, keyid[0] ? keyid : NULL, sha_hex, a.pdf, &err) != DP_OK) {
            cli_err("cannot write '%s': %s", a.pdf, err.msg);
            goto out;
        }
        cli_info("PDF written to '%s'", a.pdf);
    }
    rc = DP_EXIT_OK;
out:
    json_decref(cert);
    free(data);
    return rc;
}
