// GMime 3 for Swift. GMime's type checks and casts are C macros, which Swift cannot
// import, so this header wraps the few kontor-bridge needs in static inline functions.
#include <gmime/gmime.h>

static inline GMimeObject *kb_object(gpointer p) { return (GMimeObject *)p; }

static inline gboolean kb_is_multipart(GMimeObject *o) { return GMIME_IS_MULTIPART(o); }
static inline gboolean kb_is_part(GMimeObject *o) { return GMIME_IS_PART(o); }
static inline gboolean kb_is_text_part(GMimeObject *o) { return GMIME_IS_TEXT_PART(o); }
static inline gboolean kb_is_message_part(GMimeObject *o) { return GMIME_IS_MESSAGE_PART(o); }

static inline GMimeMultipart *kb_as_multipart(GMimeObject *o) { return GMIME_MULTIPART(o); }
static inline GMimePart *kb_as_part(GMimeObject *o) { return GMIME_PART(o); }
static inline GMimeMessagePart *kb_as_message_part(GMimeObject *o) { return GMIME_MESSAGE_PART(o); }

static inline gboolean kb_address_is_mailbox(InternetAddress *a) { return INTERNET_ADDRESS_IS_MAILBOX(a); }
static inline gboolean kb_address_is_group(InternetAddress *a) { return INTERNET_ADDRESS_IS_GROUP(a); }
static inline const char *kb_mailbox_addr(InternetAddress *a) {
    return internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
}
static inline InternetAddressList *kb_group_members(InternetAddress *a) {
    return internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a));
}

static inline void kb_unref(gpointer p) { if (p) g_object_unref(p); }

/// The bytes a GMimeStreamMem holds.
static inline const guint8 *kb_mem_bytes(GMimeStream *s, gsize *len) {
    GByteArray *a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
    *len = a ? a->len : 0;
    return a ? a->data : NULL;
}

/// Converts `len` bytes from `charset` to UTF-8 (GLib over iconv). NULL when the
/// charset is unknown or the bytes are invalid in it; free the result with g_free.
static inline char *kb_to_utf8(const char *data, gssize len, const char *charset, gsize *outlen) {
    GError *err = NULL;
    char *r = g_convert(data, len, "UTF-8", g_mime_charset_iconv_name(charset), NULL, outlen, &err);
    if (err) { g_error_free(err); if (r) g_free(r); return NULL; }
    return r;
}
