/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive fuzzing: a fixed, unencrypted minisign key pair (made once with `deprive keygen -W`)
 * that fuzz_cert_verify signs the fuzzed certificates with and gen_seeds names as their signer,
 * so mutated certificates get past the signature into every check behind it. It is published
 * here: it signs nothing real, and no deprive user may trust it. */
#ifndef DEPRIVE_FUZZ_KEY_H
#define DEPRIVE_FUZZ_KEY_H

#define FUZZ_KEY_ID "2495A200A42B5950"
#define FUZZ_KEY_SECRET \
    "untrusted comment: deprive fuzzing key: public knowledge, signs nothing real\n" \
    "RWQAAEIyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAUFkrpACilSQAf1gAOz4F4RFFjiOlhsJoB3HeIpEyUOMyL6XEFHIjpW5HWGkAX3sYF6WahYI+WS6tgm+yhGQuAbFaj2S5XrtHSLvauj3Dl+ahyD1GS7YRfQqbQv1BH5EyzD2yXjdMVr8=\n" \
    ""
#define FUZZ_KEY_PUBLIC "RWRQWSukAKKVJG5HWGkAX3sYF6WahYI+WS6tgm+yhGQuAbFaj2S5XrtH"

#endif
