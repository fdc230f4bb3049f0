/*
 * The default message prefix. Kernel files define pr_fmt before their first #include; the prelude is read
 * before that, so the default is set by the shim headers those files include, as the kernel's printk.h does.
 */
#ifndef pr_fmt
#define pr_fmt(fmt) fmt
#endif
