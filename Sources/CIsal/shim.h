// ISA-L's igzip: inflate with the gzip CRC-32 folded in (carry-less multiplication), about
// twice zlib's pace, so verifying a gzip backup is no longer bound by one thread's inflate.
#include <isa-l/igzip_lib.h>
