/* <linux/miscdevice.h>: provided by kh/prelude.h. */
