/*
 * Linux's vas-api.c (the /dev/crypto/nx-gzip character device), compiled here unmodified, plus one accessor:
 * the send window of an open file (its struct coproc_instance is private to the file).
 */
#include "arch/powerpc/platforms/book3s/vas-api.c"

#include "k_internal.h"

struct vas_window *kh_file_txwin(struct file *fp)
{
	struct coproc_instance *cp_inst = fp->private_data;
	return cp_inst ? cp_inst->txwin : NULL;
}
