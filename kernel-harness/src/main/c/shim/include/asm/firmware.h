/* <asm/firmware.h>: provided by kh/prelude.h. */
