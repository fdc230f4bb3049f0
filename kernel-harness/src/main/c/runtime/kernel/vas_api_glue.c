/*
 * Linux's vas-api.c (the /dev/crypto/nx-gzip character device), compiled here unmodified, plus one accessor:
 * the send window of an open file (its struct coproc_instance is private to the file).
 */
#include "arch/powerpc/platforms/book3s/vas-api.c"
