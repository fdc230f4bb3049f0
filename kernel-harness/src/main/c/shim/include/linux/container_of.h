/* <linux/container_of.h>: provided by kh/prelude.h. */
