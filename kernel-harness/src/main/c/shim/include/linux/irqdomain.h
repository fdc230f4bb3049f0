/* <linux/irqdomain.h>: provided by kh/prelude.h. */
