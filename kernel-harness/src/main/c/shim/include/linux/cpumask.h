/* <linux/cpumask.h>: provided by kh/prelude.h. */
