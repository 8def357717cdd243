/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive fuzzing: PDQ hex from a list (dp_pdq_parse, as the list parsers and `deprive audit`
 * read it). Properties: only exactly 64 hex digits parse; printing and parsing again gives the
 * same hash; the printed text is the input in lower case; a hash is at distance 0 from itself
 * and 256 from its complement. */
#include "fuzz_common.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "deprive/pdq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dp_pdq h;
    bool ok = dp_pdq_parse((const char *)data, size, &h);
    bool want = size == DP_PDQ_HEX;
    for (size_t i = 0; want && i < size; i++)
        want = isxdigit(data[i]) != 0;
    if (ok != want)
        abort();
    if (!ok)
        return 0;
    char hex[DP_PDQ_HEX + 1];
    dp_pdq_hex(&h, hex);
    for (size_t i = 0; i < DP_PDQ_HEX; i++)
        if (hex[i] != (char)tolower(data[i]))
            abort();
    struct dp_pdq again, inv;
    if (!dp_pdq_parse(hex, DP_PDQ_HEX, &again) || memcmp(&again, &h, sizeof(h)) != 0)
        abort();
    for (size_t i = 0; i < DP_PDQ_BYTES; i++)
        inv.b[i] = (uint8_t)~h.b[i];
    if (dp_pdq_distance(&h, &again) != 0 || dp_pdq_distance(&h, &inv) != 256)
        abort();
    return 0;
}
