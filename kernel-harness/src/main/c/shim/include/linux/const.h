/* <linux/const.h>: provided by kh/prelude.h. */
