/* <linux/stat.h>: provided by kh/prelude.h. */
