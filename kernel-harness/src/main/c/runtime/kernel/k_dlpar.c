/*
 * Dynamic reconfiguration: the dlpar_* helpers mobility.c calls (the kernel's dlpar.c is not compiled),
 * and processor DLPAR reduced to its device-tree effect, as the daemon presents it (one DlparCpu event per
 * core, by DRC index).
 *
 * dlpar_configure_connector() rebuilds a node's subtree from ibm,configure-connector, one step per call
 * (papr-notes 8; the work area: drc index, firmware state, then offsets of the name and the value). Attaching
 * and detaching go through of_attach_node / of_detach_node, so the reconfig notifier chain (vas.c's
 * pseries_vas_notifier) sees processor nodes come and go, which is how a real core change reaches VAS.
 *
 * Not modelled: DRC acquire/release and isolation (set-indicator), onlining and offlining the core's
 * threads (the daemon keeps the partition's vCPUs across core changes), NUMA updates.
 */
#include <linux/kernel.h>
#include <linux/of.h>
#include <asm/rtas.h>
#include "arch/powerpc/platforms/pseries/pseries.h"

#include "k_internal.h"

#define CC_COMPLETE 0
#define CC_NEXT_SIBLING 1
#define CC_NEXT_CHILD 2
#define CC_NEXT_PROPERTY 3
#define CC_PREV_PARENT 4
#define CC_MORE_MEMORY 5

struct cc_workarea {
	__be32 drc_index;
	__be32 zero;
	__be32 name_offset;
	__be32 prop_length;
	__be32 prop_offset;
};

static const char *wa_string(const char *wa, u32 offset)
{
	if (offset >= RTAS_DATA_BUF_SIZE)
		return NULL;
	const char *s = wa + offset;
	if (!memchr(s, 0, RTAS_DATA_BUF_SIZE - offset))
		return NULL;
	return s;
}

void dlpar_free_cc_nodes(struct device_node *dn)
{
	/* Nodes are never freed (k_of.c); a subtree that is not attached is simply dropped. */
	(void)dn;
}

void dlpar_free_cc_property(struct property *prop)
{
	(void)prop;
}

struct device_node *dlpar_configure_connector(__be32 drc_index, struct device_node *parent)
{
	int token = rtas_token("ibm,configure-connector");
	if (token == RTAS_UNKNOWN_SERVICE)
		return NULL;
	char *wa = kzalloc(RTAS_DATA_BUF_SIZE, GFP_KERNEL);
	struct cc_workarea *ccwa = (struct cc_workarea *)wa;
	ccwa->drc_index = drc_index;
	struct device_node *first = NULL, *last = NULL;
	bool ok = false;
	for (int steps = 0; steps < 4096; steps++) {
		spin_lock(&rtas_data_buf_lock);
		memcpy(rtas_data_buf, wa, RTAS_DATA_BUF_SIZE);
		int rc = rtas_call(token, 2, 1, NULL, rtas_data_buf, 0);
		memcpy(wa, rtas_data_buf, RTAS_DATA_BUF_SIZE);
		spin_unlock(&rtas_data_buf_lock);

		if (rc == CC_COMPLETE) {
			ok = first != NULL;
			break;
		}
		if (rc == CC_NEXT_SIBLING || rc == CC_NEXT_CHILD) {
			const char *name = wa_string(wa, be32_to_cpu(ccwa->name_offset));
			if (!name || (rc == CC_NEXT_SIBLING && !last))
				break;
			struct device_node *dn = kh_of_new_node(name);
			if (!first) {
				first = dn;
				dn->parent = parent;
			} else if (rc == CC_NEXT_CHILD) {
				dn->parent = last;
				struct device_node **pp = &last->child;
				while (*pp)
					pp = &(*pp)->sibling;
				*pp = dn;
			} else {
				dn->parent = last->parent;
				last->sibling = dn;
			}
			last = dn;
		} else if (rc == CC_NEXT_PROPERTY) {
			const char *name = wa_string(wa, be32_to_cpu(ccwa->name_offset));
			u32 len = be32_to_cpu(ccwa->prop_length);
			u32 off = be32_to_cpu(ccwa->prop_offset);
			if (!name || !last || off > RTAS_DATA_BUF_SIZE || len > RTAS_DATA_BUF_SIZE - off)
				break;
			struct property *p = kh_of_new_property(name, wa + off, (int)len);
			struct property **pp = &last->properties;
			while (*pp)
				pp = &(*pp)->next;
			*pp = p;
		} else if (rc == CC_PREV_PARENT) {
			if (!last)
				break;
			last = last->parent;
		} else {
			pr_err("Unexpected Error (%d) returned from configure-connector\n", rc);
			break;
		}
	}
	kfree(wa);
	if (!ok)
		return NULL;
	return first;
}

int dlpar_attach_node(struct device_node *dn, struct device_node *parent)
{
	dn->parent = parent;
	int rc = of_attach_node(dn);
	if (rc)
		pr_err("Failed to add device node %pOF\n", dn);
	return rc;
}

int dlpar_detach_node(struct device_node *dn)
{
	struct device_node *child;
	for (child = dn->child; child; child = child->sibling)
		dlpar_detach_node(child);
	int rc = of_detach_node(dn);
	if (rc)
		pr_err("Failed to remove device node %pOF (%d)\n", dn, rc);
	return rc;
}

/* ---- processor DLPAR (the daemon's DlparCpu events) ------------------------------------------------------- */

int kh_event_dlpar_cpu(int add, unsigned int drc_index, char *detail, unsigned long size)
{
	int rc;
	lock_device_hotplug();
	if (add) {
		struct device_node *cpus = of_find_node_by_path("/cpus");
		if (!cpus) {
			rc = -ENODEV;
		} else if (kh_of_find_by_drc_index(drc_index)) {
			pr_warn("CPU with drc index %x already exists\n", drc_index);
			rc = -EINVAL;
		} else {
			struct device_node *dn = dlpar_configure_connector(cpu_to_be32(drc_index), cpus);
			if (!dn) {
				pr_warn("Failed call to configure-connector, drc index: %x\n", drc_index);
				rc = -EINVAL;
			} else {
				dn->drc_index = drc_index;
				rc = dlpar_attach_node(dn, cpus);
				if (!rc)
					pr_info("CPU %pOF (drc %x) added\n", dn, drc_index);
			}
		}
	} else {
		struct device_node *dn = kh_of_find_by_drc_index(drc_index);
		if (!dn) {
			pr_warn("Cannot find CPU (drc index %x) to remove\n", drc_index);
			rc = -ENODEV;
		} else {
			pr_info("CPU %pOF (drc %x) removed\n", dn, drc_index);
			rc = dlpar_detach_node(dn);
		}
	}
	unlock_device_hotplug();
	kh_snprintf(detail, size, "cpu %s drc 0x%x %s%s", add ? "add" : "remove", drc_index, rc ? "failed: " : "done",
		    rc ? kh_errno_name(rc) : "");
	return rc;
}
