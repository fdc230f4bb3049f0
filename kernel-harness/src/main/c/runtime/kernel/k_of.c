/*
 * The guest's device tree: built at boot from Welcome.device_tree, changed afterwards only through the
 * kernel's own paths (mobility.c's update-nodes / update-properties handling, processor DLPAR attach and
 * detach), each change announced on the reconfig notifier chain that vas.c's DLPAR notifier listens on.
 *
 * Locking: devtree_lock (a spinlock) guards the node links and property lists, so lookups never sleep;
 * of_mutex serializes the reconfiguration operations. Notifiers are called after of_mutex is released,
 * from the task making the change, and may sleep. Nodes are never freed once attached (a detached node can
 * still be referenced by a caller that looked it up earlier); their memory is small and bounded by the
 * number of DLPAR and migration operations in a run.
 */
#include <linux/kernel.h>
#include <linux/of.h>

#include "k_internal.h"

struct device_node *of_root;
static DEFINE_SPINLOCK(devtree_lock);
static DEFINE_MUTEX(of_mutex);
static struct notifier_block *reconfig_chain;   /* guarded by of_mutex */

/* ---- building -------------------------------------------------------------------------------------------- */

struct device_node *kh_of_new_node(const char *full_name)
{
	struct device_node *np = kzalloc(sizeof(*np), GFP_KERNEL);
	np->full_name = kstrdup(full_name, GFP_KERNEL);
	kref_init(&np->kref);
	return np;
}

struct property *kh_of_new_property(const char *name, const void *value, int length)
{
	struct property *p = kzalloc(sizeof(*p), GFP_KERNEL);
	p->name = kstrdup(name, GFP_KERNEL);
	p->length = length;
	p->value = kzalloc(length ? length : 1, GFP_KERNEL);
	if (length)
		memcpy(p->value, value, length);
	return p;
}

static struct property *find_prop_locked(const struct device_node *np, const char *name)
{
	for (struct property *p = np ? np->properties : NULL; p; p = p->next)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

/* The node's name (its "name" property, else its full name up to the unit address) and phandle (from a
 * phandle, linux,phandle or, on pseries, ibm,phandle property), as the kernel sets them on attach. */
static void set_identity_locked(struct device_node *np)
{
	struct property *n = find_prop_locked(np, "name");
	if (n && n->length > 0 && ((char *)n->value)[0]) {
		np->name = n->value;
	} else {
		const char *at = strchr(np->full_name, '@');
		size_t len = at ? (size_t)(at - np->full_name) : strlen(np->full_name);
		char *name = kzalloc(len + 1, GFP_KERNEL);
		memcpy(name, np->full_name, len);
		np->name = name;
	}
	if (!np->phandle) {
		static const char *const props[] = { "phandle", "linux,phandle", "ibm,phandle" };
		for (size_t i = 0; i < ARRAY_SIZE(props); i++) {
			struct property *p = find_prop_locked(np, props[i]);
			if (p && p->length >= 4) {
				np->phandle = be32_to_cpup(p->value);
				break;
			}
		}
	}
	if (!np->drc_index) {
		struct property *p = find_prop_locked(np, "ibm,my-drc-index");
		if (p && p->length >= 4)
			np->drc_index = be32_to_cpup(p->value);
	}
}

void kh_of_add_child(struct device_node *parent, struct device_node *child)
{
	child->parent = parent;
	child->sibling = NULL;
	struct device_node **pp = &parent->child;
	while (*pp)
		pp = &(*pp)->sibling;
	*pp = child;
	child->attached = true;
}

static void unlink_child_locked(struct device_node *np)
{
	struct device_node *parent = np->parent;
	if (!parent)
		return;
	for (struct device_node **pp = &parent->child; *pp; pp = &(*pp)->sibling) {
		if (*pp == np) {
			*pp = np->sibling;
			break;
		}
	}
	np->sibling = NULL;
	np->attached = false;
}

/* ---- boot: Welcome.device_tree --------------------------------------------------------------------------- */

static struct device_node *find_by_path_locked(struct device_node *from, const char *path)
{
	if (!from)
		return NULL;
	if (strcmp(path, "/") == 0)
		return from;
	const char *p = path;
	struct device_node *np = from;
	while (*p == '/')
		p++;
	while (*p && np) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		struct device_node *c;
		for (c = np->child; c; c = c->sibling)
			if (strlen(c->full_name) == len && strncmp(c->full_name, p, len) == 0)
				break;
		np = c;
		p += len;
		while (*p == '/')
			p++;
	}
	return np;
}

void kh_of_begin_tree(void)
{
	of_root = kh_of_new_node("/");
	of_root->name = "";
	of_root->attached = true;
}

void kh_of_add_node(const char *path, unsigned int phandle, unsigned int drc_index,
		    const struct kh_fdt_prop *props, unsigned long nprops)
{
	spin_lock(&devtree_lock);
	struct device_node *np;
	if (strcmp(path, "/") == 0) {
		np = of_root;
	} else {
		const char *slash = strrchr(path, '/');
		char *parent_path = kzalloc(slash - path + 2, GFP_KERNEL);
		memcpy(parent_path, path, slash == path ? 1 : (size_t)(slash - path));
		struct device_node *parent = find_by_path_locked(of_root, parent_path);
		kfree(parent_path);
		if (!parent)
			kh_panic("firmware device tree: node %s comes before its parent", path);
		np = kh_of_new_node(slash + 1);
		kh_of_add_child(parent, np);
	}
	np->phandle = phandle;
	np->drc_index = drc_index;
	struct property **tail = &np->properties;
	while (*tail)
		tail = &(*tail)->next;
	for (unsigned long i = 0; i < nprops; i++) {
		*tail = kh_of_new_property(props[i].name, props[i].value, (int)props[i].length);
		tail = &(*tail)->next;
	}
	set_identity_locked(np);
	spin_unlock(&devtree_lock);
}

/* ---- lookups --------------------------------------------------------------------------------------------- */

struct device_node *of_find_node_by_path(const char *path)
{
	spin_lock(&devtree_lock);
	struct device_node *np = find_by_path_locked(of_root, path);
	spin_unlock(&devtree_lock);
	return np;
}

static struct device_node *walk_locked(struct device_node *np, bool (*match)(struct device_node *, const void *),
				       const void *arg)
{
	for (; np; np = np->sibling) {
		if (match(np, arg))
			return np;
		struct device_node *c = walk_locked(np->child, match, arg);
		if (c)
			return c;
	}
	return NULL;
}

static bool match_phandle(struct device_node *np, const void *arg)
{
	return np->phandle && np->phandle == *(const phandle *)arg;
}

static bool match_drc(struct device_node *np, const void *arg)
{
	return np->drc_index && np->drc_index == *(const u32 *)arg;
}

struct device_node *of_find_node_by_phandle(phandle handle)
{
	if (!handle)
		return NULL;
	spin_lock(&devtree_lock);
	struct device_node *np = walk_locked(of_root, match_phandle, &handle);
	spin_unlock(&devtree_lock);
	return np;
}

struct device_node *kh_of_find_by_drc_index(u32 drc_index)
{
	spin_lock(&devtree_lock);
	struct device_node *np = walk_locked(of_root, match_drc, &drc_index);
	spin_unlock(&devtree_lock);
	return np;
}

struct device_node *of_get_parent(const struct device_node *node)
{
	return node ? node->parent : NULL;
}

struct device_node *of_get_next_child(const struct device_node *node, struct device_node *prev)
{
	spin_lock(&devtree_lock);
	struct device_node *next = prev ? prev->sibling : node ? node->child : NULL;
	spin_unlock(&devtree_lock);
	return next;
}

struct device_node *of_node_get(struct device_node *node)
{
	if (node)
		kref_get(&node->kref);
	return node;
}

static void node_release(struct kref *k)
{
	(void)k;   /* nodes are never freed, see the file comment */
}

void of_node_put(struct device_node *node)
{
	if (node)
		kref_put(&node->kref, node_release);
}

struct property *of_find_property(const struct device_node *np, const char *name, int *lenp)
{
	spin_lock(&devtree_lock);
	struct property *p = find_prop_locked(np, name);
	spin_unlock(&devtree_lock);
	if (lenp)
		*lenp = p ? p->length : 0;
	return p;
}

const void *of_get_property(const struct device_node *node, const char *name, int *lenp)
{
	struct property *p = of_find_property(node, name, lenp);
	return p ? p->value : NULL;
}

int of_property_read_u32(const struct device_node *np, const char *name, u32 *out)
{
	int len;
	const void *v = of_get_property(np, name, &len);
	if (!v)
		return -EINVAL;
	if (len < 4)
		return -EOVERFLOW;
	*out = be32_to_cpup(v);
	return 0;
}

bool of_node_is_type(const struct device_node *np, const char *type)
{
	int len;
	const char *t = np ? of_get_property(np, "device_type", &len) : NULL;
	return t && len > 0 && strcmp(t, type) == 0;
}

const char *kh_of_node_path(const void *vnp)
{
	static __thread char bufs[4][512];
	static __thread int next;
	const struct device_node *np = vnp;
	char *buf = bufs[next++ & 3];
	if (!np)
		return "<no-node>";
	const struct device_node *chain[64];
	int depth = 0;
	for (const struct device_node *n = np; n && n->parent && depth < 64; n = n->parent)
		chain[depth++] = n;
	size_t off = 0;
	buf[0] = 0;
	if (!depth)
		return "/";
	while (depth-- > 0)
		off += kh_snprintf(buf + off, off < 512 ? 512 - off : 0, "/%s", chain[depth]->full_name);
	return buf;
}

/* ---- reconfiguration ------------------------------------------------------------------------------------ */

int of_reconfig_notifier_register(struct notifier_block *nb)
{
	mutex_lock(&of_mutex);
	struct notifier_block **pp = &reconfig_chain;
	while (*pp && (*pp)->priority >= nb->priority)
		pp = &(*pp)->next;
	nb->next = *pp;
	*pp = nb;
	mutex_unlock(&of_mutex);
	return 0;
}

int of_reconfig_notifier_unregister(struct notifier_block *nb)
{
	mutex_lock(&of_mutex);
	for (struct notifier_block **pp = &reconfig_chain; *pp; pp = &(*pp)->next) {
		if (*pp == nb) {
			*pp = nb->next;
			break;
		}
	}
	mutex_unlock(&of_mutex);
	return 0;
}

/* Calls every notifier in order, until one says stop; returns the errno of a failing one, or 0. */
static int reconfig_notify(unsigned long action, struct of_reconfig_data *rd)
{
	mutex_lock(&of_mutex);
	struct notifier_block *chain[16];
	int n = 0;
	for (struct notifier_block *nb = reconfig_chain; nb && n < 16; nb = nb->next)
		chain[n++] = nb;
	mutex_unlock(&of_mutex);
	int ret = NOTIFY_DONE;
	for (int i = 0; i < n; i++) {
		ret = chain[i]->notifier_call(chain[i], action, rd);
		if (ret & NOTIFY_STOP_MASK)
			break;
	}
	return notifier_to_errno(ret);
}

int of_attach_node(struct device_node *np)
{
	struct of_reconfig_data rd = { .dn = np };
	mutex_lock(&of_mutex);
	spin_lock(&devtree_lock);
	set_identity_locked(np);
	kh_of_add_child(np->parent, np);
	spin_unlock(&devtree_lock);
	mutex_unlock(&of_mutex);
	return reconfig_notify(OF_RECONFIG_ATTACH_NODE, &rd);
}

static void detach_subtree_locked(struct device_node *np)
{
	for (struct device_node *c = np->child; c; c = c->sibling)
		detach_subtree_locked(c);
	np->attached = false;
}

int of_detach_node(struct device_node *np)
{
	struct of_reconfig_data rd = { .dn = np };
	mutex_lock(&of_mutex);
	spin_lock(&devtree_lock);
	bool was = np->attached;
	if (was) {
		unlink_child_locked(np);
		detach_subtree_locked(np);
	}
	spin_unlock(&devtree_lock);
	mutex_unlock(&of_mutex);
	if (!was)
		return -EINVAL;
	return reconfig_notify(OF_RECONFIG_DETACH_NODE, &rd);
}

int of_add_property(struct device_node *np, struct property *prop)
{
	struct of_reconfig_data rd = { .dn = np, .prop = prop };
	mutex_lock(&of_mutex);
	spin_lock(&devtree_lock);
	int rc = 0;
	if (find_prop_locked(np, prop->name)) {
		rc = -EEXIST;
	} else {
		struct property **pp = &np->properties;
		while (*pp)
			pp = &(*pp)->next;
		prop->next = NULL;
		*pp = prop;
	}
	spin_unlock(&devtree_lock);
	mutex_unlock(&of_mutex);
	return rc ? rc : reconfig_notify(OF_RECONFIG_ADD_PROPERTY, &rd);
}

int of_update_property(struct device_node *np, struct property *newprop)
{
	struct of_reconfig_data rd = { .dn = np, .prop = newprop };
	mutex_lock(&of_mutex);
	spin_lock(&devtree_lock);
	struct property **pp = &np->properties;
	while (*pp && strcmp((*pp)->name, newprop->name) != 0)
		pp = &(*pp)->next;
	struct property *old = *pp;
	newprop->next = old ? old->next : NULL;
	*pp = newprop;
	if (old) {
		old->next = np->deadprops;
		np->deadprops = old;
	}
	spin_unlock(&devtree_lock);
	mutex_unlock(&of_mutex);
	rd.old_prop = old;
	return reconfig_notify(OF_RECONFIG_UPDATE_PROPERTY, &rd);
}

int of_remove_property(struct device_node *np, struct property *prop)
{
	if (!prop)
		return -ENODEV;
	struct of_reconfig_data rd = { .dn = np, .prop = prop };
	mutex_lock(&of_mutex);
	spin_lock(&devtree_lock);
	int found = 0;
	for (struct property **pp = &np->properties; *pp; pp = &(*pp)->next) {
		if (*pp == prop) {
			*pp = prop->next;
			prop->next = np->deadprops;
			np->deadprops = prop;
			found = 1;
			break;
		}
	}
	spin_unlock(&devtree_lock);
	mutex_unlock(&of_mutex);
	return found ? reconfig_notify(OF_RECONFIG_REMOVE_PROPERTY, &rd) : -ENODEV;
}

/* ---- the report ------------------------------------------------------------------------------------------ */

static void report_node_locked(struct device_node *np)
{
	for (; np; np = np->sibling) {
		kh_report_dt_node(kh_of_node_path(np), np->phandle, np->drc_index);
		for (struct property *p = np->properties; p; p = p->next)
			kh_report_dt_prop(p->name, p->value, (unsigned long)p->length);
		report_node_locked(np->child);
	}
}

void kh_of_report(void)
{
	spin_lock(&devtree_lock);
	report_node_locked(of_root);
	spin_unlock(&devtree_lock);
}
