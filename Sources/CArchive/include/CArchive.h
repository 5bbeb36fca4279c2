// libarchive's API as cwmigrate calls it. The library itself is not linked: it is opened
// with dlopen on first use (see loader.c), so commands that never read or write an archive
// do not pay for loading it and the libxml2, ICU and libstdc++ it brings along.
#ifndef CWMIGRATE_CARCHIVE_H
#define CWMIGRATE_CARCHIVE_H

#include <archive.h>
#include <archive_entry.h>

/// The file name dlopen is given: the soname of the libarchive the headers describe.
#define CWM_LIBARCHIVE_SONAME "libarchive.so.13"

/// Loads libarchive once per process (later calls return the first call's result).
/// Returns NULL when it is loaded, else why it could not be (dlerror's words).
const char *cwm_archive_load(void);

#endif
