// glibc's spawn calls that Swift's Glibc module hides (they need _GNU_SOURCE / _DEFAULT_SOURCE):
// DockerOps starts the installer and compose with them instead of Foundation's Process.
// All are in glibc since 2.34; Debian 12 has 2.36.
#include <spawn.h>
int pipe2(int pipefd[2], int flags);
int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *actions, const char *path);
int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);
