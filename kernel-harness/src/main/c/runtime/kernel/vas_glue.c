/*
 * Linux's vas.c, compiled here unmodified (#include of the kernel's own file), plus what the harness needs to
 * read its static state: the credit counters and window list of each type, for the GuestReport and the
 * scenarios' window bits. Nothing below changes vas.c's behaviour; every read takes vas_pseries_mutex, as the
 * kernel's own readers of the list do.
 */
#include "arch/powerpc/platforms/pseries/vas.c"
