/* <linux/mmu_context.h>: provided by kh/prelude.h. */
