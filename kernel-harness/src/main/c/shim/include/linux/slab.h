/* <linux/slab.h>: provided by kh/prelude.h. */
