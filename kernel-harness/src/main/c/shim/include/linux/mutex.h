/* <linux/mutex.h>: provided by kh/prelude.h. */
