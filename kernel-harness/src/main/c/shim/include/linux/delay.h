/* <linux/delay.h>: provided by kh/prelude.h. */
