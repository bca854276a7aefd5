// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/iopf-mock: a mock shared-virtual-addressing DMA engine.
 *
 * The device sits behind the mock IOMMU of the I/O page fault handler's
 * KUnit suite (lib/tests/iopf_mock.c), on its own fault queue "iopf-mock".
 * Opening the misc device binds the caller's address space to a PASID
 * (iommu_sva_alloc_pasid()); the IOPF_IOC_DMA ioctl then makes the
 * "device" read or write a user buffer as an SVA DMA engine does:
 *
 *  1. translate each page without faulting (get_user_pages_remote() with
 *     FOLL_NOFAULT, a page-table lookup, as an ATS translation request);
 *  2. for the pages missing or lacking the permission, send a page request
 *     group through iommu_report_device_fault(), as the IOMMU driver's
 *     IRQ thread does, and wait for the handler's answer;
 *  3. on SUCCESS translate again and copy; on INVALID fail the DMA with
 *     -EFAULT, and tell the caller the address and the reason the
 *     handler's unhandled-fault notifier gave.
 *
 * Releasing the file flushes the device's faults and drops the mm; the
 * PASID stays with the mm until it exits, as for SVA binds in 6.1.
 *
 * Objects and locks: one device, queue and mock, created at boot and never
 * freed.  iopf_dev.lock protects iopf_dev.wait[], the waiter of each group
 * id in flight; a waiter is completed under the lock, so a waiter that
 * timed out and took itself off the table under the lock is never
 * touched afterwards.  A waiter answered SUCCESS leaves the table with its
 * answer; one answered INVALID stays until the notifier, which the handler
 * calls after the answer, gave the reason.  Group ids come from the
 * iopf_dev.grpids IDA.
 */

#include <linux/completion.h>
#include <linux/highmem.h>
#include <linux/idr.h>
#include <linux/init.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>

#include "../../drivers/iommu/iommu-sva-lib.h"
#include "iopf_device.h"
#include "iopf_mock.h"

#define IOPF_DEV_GRPIDS		512	/* PRI group ids have 9 bits */
#define IOPF_DEV_GROUP_PAGES	16	/* pages per DMA burst and group */
#define IOPF_DEV_RETRIES	4
#define IOPF_DEV_TIMEOUT	(10 * HZ)

/**
 * struct iopf_dev_wait - a DMA waiting for the answer to its group
 * @done: completed with @code set
 * @code: the answer
 * @why_done: for an INVALID answer, completed with @why set
 * @why: what the handler's unhandled-fault notifier said
 */
struct iopf_dev_wait {
	struct completion done;
	u32 code;
	struct completion why_done;
	struct iopf_unhandled why;
};

/**
 * struct iopf_dev_burst - the pages of one DMA burst
 * @dma: the DMA
 * @write: the device writes
 * @addr: the address of each page not copied yet
 * @nr: pages in @addr
 */
struct iopf_dev_burst {
	struct iopf_dma *dma;
	bool write;
	unsigned long addr[IOPF_DEV_GROUP_PAGES];
	unsigned int nr;
};

static struct {
	struct iopf_queue *queue;
	struct iopf_mock *mock;
	struct iopf_unhandled_notifier nb;
	struct ida grpids;
	spinlock_t lock;	/* protects wait */
	struct iopf_dev_wait *wait[IOPF_DEV_GRPIDS];
} iopf_dev;

/* The mock IOMMU's ->page_response(): wake the DMA waiting for the group. */
static void iopf_dev_answer(struct iopf_mock *mock,
			    const struct iommu_page_response *msg)
{
	struct iopf_dev_wait *w = NULL;

	spin_lock(&iopf_dev.lock);
	if (msg->grpid < IOPF_DEV_GRPIDS)
		w = iopf_dev.wait[msg->grpid];
	if (w) {
		/* INVALID: the notifier follows, and takes it off the table. */
		if (msg->code != IOMMU_PAGE_RESP_INVALID)
			iopf_dev.wait[msg->grpid] = NULL;
		w->code = msg->code;
		complete(&w->done);
	}
	spin_unlock(&iopf_dev.lock);
}

/* The handler's unhandled-fault notifier: why the group failed. */
static void iopf_dev_unhandled(struct iopf_unhandled_notifier *nb,
			       struct device *dev,
			       const struct iopf_unhandled *why)
{
	struct iopf_dev_wait *w = NULL;

	spin_lock(&iopf_dev.lock);
	if (why->grpid < IOPF_DEV_GRPIDS) {
		w = iopf_dev.wait[why->grpid];
		iopf_dev.wait[why->grpid] = NULL;
	}
	if (w) {
		w->why = *why;
		complete(&w->why_done);
	}
	spin_unlock(&iopf_dev.lock);
}

static void iopf_dev_set_wait(int grpid, struct iopf_dev_wait *w)
{
	spin_lock(&iopf_dev.lock);
	iopf_dev.wait[grpid] = w;
	spin_unlock(&iopf_dev.lock);
}

/* Stop waiting; true when the answer came meanwhile. */
static bool iopf_dev_cancel_wait(int grpid, struct iopf_dev_wait *w)
{
	bool answered;

	spin_lock(&iopf_dev.lock);
	answered = iopf_dev.wait[grpid] != w;
	if (!answered)
		iopf_dev.wait[grpid] = NULL;
	spin_unlock(&iopf_dev.lock);
	return answered;
}

/*
 * The group @grpid of @dma was answered INVALID: wait for the handler's
 * notifier, which follows the answer, and pass its reason on.  Return
 * false when it did not come in time: the group id must then be kept, as
 * the notifier may still come for it.
 */
static bool iopf_dev_why(struct iopf_dma *dma, int grpid,
			 struct iopf_dev_wait *w)
{
	if (!wait_for_completion_timeout(&w->why_done, IOPF_DEV_TIMEOUT)) {
		if (!iopf_dev_cancel_wait(grpid, w))
			return false;
		/* The notifier took it meanwhile: its completion follows. */
		wait_for_completion(&w->why_done);
	}
	dma->fault_addr = w->why.addr;
	dma->fault_reason = w->why.reason + 1;
	dma->fault_err = w->why.err;
	return true;
}

/*
 * Send the pages of @b as one page request group and wait for the answer.
 * Return 0 on SUCCESS, -EFAULT on INVALID, or the error of the report.
 */
static int iopf_dev_page_request(struct iopf_dev_burst *b)
{
	u32 perm = b->write ? IOMMU_FAULT_PERM_WRITE : IOMMU_FAULT_PERM_READ;
	u32 flags = IOMMU_FAULT_PAGE_REQUEST_PASID_VALID |
		    IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID;
	struct iopf_dev_wait w;
	unsigned int i;
	int grpid, ret = 0;

	grpid = ida_alloc_max(&iopf_dev.grpids, IOPF_DEV_GRPIDS - 1,
			      GFP_KERNEL);
	if (grpid < 0)
		return grpid;
	init_completion(&w.done);
	init_completion(&w.why_done);
	iopf_dev_set_wait(grpid, &w);

	for (i = 0; i < b->nr; i++) {
		if (i == b->nr - 1)
			flags |= IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE;
		/* A refused partial request: the retry asks again. */
		ret = iopf_mock_report(iopf_dev.mock, IOMMU_FAULT_PAGE_REQ,
				       flags, b->dma->pasid, grpid, perm,
				       b->addr[i]);
		b->dma->requests++;
	}
	if (ret) {
		/* The last request was refused: no answer will come. */
		iopf_dev_cancel_wait(grpid, &w);
		goto out_free;
	}
	b->dma->groups++;

	if (!wait_for_completion_timeout(&w.done, IOPF_DEV_TIMEOUT)) {
		/* Keep the group id: its answer may still come. */
		if (!iopf_dev_cancel_wait(grpid, &w))
			return -ETIMEDOUT;
		/* Answered since: the completion is about to be done. */
		wait_for_completion(&w.done);
	}
	if (w.code != IOMMU_PAGE_RESP_SUCCESS) {
		b->dma->invalid++;
		ret = -EFAULT;
		/* Only INVALID answers are notified (iopf_dev_answer()). */
		if (w.code == IOMMU_PAGE_RESP_INVALID &&
		    !iopf_dev_why(b->dma, grpid, &w))
			return ret;	/* keep the group id */
	}
out_free:
	ida_free(&iopf_dev.grpids, grpid);
	return ret;
}

/* Copy between the device and the part of @page the DMA covers at @addr. */
static void iopf_dev_copy(struct iopf_dma *dma, struct page *page,
			  unsigned long addr)
{
	unsigned long end = min_t(u64, dma->addr + dma->len,
				  (addr & PAGE_MASK) + PAGE_SIZE);
	u32 word = (addr - dma->addr) / sizeof(u32);
	void *kaddr = kmap_local_page(page);
	u32 *p = kaddr + offset_in_page(addr);

	for (; addr < end; addr += sizeof(u32), p++, word++) {
		if (dma->flags & IOPF_DMA_WRITE)
			*p = dma->pattern + word;
		else
			dma->sum += *p;
	}
	kunmap_local(kaddr);
	if (dma->flags & IOPF_DMA_WRITE)
		set_page_dirty_lock(page);
}

/*
 * Translate and copy the pages of @b that are present with the permission;
 * keep the others in @b.
 */
static void iopf_dev_transfer(struct mm_struct *mm, struct iopf_dev_burst *b)
{
	unsigned int flags = FOLL_NOFAULT | (b->write ? FOLL_WRITE : 0);
	unsigned int i, missing = 0;
	struct page *page;

	mmap_read_lock(mm);
	for (i = 0; i < b->nr; i++) {
		/* A page-table walk that never faults, as ATS. */
		if (get_user_pages_remote(mm, b->addr[i] & PAGE_MASK, 1, flags,
					  &page, NULL, NULL) != 1) {
			b->addr[missing++] = b->addr[i];
			continue;
		}
		iopf_dev_copy(b->dma, page, b->addr[i]);
		put_page(page);
	}
	mmap_read_unlock(mm);
	b->nr = missing;
}

/*
 * DMA [@start, @end), at most IOPF_DEV_GROUP_PAGES pages: copy what is
 * present, ask for the rest in one group, retry.  No lock is held while
 * the handler works (it takes mmap_lock).
 */
static int iopf_dev_burst(struct mm_struct *mm, struct iopf_dma *dma,
			  unsigned long start, unsigned long end)
{
	struct iopf_dev_burst b = {
		.dma = dma,
		.write = dma->flags & IOPF_DMA_WRITE,
	};
	unsigned long addr;
	unsigned int try;
	int ret;

	for (addr = start; addr < end; addr = (addr & PAGE_MASK) + PAGE_SIZE)
		b.addr[b.nr++] = addr;

	for (try = 0; ; try++) {
		iopf_dev_transfer(mm, &b);
		if (!b.nr)
			return 0;
		if (try == IOPF_DEV_RETRIES)
			return -EFAULT;
		ret = iopf_dev_page_request(&b);
		if (ret)
			return ret;
	}
}

static int iopf_dev_dma(struct mm_struct *mm, struct iopf_dma *dma)
{
	unsigned long addr = dma->addr, end = dma->addr + dma->len, next;
	int ret;

	for (; addr < end; addr = next) {
		next = min(end, (addr & PAGE_MASK) +
				IOPF_DEV_GROUP_PAGES * PAGE_SIZE);
		ret = iopf_dev_burst(mm, dma, addr, next);
		if (ret)
			return ret;
		cond_resched();
	}
	return 0;
}

static int iopf_dev_check(struct iopf_dma *dma)
{
	if (dma->flags & ~IOPF_DMA_WRITE || dma->reserved)
		return -EINVAL;
	if (!dma->len || dma->len > IOPF_DMA_MAX_LEN)
		return -EINVAL;
	if (!IS_ALIGNED(dma->addr | dma->len, sizeof(u32)))
		return -EINVAL;
	if (!access_ok(u64_to_user_ptr(dma->addr), dma->len))
		return -EINVAL;
	return 0;
}

static long iopf_dev_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	struct mm_struct *mm = file->private_data;
	void __user *argp = (void __user *)arg;
	struct iopf_dma dma;
	int ret;

	if (cmd != IOPF_IOC_DMA)
		return -ENOTTY;
	if (copy_from_user(&dma, argp, sizeof(dma)))
		return -EFAULT;
	ret = iopf_dev_check(&dma);
	if (ret)
		return ret;
	/* The device works on the address space bound at open. */
	if (current->mm != mm)
		return -EINVAL;

	dma.sum = 0;
	dma.requests = 0;
	dma.groups = 0;
	dma.invalid = 0;
	dma.pasid = mm->pasid;
	dma.fault_addr = 0;
	dma.fault_reason = IOPF_DMA_REASON_NONE;
	dma.fault_err = 0;
	ret = iopf_dev_dma(mm, &dma);
	if ((!ret || ret == -EFAULT) && copy_to_user(argp, &dma, sizeof(dma)))
		return -EFAULT;
	return ret;
}

static int iopf_dev_open(struct inode *inode, struct file *file)
{
	struct mm_struct *mm = current->mm;
	int ret;

	if (!mm)
		return -EINVAL;
	ret = iommu_sva_alloc_pasid(mm, 1, (1U << 20) - 1);
	if (ret)
		return ret;
	mmgrab(mm);
	file->private_data = mm;
	return 0;
}

static int iopf_dev_release(struct inode *inode, struct file *file)
{
	/* No fault of this file's DMAs is left in the handler after this. */
	iopf_queue_flush_dev(iopf_dev.mock->dev);
	mmdrop(file->private_data);
	return 0;
}

static const struct file_operations iopf_dev_fops = {
	.owner = THIS_MODULE,
	.open = iopf_dev_open,
	.release = iopf_dev_release,
	.unlocked_ioctl = iopf_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice iopf_dev_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "iopf-mock",
	.fops = &iopf_dev_fops,
	.mode = 0600,	/* root only: a test device */
};

static int __init iopf_dev_init(void)
{
	int ret = -ENOMEM;

	spin_lock_init(&iopf_dev.lock);
	ida_init(&iopf_dev.grpids);

	iopf_dev.queue = iopf_queue_alloc("iopf-mock");
	if (!iopf_dev.queue)
		return -ENOMEM;
	iopf_dev.mock = iopf_mock_create(iommu_queue_iopf);
	if (!iopf_dev.mock)
		goto err_free_queue;
	iopf_dev.mock->hook = iopf_dev_answer;
	ret = iopf_queue_add_device(iopf_dev.queue, iopf_dev.mock->dev);
	if (ret)
		goto err_destroy_mock;
	iopf_dev.nb.notify = iopf_dev_unhandled;
	ret = iopf_queue_set_unhandled(iopf_dev.mock->dev, &iopf_dev.nb);
	if (ret)
		goto err_remove_device;
	ret = misc_register(&iopf_dev_misc);
	if (ret)
		goto err_remove_device;
	pr_info("iopf-mock: /dev/%s on fault queue iopf-mock, device %s\n",
		iopf_dev_misc.name, dev_name(iopf_dev.mock->dev));
	return 0;

err_remove_device:
	iopf_queue_remove_device(iopf_dev.queue, iopf_dev.mock->dev);
err_destroy_mock:
	iopf_mock_destroy(iopf_dev.mock);
err_free_queue:
	iopf_queue_free(iopf_dev.queue);
	return ret;
}
late_initcall(iopf_dev_init);
