#include <archive.h>
#include <archive_entry.h>
// zlib, so ArchiveInspect can check the gzip CRC-32 that libarchive does not verify.
#include <zlib.h>
