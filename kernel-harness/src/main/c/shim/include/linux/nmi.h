/* <linux/nmi.h>: provided by kh/prelude.h. */
