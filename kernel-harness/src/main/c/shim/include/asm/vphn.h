/* <asm/vphn.h>: provided by kh/prelude.h. */
