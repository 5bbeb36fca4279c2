// libarchive, opened with dlopen on first use instead of being a NEEDED library of the
// executable. Every libarchive function the Swift code calls is defined here under its own
// name: the few that create something (archive_read_new, archive_write_new, …) and the
// version queries load the library first and return NULL when it cannot be loaded (the
// Swift side then asks cwm_archive_load why); every other one is a jump through a pointer
// that loading fills. Those others take an archive or an entry, which only a creating
// function hands out, so they never run before loading.
#include "CArchive.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

// Functions whose first argument is an archive or an entry: reached through a pointer.
#define CWM_ARCHIVE_FORWARDED(X) \
    X(archive_entry_copy_hardlink) X(archive_entry_copy_pathname) X(archive_entry_copy_symlink) \
    X(archive_entry_filetype) X(archive_entry_free) X(archive_entry_hardlink) X(archive_entry_hardlink_utf8) \
    X(archive_entry_mtime) X(archive_entry_pathname) X(archive_entry_pathname_utf8) \
    X(archive_entry_set_filetype) X(archive_entry_set_gid) X(archive_entry_set_mode) X(archive_entry_set_mtime) \
    X(archive_entry_set_pathname) X(archive_entry_set_perm) X(archive_entry_set_rdev) X(archive_entry_set_size) \
    X(archive_entry_set_uid) X(archive_entry_size) X(archive_entry_size_is_set) X(archive_entry_symlink) \
    X(archive_entry_symlink_utf8) X(archive_errno) X(archive_error_string) X(archive_filter_bytes) \
    X(archive_filter_code) X(archive_filter_count) X(archive_filter_name) X(archive_format) \
    X(archive_format_name) X(archive_read_data) X(archive_read_data_block) X(archive_read_data_skip) \
    X(archive_read_free) X(archive_read_next_header) X(archive_read_open1) X(archive_read_open_filename) \
    X(archive_read_set_callback_data) X(archive_read_set_read_callback) X(archive_read_set_skip_callback) \
    X(archive_read_support_filter_all) X(archive_read_support_filter_bzip2) \
    X(archive_read_support_filter_compress) X(archive_read_support_filter_gzip) \
    X(archive_read_support_filter_lz4) X(archive_read_support_filter_lzip) X(archive_read_support_filter_lzma) \
    X(archive_read_support_filter_lzop) X(archive_read_support_filter_xz) X(archive_read_support_filter_zstd) \
    X(archive_read_support_format_all) X(archive_read_support_format_gnutar) \
    X(archive_read_support_format_tar) X(archive_write_add_filter_bzip2) \
    X(archive_write_add_filter_compress) X(archive_write_add_filter_gzip) X(archive_write_add_filter_lz4) \
    X(archive_write_add_filter_lzip) X(archive_write_add_filter_lzma) X(archive_write_add_filter_lzop) \
    X(archive_write_add_filter_none) X(archive_write_add_filter_xz) X(archive_write_add_filter_zstd) \
    X(archive_write_close) X(archive_write_data) X(archive_write_data_block) X(archive_write_disk_set_options) \
    X(archive_write_finish_entry) X(archive_write_free) X(archive_write_header) X(archive_write_open_fd) \
    X(archive_write_open_filename) X(archive_write_set_filter_option) X(archive_write_set_format_option) \
    X(archive_write_set_format_pax_restricted)

// Functions that need no archive: they load the library, so they are written out in C below.
#define CWM_ARCHIVE_LOADING(X) \
    X(archive_read_new) X(archive_write_new) X(archive_write_disk_new) X(archive_entry_new) \
    X(archive_version_string) X(archive_version_details)

// A forwarded function reached before loading is a bug in cwmigrate, not a host's problem.
__attribute__((noreturn, used)) static void cwm_archive_unloaded(void) {
    fputs("cwmigrate: internal error: a libarchive function was called before libarchive was loaded\n", stderr);
    abort();
}

#define CWM_HIDDEN __attribute__((visibility("hidden")))

#define CWM_POINTER(name) \
    CWM_HIDDEN void *cwm_archive_fn_##name = (void *)cwm_archive_unloaded;
CWM_ARCHIVE_FORWARDED(CWM_POINTER)

// Each forwarded name is a jump through its pointer, so arguments and results pass untouched
// whatever their types. Hidden, so the executable does not export them and libarchive's own
// calls between its functions still bind to libarchive.
#if defined(__x86_64__)
#define CWM_TRAMPOLINE(name) \
    __asm__(".text\n.globl " #name "\n.hidden " #name "\n.type " #name ",@function\n.p2align 4\n" #name ":\n" \
            "\tjmp *cwm_archive_fn_" #name "(%rip)\n.size " #name ", .-" #name "\n");
#elif defined(__aarch64__)
#define CWM_TRAMPOLINE(name) \
    __asm__(".text\n.globl " #name "\n.hidden " #name "\n.type " #name ",%function\n.p2align 2\n" #name ":\n" \
            "\tadrp x16, cwm_archive_fn_" #name "\n\tldr x16, [x16, :lo12:cwm_archive_fn_" #name "]\n" \
            "\tbr x16\n.size " #name ", .-" #name "\n");
#else
#error "CArchive's trampolines are written for x86_64 and aarch64 only"
#endif
CWM_ARCHIVE_FORWARDED(CWM_TRAMPOLINE)

#define CWM_LOADING_POINTER(name) static __typeof__(&name) cwm_archive_real_##name;
CWM_ARCHIVE_LOADING(CWM_LOADING_POINTER)

static pthread_once_t cwm_archive_once = PTHREAD_ONCE_INIT;
static const char *cwm_archive_failure;
static char cwm_archive_failure_text[512];

static void cwm_archive_open(void) {
    void *library = dlopen(CWM_LIBARCHIVE_SONAME, RTLD_LAZY | RTLD_LOCAL);
    if (library == NULL) {
        const char *reason = dlerror();
        snprintf(cwm_archive_failure_text, sizeof cwm_archive_failure_text, "%s",
                 reason != NULL ? reason : CWM_LIBARCHIVE_SONAME ": cannot be loaded");
        cwm_archive_failure = cwm_archive_failure_text;
        return;
    }
    const char *missing = NULL;
#define CWM_RESOLVE(name) \
    if ((cwm_archive_fn_##name = dlsym(library, #name)) == NULL && missing == NULL) missing = #name;
    CWM_ARCHIVE_FORWARDED(CWM_RESOLVE)
#define CWM_RESOLVE_LOADING(name) \
    if ((cwm_archive_real_##name = (__typeof__(&name))dlsym(library, #name)) == NULL && missing == NULL) \
        missing = #name;
    CWM_ARCHIVE_LOADING(CWM_RESOLVE_LOADING)
    if (missing != NULL) {
        snprintf(cwm_archive_failure_text, sizeof cwm_archive_failure_text,
                 CWM_LIBARCHIVE_SONAME " has no %s (a libarchive older than 3.6?)", missing);
        cwm_archive_failure = cwm_archive_failure_text;
    }
}

const char *cwm_archive_load(void) {
    pthread_once(&cwm_archive_once, cwm_archive_open);
    return cwm_archive_failure;
}

CWM_HIDDEN struct archive *archive_read_new(void) {
    return cwm_archive_load() == NULL ? cwm_archive_real_archive_read_new() : NULL;
}

CWM_HIDDEN struct archive *archive_write_new(void) {
    return cwm_archive_load() == NULL ? cwm_archive_real_archive_write_new() : NULL;
}

CWM_HIDDEN struct archive *archive_write_disk_new(void) {
    return cwm_archive_load() == NULL ? cwm_archive_real_archive_write_disk_new() : NULL;
}

CWM_HIDDEN struct archive_entry *archive_entry_new(void) {
    return cwm_archive_load() == NULL ? cwm_archive_real_archive_entry_new() : NULL;
}

CWM_HIDDEN const char *archive_version_string(void) {
    return cwm_archive_load() == NULL ? cwm_archive_real_archive_version_string() : NULL;
}

CWM_HIDDEN const char *archive_version_details(void) {
    return cwm_archive_load() == NULL ? cwm_archive_real_archive_version_details() : NULL;
}
