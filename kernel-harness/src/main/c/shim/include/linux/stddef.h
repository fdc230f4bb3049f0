/* <linux/stddef.h>: provided by kh/prelude.h. */
