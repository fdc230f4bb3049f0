/* <linux/completion.h>: provided by kh/prelude.h. */
