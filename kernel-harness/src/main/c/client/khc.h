/*
 * khc: a plain-C client of lparemu's guest port (proto/src/main/proto/lparemu/v1/guest.proto), on
 * protobuf-c. It knows nothing of Linux: the C guest's runtime uses it, and so can any C program that
 * wants to make hcalls and RTAS calls against the daemon.
 *
 * One connection carries many calls at once from many threads: every request gets a call_id and a caller
 * blocks until the reply with that id arrives (replies may come in any order). A reader thread owns the
 * socket's input; platform events are handed to a callback on that thread, which must not block (queue the
 * event and return). Every failure is typed (enum khc_status) with a message; a ProtocolError or a lost
 * connection fails every call in flight and every later one.
 */
#ifndef KHC_H
#define KHC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct khc khc_t;

enum khc_status {
	KHC_OK = 0,
	KHC_ERR_CONNECT = -1,   /* the socket could not be opened */
	KHC_ERR_PROTOCOL = -2,  /* the daemon sent ProtocolError (see khc_error) and closed the connection */
	KHC_ERR_CLOSED = -3,    /* the connection is gone */
	KHC_ERR_REFUSED = -4,   /* CallRefused: the call did nothing (see struct khc_refusal) */
	KHC_ERR_BAD_ARG = -5,   /* the request itself is invalid (too many arguments, oversized buffer ...) */
	KHC_ERR_MALFORMED = -6, /* the daemon sent something that is not a valid HostFrame */
	KHC_ERR_TIMEOUT = -7,   /* no Welcome within the connect timeout */
};
const char *khc_status_name(int status);

struct khc_options {
	const char *host;          /* default 127.0.0.1 */
	int port;                  /* default 7720 */
	const char *partition;     /* required */
	const char *client_name;   /* shown by the daemon */
	int no_events;             /* 1: a calls-only connection; events go elsewhere */
	int connect_timeout_ms;    /* for the socket and the Welcome; default 10000 */
	uint32_t max_frame;        /* largest frame accepted from the daemon; default 4 MiB */
};

/* Opens the connection, sends Hello and waits for Welcome. On failure returns NULL and writes the reason
 * (for a ProtocolError: its code name and message) into err. */
khc_t *khc_connect(const struct khc_options *opts, char *err, size_t errlen);
/* Closes the socket, fails calls in flight with KHC_ERR_CLOSED, joins the reader, frees everything. */
void khc_close(khc_t *c);

/* From Welcome. */
uint32_t khc_vcpus(const khc_t *c);
uint32_t khc_cores(const khc_t *c);
int khc_shared_processor(const khc_t *c);
const char *khc_system(const khc_t *c);
const char *khc_emulator_version(const khc_t *c);
/* Walks Welcome's device tree, parents before children. */
typedef void (*khc_node_fn)(void *ctx, const char *path, uint32_t phandle, uint32_t drc_index, size_t nprops,
			    const char *const *names, const uint8_t *const *values, const size_t *lengths);
void khc_device_tree(const khc_t *c, khc_node_fn fn, void *ctx);

/* The last connection-level error ("PARTITION_GONE: ..."), or "" while the connection is healthy. */
const char *khc_error(khc_t *c);
int khc_is_open(khc_t *c);

/* What a CallRefused said. */
struct khc_refusal {
	int reason;               /* 1 VCPU_BUSY, 2 RTAS_BUSY, 3 VCPU_STOPPED */
	const char *reason_name;
	uint32_t vcpu;
	char in_call[64];
	uint32_t busy_vcpu;
	char message[256];
};

#define KHC_MAX_ARGS 9
#define KHC_MAX_RETS 16

struct khc_hcall {
	uint64_t opcode;
	uint32_t vcpu;
	int nargs;                    /* 0 .. KHC_MAX_ARGS */
	uint64_t args[KHC_MAX_ARGS];
	const void *buffer;           /* input contents of a guest buffer, or NULL */
	size_t buffer_len;
	const char *task;             /* guest task name, may be NULL */
	int interrupts_disabled;      /* MSR[EE] = 0 */
};
struct khc_hcall_result {
	int64_t status;
	int nrets;
	uint64_t rets[KHC_MAX_RETS];
	/* Where the bytes the hypervisor wrote go (may be NULL); out_len is set to how many there were,
	 * out_cap bounds how many are copied. */
	void *out;
	size_t out_cap;
	size_t out_len;
	struct khc_refusal refused;   /* set when khc_hcall returns KHC_ERR_REFUSED */
};
/* One hcall; blocks until its reply. Returns KHC_OK (status in r->status), KHC_ERR_REFUSED, or a
 * connection error. */
int khc_hcall(khc_t *c, const struct khc_hcall *h, struct khc_hcall_result *r);

struct khc_rtas {
	const char *service;
	uint32_t vcpu;
	int nargs;
	int64_t args[16];
	const void *work_area;
	size_t work_len;
	const char *task;
};
struct khc_rtas_result {
	int32_t status;
	int nrets;
	int64_t rets[KHC_MAX_RETS];
	void *work_area;              /* overwritten with what firmware returned (up to work_cap bytes) */
	size_t work_cap;
	size_t work_len;
	struct khc_refusal refused;
};
int khc_rtas(khc_t *c, const struct khc_rtas *q, struct khc_rtas_result *r);

/* Fire and forget. */
int khc_tracepoint(khc_t *c, const char *name, const char *detail, uint32_t vcpu, const char *task);
int khc_event_ack(khc_t *c, uint64_t event_id, int32_t status, const char *detail);

/* Platform events, delivered on the reader thread. */
enum khc_event_kind {
	KHC_EVENT_MIGRATION = 1,
	KHC_EVENT_PRRN = 2,
	KHC_EVENT_DLPAR_CPU = 3,
	KHC_EVENT_QOS_CREDITS = 4,
	KHC_EVENT_REPORT_REQUEST = 5,
	KHC_EVENT_UNKNOWN = 99,
};
struct khc_event {
	uint64_t id;
	enum khc_event_kind kind;
	uint64_t stream_id;   /* MIGRATION */
	uint32_t scope;       /* PRRN */
	int add;              /* DLPAR_CPU: 1 add, 0 remove */
	uint32_t drc_index;   /* DLPAR_CPU */
	uint32_t credits;     /* QOS_CREDITS */
};
typedef void (*khc_event_fn)(void *ctx, const struct khc_event *e);
/* Set before events can arrive: events that come before a handler is set are kept and delivered to it. */
void khc_set_event_handler(khc_t *c, khc_event_fn fn, void *ctx);

/* Called once, on the reader thread, when the daemon ends the connection (ProtocolError, EOF, a malformed
 * frame), with khc_error's text; not called for khc_close. */
typedef void (*khc_dead_fn)(void *ctx, int status, const char *why);
void khc_set_dead_handler(khc_t *c, khc_dead_fn fn, void *ctx);

/* A GuestReport, built piece by piece then sent. */
struct khc_report;
struct khc_report *khc_report_new(void);
void khc_report_free(struct khc_report *r);
void khc_report_credits(struct khc_report *r, uint32_t win_type, uint32_t total, uint32_t used, uint32_t open,
			uint32_t closed, uint32_t in_progress);
void khc_report_window(struct khc_report *r, uint64_t win_id, uint32_t win_type, uint32_t status, uint64_t paste,
		       uint32_t pid, const char *task);
void khc_report_counters(struct khc_report *r, uint64_t migrations_ok, uint64_t migrations_failed,
			 uint64_t pastes_ok, uint64_t pastes_failed);
void khc_report_error(struct khc_report *r, const char *errno_name, uint64_t count);
void khc_report_policy(struct khc_report *r, const char *vas_policy, const char *prrn_policy);
void khc_report_in_reply_to(struct khc_report *r, uint64_t event_id);
/* Device tree: a node, then its properties. */
void khc_report_dt_begin(struct khc_report *r, uint64_t generation);
void khc_report_dt_node(struct khc_report *r, const char *path, uint32_t phandle, uint32_t drc_index);
void khc_report_dt_prop(struct khc_report *r, const char *name, const void *value, size_t len);
int khc_report_send(khc_t *c, struct khc_report *r);

#ifdef __cplusplus
}
#endif
#endif /* KHC_H */
