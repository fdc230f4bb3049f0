/* <linux/spinlock.h>: provided by kh/prelude.h. */
