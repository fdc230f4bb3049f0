/* <linux/interrupt.h>: provided by kh/prelude.h. */
