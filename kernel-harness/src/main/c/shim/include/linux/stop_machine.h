/* <linux/stop_machine.h>: provided by kh/prelude.h. */
