/*
 * sysfs, classes, devices and character devices, as far as the VAS and mobility files use them.
 *
 * Every kobject that is added lands in a registry, so a write to a sysfs path reaches the kernel's own store
 * function: drmgr's migration request becomes a write of the stream id to /sys/kernel/mobility/migration
 * (mobility.c's migration_store), the administrator's QoS credits a write to .../qos_capabilities/
 * update_total_credits (vas-sysfs.c). Character devices registered with cdev_add are found by their /dev
 * path, which the class's devnode callback names (vas-api.c: crypto/nx-gzip).
 */
#include <linux/kernel.h>
#include <linux/device.h>
#include <linux/kobject.h>

#include "k_internal.h"

static DEFINE_MUTEX(sysfs_mutex);
#define MAX_KOBJECTS 64
static struct kobject *registry[MAX_KOBJECTS];   /* guarded by sysfs_mutex */
static int nregistry;

/* /sys/kernel, /sys/devices/virtual and its misc directory. */
static struct kobject kernel_root = { .name = "kernel" };
static struct kobject devices_root = { .name = "devices" };
static struct kobject virtual_root = { .name = "virtual", .parent = &devices_root };
static struct kobject misc_root = { .name = "misc", .parent = &virtual_root };
struct kobject *kernel_kobj = &kernel_root;

static void register_locked(struct kobject *kobj)
{
	if (kobj->registered)
		return;
	if (nregistry == MAX_KOBJECTS)
		kh_panic("sysfs registry full (%d kobjects)", MAX_KOBJECTS);
	registry[nregistry++] = kobj;
	kobj->registered = true;
}

static void sysfs_roots_locked(void)
{
	if (!kernel_root.registered) {
		register_locked(&kernel_root);
		register_locked(&devices_root);
		register_locked(&virtual_root);
		register_locked(&misc_root);
	}
}

static void path_of(const struct kobject *kobj, char *buf, size_t size)
{
	const struct kobject *chain[16];
	int depth = 0;
	for (const struct kobject *k = kobj; k && depth < 16; k = k->parent)
		chain[depth++] = k;
	size_t off = kh_snprintf(buf, size, "/sys");
	while (depth-- > 0)
		off += kh_snprintf(buf + off, off < size ? size - off : 0, "/%s", chain[depth]->name);
}

/* ---- kobjects -------------------------------------------------------------------------------------------- */

static void dynamic_release(struct kobject *kobj)
{
	kfree(kobj);
}

static ssize_t dynamic_show(struct kobject *kobj, struct attribute *attr, char *buf)
{
	struct kobj_attribute *ka = container_of(attr, struct kobj_attribute, attr);
	return ka->show ? ka->show(kobj, ka, buf) : -EIO;
}

static ssize_t dynamic_store(struct kobject *kobj, struct attribute *attr, const char *buf, size_t count)
{
	struct kobj_attribute *ka = container_of(attr, struct kobj_attribute, attr);
	return ka->store ? ka->store(kobj, ka, buf, count) : -EIO;
}

static const struct sysfs_ops dynamic_ops = { .show = dynamic_show, .store = dynamic_store };
static const struct kobj_type dynamic_ktype = { .release = dynamic_release, .sysfs_ops = &dynamic_ops };

void kobject_init(struct kobject *kobj, const struct kobj_type *ktype)
{
	kref_init(&kobj->kref);
	kobj->ktype = ktype;
}

static int kobject_vadd(struct kobject *kobj, struct kobject *parent, const char *fmt, va_list ap)
{
	kobj->name = kvasprintf(GFP_KERNEL, fmt, ap);
	kobj->parent = parent;
	mutex_lock(&sysfs_mutex);
	sysfs_roots_locked();
	register_locked(kobj);
	mutex_unlock(&sysfs_mutex);
	return 0;
}

int kobject_add(struct kobject *kobj, struct kobject *parent, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = kobject_vadd(kobj, parent, fmt, ap);
	va_end(ap);
	return rc;
}

int kobject_init_and_add(struct kobject *kobj, const struct kobj_type *ktype, struct kobject *parent,
			 const char *fmt, ...)
{
	kobject_init(kobj, ktype);
	va_list ap;
	va_start(ap, fmt);
	int rc = kobject_vadd(kobj, parent, fmt, ap);
	va_end(ap);
	return rc;
}

struct kobject *kobject_create_and_add(const char *name, struct kobject *parent)
{
	struct kobject *kobj = kzalloc(sizeof(*kobj), GFP_KERNEL);
	kobject_init(kobj, &dynamic_ktype);
	kobject_add(kobj, parent, "%s", name);
	return kobj;
}

struct kobject *kobject_get(struct kobject *kobj)
{
	if (kobj)
		kref_get(&kobj->kref);
	return kobj;
}

void kobject_del(struct kobject *kobj)
{
	mutex_lock(&sysfs_mutex);
	for (int i = 0; i < nregistry; i++) {
		if (registry[i] == kobj) {
			registry[i] = registry[--nregistry];
			break;
		}
	}
	kobj->registered = false;
	mutex_unlock(&sysfs_mutex);
}

static void kobject_release(struct kref *k)
{
	struct kobject *kobj = container_of(k, struct kobject, kref);
	kobject_del(kobj);
	if (kobj->ktype && kobj->ktype->release)
		kobj->ktype->release(kobj);
}

void kobject_put(struct kobject *kobj)
{
	if (kobj)
		kref_put(&kobj->kref, kobject_release);
}

int sysfs_create_file(struct kobject *kobj, const struct attribute *attr)
{
	mutex_lock(&sysfs_mutex);
	struct attribute **files = kcalloc(kobj->nfiles + 1, sizeof(*files), GFP_KERNEL);
	if (kobj->nfiles)
		memcpy(files, kobj->files, kobj->nfiles * sizeof(*files));
	kfree(kobj->files);
	kobj->files = files;
	kobj->files[kobj->nfiles++] = (struct attribute *)attr;
	mutex_unlock(&sysfs_mutex);
	return 0;
}

int sysfs_create_group(struct kobject *kobj, const struct attribute_group *grp)
{
	for (struct attribute **a = grp->attrs; a && *a; a++)
		sysfs_create_file(kobj, *a);
	return 0;
}

ssize_t kh_show_class_attr_string(const struct class *class, const struct class_attribute *attr, char *buf)
{
	const struct class_attribute_string *cs = container_of(attr, struct class_attribute_string, attr);
	return sysfs_emit(buf, "%s\n", cs->str);
}

/* ---- sysfs by path --------------------------------------------------------------------------------------- */

/* Finds the kobject at dir and its attribute named name. */
static struct kobject *lookup_locked(const char *dir, const char *name, struct attribute **attrp)
{
	char path[256];
	for (int i = 0; i < nregistry; i++) {
		struct kobject *kobj = registry[i];
		path_of(kobj, path, sizeof(path));
		if (strcmp(path, dir) != 0)
			continue;
		for (int f = 0; f < kobj->nfiles; f++) {
			if (strcmp(kobj->files[f]->name, name) == 0) {
				*attrp = kobj->files[f];
				return kobj;
			}
		}
		const struct attribute_group **groups = kobj->ktype ? kobj->ktype->default_groups : NULL;
		for (; groups && *groups; groups++) {
			for (struct attribute **a = (*groups)->attrs; a && *a; a++) {
				if (strcmp((*a)->name, name) == 0) {
					*attrp = *a;
					return kobj;
				}
			}
		}
	}
	return NULL;
}

static struct kobject *resolve(const char *path, struct attribute **attrp)
{
	const char *slash = strrchr(path, '/');
	if (!slash || slash == path)
		return NULL;
	char dir[256];
	size_t len = (size_t)(slash - path);
	if (len >= sizeof(dir))
		return NULL;
	memcpy(dir, path, len);
	dir[len] = 0;
	mutex_lock(&sysfs_mutex);
	sysfs_roots_locked();
	struct kobject *kobj = lookup_locked(dir, slash + 1, attrp);
	mutex_unlock(&sysfs_mutex);
	return kobj;
}

int kh_sys_sysfs_write(const char *path, const char *value)
{
	struct attribute *attr = NULL;
	struct kobject *kobj = resolve(path, &attr);
	if (!kobj)
		return -ENOENT;
	if (!(attr->mode & 0222))
		return -EACCES;
	const struct sysfs_ops *ops = kobj->ktype ? kobj->ktype->sysfs_ops : NULL;
	if (!ops || !ops->store)
		return -EIO;
	/* Like sysfs, the store sees a NUL-terminated copy of what was written. */
	size_t count = strlen(value);
	char *buf = kzalloc(PAGE_SIZE, GFP_KERNEL);
	memcpy(buf, value, count < PAGE_SIZE - 1 ? count : PAGE_SIZE - 1);
	ssize_t rc = ops->store(kobj, attr, buf, count);
	kfree(buf);
	if (rc < 0)
		kh_count_errno((int)rc);
	return rc < 0 ? (int)rc : 0;
}

int kh_sys_sysfs_read(const char *path, char *out, unsigned long size)
{
	struct attribute *attr = NULL;
	struct kobject *kobj = resolve(path, &attr);
	if (!kobj)
		return -ENOENT;
	if (!(attr->mode & 0444))
		return -EACCES;
	const struct sysfs_ops *ops = kobj->ktype ? kobj->ktype->sysfs_ops : NULL;
	if (!ops || !ops->show)
		return -EIO;
	char *buf = kzalloc(PAGE_SIZE, GFP_KERNEL);
	ssize_t rc = ops->show(kobj, attr, buf);
	if (rc >= 0)
		kh_snprintf(out, size, "%s", buf);
	kfree(buf);
	return rc < 0 ? (int)rc : 0;
}

/* ---- classes, devices, character devices ------------------------------------------------------------------ */

struct class *kh_class_create(const char *name)
{
	struct class *cls = kzalloc(sizeof(*cls), GFP_KERNEL);
	cls->name = kstrdup(name, GFP_KERNEL);
	return cls;
}

void class_destroy(const struct class *cls)
{
	kfree(cls);
}

#define MAX_DEVICES 16
static struct device *devices[MAX_DEVICES];   /* guarded by sysfs_mutex */
static int ndevices;
static struct cdev *cdevs[MAX_DEVICES];
static int ncdevs;
static unsigned int next_major = 240;   /* the kernel's dynamic majors count down from 254; any free number does */

struct device *device_create(const struct class *cls, struct device *parent, dev_t devt, void *drvdata,
			     const char *fmt, ...)
{
	struct device *dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	dev->class = cls;
	dev->devt = devt;
	dev->driver_data = drvdata;
	struct kobject *dir = parent ? &parent->kobj : NULL;
	if (!dir) {
		/* /sys/devices/virtual/<class>/<name> */
		dir = kzalloc(sizeof(*dir), GFP_KERNEL);
		kobject_init(dir, &dynamic_ktype);
		kobject_add(dir, &virtual_root, "%s", cls ? cls->name : "unknown");
	}
	kobject_init(&dev->kobj, &dynamic_ktype);
	va_list ap;
	va_start(ap, fmt);
	kobject_vadd(&dev->kobj, dir, fmt, ap);
	va_end(ap);
	mutex_lock(&sysfs_mutex);
	if (ndevices == MAX_DEVICES)
		kh_panic("too many devices");
	devices[ndevices++] = dev;
	mutex_unlock(&sysfs_mutex);
	return dev;
}

void device_destroy(const struct class *cls, dev_t devt)
{
	mutex_lock(&sysfs_mutex);
	for (int i = 0; i < ndevices; i++) {
		if (devices[i]->class == cls && devices[i]->devt == devt) {
			devices[i] = devices[--ndevices];
			break;
		}
	}
	mutex_unlock(&sysfs_mutex);
}

int alloc_chrdev_region(dev_t *dev, unsigned int baseminor, unsigned int count, const char *name)
{
	mutex_lock(&sysfs_mutex);
	*dev = MKDEV(next_major, baseminor);
	next_major++;
	mutex_unlock(&sysfs_mutex);
	return 0;
}

void unregister_chrdev_region(dev_t from, unsigned int count) { }

void cdev_init(struct cdev *cdev, const struct file_operations *fops)
{
	memset(cdev, 0, sizeof(*cdev));
	cdev->ops = fops;
}

int cdev_add(struct cdev *cdev, dev_t dev, unsigned int count)
{
	cdev->dev = dev;
	cdev->count = count;
	mutex_lock(&sysfs_mutex);
	if (ncdevs == MAX_DEVICES)
		kh_panic("too many character devices");
	cdevs[ncdevs++] = cdev;
	mutex_unlock(&sysfs_mutex);
	return 0;
}

void cdev_del(struct cdev *cdev)
{
	mutex_lock(&sysfs_mutex);
	for (int i = 0; i < ncdevs; i++) {
		if (cdevs[i] == cdev) {
			cdevs[i] = cdevs[--ncdevs];
			break;
		}
	}
	mutex_unlock(&sysfs_mutex);
}

int misc_register(struct miscdevice *misc)
{
	struct device *dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	kobject_init(&dev->kobj, &dynamic_ktype);
	kobject_add(&dev->kobj, &misc_root, "%s", misc->name);
	misc->this_device = dev;
	return 0;
}

void misc_deregister(struct miscdevice *misc)
{
	if (misc->this_device)
		kobject_del(&misc->this_device->kobj);
}

struct cdev *kh_dev_lookup(const char *devpath, dev_t *devt)
{
	struct cdev *found = NULL;
	mutex_lock(&sysfs_mutex);
	for (int i = 0; i < ndevices && !found; i++) {
		struct device *dev = devices[i];
		char path[128];
		umode_t mode = 0;
		char *node = dev->class && dev->class->devnode ? ((kh_devnode_t)dev->class->devnode)(dev, &mode) : NULL;
		kh_snprintf(path, sizeof(path), "/dev/%s", node ? node : dev_name(dev));
		kfree(node);
		if (strcmp(path, devpath) != 0)
			continue;
		for (int c = 0; c < ncdevs; c++) {
			if (dev->devt >= cdevs[c]->dev && dev->devt < cdevs[c]->dev + cdevs[c]->count) {
				found = cdevs[c];
				*devt = dev->devt;
				break;
			}
		}
	}
	mutex_unlock(&sysfs_mutex);
	return found;
}
