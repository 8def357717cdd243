/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive audit: months later, re-scan a device for everything a certificate says was
 * erased (and any further lists), optionally signing the audit report. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "deprive/cert.h"
#include "deprive/hashset.h"
#include "deprive/report.h"
#include "deprive/scan.h"
#include "deprive/sign.h"
#include "deprive/util.h"

static void audit_usage(FILE *f)
{
    fprintf(f,
            "usage: deprive audit --cert CERT.json [-p PUBKEY] [--hashes LIST...]\n"
            "                     [--key SECKEY [--passphrase-file F] -o AUDIT.json] [--jobs N]\n"
            "                     [--max-file-size SIZE] ROOT\n"
            "\n"
            "Re-scan ROOT for every digest CERT.json records as erased, plus any --hashes lists.\n"
            "The certificate's consistency is always checked. With -p its signature is verified\n"
            "first; without, a warning says so and its sizes are not trusted (every file is\n"
            "read). With --key, the audit report is written to AUDIT.json and signed\n"
            "(AUDIT.json.minisig).\n"
            "\n"
            "  -c, --cert CERT.json     the erasure certificate\n"
            "  -p, --public-key PUB     verify the certificate with this public key first\n"
            "  -H, --hashes LIST        further hash list; repeatable\n"
            "  -k, --key SECKEY         sign the audit report\n"
            "      --passphrase-file F  the key's passphrase from the first line of F\n"
            "  -o, --output FILE        audit report (JSON)\n"
            "  -j, --jobs N             scan worker threads\n"
            "      --max-file-size SIZE do not read files larger than SIZE (K, M, G, T suffixes);\n"
            "                           default: larger than their filesystem (as for scan)\n"
            "      --pdq-threshold N, --no-dihedral, --pdq-exact, --max-pixels N,\n"
            "      --max-image-bytes SIZE   perceptual matching, as for scan\n"
            "      --no-archives, --archive-max-depth N, --archive-max-bytes SIZE,\n"
            "      --archive-max-ratio N, --archive-max-members N, --archive-password-file F\n"
            "                               archives, as for scan\n"
            "      --no-carve               embedded images not carved (as for scan)\n"
            "      --json               print the report on stdout\n"
            "  -h, --help               this help\n"
            "\nExit status: 0 none present, 1 some present (or the certificate is invalid),\n"
            "2 error.\n");
}

struct audit_args {
    struct cli_opts o; /* --hashes, -k/--key, --passphrase-file, -o, --json, --jobs, limits */
    const char *cert, *pub, *key, *passfile, *output, *root;
    char **lists;
    size_t nlists;
    bool json;
    struct dp_scan_opts sopts;
};

static int parse_audit(int argc, char **argv, struct audit_args *a)
{
    static const struct option own[] = {
        {"cert", required_argument, NULL, 'c'},   {"public-key", required_argument, NULL, 'p'},
        {"pubkey", required_argument, NULL, 'p'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli_opts *o = &a->o;
    int c;
    while ((c = cli_getopt(o, argc, argv, "c:p:h", own)) != -1) {
        switch (c) {
        case 'c': a->cert = optarg; break;
        case 'p': a->pub = optarg; break;
        case 'h': audit_usage(stdout); return -1;
        case CLI_GETOPT_REFUSED: return DP_EXIT_ERROR;
        default: return cli_usage_error(o->cmd, "bad option");
        }
    }
    if (optind != argc - 1)
        return cli_usage_error(o->cmd, "exactly one ROOT directory is needed");
    if (a->cert == NULL)
        return cli_usage_error(o->cmd, "--cert CERT.json is required");
    if (o->key != NULL && o->output == NULL)
        return cli_usage_error(o->cmd, "--key needs -o AUDIT.json");
    a->root = argv[optind];
    a->key = o->key;
    a->passfile = o->passfile;
    a->output = o->output;
    a->lists = o->lists.items;
    a->nlists = o->lists.count;
    a->json = o->json;
    a->sopts = o->scan;
    return DP_EXIT_OK;
}

/* Load the certificate, verifying its signature when a public key is given (*verified). */
static json_t *load_cert(const struct audit_args *a, bool *verified, int *rc)
{
    struct dp_error err = {0};
    char *data = NULL, *sig = NULL, *sigpath = NULL;
    size_t len = 0, slen = 0;
    json_t *cert = NULL;
    struct dp_sign_pubkey *pk = NULL;
    *rc = DP_EXIT_ERROR;
    *verified = false;
    if (dp_read_file(a->cert, DP_CERT_FILE_MAX, &data, &len, &err) != DP_OK)
        goto fail;
    if (a->pub != NULL) {
        struct dp_cert_verified v = {0};
        if ((sigpath = cli_derived_path(a->cert, ".minisig")) == NULL) {
            dp_error_set(&err, DP_ERR_NOMEM, 0, "out of memory");
            goto fail;
        }
        if (dp_sign_pubkey_load(&pk, a->pub, &err) != DP_OK ||
            dp_read_file(sigpath, 1u << 20, &sig, &slen, &err) != DP_OK)
            goto fail;
        if (dp_cert_verify(&v, pk, data, len, sig, slen, &err) != DP_OK) {
            cli_err("certificate INVALID: %s", err.msg);
            dp_cert_verified_release(&v);
            *rc = DP_EXIT_NEGATIVE;
            goto out;
        }
        cert = json_incref(v.cert);
        dp_cert_verified_release(&v);
        *verified = true;
    } else {
        json_error_t je;
        cert = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
        if (cert == NULL) {
            dp_error_set(&err, DP_ERR_PARSE, 0, "%s:%d: %s", a->cert, je.line, je.text);
            goto fail;
        }
        /* not -q-able: the audit's result rests on a document nobody authenticated */
        cli_err("warning: no public key (-p): the certificate's signature was NOT checked; "
                "sizes from it are not trusted, so every file is read");
    }
    *rc = DP_EXIT_OK;
    goto out;
fail:
    cli_dp_err(&err);
out:
    dp_sign_pubkey_free(pk);
    free(data);
    free(sig);
    free(sigpath);
    return cert;
}

/* The certificate's erased digests (sizes only when verified) plus the further lists. */
static bool build_set(const struct audit_args *a, const json_t *cert, bool verified,
                      struct dp_hashset **set, int *rc)
{
    struct dp_error err = {0};
    char *name = cli_derived_path(a->cert, " (erased digests)");
    *rc = DP_EXIT_ERROR;
    if (name == NULL) {
        cli_err("out of memory");
        return false;
    }
    enum dp_status st = dp_cert_erased_hashset(set, cert, name, verified, &err);
    free(name);
    if (st == DP_ERR_VERIFY) {
        cli_err("certificate INVALID: %s", err.msg);
        *rc = DP_EXIT_NEGATIVE;
        return false;
    }
    if (st != DP_OK)
        goto fail;
    for (size_t i = 0; i < a->nlists; i++)
        if (dp_hashset_load_file(*set, a->lists[i], &err) != DP_OK)
            goto fail;
    if (dp_hashset_finalize(*set, &err) != DP_OK)
        goto fail;
    *rc = DP_EXIT_OK;
    return true;
fail:
    cli_dp_err(&err);
    return false;
}

static int write_signed(const struct audit_args *a, json_t *doc)
{
    struct dp_error err = {0};
    struct dp_sign_seckey *sk = NULL;
    char *text = dp_json_dump(doc), *sig = NULL;
    char *sigpath = cli_derived_path(a->output, ".minisig");
    int rc = DP_EXIT_ERROR;
    if (text == NULL || sigpath == NULL)
        goto out;
    if (dp_write_file_atomic(a->output, text, strlen(text), 0644, &err) != DP_OK)
        goto fail;
    if (a->key == NULL) {
        rc = DP_EXIT_OK;
        goto out;
    }
    if (!cli_load_seckey(a->key, a->passfile, &sk))
        goto out;
    /* the library builds the trusted comment (and cleans the file name) for every signature */
    if (dp_sign_document(&sig, sk, text, strlen(text), a->output, NULL, 0, "deprive audit report",
                         &err) != DP_OK ||
        dp_write_file_atomic(sigpath, sig, strlen(sig), 0644, &err) != DP_OK)
        goto fail;
    rc = DP_EXIT_OK;
    goto out;
fail:
    cli_dp_err(&err);
out:
    dp_sign_seckey_free(sk);
    free(text);
    free(sig);
    free(sigpath);
    return rc;
}

int cmd_audit(int argc, char **argv)
{
    struct audit_args a = {0};
    cli_opts_init(&a.o, CLI_OPTS_HASHES | CLI_OPTS_KEY | CLI_OPTS_OUTPUT | CLI_OPTS_JSON |
                            CLI_OPTS_JOBS | CLI_OPTS_LIMITS | CLI_OPTS_PDQ);
    struct dp_hashset *set = NULL;
    struct dp_scan_result *res = NULL;
    json_t *cert = NULL, *doc = NULL;
    struct dp_error err = {0};
    int rc = parse_audit(argc, argv, &a);
    if (rc != DP_EXIT_OK) {
        rc = rc < 0 ? DP_EXIT_OK : rc;
        goto out;
    }
    bool verified = false;
    if ((cert = load_cert(&a, &verified, &rc)) == NULL || !build_set(&a, cert, verified, &set, &rc))
        goto out;
    rc = DP_EXIT_ERROR;
    if (cli_want_progress())
        a.sopts.progress = cli_scan_progress;
    if (dp_scan_run(set, a.root, &a.sopts, &res, &err) != DP_OK ||
        dp_report_build(res, set, &doc, &err) != DP_OK) {
        cli_dp_err(&err);
        goto out;
    }
    json_object_set_new(doc, "audit_of",
                        json_pack("{s:s?, s:s?, s:b}", "certificate_id",
                                  dp_cert_get_str(cert, "identity.certificate_id"),
                                  "order_reference",
                                  dp_cert_get_str(cert, "authority.order_reference"),
                                  "signature_verified", verified));
    if (a.output != NULL && (rc = write_signed(&a, doc)) != DP_EXIT_OK)
        goto out;
    if (a.json) {
        char *s = dp_json_dump(doc);
        fputs(s ? s : "", stdout);
        free(s);
    } else if (!cli_quiet) {
        cli_print_scan(stdout, res, set);
    }
    fprintf(a.json ? stderr : stdout, "audit: %zu match(es) present\n", res->finding_count);
    rc = res->finding_count == 0 ? DP_EXIT_OK : DP_EXIT_NEGATIVE;
out:
    json_decref(cert);
    json_decref(doc);
    dp_scan_result_free(res);
    dp_hashset_free(set);
    cli_opts_release(&a.o);
    return rc;
}
