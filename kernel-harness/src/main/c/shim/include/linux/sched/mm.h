/* <linux/sched/mm.h>: provided by kh/prelude.h. */
