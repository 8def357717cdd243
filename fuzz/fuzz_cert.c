/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive fuzzing: an erasure certificate from anyone - what `deprive verify`, `show` and
 * `audit` do with its JSON once the signature is checked, and what `show` and `audit` do
 * without -p, when it is not: the consistency check dp_cert_check, the text rendering, the
 * hash set an audit looks for (sizes trusted and not), the case-details check, the outcome
 * and the location text. The JSON parse (jansson, duplicate keys refused as the CLI does) is
 * included.
 *
 * Built a second time as fuzz_cert_pdf (FUZZ_CERT_PDF): the same input rendered as a PDF
 * (libharu), as `deprive show --pdf` does for a certificate whose signature was not checked. */
#include "fuzz_common.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "deprive/cert.h"
#include "deprive/hashset.h"
#include "deprive/pdf.h"

#ifndef FUZZ_CERT_PDF
static void audit_set(const json_t *cert, bool trust_sizes, bool consistent)
{
    struct dp_hashset *set = NULL;
    struct dp_error err = {0};
    enum dp_status st = dp_cert_erased_hashset(&set, cert, "fuzz (erased digests)", trust_sizes,
                                               &err);
    /* an inconsistent certificate never yields a set (no filter is derived from it) */
    if (st == DP_OK && !consistent)
        abort();
    if (st == DP_OK) {
        if (dp_hashset_finalize(set, NULL) == DP_OK)
            (void)dp_hashset_sizes_complete(set);
        dp_hashset_free(set);
    } else if (set != NULL) {
        abort();
    }
}

static void walk_targets(const json_t *cert)
{
    size_t i, j;
    const json_t *t, *n;
    json_array_foreach(dp_cert_get(cert, "targets"), i, t) {
        json_array_foreach(json_object_get(t, "names"), j, n) {
            free(dp_cert_location_text(json_object_get(n, "location")));
        }
    }
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *cert = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (cert == NULL)
        return 0;
#ifdef FUZZ_CERT_PDF
    static char *pdf;
    if (pdf == NULL)
        pdf = fz_path("cert.pdf");
    (void)dp_pdf_render(cert, NULL, NULL, pdf, NULL);
#else
    struct dp_cert_problems pr = {0};
    struct dp_error err = {0};
    enum dp_status st = dp_cert_check(cert, &pr, &err);
    if (st == DP_OK && pr.count != 0)
        abort();
    if (st == DP_ERR_VERIFY && (pr.count == 0 || err.msg[0] == '\0'))
        abort();
    dp_cert_problems_release(&pr);
    (void)dp_cert_render_text(fz_devnull(), cert, NULL);
    audit_set(cert, true, st == DP_OK);
    audit_set(cert, false, st == DP_OK);
    enum dp_cert_outcome o;
    if (dp_cert_outcome_of(cert, &o))
        (void)dp_cert_outcome_name(o);
    (void)dp_cert_get_str(cert, "authority.order_reference");
    (void)dp_cert_case_validate(cert, NULL); /* the input as a case file (--case) */
    walk_targets(cert);
#endif
    json_decref(cert);
    return 0;
}
