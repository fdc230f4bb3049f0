/* <linux/sched.h>: provided by kh/prelude.h. */
