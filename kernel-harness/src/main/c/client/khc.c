/*
 * khc: lparemu's guest-port protocol on protobuf-c. See khc.h for the contract.
 *
 * Design: one socket; writers serialize on write_lock and send whole frames (varint length + GuestFrame);
 * the reader thread parses HostFrames and either completes the pending call with that call_id, hands an
 * event to the handler, or, on ProtocolError / EOF / a malformed frame, marks the connection dead and
 * fails every pending call. Pending calls live in a list guarded by lock; each waits on its own condvar.
 */
#define _GNU_SOURCE
#include "khc.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "lparemu/v1/guest.pb-c.h"

#define KHC_PROTOCOL_VERSION 1
#define KHC_DEFAULT_MAX_FRAME (4u << 20)

struct pending {
	uint64_t call_id;
	int kind;                      /* 1 hcall, 2 rtas */
	int done;
	int status;                    /* KHC_OK / KHC_ERR_* */
	struct khc_hcall_result *hr;
	struct khc_rtas_result *rr;
	pthread_cond_t cv;
	struct pending *next;
};

struct queued_event {
	struct khc_event e;
	struct queued_event *next;
};

struct khc {
	int fd;
	uint32_t max_frame;
	pthread_t reader;
	int reader_started;

	pthread_mutex_t write_lock;   /* one frame at a time on the socket */

	pthread_mutex_t lock;         /* guards everything below */
	pthread_cond_t welcome_cv;
	int welcomed;
	int dead;                     /* no more calls: ProtocolError, EOF, close */
	char error[512];
	uint64_t next_call_id;
	struct pending *pending;
	khc_event_fn event_fn;
	void *event_ctx;
	khc_dead_fn dead_fn;
	void *dead_ctx;
	struct queued_event *early_events, **early_tail;
	Lparemu__V1__Welcome *welcome; /* owned: unpacked HostFrame kept for the device tree */
	Lparemu__V1__HostFrame *welcome_frame;
};

const char *khc_status_name(int status)
{
	switch (status) {
	case KHC_OK: return "OK";
	case KHC_ERR_CONNECT: return "CONNECT";
	case KHC_ERR_PROTOCOL: return "PROTOCOL_ERROR";
	case KHC_ERR_CLOSED: return "CLOSED";
	case KHC_ERR_REFUSED: return "REFUSED";
	case KHC_ERR_BAD_ARG: return "BAD_ARG";
	case KHC_ERR_MALFORMED: return "MALFORMED";
	case KHC_ERR_TIMEOUT: return "TIMEOUT";
	default: return "UNKNOWN";
	}
}

static const char *protocol_error_name(int code)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(&lparemu__v1__protocol_error__code__descriptor, code);
	return v ? v->name : "UNKNOWN";
}

static const char *refusal_name(int reason)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(&lparemu__v1__call_refused__reason__descriptor, reason);
	return v ? v->name : "UNKNOWN";
}

/* ---- socket I/O --------------------------------------------------------------------------------- */

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t r = recv(fd, p, n, 0);
		if (r == 0)
			return 0;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 1;
}

/* Sends one GuestFrame with its varint length prefix. */
static int send_frame(khc_t *c, const Lparemu__V1__GuestFrame *f)
{
	size_t len = lparemu__v1__guest_frame__get_packed_size(f);
	uint8_t stackbuf[512];
	uint8_t *buf = len + 10 <= sizeof(stackbuf) ? stackbuf : malloc(len + 10);
	if (!buf)
		return KHC_ERR_BAD_ARG;
	size_t n = 0;
	uint64_t v = len;
	do {
		uint8_t b = v & 0x7f;
		v >>= 7;
		buf[n++] = b | (v ? 0x80 : 0);
	} while (v);
	lparemu__v1__guest_frame__pack(f, buf + n);
	pthread_mutex_lock(&c->write_lock);
	int rc = write_all(c->fd, buf, n + len);
	pthread_mutex_unlock(&c->write_lock);
	if (buf != stackbuf)
		free(buf);
	return rc == 0 ? KHC_OK : KHC_ERR_CLOSED;
}

/* Reads one varint-delimited HostFrame; returns 1 with *out, 0 at EOF, negative on error. */
static int read_frame(khc_t *c, Lparemu__V1__HostFrame **out)
{
	uint64_t len = 0;
	for (int shift = 0;; shift += 7) {
		uint8_t b;
		int r = read_all(c->fd, &b, 1);
		if (r <= 0)
			return r == 0 && shift == 0 ? 0 : KHC_ERR_CLOSED;
		if (shift >= 35)
			return KHC_ERR_MALFORMED;
		len |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			break;
	}
	if (len > c->max_frame)
		return KHC_ERR_MALFORMED;
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf)
		return KHC_ERR_MALFORMED;
	int r = read_all(c->fd, buf, len);
	if (r <= 0) {
		free(buf);
		return KHC_ERR_CLOSED;
	}
	*out = lparemu__v1__host_frame__unpack(NULL, len, buf);
	free(buf);
	return *out ? 1 : KHC_ERR_MALFORMED;
}

/* ---- the reader --------------------------------------------------------------------------------- */

static void fail_all_locked(khc_t *c, int status, const char *fmt, ...)
{
	if (!c->dead) {
		c->dead = 1;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->error, sizeof(c->error), fmt, ap);
		va_end(ap);
	}
	for (struct pending *p = c->pending; p; p = p->next) {
		if (!p->done) {
			p->done = 1;
			p->status = status;
			pthread_cond_signal(&p->cv);
		}
	}
	pthread_cond_broadcast(&c->welcome_cv);
}

static struct pending *take_pending_locked(khc_t *c, uint64_t call_id)
{
	for (struct pending **pp = &c->pending; *pp; pp = &(*pp)->next) {
		if ((*pp)->call_id == call_id) {
			struct pending *p = *pp;
			*pp = p->next;
			return p;
		}
	}
	return NULL;
}

static void copy_refusal(struct khc_refusal *r, const Lparemu__V1__CallRefused *cr)
{
	r->reason = cr->reason;
	r->reason_name = refusal_name(cr->reason);
	r->vcpu = cr->vcpu;
	snprintf(r->in_call, sizeof(r->in_call), "%s", cr->in_call ? cr->in_call : "");
	r->busy_vcpu = cr->busy_vcpu;
	snprintf(r->message, sizeof(r->message), "%s", cr->message ? cr->message : "");
}

static void complete_locked(khc_t *c, const Lparemu__V1__HostFrame *f)
{
	uint64_t id = f->kind_case == LPAREMU__V1__HOST_FRAME__KIND_HCALL ? f->hcall->call_id
		    : f->kind_case == LPAREMU__V1__HOST_FRAME__KIND_RTAS ? f->rtas->call_id
		    : f->refused->call_id;
	struct pending *p = take_pending_locked(c, id);
	if (!p) {
		fprintf(stderr, "khc: reply for unknown call_id %llu ignored\n", (unsigned long long)id);
		return;
	}
	if (f->kind_case == LPAREMU__V1__HOST_FRAME__KIND_REFUSED) {
		copy_refusal(p->kind == 1 ? &p->hr->refused : &p->rr->refused, f->refused);
		p->status = KHC_ERR_REFUSED;
	} else if (f->kind_case == LPAREMU__V1__HOST_FRAME__KIND_HCALL && p->kind == 1) {
		const Lparemu__V1__HcallResponse *h = f->hcall;
		struct khc_hcall_result *r = p->hr;
		r->status = h->status;
		r->nrets = (int)(h->n_rets < KHC_MAX_RETS ? h->n_rets : KHC_MAX_RETS);
		for (int i = 0; i < r->nrets; i++)
			r->rets[i] = h->rets[i];
		r->out_len = h->buffer.len;
		if (r->out && h->buffer.len)
			memcpy(r->out, h->buffer.data, h->buffer.len < r->out_cap ? h->buffer.len : r->out_cap);
		p->status = KHC_OK;
	} else if (f->kind_case == LPAREMU__V1__HOST_FRAME__KIND_RTAS && p->kind == 2) {
		const Lparemu__V1__RtasResponse *q = f->rtas;
		struct khc_rtas_result *r = p->rr;
		r->status = q->status;
		r->nrets = (int)(q->n_rets < KHC_MAX_RETS ? q->n_rets : KHC_MAX_RETS);
		for (int i = 0; i < r->nrets; i++)
			r->rets[i] = q->rets[i];
		r->work_len = q->work_area.len;
		if (r->work_area && q->work_area.len)
			memcpy(r->work_area, q->work_area.data, q->work_area.len < r->work_cap ? q->work_area.len : r->work_cap);
		p->status = KHC_OK;
	} else {
		p->status = KHC_ERR_MALFORMED;
	}
	p->done = 1;
	pthread_cond_signal(&p->cv);
}

static void deliver_event_locked(khc_t *c, const Lparemu__V1__PlatformEvent *pe)
{
	struct khc_event e = { .id = pe->event_id, .kind = KHC_EVENT_UNKNOWN };
	switch (pe->kind_case) {
	case LPAREMU__V1__PLATFORM_EVENT__KIND_MIGRATION_REQUEST:
		e.kind = KHC_EVENT_MIGRATION;
		e.stream_id = pe->migration_request->stream_id;
		break;
	case LPAREMU__V1__PLATFORM_EVENT__KIND_PRRN:
		e.kind = KHC_EVENT_PRRN;
		e.scope = pe->prrn->scope;
		break;
	case LPAREMU__V1__PLATFORM_EVENT__KIND_DLPAR_CPU:
		e.kind = KHC_EVENT_DLPAR_CPU;
		e.add = pe->dlpar_cpu->action == LPAREMU__V1__DLPAR_ACTION__ADD;
		e.drc_index = pe->dlpar_cpu->drc_index;
		break;
	case LPAREMU__V1__PLATFORM_EVENT__KIND_QOS_CREDITS:
		e.kind = KHC_EVENT_QOS_CREDITS;
		e.credits = pe->qos_credits->credits;
		break;
	case LPAREMU__V1__PLATFORM_EVENT__KIND_REPORT_REQUEST:
		e.kind = KHC_EVENT_REPORT_REQUEST;
		break;
	default:
		break;
	}
	if (c->event_fn) {
		khc_event_fn fn = c->event_fn;
		void *ctx = c->event_ctx;
		pthread_mutex_unlock(&c->lock);
		fn(ctx, &e);
		pthread_mutex_lock(&c->lock);
		return;
	}
	struct queued_event *q = calloc(1, sizeof(*q));
	if (!q)
		return;
	q->e = e;
	*c->early_tail = q;
	c->early_tail = &q->next;
}

/* The connection died under the reader: tell the owner (once), outside the lock. */
static void notify_dead(khc_t *c, int status)
{
	pthread_mutex_lock(&c->lock);
	khc_dead_fn fn = c->dead_fn;
	void *ctx = c->dead_ctx;
	char why[sizeof(c->error)];
	snprintf(why, sizeof(why), "%s", c->error);
	int by_client = strstr(why, "closed by the client") != NULL;
	pthread_mutex_unlock(&c->lock);
	if (fn && !by_client)
		fn(ctx, status, why);
}

static void *reader_main(void *arg)
{
	khc_t *c = arg;
	for (;;) {
		Lparemu__V1__HostFrame *f = NULL;
		int r = read_frame(c, &f);
		pthread_mutex_lock(&c->lock);
		if (r <= 0) {
			int st = r == KHC_ERR_MALFORMED ? KHC_ERR_MALFORMED : KHC_ERR_CLOSED;
			if (r == KHC_ERR_MALFORMED)
				fail_all_locked(c, st, "MALFORMED: the daemon sent a frame that is not a HostFrame (or one over %u bytes)",
						c->max_frame);
			else
				fail_all_locked(c, st, "CLOSED: the daemon closed the connection");
			pthread_mutex_unlock(&c->lock);
			notify_dead(c, st);
			return NULL;
		}
		int keep = 0;
		switch (f->kind_case) {
		case LPAREMU__V1__HOST_FRAME__KIND_WELCOME:
			if (!c->welcomed) {
				c->welcome_frame = f;
				c->welcome = f->welcome;
				c->welcomed = 1;
				keep = 1;
				pthread_cond_broadcast(&c->welcome_cv);
			}
			break;
		case LPAREMU__V1__HOST_FRAME__KIND_HCALL:
		case LPAREMU__V1__HOST_FRAME__KIND_RTAS:
		case LPAREMU__V1__HOST_FRAME__KIND_REFUSED:
			complete_locked(c, f);
			break;
		case LPAREMU__V1__HOST_FRAME__KIND_EVENT:
			deliver_event_locked(c, f->event);
			break;
		case LPAREMU__V1__HOST_FRAME__KIND_ERROR:
			fail_all_locked(c, KHC_ERR_PROTOCOL, "%s: %s", protocol_error_name(f->error->code),
					f->error->message ? f->error->message : "");
			pthread_mutex_unlock(&c->lock);
			lparemu__v1__host_frame__free_unpacked(f, NULL);
			notify_dead(c, KHC_ERR_PROTOCOL);
			return NULL;
		default:
			fail_all_locked(c, KHC_ERR_MALFORMED, "MALFORMED: a HostFrame with no known kind (%d)", f->kind_case);
			pthread_mutex_unlock(&c->lock);
			lparemu__v1__host_frame__free_unpacked(f, NULL);
			notify_dead(c, KHC_ERR_MALFORMED);
			return NULL;
		}
		pthread_mutex_unlock(&c->lock);
		if (!keep)
			lparemu__v1__host_frame__free_unpacked(f, NULL);
	}
}

/* ---- connect and close -------------------------------------------------------------------------- */

static int open_socket(const char *host, int port, int timeout_ms, char *err, size_t errlen)
{
	char portstr[16];
	snprintf(portstr, sizeof(portstr), "%d", port);
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
	int gai = getaddrinfo(host, portstr, &hints, &res);
	if (gai != 0) {
		snprintf(err, errlen, "CONNECT: cannot resolve %s: %s", host, gai_strerror(gai));
		return -1;
	}
	int fd = -1;
	for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
			snprintf(err, errlen, "CONNECT: %s:%d: %s", host, port, strerror(errno));
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd >= 0) {
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	(void)timeout_ms;
	return fd;
}

khc_t *khc_connect(const struct khc_options *o, char *err, size_t errlen)
{
	char dummy[8];
	if (!err) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = 0;
	if (!o || !o->partition || !o->partition[0]) {
		snprintf(err, errlen, "BAD_ARG: no partition named");
		return NULL;
	}
	int timeout = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 10000;
	int fd = open_socket(o->host ? o->host : "127.0.0.1", o->port ? o->port : 7720, timeout, err, errlen);
	if (fd < 0)
		return NULL;
	khc_t *c = calloc(1, sizeof(*c));
	c->fd = fd;
	c->max_frame = o->max_frame ? o->max_frame : KHC_DEFAULT_MAX_FRAME;
	c->next_call_id = 1;
	c->early_tail = &c->early_events;
	pthread_mutex_init(&c->write_lock, NULL);
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->welcome_cv, &ca);
	pthread_condattr_destroy(&ca);

	Lparemu__V1__Hello hello = LPAREMU__V1__HELLO__INIT;
	hello.partition = (char *)o->partition;
	hello.protocol_version = KHC_PROTOCOL_VERSION;
	hello.client_name = (char *)(o->client_name ? o->client_name : "khc");
	hello.no_events = o->no_events ? 1 : 0;
	Lparemu__V1__GuestFrame f = LPAREMU__V1__GUEST_FRAME__INIT;
	f.kind_case = LPAREMU__V1__GUEST_FRAME__KIND_HELLO;
	f.hello = &hello;
	if (send_frame(c, &f) != KHC_OK) {
		snprintf(err, errlen, "CLOSED: could not send Hello");
		khc_close(c);
		return NULL;
	}
	if (pthread_create(&c->reader, NULL, reader_main, c) != 0) {
		snprintf(err, errlen, "CONNECT: no reader thread");
		khc_close(c);
		return NULL;
	}
	c->reader_started = 1;

	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout / 1000;
	deadline.tv_nsec += (long)(timeout % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->lock);
	int timed_out = 0;
	while (!c->welcomed && !c->dead && !timed_out)
		timed_out = pthread_cond_timedwait(&c->welcome_cv, &c->lock, &deadline) == ETIMEDOUT;
	int ok = c->welcomed;
	if (!ok)
		snprintf(err, errlen, "%s", c->dead ? c->error : "TIMEOUT: no Welcome from the daemon");
	pthread_mutex_unlock(&c->lock);
	if (!ok) {
		khc_close(c);
		return NULL;
	}
	return c;
}

void khc_close(khc_t *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	fail_all_locked(c, KHC_ERR_CLOSED, "CLOSED: closed by the client");
	pthread_mutex_unlock(&c->lock);
	shutdown(c->fd, SHUT_RDWR);
	if (c->reader_started)
		pthread_join(c->reader, NULL);
	close(c->fd);
	while (c->early_events) {
		struct queued_event *q = c->early_events;
		c->early_events = q->next;
		free(q);
	}
	if (c->welcome_frame)
		lparemu__v1__host_frame__free_unpacked(c->welcome_frame, NULL);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->write_lock);
	pthread_cond_destroy(&c->welcome_cv);
	free(c);
}

uint32_t khc_vcpus(const khc_t *c) { return c->welcome->vcpus; }
uint32_t khc_cores(const khc_t *c) { return c->welcome->cores; }
int khc_shared_processor(const khc_t *c) { return c->welcome->shared_processor; }
const char *khc_system(const khc_t *c) { return c->welcome->system; }
const char *khc_emulator_version(const khc_t *c) { return c->welcome->emulator_version; }

void khc_device_tree(const khc_t *c, khc_node_fn fn, void *ctx)
{
	const Lparemu__V1__DeviceTree *dt = c->welcome->device_tree;
	if (!dt)
		return;
	for (size_t i = 0; i < dt->n_nodes; i++) {
		const Lparemu__V1__DeviceTreeNode *n = dt->nodes[i];
		size_t np = n->n_properties;
		const char **names = calloc(np + 1, sizeof(*names));
		const uint8_t **values = calloc(np + 1, sizeof(*values));
		size_t *lens = calloc(np + 1, sizeof(*lens));
		for (size_t j = 0; j < np; j++) {
			names[j] = n->properties[j]->name;
			values[j] = n->properties[j]->value.data;
			lens[j] = n->properties[j]->value.len;
		}
		fn(ctx, n->path, n->phandle, n->drc_index, np, names, values, lens);
		free(names);
		free(values);
		free(lens);
	}
}

const char *khc_error(khc_t *c)
{
	return c->dead ? c->error : "";
}

int khc_is_open(khc_t *c)
{
	pthread_mutex_lock(&c->lock);
	int open = !c->dead;
	pthread_mutex_unlock(&c->lock);
	return open;
}

void khc_set_dead_handler(khc_t *c, khc_dead_fn fn, void *ctx)
{
	pthread_mutex_lock(&c->lock);
	c->dead_fn = fn;
	c->dead_ctx = ctx;
	int dead = c->dead;
	pthread_mutex_unlock(&c->lock);
	if (dead && fn)
		fn(ctx, KHC_ERR_CLOSED, c->error);
}

void khc_set_event_handler(khc_t *c, khc_event_fn fn, void *ctx)
{
	pthread_mutex_lock(&c->lock);
	c->event_fn = fn;
	c->event_ctx = ctx;
	while (fn && c->early_events) {
		struct queued_event *q = c->early_events;
		c->early_events = q->next;
		if (!c->early_events)
			c->early_tail = &c->early_events;
		pthread_mutex_unlock(&c->lock);
		fn(ctx, &q->e);
		free(q);
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
}

/* ---- calls -------------------------------------------------------------------------------------- */

/* Registers a pending call, sends its frame, waits for the reply. */
static int call(khc_t *c, Lparemu__V1__GuestFrame *f, uint64_t *call_id_field, struct pending *p)
{
	pthread_cond_init(&p->cv, NULL);
	pthread_mutex_lock(&c->lock);
	if (c->dead) {
		int st = strncmp(c->error, "CLOSED", 6) == 0 ? KHC_ERR_CLOSED : KHC_ERR_PROTOCOL;
		pthread_mutex_unlock(&c->lock);
		pthread_cond_destroy(&p->cv);
		return st;
	}
	p->call_id = c->next_call_id++;
	*call_id_field = p->call_id;
	p->next = c->pending;
	c->pending = p;
	pthread_mutex_unlock(&c->lock);

	int rc = send_frame(c, f);
	pthread_mutex_lock(&c->lock);
	if (rc != KHC_OK && !p->done) {
		fail_all_locked(c, KHC_ERR_CLOSED, "CLOSED: the connection broke while sending");
	}
	while (!p->done)
		pthread_cond_wait(&p->cv, &c->lock);
	take_pending_locked(c, p->call_id);   /* still listed if it was failed rather than answered */
	pthread_mutex_unlock(&c->lock);
	pthread_cond_destroy(&p->cv);
	return p->status;
}

int khc_hcall(khc_t *c, const struct khc_hcall *h, struct khc_hcall_result *r)
{
	if (!h || !r || h->nargs < 0 || h->nargs > KHC_MAX_ARGS || (h->buffer_len && !h->buffer)
	    || h->buffer_len > c->max_frame / 2)
		return KHC_ERR_BAD_ARG;
	Lparemu__V1__HcallRequest q = LPAREMU__V1__HCALL_REQUEST__INIT;
	uint64_t args[KHC_MAX_ARGS];
	memcpy(args, h->args, sizeof(args));
	q.vcpu = h->vcpu;
	q.opcode = h->opcode;
	q.n_args = (size_t)h->nargs;
	q.args = args;
	q.buffer.data = (uint8_t *)h->buffer;
	q.buffer.len = h->buffer_len;
	q.task = (char *)(h->task ? h->task : "");
	q.interrupts_disabled = h->interrupts_disabled ? 1 : 0;
	Lparemu__V1__GuestFrame f = LPAREMU__V1__GUEST_FRAME__INIT;
	f.kind_case = LPAREMU__V1__GUEST_FRAME__KIND_HCALL;
	f.hcall = &q;
	r->nrets = 0;
	r->out_len = 0;
	memset(&r->refused, 0, sizeof(r->refused));
	struct pending p = { .kind = 1, .hr = r };
	return call(c, &f, &q.call_id, &p);
}

int khc_rtas(khc_t *c, const struct khc_rtas *rq, struct khc_rtas_result *r)
{
	if (!rq || !r || !rq->service || rq->nargs < 0 || rq->nargs > 16 || (rq->work_len && !rq->work_area)
	    || rq->work_len > c->max_frame / 2)
		return KHC_ERR_BAD_ARG;
	Lparemu__V1__RtasRequest q = LPAREMU__V1__RTAS_REQUEST__INIT;
	int64_t args[16];
	memcpy(args, rq->args, sizeof(args));
	q.vcpu = rq->vcpu;
	q.service = (char *)rq->service;
	q.n_args = (size_t)rq->nargs;
	q.args = args;
	q.work_area.data = (uint8_t *)rq->work_area;
	q.work_area.len = rq->work_len;
	q.task = (char *)(rq->task ? rq->task : "");
	Lparemu__V1__GuestFrame f = LPAREMU__V1__GUEST_FRAME__INIT;
	f.kind_case = LPAREMU__V1__GUEST_FRAME__KIND_RTAS;
	f.rtas = &q;
	r->nrets = 0;
	r->work_len = 0;
	memset(&r->refused, 0, sizeof(r->refused));
	struct pending p = { .kind = 2, .rr = r };
	return call(c, &f, &q.call_id, &p);
}

int khc_tracepoint(khc_t *c, const char *name, const char *detail, uint32_t vcpu, const char *task)
{
	Lparemu__V1__Tracepoint t = LPAREMU__V1__TRACEPOINT__INIT;
	t.name = (char *)name;
	t.detail = (char *)(detail ? detail : "");
	t.vcpu = vcpu;
	t.task = (char *)(task ? task : "");
	Lparemu__V1__GuestFrame f = LPAREMU__V1__GUEST_FRAME__INIT;
	f.kind_case = LPAREMU__V1__GUEST_FRAME__KIND_TRACEPOINT;
	f.tracepoint = &t;
	return khc_is_open(c) ? send_frame(c, &f) : KHC_ERR_CLOSED;
}

int khc_event_ack(khc_t *c, uint64_t event_id, int32_t status, const char *detail)
{
	Lparemu__V1__EventAck a = LPAREMU__V1__EVENT_ACK__INIT;
	a.event_id = event_id;
	a.status = status;
	a.detail = (char *)(detail ? detail : "");
	Lparemu__V1__GuestFrame f = LPAREMU__V1__GUEST_FRAME__INIT;
	f.kind_case = LPAREMU__V1__GUEST_FRAME__KIND_EVENT_ACK;
	f.event_ack = &a;
	return khc_is_open(c) ? send_frame(c, &f) : KHC_ERR_CLOSED;
}

/* ---- the report --------------------------------------------------------------------------------- */

struct khc_report {
	Lparemu__V1__GuestReport msg;
	Lparemu__V1__DeviceTree dt;
	int has_dt;
};

#define GROW(arr, n) (arr = realloc(arr, sizeof(*(arr)) * ((n) + 1)))

struct khc_report *khc_report_new(void)
{
	static uint64_t seq;
	struct khc_report *r = calloc(1, sizeof(*r));
	Lparemu__V1__GuestReport init = LPAREMU__V1__GUEST_REPORT__INIT;
	r->msg = init;
	Lparemu__V1__DeviceTree dinit = LPAREMU__V1__DEVICE_TREE__INIT;
	r->dt = dinit;
	r->msg.seq = __atomic_add_fetch(&seq, 1, __ATOMIC_SEQ_CST);
	return r;
}

void khc_report_credits(struct khc_report *r, uint32_t win_type, uint32_t total, uint32_t used, uint32_t open,
			uint32_t closed, uint32_t in_progress)
{
	Lparemu__V1__GuestCredits *g = malloc(sizeof(*g));
	lparemu__v1__guest_credits__init(g);
	g->win_type = win_type;
	g->credits_total = total;
	g->credits_used = used;
	g->windows_open = open;
	g->windows_closed = closed;
	g->windows_in_progress = in_progress;
	GROW(r->msg.credits, r->msg.n_credits);
	r->msg.credits[r->msg.n_credits++] = g;
}

void khc_report_window(struct khc_report *r, uint64_t win_id, uint32_t win_type, uint32_t status, uint64_t paste,
		       uint32_t pid, const char *task)
{
	Lparemu__V1__GuestWindow *w = malloc(sizeof(*w));
	lparemu__v1__guest_window__init(w);
	w->win_id = win_id;
	w->win_type = win_type;
	w->status = status;
	w->paste_address = paste;
	w->pid = pid;
	w->task = strdup(task ? task : "");
	GROW(r->msg.windows, r->msg.n_windows);
	r->msg.windows[r->msg.n_windows++] = w;
}

void khc_report_counters(struct khc_report *r, uint64_t migrations_ok, uint64_t migrations_failed,
			 uint64_t pastes_ok, uint64_t pastes_failed)
{
	r->msg.migrations_ok = migrations_ok;
	r->msg.migrations_failed = migrations_failed;
	r->msg.pastes_ok = pastes_ok;
	r->msg.pastes_failed = pastes_failed;
}

void khc_report_error(struct khc_report *r, const char *errno_name, uint64_t count)
{
	Lparemu__V1__GuestReport__ErrorsByErrnoEntry *e = malloc(sizeof(*e));
	lparemu__v1__guest_report__errors_by_errno_entry__init(e);
	e->key = strdup(errno_name);
	e->value = count;
	GROW(r->msg.errors_by_errno, r->msg.n_errors_by_errno);
	r->msg.errors_by_errno[r->msg.n_errors_by_errno++] = e;
}

void khc_report_policy(struct khc_report *r, const char *vas_policy, const char *prrn_policy)
{
	free(r->msg.vas_policy == protobuf_c_empty_string ? NULL : r->msg.vas_policy);
	free(r->msg.prrn_policy == protobuf_c_empty_string ? NULL : r->msg.prrn_policy);
	r->msg.vas_policy = strdup(vas_policy ? vas_policy : "");
	r->msg.prrn_policy = strdup(prrn_policy ? prrn_policy : "");
}

void khc_report_in_reply_to(struct khc_report *r, uint64_t event_id)
{
	r->msg.in_reply_to_event = event_id;
}

void khc_report_dt_begin(struct khc_report *r, uint64_t generation)
{
	r->has_dt = 1;
	r->dt.generation = generation;
}

void khc_report_dt_node(struct khc_report *r, const char *path, uint32_t phandle, uint32_t drc_index)
{
	Lparemu__V1__DeviceTreeNode *n = malloc(sizeof(*n));
	lparemu__v1__device_tree_node__init(n);
	n->path = strdup(path);
	n->phandle = phandle;
	n->drc_index = drc_index;
	GROW(r->dt.nodes, r->dt.n_nodes);
	r->dt.nodes[r->dt.n_nodes++] = n;
}

void khc_report_dt_prop(struct khc_report *r, const char *name, const void *value, size_t len)
{
	if (!r->dt.n_nodes)
		return;
	Lparemu__V1__DeviceTreeNode *n = r->dt.nodes[r->dt.n_nodes - 1];
	Lparemu__V1__Property *p = malloc(sizeof(*p));
	lparemu__v1__property__init(p);
	p->name = strdup(name);
	p->value.len = len;
	p->value.data = malloc(len ? len : 1);
	if (len)
		memcpy(p->value.data, value, len);
	/* Properties sorted by name, as the protocol documents them; insertion keeps the order. */
	GROW(n->properties, n->n_properties);
	size_t i = n->n_properties;
	while (i > 0 && strcmp(n->properties[i - 1]->name, p->name) > 0) {
		n->properties[i] = n->properties[i - 1];
		i--;
	}
	n->properties[i] = p;
	n->n_properties++;
}

void khc_report_free(struct khc_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->msg.n_credits; i++)
		free(r->msg.credits[i]);
	free(r->msg.credits);
	for (size_t i = 0; i < r->msg.n_windows; i++) {
		free(r->msg.windows[i]->task);
		free(r->msg.windows[i]);
	}
	free(r->msg.windows);
	for (size_t i = 0; i < r->msg.n_errors_by_errno; i++) {
		free(r->msg.errors_by_errno[i]->key);
		free(r->msg.errors_by_errno[i]);
	}
	free(r->msg.errors_by_errno);
	if (r->msg.vas_policy != protobuf_c_empty_string)
		free(r->msg.vas_policy);
	if (r->msg.prrn_policy != protobuf_c_empty_string)
		free(r->msg.prrn_policy);
	for (size_t i = 0; i < r->dt.n_nodes; i++) {
		Lparemu__V1__DeviceTreeNode *n = r->dt.nodes[i];
		for (size_t j = 0; j < n->n_properties; j++) {
			free(n->properties[j]->name);
			free(n->properties[j]->value.data);
			free(n->properties[j]);
		}
		free(n->properties);
		free(n->path);
		free(n);
	}
	free(r->dt.nodes);
	free(r);
}

int khc_report_send(khc_t *c, struct khc_report *r)
{
	if (r->has_dt)
		r->msg.device_tree = &r->dt;
	Lparemu__V1__GuestFrame f = LPAREMU__V1__GUEST_FRAME__INIT;
	f.kind_case = LPAREMU__V1__GUEST_FRAME__KIND_REPORT;
	f.report = &r->msg;
	if (lparemu__v1__guest_frame__get_packed_size(&f) > c->max_frame)
		return KHC_ERR_BAD_ARG;
	return khc_is_open(c) ? send_frame(c, &f) : KHC_ERR_CLOSED;
}
