/* <linux/stringify.h>: provided by kh/prelude.h. */
