/*
 * <asm/hvcall.h>: the kernel's own header (opcodes, return codes, VASI states, get_longbusy_msecs), then
 * the hcall entry points as macros that also pass the argument count: the kernel's plpar_hcall* are
 * variadic with the count implied by the opcode, which a userspace transport cannot know.
 */
#include_next <asm/hvcall.h>
#ifndef KH_ASM_HVCALL_H
#define KH_ASM_HVCALL_H

#define __KH_NARGS(...) __KH_NARGS_(, ##__VA_ARGS__, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define __KH_NARGS_(_0, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, n, ...) n

long kh_plpar_hcall(unsigned long opcode, int nrets, unsigned long *rets, int nargs, ...);
#define plpar_hcall_norets(opcode, ...) \
	kh_plpar_hcall((opcode), 0, (unsigned long *)0, __KH_NARGS(__VA_ARGS__), ##__VA_ARGS__)
#define plpar_hcall_norets_notrace(opcode, ...) plpar_hcall_norets(opcode, ##__VA_ARGS__)
#define plpar_hcall(opcode, retbuf, ...) \
	kh_plpar_hcall((opcode), PLPAR_HCALL_BUFSIZE, (unsigned long *)(retbuf), __KH_NARGS(__VA_ARGS__), ##__VA_ARGS__)
#define plpar_hcall_raw(opcode, retbuf, ...) plpar_hcall(opcode, retbuf, ##__VA_ARGS__)
#define plpar_hcall9(opcode, retbuf, ...) \
	kh_plpar_hcall((opcode), PLPAR_HCALL9_BUFSIZE, (unsigned long *)(retbuf), __KH_NARGS(__VA_ARGS__), ##__VA_ARGS__)
#define plpar_hcall9_raw(opcode, retbuf, ...) plpar_hcall9(opcode, retbuf, ##__VA_ARGS__)

/* Emulator-private: a user-space paste to a mapped window (see the daemon's NxHcalls). */
#define H_LPAREMU_NX_PASTE 0xF100

#endif
