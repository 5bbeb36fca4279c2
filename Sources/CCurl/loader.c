// libcurl, opened with dlopen on first use instead of being a NEEDED library of the
// executable: a command that sends no request (a quick inspect, plan, --version) then maps
// neither libcurl nor the libssl, nghttp2, libidn2, librtmp, libssh2, libpsl, Kerberos and
// LDAP libraries it needs. Every libcurl function the Swift code calls is defined here under
// its own name. Those that need no handle (curl_global_init, curl_easy_init, the version and
// error texts, the header lists) load the library first and, when it cannot be loaded,
// answer as libcurl does when it fails: NULL, CURLE_FAILED_INIT, nothing to free. The Swift
// side then asks cwm_curl_load why. Every other one takes an easy handle or a MIME
// structure, which only a loaded library hands out, and is a jump through a pointer that
// loading fills.
#define CURL_DISABLE_TYPECHECK
#include "CCurl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

// Functions whose first argument is a handle or a MIME structure: reached through a pointer.
// curl_easy_setopt and curl_easy_getinfo are variadic; a jump leaves their arguments, and
// the register that counts the vector ones, as the caller set them.
#define CWM_CURL_FORWARDED(X) \
    X(curl_easy_cleanup) X(curl_easy_getinfo) X(curl_easy_perform) X(curl_easy_reset) X(curl_easy_setopt) \
    X(curl_mime_addpart) X(curl_mime_filedata) X(curl_mime_filename) X(curl_mime_free) X(curl_mime_init) \
    X(curl_mime_name) X(curl_mime_type)

// Functions that need no handle: they load the library, so they are written out in C below.
#define CWM_CURL_LOADING(X) \
    X(curl_global_init) X(curl_easy_init) X(curl_easy_strerror) X(curl_slist_append) X(curl_slist_free_all) \
    X(curl_version_info)

// A forwarded function reached before loading is a bug in cwmigrate, not a host's problem.
__attribute__((noreturn, used)) static void cwm_curl_unloaded(void) {
    fputs("cwmigrate: internal error: a libcurl function was called before libcurl was loaded\n", stderr);
    abort();
}

#define CWM_HIDDEN __attribute__((visibility("hidden")))

#define CWM_POINTER(name) CWM_HIDDEN void *cwm_curl_fn_##name = (void *)cwm_curl_unloaded;
CWM_CURL_FORWARDED(CWM_POINTER)

// Each forwarded name is a jump through its pointer, so arguments and results pass untouched
// whatever their types. Hidden, so the executable does not export them and libcurl's own
// calls between its functions still bind to libcurl.
#if defined(__x86_64__)
#define CWM_TRAMPOLINE(name) \
    __asm__(".text\n.globl " #name "\n.hidden " #name "\n.type " #name ",@function\n.p2align 4\n" #name ":\n" \
            "\tjmp *cwm_curl_fn_" #name "(%rip)\n.size " #name ", .-" #name "\n");
#elif defined(__aarch64__)
#define CWM_TRAMPOLINE(name) \
    __asm__(".text\n.globl " #name "\n.hidden " #name "\n.type " #name ",%function\n.p2align 2\n" #name ":\n" \
            "\tadrp x16, cwm_curl_fn_" #name "\n\tldr x16, [x16, :lo12:cwm_curl_fn_" #name "]\n" \
            "\tbr x16\n.size " #name ", .-" #name "\n");
#else
#error "CCurl's trampolines are written for x86_64 and aarch64 only"
#endif
CWM_CURL_FORWARDED(CWM_TRAMPOLINE)

#define CWM_LOADING_POINTER(name) static __typeof__(&name) cwm_curl_real_##name;
CWM_CURL_LOADING(CWM_LOADING_POINTER)

static pthread_once_t cwm_curl_once = PTHREAD_ONCE_INIT;
static const char *cwm_curl_failure;
static char cwm_curl_failure_text[512];

static void cwm_curl_open(void) {
    const char *file = getenv("CWMIGRATE_LIBCURL");
    if (file == NULL || file[0] == '\0') file = CWM_LIBCURL_SONAME;
    void *library = dlopen(file, RTLD_LAZY | RTLD_LOCAL);
    if (library == NULL) {
        const char *reason = dlerror();
        snprintf(cwm_curl_failure_text, sizeof cwm_curl_failure_text, "%s",
                 reason != NULL ? reason : CWM_LIBCURL_SONAME ": cannot be loaded");
        cwm_curl_failure = cwm_curl_failure_text;
        return;
    }
    const char *missing = NULL;
#define CWM_RESOLVE(name) \
    if ((cwm_curl_fn_##name = dlsym(library, #name)) == NULL && missing == NULL) missing = #name;
    CWM_CURL_FORWARDED(CWM_RESOLVE)
#define CWM_RESOLVE_LOADING(name) \
    if ((cwm_curl_real_##name = (__typeof__(&name))dlsym(library, #name)) == NULL && missing == NULL) \
        missing = #name;
    CWM_CURL_LOADING(CWM_RESOLVE_LOADING)
    if (missing != NULL) {
        // With a failure recorded no function hands out a handle, so no pointer is ever followed.
        snprintf(cwm_curl_failure_text, sizeof cwm_curl_failure_text,
                 "%s has no %s (a libcurl older than 7.56?)", file, missing);
        cwm_curl_failure = cwm_curl_failure_text;
    }
}

const char *cwm_curl_load(void) {
    pthread_once(&cwm_curl_once, cwm_curl_open);
    return cwm_curl_failure;
}

CWM_HIDDEN CURLcode curl_global_init(long flags) {
    return cwm_curl_load() == NULL ? cwm_curl_real_curl_global_init(flags) : CURLE_FAILED_INIT;
}

CWM_HIDDEN CURL *curl_easy_init(void) {
    return cwm_curl_load() == NULL ? cwm_curl_real_curl_easy_init() : NULL;
}

CWM_HIDDEN const char *curl_easy_strerror(CURLcode code) {
    return cwm_curl_load() == NULL ? cwm_curl_real_curl_easy_strerror(code) : "libcurl is not loaded";
}

CWM_HIDDEN struct curl_slist *curl_slist_append(struct curl_slist *list, const char *text) {
    return cwm_curl_load() == NULL ? cwm_curl_real_curl_slist_append(list, text) : NULL;
}

// Without libcurl no list was ever made, so there is nothing to free.
CWM_HIDDEN void curl_slist_free_all(struct curl_slist *list) {
    if (cwm_curl_load() == NULL) cwm_curl_real_curl_slist_free_all(list);
}

CWM_HIDDEN curl_version_info_data *curl_version_info(CURLversion version) {
    return cwm_curl_load() == NULL ? cwm_curl_real_curl_version_info(version) : NULL;
}
