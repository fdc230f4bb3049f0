/* <linux/smp.h>: provided by kh/prelude.h. The kernel reaches the hcall ABI through it (asm/smp.h, paca.h, lppaca.h). */
#include <asm/hvcall.h>
