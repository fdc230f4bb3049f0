/* <asm/page.h>: provided by kh/prelude.h. */
