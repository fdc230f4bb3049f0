/*
 * <asm/plpar_wrappers.h>: the hcall entry points come from the shim's asm/hvcall.h. The VPHN flag values
 * (PAPR H_HOME_NODE_ASSOCIATIVITY: 1 = the id is a vCPU, 2 = a physical processor) live here because 6.1's
 * vas.c reaches them through this header (6.12 also includes asm/vphn.h, a stub).
 */
#include <asm/hvcall.h>
#ifndef VPHN_FLAG_VCPU
#define VPHN_FLAG_VCPU 1
#define VPHN_FLAG_PCPU 2
#endif
