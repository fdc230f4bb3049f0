/*
 * The kernel's locks on the machine's terms.
 *
 * A sleeping lock (struct mutex, rw_semaphore) lives in the kernel struct's opaque area; all-zero is an
 * unlocked lock, so static DEFINE_MUTEX and kzalloc'ed structs need no initialisation call. A task that
 * finds it taken emits lock_contended[<name>] (Linux's contention tracepoint, named after the lock as
 * lockdep names it), gives its vCPU back, sleeps until the lock is free, takes the lock, then takes a vCPU
 * again. A spinlock keeps the waiter's vCPU, as a spinning CPU does.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "kh_internal.h"

struct sleeping_lock {
	pthread_mutex_t m;
	pthread_cond_t cv;
	int writer;               /* 1 while held exclusively (a mutex is always exclusive) */
	int readers;
	struct kh_task *owner;    /* the exclusive holder */
};
_Static_assert(sizeof(struct sleeping_lock) <= sizeof(struct kh_lock_area), "kh_lock_area too small");

struct spin_lock {
	pthread_mutex_t m;
	struct kh_task *owner;
};
_Static_assert(sizeof(struct spin_lock) <= sizeof(struct kh_lock_area), "kh_lock_area too small");

struct waitq {
	pthread_mutex_t m;
	pthread_cond_t cv;
};
_Static_assert(sizeof(struct waitq) <= sizeof(struct kh_waitq), "kh_waitq too small");

/* glibc's static initialisers are all-zero bits, which is what a zeroed area holds. */
_Static_assert(sizeof(pthread_mutex_t) == 40, "expected glibc x86-64 pthread_mutex_t");

static int can_take(struct sleeping_lock *s, int write)
{
	return write ? !s->writer && s->readers == 0 : !s->writer;
}

static void take(struct sleeping_lock *s, int write)
{
	if (write) {
		s->writer = 1;
		s->owner = kh_task_self();
	} else {
		s->readers++;
	}
}

static void down(struct kh_lock_area *area, const char *name, int write, const char *site)
{
	struct sleeping_lock *s = (struct sleeping_lock *)area;
	struct kh_task *t = kh_task_self();
	if (!t || t->vcpu < 0)
		kh_panic("lock %s taken outside a task (at %s)", name ? name : "?", site ? site : "?");
	kh_might_resched(site);   /* mutex_lock and down_* begin with might_sleep() */
	pthread_mutex_lock(&s->m);
	if (s->writer && s->owner == t)
		kh_panic("task %s takes lock %s it already holds (at %s)", t->comm, name ? name : "?", site ? site : "?");
	if (can_take(s, write)) {
		take(s, write);
		pthread_mutex_unlock(&s->m);
		return;
	}
	char holder[KH_TASK_COMM_LEN + 16];
	snprintf(holder, sizeof(holder), "%s", s->writer && s->owner ? s->owner->comm : "readers");
	pthread_mutex_unlock(&s->m);

	kh_tracepoint(name ? name : "lock", "%s waits in %s, held by %s", t->comm, site ? site : "?", holder);
	kh_vcpu_give();
	pthread_mutex_lock(&s->m);
	while (!can_take(s, write))
		pthread_cond_wait(&s->cv, &s->m);
	take(s, write);
	pthread_mutex_unlock(&s->m);
	kh_vcpu_take();
}

static void up(struct kh_lock_area *area, int write)
{
	struct sleeping_lock *s = (struct sleeping_lock *)area;
	pthread_mutex_lock(&s->m);
	if (write) {
		if (!s->writer)
			kh_panic("unlock of a lock that is not held");
		s->writer = 0;
		s->owner = NULL;
	} else {
		if (s->readers <= 0)
			kh_panic("read-unlock of a lock that is not read-held");
		s->readers--;
	}
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->m);
}

/* The tracepoint name is lock_contended[<lock>]; down() gets it ready-made. */
static const char *contended_name(const char *lock, char *buf, size_t size)
{
	snprintf(buf, size, "lock_contended[%s]", lock && lock[0] ? lock : "?");
	return buf;
}

void kh_mutex_lock(struct kh_lock_area *l, const char *name, const char *site)
{
	char tp[96];
	down(l, contended_name(name, tp, sizeof(tp)), 1, site);
}

int kh_mutex_trylock(struct kh_lock_area *l)
{
	struct sleeping_lock *s = (struct sleeping_lock *)l;
	pthread_mutex_lock(&s->m);
	int ok = can_take(s, 1);
	if (ok)
		take(s, 1);
	pthread_mutex_unlock(&s->m);
	return ok;
}

void kh_mutex_unlock(struct kh_lock_area *l, const char *name)
{
	(void)name;
	up(l, 1);
}

int kh_mutex_is_locked(struct kh_lock_area *l)
{
	struct sleeping_lock *s = (struct sleeping_lock *)l;
	pthread_mutex_lock(&s->m);
	int locked = s->writer;
	pthread_mutex_unlock(&s->m);
	return locked;
}

void kh_rw_down(struct kh_lock_area *l, const char *name, int write, const char *site)
{
	char tp[96];
	down(l, contended_name(name, tp, sizeof(tp)), write, site);
}

void kh_rw_up(struct kh_lock_area *l, int write)
{
	up(l, write);
}

void kh_spin_lock(struct kh_lock_area *l)
{
	struct spin_lock *s = (struct spin_lock *)l;
	struct kh_task *t = kh_task_self();
	if (!t || t->vcpu < 0)
		kh_panic("spinlock taken outside a task");
	pthread_mutex_lock(&s->m);
	s->owner = t;
}

int kh_spin_trylock(struct kh_lock_area *l)
{
	struct spin_lock *s = (struct spin_lock *)l;
	if (pthread_mutex_trylock(&s->m) != 0)
		return 0;
	s->owner = kh_task_self();
	return 1;
}

void kh_spin_unlock(struct kh_lock_area *l)
{
	struct spin_lock *s = (struct spin_lock *)l;
	s->owner = NULL;
	pthread_mutex_unlock(&s->m);
}

void kh_wait_until(struct kh_waitq *q, int (*cond)(void *), void *arg, const char *site)
{
	struct waitq *w = (struct waitq *)q;
	kh_might_resched(site);   /* wait_for_completion and wait_event begin with might_sleep() */
	pthread_mutex_lock(&w->m);
	if (cond(arg)) {
		pthread_mutex_unlock(&w->m);
		return;
	}
	pthread_mutex_unlock(&w->m);
	kh_vcpu_give();
	pthread_mutex_lock(&w->m);
	while (!cond(arg))
		pthread_cond_wait(&w->cv, &w->m);
	pthread_mutex_unlock(&w->m);
	kh_vcpu_take();
}

void kh_wake_all(struct kh_waitq *q, void (*update)(void *), void *arg)
{
	struct waitq *w = (struct waitq *)q;
	pthread_mutex_lock(&w->m);
	if (update)
		update(arg);
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->m);
}
