/* <linux/io.h>: provided by kh/prelude.h. */
