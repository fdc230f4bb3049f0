/* <linux/cdev.h>: provided by kh/prelude.h. */
