/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive fuzzing: the document fuzz_sign verifies signatures over (gen_seeds signs it). */
#ifndef DEPRIVE_FUZZ_SIGN_DOC_H
#define DEPRIVE_FUZZ_SIGN_DOC_H

#define FUZZ_SIGN_DOCUMENT "deprive fuzz: the signed document\n"

#endif
