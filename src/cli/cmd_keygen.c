/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive keygen: make a minisign-compatible Ed25519 key pair for signing certificates. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "deprive/sign.h"

static void usage(FILE *f)
{
    fputs("usage: deprive keygen -p PUBKEY -s SECKEY [-W | --passphrase-file FILE] [-c COMMENT]\n"
          "\n"
          "Make an Ed25519 key pair in minisign's format, to sign erasure certificates.\n"
          "Neither file may exist already; nothing is ever overwritten.\n"
          "\n"
          "  -p, --public-key FILE       write the public key to FILE (mode 0644)\n"
          "  -s, --secret-key FILE       write the secret key to FILE (mode 0600)\n"
          "  -W, --unencrypted           do not protect the secret key with a passphrase\n"
          "      --passphrase-file FILE  take the passphrase from the first line of FILE\n"
          "                              (default: ask twice on the terminal, echo off)\n"
          "  -c, --comment TEXT          untrusted comment for the secret key file\n"
          "  -h, --help                  show this help\n"
          "\n"
          "On success prints 'key id: ID' and 'public key: BASE64' (the key as\n"
          "'minisign -P' takes it) on stdout.\n"
          "Exit status: 0 success, 2 error or usage.\n",
          f);
}

enum { OPT_PASSFILE = 256 };

static const struct option longopts[] = {
    {"public-key", required_argument, NULL, 'p'},
    {"secret-key", required_argument, NULL, 's'},
    {"unencrypted", no_argument, NULL, 'W'},
    {"passphrase-file", required_argument, NULL, OPT_PASSFILE},
    {"comment", required_argument, NULL, 'c'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct keygen_args {
    const char *pub, *sec, *passfile, *comment;
    bool unencrypted;
};

/* Returns -1 to go on, else an exit code. */
static int parse_args(struct keygen_args *a, int argc, char **argv)
{
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":p:s:Wc:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            a->pub = optarg;
            break;
        case 's':
            a->sec = optarg;
            break;
        case 'W':
            a->unencrypted = true;
            break;
        case OPT_PASSFILE:
            a->passfile = optarg;
            break;
        case 'c':
            a->comment = optarg;
            break;
        case 'h':
            usage(stdout);
            return DP_EXIT_OK;
        case ':':
            return cli_usage_error("keygen", "option '%s' needs an argument", argv[optind - 1]);
        default:
            return cli_usage_error("keygen", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("keygen", "unexpected argument '%s'", argv[optind]);
    if (a->pub == NULL || a->sec == NULL)
        return cli_usage_error("keygen", "both -p PUBKEY and -s SECKEY are required");
    if (a->unencrypted && a->passfile != NULL)
        return cli_usage_error("keygen", "-W and --passphrase-file cannot be used together");
    if (a->comment != NULL &&
        (strpbrk(a->comment, "\r\n") != NULL || strlen(a->comment) > DP_SIGN_COMMENT_MAX))
        return cli_usage_error("keygen", "the comment must be one line of at most %d bytes",
                               DP_SIGN_COMMENT_MAX);
    if (strcmp(a->pub, a->sec) == 0)
        return cli_usage_error("keygen", "the public and secret key files must differ");
    return -1;
}

/* Fail before asking for a passphrase when a key file is already there (the library still
 * creates both with O_EXCL, so this is only for the user's sake). */
static bool absent(const char *path)
{
    struct stat st;
    if (lstat(path, &st) == 0) {
        cli_err("cannot create '%s': %s", path, strerror(EEXIST));
        return false;
    }
    return true;
}

int cmd_keygen(int argc, char **argv)
{
    struct keygen_args a = {0};
    int rc = parse_args(&a, argc, argv);
    if (rc >= 0)
        return rc;
    if (!absent(a.sec) || !absent(a.pub))
        return DP_EXIT_ERROR;
    rc = DP_EXIT_ERROR;
    const size_t pass_size = DP_SIGN_PASSPHRASE_MAX + 1;
    char *pass = NULL;
    struct dp_sign_pubkey *pk = NULL;
    struct dp_error err = {0};
    if (!a.unencrypted) {
        pass = sodium_malloc(pass_size);
        if (pass == NULL) {
            cli_err("out of memory");
            goto out;
        }
        if (!cli_read_passphrase(pass, pass_size, "passphrase for the new secret key: ", a.passfile,
                                 true))
            goto out;
        if (pass[0] == '\0') {
            cli_err("empty passphrase refused (use -W for an unencrypted secret key)");
            goto out;
        }
        cli_info("deriving a key from the passphrase (this takes a few seconds)");
    }
    struct dp_sign_keygen_opts opts = {.passphrase = pass, .comment = a.comment};
    if (dp_sign_keygen(&pk, a.pub, a.sec, &opts, &err) != DP_OK) {
        cli_dp_err(&err);
        goto out;
    }
    char id[DP_SIGN_KEYID_HEX_SIZE], b64[DP_SIGN_PUBKEY_B64_SIZE];
    dp_sign_pubkey_keyid(pk, id);
    dp_sign_pubkey_base64(pk, b64);
    printf("key id: %s\npublic key: %s\n", id, b64);
    if (fflush(stdout) != 0) {
        cli_err("cannot write to standard output: %s", strerror(errno));
        goto out;
    }
    cli_info("secret key written to '%s' (%s); keep it secret", a.sec,
             pass != NULL ? "passphrase-protected" : "unencrypted");
    cli_info("public key written to '%s'", a.pub);
    rc = DP_EXIT_OK;
out:
    dp_sign_pubkey_free(pk);
    if (pass != NULL)
        sodium_free(pass);
    return rc;
}
