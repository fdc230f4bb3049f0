/* <linux/kthread.h>: provided by kh/prelude.h. */
