/* <linux/time.h>: provided by kh/prelude.h. */
