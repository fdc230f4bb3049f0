/* <linux/spinlock_types.h>: provided by kh/prelude.h. */
