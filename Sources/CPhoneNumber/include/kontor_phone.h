/*
 * kontor_phone.h: a small C interface over Google's libphonenumber (C++).
 *
 * Kontor's Swift code calls these functions; it never sees a C++ type. Every
 * function returns a status code (KONTOR_PHONE_OK or a KONTOR_PHONE_ERR_*
 * value); no C++ exception crosses this boundary. Output strings are written,
 * NUL-terminated, into buffers the caller owns.
 *
 * Thread safety: all functions may be called concurrently from any thread.
 * They only use the process-wide PhoneNumberUtil singleton, whose methods are
 * const and whose internal caches are guarded by locks (libphonenumber built
 * with POSIX locks on Linux).
 *
 * Input strings must be valid UTF-8 (Swift strings always are).
 */
#ifndef KONTOR_PHONE_H
#define KONTOR_PHONE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Status codes ------------------------------------------------------ */

/** Success. */
#define KONTOR_PHONE_OK 0
/** A required pointer argument was NULL. */
#define KONTOR_PHONE_ERR_NULL_ARGUMENT 1
/** libphonenumber: the country calling code is missing or unknown (e.g. no
 *  leading plus and the default region is unknown). */
#define KONTOR_PHONE_ERR_INVALID_COUNTRY_CODE 2
/** libphonenumber: the text does not look like a phone number at all. */
#define KONTOR_PHONE_ERR_NOT_A_NUMBER 3
/** libphonenumber: too few digits after an international prefix (IDD). */
#define KONTOR_PHONE_ERR_TOO_SHORT_AFTER_IDD 4
/** libphonenumber: the national significant number is too short. */
#define KONTOR_PHONE_ERR_TOO_SHORT_NSN 5
/** libphonenumber: the national significant number is too long. */
#define KONTOR_PHONE_ERR_TOO_LONG_NSN 6
/** An output buffer was too small; it now holds the empty string. */
#define KONTOR_PHONE_ERR_BUFFER_TOO_SMALL 7
/** An unknown format style was requested. */
#define KONTOR_PHONE_ERR_BAD_STYLE 8
/** An unexpected C++ exception (e.g. std::bad_alloc) was caught. */
#define KONTOR_PHONE_ERR_INTERNAL 9

/* ---- Number types (libphonenumber PhoneNumberUtil::PhoneNumberType) ---- */

#define KONTOR_PHONE_TYPE_FIXED_LINE 0
#define KONTOR_PHONE_TYPE_MOBILE 1
#define KONTOR_PHONE_TYPE_FIXED_LINE_OR_MOBILE 2
#define KONTOR_PHONE_TYPE_TOLL_FREE 3
#define KONTOR_PHONE_TYPE_PREMIUM_RATE 4
#define KONTOR_PHONE_TYPE_SHARED_COST 5
#define KONTOR_PHONE_TYPE_VOIP 6
#define KONTOR_PHONE_TYPE_PERSONAL_NUMBER 7
#define KONTOR_PHONE_TYPE_PAGER 8
#define KONTOR_PHONE_TYPE_UAN 9
#define KONTOR_PHONE_TYPE_VOICEMAIL 10
#define KONTOR_PHONE_TYPE_UNKNOWN 11

/* ---- Length check (libphonenumber ValidationResult) -------------------- */

/** The length matches numbers that can be dialled from anywhere. */
#define KONTOR_PHONE_POSSIBLE 0
/** The length only matches numbers dialled locally (no area code). */
#define KONTOR_PHONE_POSSIBLE_LOCAL_ONLY 1
#define KONTOR_PHONE_IMPOSSIBLE_INVALID_COUNTRY_CODE 2
#define KONTOR_PHONE_IMPOSSIBLE_TOO_SHORT 3
#define KONTOR_PHONE_IMPOSSIBLE_INVALID_LENGTH 4
#define KONTOR_PHONE_IMPOSSIBLE_TOO_LONG 5

/* ---- Format styles (libphonenumber PhoneNumberFormat) ------------------ */

/** "+380441234567" */
#define KONTOR_PHONE_STYLE_E164 0
/** "+380 44 123 4567" */
#define KONTOR_PHONE_STYLE_INTERNATIONAL 1
/** "044 123 4567" */
#define KONTOR_PHONE_STYLE_NATIONAL 2
/** "tel:+380-44-123-4567" */
#define KONTOR_PHONE_STYLE_RFC3966 3

/* ---- Buffer sizes ------------------------------------------------------ */

/** Enough for any E.164 string libphonenumber can produce, plus NUL
 *  (it accepts up to 17 national digits and a 3-digit country code). */
#define KONTOR_PHONE_E164_CAPACITY 32
/** Enough for an extension (libphonenumber keeps at most 20 digits). */
#define KONTOR_PHONE_EXTENSION_CAPACITY 32
/** Enough for any formatted number including an extension. */
#define KONTOR_PHONE_FORMAT_CAPACITY 128

/** What kontor_phone_parse learned about a number. */
typedef struct kontor_phone_info {
    /** Country calling code, e.g. 380; 0 when parsing failed. */
    int32_t country_code;
    /** One of KONTOR_PHONE_POSSIBLE* / KONTOR_PHONE_IMPOSSIBLE_*. */
    int32_t possibility;
    /** 1 when libphonenumber's IsValidNumber accepts the number, else 0. */
    int32_t is_valid;
    /** One of KONTOR_PHONE_TYPE_*. */
    int32_t type;
    /** CLDR region of the number, NUL-terminated: "UA", "PL", "001" for
     *  non-geographic numbers, "ZZ" when unknown. */
    char region[4];
} kontor_phone_info;

/**
 * Parses `text` (UTF-8) as written by a person, with `default_region` (an
 * upper-case ISO 3166-1 alpha-2 code such as "UA") used when the text has no
 * leading plus or international prefix.
 *
 * On KONTOR_PHONE_OK, `*info` is filled, `e164` holds the E.164 form
 * ("+380441234567", no extension) and `extension` the extension digits or ""
 * (pass NULL/0 for `extension` to skip it). Parsing succeeds for anything
 * libphonenumber can read as digits, even numbers of impossible length: check
 * `info->possibility` and `info->is_valid`.
 *
 * On a parse error, `*info` is zeroed (type UNKNOWN, region "ZZ") and the
 * buffers hold "". Returns KONTOR_PHONE_OK or a KONTOR_PHONE_ERR_* code.
 */
int32_t kontor_phone_parse(const char *text,
                           const char *default_region,
                           kontor_phone_info *info,
                           char *e164, size_t e164_capacity,
                           char *extension, size_t extension_capacity);

/**
 * Parses `text` like kontor_phone_parse and writes it into `out` in `style`
 * (KONTOR_PHONE_STYLE_*). National formatting uses the number's own country,
 * not `default_region`. An extension, if parsed, is included.
 */
int32_t kontor_phone_format(const char *text,
                            const char *default_region,
                            int32_t style,
                            char *out, size_t out_capacity);

/**
 * The country calling code for a region code ("UA" -> 380), or 0 when
 * libphonenumber does not know the region (NULL is unknown too).
 */
int32_t kontor_phone_country_code_for_region(const char *region);

#ifdef __cplusplus
}
#endif
#endif /* KONTOR_PHONE_H */
