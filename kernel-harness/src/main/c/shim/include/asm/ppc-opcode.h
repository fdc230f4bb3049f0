/*
 * <asm/ppc-opcode.h>: only what the VAS files use. The guest does not run POWER instructions: CP_ABORT
 * (issued after a window open) is an empty statement, and icswx (never used on pseries) would trap.
 * The paste instruction's encoding is the ISA's; vas-api.c's fault handler checks a faulting instruction
 * word against it, and the runtime's synthetic paste fault presents such a word.
 */
#define PPC_CP_ABORT ""
#define PPC_ICSWX(s, a, b) "ud2"
#define PPC_INST_PASTE 0x7c20070d
#define PPC_INST_PASTE_MASK 0xfc2007ff
