/* <asm/barrier.h>: provided by kh/prelude.h. */
