/* <linux/fs.h>: provided by kh/prelude.h. */
