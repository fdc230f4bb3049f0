/* <linux/compiler_attributes.h>: provided by kh/prelude.h. */
