/* <linux/kobject.h>: provided by kh/prelude.h. */
