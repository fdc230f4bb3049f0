/* <linux/mm.h>: provided by kh/prelude.h. */
