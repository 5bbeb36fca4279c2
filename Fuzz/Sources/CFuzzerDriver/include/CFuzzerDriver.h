#ifndef CFUZZERDRIVER_H
#define CFUZZERDRIVER_H
#include <stddef.h>
#include <stdint.h>

/* libFuzzer's entry for programs that keep their own main: SwiftPM renames every
   executable's main, so libFuzzer's main is never linked and each target calls this. */
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*test_one_input)(const uint8_t *data, size_t size));

#endif
