/* <linux/types.h>: provided by kh/prelude.h. */
