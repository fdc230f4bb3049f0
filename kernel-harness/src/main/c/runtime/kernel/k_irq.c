/*
 * IRQ domains as a table: a hardware interrupt number (the fault IRQ H_ALLOCATE_VAS_WINDOW returns) is
 * mapped to a virtual one and may get a handler. The daemon delivers no NX fault interrupts, so handlers are
 * registered and freed exactly as vas.c does, and run only when kh_irq_raise() is called (tests).
 */
#include <linux/kernel.h>
#include <linux/interrupt.h>

#define MAX_IRQS 256

struct irq_slot {
	irq_hw_number_t hwirq;
	bool mapped;
	irq_handler_t handler;
	irq_handler_t thread_fn;
	void *dev;
	const char *name;
};

static DEFINE_SPINLOCK(irq_lock);
static struct irq_slot irqs[MAX_IRQS];   /* virq i is irqs[i]; 0 is never used */

unsigned int irq_create_mapping(struct irq_domain *domain, irq_hw_number_t hwirq)
{
	unsigned int virq = 0;
	spin_lock(&irq_lock);
	for (unsigned int i = 1; i < MAX_IRQS && !virq; i++)
		if (irqs[i].mapped && irqs[i].hwirq == hwirq)
			virq = i;
	for (unsigned int i = 1; i < MAX_IRQS && !virq; i++) {
		if (!irqs[i].mapped) {
			irqs[i] = (struct irq_slot) { .hwirq = hwirq, .mapped = true };
			virq = i;
		}
	}
	spin_unlock(&irq_lock);
	return virq;
}

void irq_dispose_mapping(unsigned int virq)
{
	spin_lock(&irq_lock);
	if (virq && virq < MAX_IRQS)
		memset(&irqs[virq], 0, sizeof(irqs[virq]));
	spin_unlock(&irq_lock);
}

int request_threaded_irq(unsigned int irq, irq_handler_t handler, irq_handler_t thread_fn, unsigned long flags,
			 const char *name, void *dev)
{
	int rc = 0;
	spin_lock(&irq_lock);
	if (!irq || irq >= MAX_IRQS || !irqs[irq].mapped)
		rc = -EINVAL;
	else if (irqs[irq].handler)
		rc = -EBUSY;
	else {
		irqs[irq].handler = handler;
		irqs[irq].thread_fn = thread_fn;
		irqs[irq].dev = dev;
		irqs[irq].name = name;
	}
	spin_unlock(&irq_lock);
	return rc;
}

const void *free_irq(unsigned int irq, void *dev)
{
	const char *name = NULL;
	spin_lock(&irq_lock);
	if (irq && irq < MAX_IRQS && irqs[irq].dev == dev) {
		name = irqs[irq].name;
		irqs[irq].handler = NULL;
		irqs[irq].thread_fn = NULL;
		irqs[irq].dev = NULL;
		irqs[irq].name = NULL;
	} else {
		pr_warn("kharness: free_irq(%u) of an IRQ not requested by this device\n", irq);
	}
	spin_unlock(&irq_lock);
	return name;
}

/* Delivers hardware interrupt hwirq as the kernel would: the primary handler, then the thread. */
int kh_irq_raise(irq_hw_number_t hwirq)
{
	irq_handler_t handler = NULL, thread_fn = NULL;
	void *dev = NULL;
	unsigned int virq = 0;
	spin_lock(&irq_lock);
	for (unsigned int i = 1; i < MAX_IRQS; i++) {
		if (irqs[i].mapped && irqs[i].hwirq == hwirq && irqs[i].handler) {
			virq = i;
			handler = irqs[i].handler;
			thread_fn = irqs[i].thread_fn;
			dev = irqs[i].dev;
		}
	}
	spin_unlock(&irq_lock);
	if (!handler)
		return -ENOENT;
	irqreturn_t r = handler((int)virq, dev);
	if (r == IRQ_WAKE_THREAD && thread_fn)
		thread_fn((int)virq, dev);
	return 0;
}
