/* <linux/of.h>: provided by kh/prelude.h. */
