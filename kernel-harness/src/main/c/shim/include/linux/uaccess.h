/* <linux/uaccess.h>: provided by kh/prelude.h. */
