// libcurl's API as cwmigrate calls it. The library itself is not linked: it is opened with
// dlopen on first use (see loader.c), so commands that send no HTTP request (inspect, plan,
// runbook, --version) do not load it, nor the TLS, HTTP/2, IDN, SSH, LDAP and Kerberos
// libraries it brings along.
#ifndef CWMIGRATE_CCURL_H
#define CWMIGRATE_CCURL_H

#include <curl/curl.h>

/// The file name dlopen is given: the soname of the libcurl the headers describe.
#define CWM_LIBCURL_SONAME "libcurl.so.4"

/// Loads libcurl once per process (later calls return the first call's result).
/// Returns NULL when it is loaded, else why it could not be (dlerror's words).
/// CWMIGRATE_LIBCURL, when set, names the file to open instead of the soname: for the
/// tests of a host without libcurl, which point it at a file that does not exist.
const char *cwm_curl_load(void);

// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call.
// One typed wrapper per argument kind keeps the type of each option explicit.

static inline CURLcode cw_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode cw_setopt_off(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode cw_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode cw_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode cw_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode cw_setopt_mime(CURL *handle, curl_mime *value) {
    return curl_easy_setopt(handle, CURLOPT_MIMEPOST, value);
}

/// For CURLOPT_WRITEFUNCTION and CURLOPT_HEADERFUNCTION.
static inline CURLcode cw_setopt_write_callback(CURL *handle, CURLoption option, curl_write_callback value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode cw_setopt_xferinfo_callback(CURL *handle, curl_xferinfo_callback value) {
    return curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, value);
}

static inline CURLcode cw_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode cw_getinfo_off(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode cw_getinfo_string(CURL *handle, CURLINFO info, char **value) {
    return curl_easy_getinfo(handle, info, value);
}

// Macros built from casts and shifts do not reach Swift; these do.
static inline long cw_auth_basic(void) { return (long)CURLAUTH_BASIC; }
static inline long cw_auth_bearer(void) { return (long)CURLAUTH_BEARER; }
static inline long cw_global_all(void) { return (long)CURL_GLOBAL_ALL; }
static inline curl_off_t cw_error_size(void) { return CURL_ERROR_SIZE; }

#endif
