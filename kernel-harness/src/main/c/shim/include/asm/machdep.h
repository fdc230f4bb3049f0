/* <asm/machdep.h>: provided by kh/prelude.h. */
