/*
 * Memory, text and time for the kernel side: allocation with the alignment PAPR buffers need, a printf
 * that understands the kernel's %p extensions, the console, and panics.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kh_internal.h"

/* ---- memory ----------------------------------------------------------------------------------------- */

void *kh_alloc(unsigned long size, int zero)
{
	size_t align = 16;
	if (size >= 4096)
		align = 4096;
	else if (size && (size & (size - 1)) == 0 && size > 16)
		align = size;
	size_t rounded = (size + align - 1) / align * align;
	void *p = aligned_alloc(align, rounded ? rounded : align);
	if (p && zero)
		memset(p, 0, rounded ? rounded : align);
	return p;
}

void kh_free(const void *p)
{
	free((void *)p);
}

unsigned long kh_strlen(const char *s)
{
	return strlen(s);
}

unsigned long long kh_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
}

/* ---- formatting ------------------------------------------------------------------------------------- */

/*
 * vsnprintf with the kernel's conventions: "%p" followed by letters is an extension; "%pOF..." prints a
 * device-tree node's full path; other extensions print the pointer. Standard conversions are handed to
 * the C library one at a time, with the argument of the right type.
 */
int kh_vsnprintf(char *buf, unsigned long size, const char *fmt, va_list ap)
{
	size_t n = 0;
#define PUT(s, len) do { size_t _l = (len); if (n < size) memcpy(buf + n, (s), n + _l < size ? _l : size - n); n += _l; } while (0)
	const char *p = fmt;
	while (*p) {
		if (*p != '%') {
			const char *q = strchr(p, '%');
			size_t len = q ? (size_t)(q - p) : strlen(p);
			PUT(p, len);
			p += len;
			continue;
		}
		if (p[1] == '%') {
			PUT("%", 1);
			p += 2;
			continue;
		}
		/* One conversion: head is '%' with its flags, width and precision ('*' kept); then the length
		 * modifiers and the specifier, which decide the argument's type. */
		char head[32];
		size_t hl = 0;
		head[hl++] = *p++;
		while (*p && strchr("-+ #0", *p) && hl < 8)
			head[hl++] = *p++;
		int star_w = 0, star_p = 0, wv = 0, pv = 0;
		if (*p == '*') {
			star_w = 1;
			head[hl++] = *p++;
		} else {
			while (isdigit((unsigned char)*p) && hl < 16)
				head[hl++] = *p++;
		}
		if (*p == '.') {
			head[hl++] = *p++;
			if (*p == '*') {
				star_p = 1;
				head[hl++] = *p++;
			} else {
				while (isdigit((unsigned char)*p) && hl < 24)
					head[hl++] = *p++;
			}
		}
		head[hl] = 0;
		if (star_w)
			wv = va_arg(ap, int);
		if (star_p)
			pv = va_arg(ap, int);
		int lng = 0;    /* 0 int, 1 long, 2 long long, 3 size_t / ptrdiff_t, -1 short, -2 char */
		for (;;) {
			if (*p == 'l') lng = lng == 1 ? 2 : 1;
			else if (*p == 'h') lng = lng == -1 ? -2 : -1;
			else if (*p == 'z' || *p == 't') lng = 3;
			else if (*p == 'j' || *p == 'L' || *p == 'q') lng = 2;
			else break;
			p++;
		}
		char conv = *p ? *p++ : 0;
		char f2[48];
		char tmp[512];
		int len = 0;
#define EMIT(value) (star_w && star_p ? snprintf(tmp, sizeof(tmp), f2, wv, pv, value) \
		     : star_w ? snprintf(tmp, sizeof(tmp), f2, wv, value) \
		     : star_p ? snprintf(tmp, sizeof(tmp), f2, pv, value) : snprintf(tmp, sizeof(tmp), f2, value))
		switch (conv) {
		case 'd': case 'i': {
			long long v = lng == 2 ? va_arg(ap, long long) : lng == 1 || lng == 3 ? va_arg(ap, long) : va_arg(ap, int);
			if (lng == -1)
				v = (short)v;
			else if (lng == -2)
				v = (signed char)v;
			snprintf(f2, sizeof(f2), "%slld", head);
			len = EMIT(v);
			break;
		}
		case 'u': case 'x': case 'X': case 'o': {
			unsigned long long v = lng == 2 ? va_arg(ap, unsigned long long)
					     : lng == 1 || lng == 3 ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int);
			if (lng == -1)
				v = (unsigned short)v;
			else if (lng == -2)
				v = (unsigned char)v;
			snprintf(f2, sizeof(f2), "%sll%c", head, conv);
			len = EMIT(v);
			break;
		}
		case 'c': {
			int v = va_arg(ap, int);
			snprintf(f2, sizeof(f2), "%sc", head);
			len = EMIT(v);
			break;
		}
		case 's': {
			const char *v = va_arg(ap, const char *);
			snprintf(f2, sizeof(f2), "%ss", head);
			len = EMIT(v ? v : "(null)");
			break;
		}
		case 'p': {
			void *v = va_arg(ap, void *);
			if (p[0] == 'O' && p[1] == 'F') {
				p += 2;
				while (*p && strchr("fnpPcCF", *p))
					p++;
				len = snprintf(tmp, sizeof(tmp), "%s", kh_of_node_path(v));
			} else {
				while (isalnum((unsigned char)*p))
					p++;
				len = snprintf(tmp, sizeof(tmp), "0x%lx", (unsigned long)(uintptr_t)v);
			}
			break;
		}
		default:
			len = snprintf(tmp, sizeof(tmp), "%s%c", head, conv);
			break;
		}
#undef EMIT
		if (len > (int)sizeof(tmp) - 1)
			len = sizeof(tmp) - 1;
		PUT(tmp, (size_t)(len < 0 ? 0 : len));
	}
	if (size)
		buf[n < size ? n : size - 1] = 0;
	return (int)n;
#undef PUT
}

int kh_snprintf(char *buf, unsigned long size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kh_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* ---- the console ------------------------------------------------------------------------------------ */

static pthread_mutex_t console_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long long boot_ns;

static void console_line(int level, const char *text)
{
	if (!boot_ns)
		boot_ns = kh_now_ns();
	double t = (kh_now_ns() - boot_ns) / 1e9;
	struct kh_task *task = kh_task_self();
	pthread_mutex_lock(&console_lock);
	if (task && task->vcpu >= 0)
		fprintf(stderr, "[%10.6f] <%d> %s/%d: %s", t, level, task->comm, task->vcpu, text);
	else
		fprintf(stderr, "[%10.6f] <%d> %s: %s", t, level, task ? task->comm : "host", text);
	size_t len = strlen(text);
	if (!len || text[len - 1] != '\n')
		fputc('\n', stderr);
	fflush(stderr);
	pthread_mutex_unlock(&console_lock);
}

void kh_vprintk(int level, const char *fmt, va_list ap)
{
	if (level == 7 && !kh_verbose())
		return;
	char text[1024];
	kh_vsnprintf(text, sizeof(text), fmt, ap);
	console_line(level ? level : 4, text);
}

void kh_console(const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	console_line(4, text);
}

void kh_panic(const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	fprintf(stderr, "kharness: PANIC: %s\n", text);
	fflush(stderr);
	_exit(70);
}
