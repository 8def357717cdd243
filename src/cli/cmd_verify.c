/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive verify: check a signed erasure certificate (signature, digest, consistency, journal). */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deprive/cert.h"
#include "deprive/sign.h"
#include "deprive/util.h"

static void usage(FILE *f)
{
    fputs("usage: deprive verify -p PUBKEY [-x SIGFILE] [--journal JOURNAL] [--require-erased]\n"
          "                      CERT.json\n"
          "\n"
          "Check an erasure certificate: the minisign signature over the file's exact bytes\n"
          "(CERT.json.minisig unless -x), that the signed trusted comment carries this file's\n"
          "SHA-256 and this key's id, and that the certificate is internally consistent\n"
          "(totals add up, the outcome agrees with the targets and the re-scan).\n"
          "\n"
          "  -p, --public-key FILE   the signer's public key (minisign format)\n"
          "  -x, --sig FILE          detached signature (default: CERT.json.minisig)\n"
          "      --journal FILE      also replay the wipe journal's hash chain and check it\n"
          "                          ends at the head hash and record count the certificate\n"
          "                          records\n"
          "      --require-erased    treat a valid certificate whose outcome is not ERASED as\n"
          "                          a negative finding (exit 1)\n"
          "  -h, --help              show this help\n"
          "\n"
          "On success prints 'certificate valid: OUTCOME, signed by key ID' on stdout.\n"
          "Exit status: 0 valid; 1 invalid (bad or mismatched signature, other key,\n"
          "inconsistent certificate, journal mismatch; or not ERASED with --require-erased);\n"
          "2 error (unreadable file, bad public key file, usage).\n",
          f);
}

enum { OPT_JOURNAL = 256, OPT_REQUIRE_ERASED };

static const struct option longopts[] = {
    {"public-key", required_argument, NULL, 'p'},
    {"sig", required_argument, NULL, 'x'},
    {"journal", required_argument, NULL, OPT_JOURNAL},
    {"require-erased", no_argument, NULL, OPT_REQUIRE_ERASED},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct verify_args {
    const char *pub, *sig, *journal, *cert;
    bool require_erased;
};

/* Returns -1 to go on, else an exit code. */
static int parse_args(struct verify_args *a, int argc, char **argv)
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
        case OPT_JOURNAL:
            a->journal = optarg;
            break;
        case OPT_REQUIRE_ERASED:
            a->require_erased = true;
            break;
        case 'h':
            usage(stdout);
            return DP_EXIT_OK;
        case ':':
            return cli_usage_error("verify", "option '%s' needs an argument", argv[optind - 1]);
        default:
            return cli_usage_error("verify", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error("verify", optind >= argc ? "a certificate file is required"
                                                        : "exactly one certificate file, please");
    a->cert = argv[optind];
    if (a->pub == NULL)
        return cli_usage_error("verify", "-p PUBKEY is required");
    return -1;
}

/* "deprive: certificate INVALID: ..." and every consistency problem on its own line. */
static void report_invalid(const struct dp_error *err, const struct dp_cert_verified *v)
{
    if (v->problems.count == 0) {
        cli_err("certificate INVALID: %s", err->msg);
        return;
    }
    cli_err("certificate INVALID: %zu consistency problem%s:", v->problems.count,
            v->problems.count == 1 ? "" : "s");
    for (size_t i = 0; i < v->problems.count; i++)
        fprintf(stderr, "  - %s\n", cli_text(v->problems.items[i]));
}

int cmd_verify(int argc, char **argv)
{
    struct verify_args a = {0};
    int rc = parse_args(&a, argc, argv);
    if (rc >= 0)
        return rc;
    rc = DP_EXIT_ERROR;
    char *data = NULL, *sig = NULL, *sig_path = NULL;
    size_t len = 0, sig_len = 0;
    struct dp_sign_pubkey *pk = NULL;
    struct dp_cert_verified v = {0};
    struct dp_error err = {0};
    if (a.sig == NULL) {
        if (asprintf(&sig_path, "%s.minisig", a.cert) < 0) {
            sig_path = NULL;
            cli_err("out of memory");
            goto out;
        }
    }
    const char *sp = a.sig ? a.sig : sig_path;
    if (dp_sign_pubkey_load(&pk, a.pub, &err) != DP_OK ||
        dp_read_file(a.cert, DP_CERT_FILE_MAX, &data, &len, &err) != DP_OK ||
        dp_read_file(sp, 1 << 16, &sig, &sig_len, &err) != DP_OK) {
        cli_dp_err(&err);
        goto out;
    }
    enum dp_status st = dp_cert_verify(&v, pk, data, len, sig, sig_len, &err);
    uint64_t later = 0;
    if (st == DP_OK && a.journal != NULL)
        st = dp_cert_check_journal_at(v.cert, a.journal, &later, &err);
    if (st == DP_ERR_VERIFY) {
        report_invalid(&err, &v);
        rc = DP_EXIT_NEGATIVE;
        goto out;
    }
    if (st != DP_OK) {
        cli_dp_err(&err);
        goto out;
    }
    /* the certificate's own text: escaped like anything not made here */
    printf("certificate valid: %s, signed by key %s\n", cli_text(v.result), v.keyid);
    if (later > 0) /* an earlier certificate of a run resumed to retry failed targets */
        printf("journal: continues for %llu record(s) after this certificate: the run was "
               "resumed later; a newer certificate covers the rest\n",
               (unsigned long long)later);
    if (cli_verbose > 0) {
        printf("certificate id: %s\nsha256: %s\n", cli_text(v.trusted.cert_id), v.sha256_hex);
        if (a.journal != NULL)
            printf("journal: ends at %s\n",
                   cli_text(dp_cert_get_str(v.cert, "outcome.journal.head")));
    }
    if (fflush(stdout) != 0) {
        cli_err("cannot write to standard output");
        goto out;
    }
    rc = DP_EXIT_OK;
    enum dp_cert_outcome outcome;
    if (a.require_erased && (!dp_cert_outcome_parse(v.result, &outcome) ||
                             outcome != DP_OUTCOME_ERASED)) {
        cli_err("the certificate is valid but its outcome is %s, not ERASED", v.result);
        rc = DP_EXIT_NEGATIVE;
    }
out:
    dp_cert_verified_release(&v);
    dp_sign_pubkey_free(pk);
    free(data);
    free(sig);
    free(sig_path);
    return rc;
}
