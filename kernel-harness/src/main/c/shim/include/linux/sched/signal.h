/* <linux/sched/signal.h>: provided by kh/prelude.h. */
