// SPDX-License-Identifier: GPL-2.0
/*
 * I/O page fault handler: recoverable device faults on process memory.
 *
 * An IOMMU driver reports page requests from its IRQ thread through
 * iommu_report_device_fault(), which calls iommu_queue_iopf() with the
 * device's dev->iommu->lock held.  Requests of one Page Request Group (PRG)
 * are kept by group id until the request flagged LAST_PAGE arrives; the
 * whole group is then queued on its device's list of complete groups.  One
 * work item per device, on the queue's workqueue, takes every complete
 * group of the device at once and handles the groups of one PASID under
 * one mm reference and one mmap_read_lock, then answers each group once
 * with iommu_page_response().
 *
 * Objects and lifetimes
 * ---------------------
 * struct iopf_queue          Allocated by iopf_queue_alloc(), freed by
 *                            iopf_queue_free(), both called by the IOMMU
 *                            driver.  Owns its workqueue and the two
 *                            mempools the report path takes its requests
 *                            and groups from.
 * struct iopf_device_param   One per device on a queue.  Allocated by
 *                            iopf_queue_add_device(), published in
 *                            dev->iommu->iopf_param, freed by
 *                            iopf_queue_remove_device() or
 *                            iopf_queue_free() once it is unpublished, its
 *                            work item is idle and no flusher still uses
 *                            it.  Owns the work item that handles its
 *                            groups.
 * struct iopf_request        One per non-last request.  Taken from the
 *                            queue's request pool by the report; owned by
 *                            param->partial until its group's last request
 *                            arrives, then by the group.  Freed with its
 *                            group, or without an answer by
 *                            iopf_queue_discard_partial(),
 *                            iopf_queue_remove_device() and
 *                            iopf_queue_free(): no answer is owed for a
 *                            group whose last request never arrived.
 * struct iopf_group          One per complete group, taken from the queue's
 *                            group pool by its last request, which it
 *                            embeds.  Owned by param->ready, then by the
 *                            device's work item, which answers it and
 *                            frees its requests, and frees it or keeps
 *                            it on param->spare (about
 *                            IOPF_SPARE_GROUPS per device, while the
 *                            pool's reserve is full) for the device's
 *                            next reports.  Removal frees the spare
 *                            groups.
 *
 * Locks
 * -----
 * iopf_queue::lock     protects iopf_queue::devices and the membership of a
 *                      param in it.
 * dev_iommu::lock      (the device's, held by iommu_report_device_fault())
 *                      protects dev_iommu::iopf_param,
 *                      iopf_device_param::partial (a hash table of the
 *                      partial requests, indexed by the low bits of their
 *                      group id: a PRI group id has 9 bits, so the last
 *                      request finds its group's requests in one bucket
 *                      shared with one other group at most) and
 *                      iopf_device_param::nr_partial.
 *                      Once the param is unpublished, removal owns
 *                      param->partial and frees it without the lock.
 * iopf_device_param::ready is a lock-less list: groups are added by the
 *                      report path (under dev_iommu::lock) and taken all at
 *                      once by the device's work item, the only consumer
 *                      (a work item never runs twice at once).  The report
 *                      that finds the list empty queues the work item,
 *                      unless the work item is running (below).
 * iopf_device_param::running is written by the work item and read by the
 *                      report path, no lock: a barrier on each side (see
 *                      iopf_stop_running()) makes sure a group added as
 *                      the work item stops is either taken by it or
 *                      queues it.  iopf_device_param::poll_credit and
 *                      ::poll_skipped are the work item's alone.
 * iopf_device_param::flushers is atomic: flushers take it under
 *                      dev_iommu::lock, removal waits for it to drop to 0;
 *                      the work item reads it to stop watching and to take
 *                      one last batch.
 * iopf_device_param::nr_queued is atomic: raised by the report path under
 *                      dev_iommu::lock (so one reporter at a time checks it
 *                      against the bound), dropped by the work item (or
 *                      by the inline path, in the reporting thread).
 * iopf_device_param::unhandled is written under dev_iommu::lock (release)
 *                      and read by the work item without a lock
 *                      (acquire); replacing it flushes the work item, so no
 *                      call to the old notifier is left after that.
 * iopf_device_param::spare is a lock-less list: answered groups are added
 *                      by whoever answered them (the work item or the
 *                      inline path) and taken all at once by the report
 *                      path into iopf_device_param::stash, which it pops
 *                      under dev_iommu::lock; iopf_device_param::nr_spare
 *                      (atomic) counts both, a bound checked without a
 *                      lock (two answerers together may add one beyond
 *                      it).
 *                      Once the param is unpublished and its work item
 *                      flushed, removal owns both and frees them.
 * A group taken off param->ready is touched by the work item only: no lock.
 * A group handled inline (below) never reaches param->ready: the reporting
 * thread owns it until it frees it.
 * The mempools have their own lock (a spinlock, taken by mempool_alloc()
 * and mempool_free()).  iommu.c's iommu_fault_param::lock nests inside
 * dev_iommu::lock on the report path, and is taken alone by
 * iommu_page_response() in the work item.
 *
 * Lock order: iopf_queue::lock, then dev_iommu::lock, then iommu.c's
 * iommu_fault_param::lock.  The work item takes none of the first two
 * itself: it takes the mm's mmap_lock and drops it, then takes
 * iommu_fault_param::lock in iommu_page_response(), and under it whatever
 * the IOMMU driver's ->page_response() takes; last, with nothing held, it
 * calls the device driver's unhandled-fault notifier, which may take
 * dev_iommu::lock and mmap_lock.  So a flush or a removal (which wait for
 * the work item) must not hold dev_iommu::lock or iopf_queue::lock while
 * waiting, and they do not; and a report waiting at the in-flight bound
 * holds dev_iommu::lock, so the work item gives its slot back before it
 * calls the notifier.  The driver must not report from ->page_response():
 * it runs under iommu_fault_param::lock, which the report path takes
 * inside dev_iommu::lock.
 *
 * The work item never drops the last mm_users reference itself
 * (mmput_async()): the mm's exit would run the IOMMU driver's mmu_notifier
 * ->release(), and SMMUv3 takes in it the sva_lock it holds around
 * iopf_queue_remove_device().  Otherwise it reaches the drivers only
 * through the IOMMU driver's ->page_response() and mmu_notifier
 * invalidation callbacks (a fault that breaks COW), and the device
 * driver's unhandled-fault notifier (after the answer, no lock held), so
 * drivers may remove and flush under their own locks as long as those
 * callbacks do not take them.
 *
 * The report path never sleeps to allocate: requests and groups come from
 * the queue's mempools with GFP_NOWAIT, from the slab when it has memory
 * at hand and from the pools' reserve otherwise; the work item refills the
 * reserve as it frees groups.  Only when both are empty is the request
 * refused (-ENOMEM), and the driver answers.
 *
 * Inline handling (io_pgfault.inline_faults, off by default): a group of
 * at most that many requests may be handled and answered by the reporting
 * thread itself, with dev_iommu::lock held, when it need not wait for
 * I/O, a page lock or another task: the device has no other group
 * queued and unanswered (answers keep their order), mmap_read_trylock()
 * succeeds, and every fault is in an anonymous VMA and needs no I/O
 * (FAULT_FLAG_RETRY_NOWAIT).  The faults still allocate page tables and
 * pages as any fault does (direct reclaim included).  mmap_lock is only
 * tried under dev_iommu::lock, never waited for; the answer takes
 * iommu_fault_param::lock inside dev_iommu::lock, as the report path
 * does.  Anything else, a failure included, goes to the work item.
 *
 * Running and polling: on SMP, waking a sleeping worker on another CPU
 * costs the reporting thread more than the rest of a report, and the group
 * then waits for the worker to be scheduled.  So a report does not queue
 * the device's work item while it runs: the work item takes the groups
 * reported meanwhile before it returns.  And (io_pgfault.poll_us,
 * IOPF_POLL_US by default; 0 turns it off) after a batch that leaves the
 * list empty, the work item may watch the device's list for poll_us,
 * without a lock, and take a group reported meanwhile with no wake-up.  A
 * task the scheduler runs at once (the IOMMU driver's IRQ thread, a
 * SCHED_FIFO thread) has the CPU meanwhile and the watch goes on after it;
 * but the watch ends when another task is ready to run on its CPU and the
 * scheduler does not ask for the CPU (single_task_running(),
 * need_resched()): another device's work item, or a task of lower priority
 * than the high-priority worker, would otherwise wait for the worker's time
 * slice.  A watch that finds a group gives the device IOPF_POLL_CREDIT
 * watches that may find nothing (a watch ended early is one of them; a new
 * device starts with them); with none left, the work item watches after one
 * such batch in IOPF_POLL_PROBE, to notice when groups come back to back
 * again: a device that faults now and then costs one watch every
 * IOPF_POLL_PROBE groups.  Groups are still handled and answered by the
 * work item.  No watch starts, and a watch ends, while a flush waits for
 * the work item (iopf_device_param::flushers): the work item stops running,
 * takes one last batch and returns (a group reported later queues it
 * again), so a flush waits for the batch in progress and two more at most
 * (the last one, and that of an execution a report queued as the work item
 * stopped); a removal (no report reaches the device any more) for one more
 * watch at most.  Lowering poll_us ends the watches in progress.
 *
 * Within a batch, a PASID whose mmap_lock is taken when its turn comes
 * does not hold up the runs of other PASIDs that follow it: such a run
 * (mmap_read_trylock() fails: a writer holds the lock or waits for it) is
 * set aside, with the later groups of its PASID, and handled after the
 * others, waiting for the lock.  The work item still waits in place for
 * the last run of a batch, once IOPF_ASIDE_PASIDS PASIDs are set aside,
 * and when it takes the lock again in the middle of a run (after a hold,
 * or a fault that waited for I/O); and groups reported
 * after the batch was taken wait for the runs set aside.  A device's
 * groups of one PASID are answered in order, those of different PASIDs
 * not always.
 *
 * The work item holds mmap_lock for IOPF_FAULTS_PER_LOCK faults at most
 * at a time, then drops it, and lets the tasks that wait for it take it
 * before it takes it again (iopf_mmap_read_lock(), for a few hundred
 * microseconds at most): rwsem would let it take the lock back at once,
 * ahead of a waiting writer that its unlock woke, and the writer would
 * then wait for rwsem's handoff, milliseconds later.  So a writer
 * normally waits for one hold of each device's work item at most.  It
 * does not drop it sooner when a writer waits: each drop costs the writer
 * and the work item a wake-up, and dropping it before every fault made
 * both slower.  A fault that has to wait for I/O drops it meanwhile
 * (FAULT_FLAG_ALLOW_RETRY) and is retried.
 *
 * Statistics and tracing
 * ----------------------
 * iopf_queue::stats are per-CPU counters, bumped with this_cpu_inc() on
 * the report and handling paths under whatever lock the path already
 * holds, and summed without a lock by iopf_queue_read_stats() and the
 * queue's debugfs files (iommu/iopf/<name>/ in debugfs).  The files are
 * removed, waiting for their readers, before the counters are freed.  The
 * tracepoints are in include/trace/events/iopf.h.
 *
 * Memory bound
 * ------------
 * A device may keep at most iopf_max_partial non-last requests pending
 * (module parameter io_pgfault.max_partial, default IOPF_MAX_PARTIAL).
 * Further non-last requests are refused with -ENOSPC and not kept; the group
 * they belong to is handled with the requests that were kept when its last
 * request arrives, and the device re-requests the pages still missing.
 *
 * A device may have at most iopf_max_queued groups queued and not yet
 * answered (io_pgfault.max_queued, default IOPF_MAX_QUEUED).  At the bound
 * the report of a last request waits, in the IOMMU driver's IRQ thread,
 * until one of the device's groups has been answered: backpressure rather
 * than an INVALID answer, which would fail the device's DMA.  The wait
 * holds dev_iommu::lock, which the work item never takes, so it goes on
 * answering; the driver's other devices wait behind its IRQ thread, as
 * they do while any fault of that thread is slow to handle.
 *
 * A device keeps up to IOPF_SPARE_GROUPS of its answered groups (a
 * group is 104 bytes on 64-bit; one more at most when the work item and
 * the inline path answer at once) for its next reports, which then take
 * no object from the queue's pool; not while the pool's reserve is
 * short, which answered groups refill first.  They go back to the pool
 * when the device is removed.
 */

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/iommu.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/mempool.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/rwsem.h>
#include <linux/sched/clock.h>
#include <linux/sched/mm.h>
#include <linux/sched/stat.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/userfaultfd_k.h>
#include <linux/wait.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>
/* Last: it is not self-contained without CONFIG_FAULT_INJECTION. */
#include <linux/fault-inject.h>

#include "iommu-sva-lib.h"

#define CREATE_TRACE_POINTS
#include <trace/events/iopf.h>

#ifdef CONFIG_FAULT_INJECTION
/*
 * fail_iopf: make the handler's allocations fail, with fail_iopf=<interval>,
 * <probability>,<space>,<times> on the command line or, for the current
 * task, with current->fail_nth (as failslab does, but also for GFP_KERNEL).
 * Quiet unless its verbose file in debugfs (fail_iopf/) says otherwise:
 * tests fail thousands of allocations.
 */
static DECLARE_FAULT_ATTR(fail_iopf);

static int __init fail_iopf_setup(char *str)
{
	return setup_fault_attr(&fail_iopf, str);
}
__setup("fail_iopf=", fail_iopf_setup);

static int __init fail_iopf_init(void)
{
	fail_iopf.verbose = 0;
	fault_create_debugfs_attr("fail_iopf", NULL, &fail_iopf);
	return 0;
}
late_initcall(fail_iopf_init);

static bool iopf_should_fail(size_t size)
{
	return should_fail(&fail_iopf, size);
}
#else
static bool iopf_should_fail(size_t size)
{
	return false;
}
#endif

/* Every allocation of the handler goes through here (fault injection). */
static void *iopf_alloc(size_t size, gfp_t gfp)
{
	if (iopf_should_fail(size))
		return NULL;
	return kmalloc(size, gfp);
}

static unsigned int iopf_max_partial = IOPF_MAX_PARTIAL;
module_param_named(max_partial, iopf_max_partial, uint, 0644);
MODULE_PARM_DESC(max_partial,
		 "Maximum non-last page requests kept per device (default "
		 __stringify(IOPF_MAX_PARTIAL) ")");

/* At least 1: at 0, every last request would wait for ever. */
static int iopf_max_queued_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, UINT_MAX);
}

static const struct kernel_param_ops iopf_max_queued_ops = {
	.set = iopf_max_queued_set,
	.get = param_get_uint,
};

static unsigned int iopf_max_queued = IOPF_MAX_QUEUED;
module_param_cb(max_queued, &iopf_max_queued_ops, &iopf_max_queued, 0644);
MODULE_PARM_DESC(max_queued,
		 "Maximum groups queued per device, at least 1; at the bound, reports wait (default "
		 __stringify(IOPF_MAX_QUEUED) ")");

static unsigned int iopf_inline_faults;
module_param_named(inline_faults, iopf_inline_faults, uint, 0644);
MODULE_PARM_DESC(inline_faults,
		 "Handle a group of at most this many requests in the reporting thread when it can without waiting (default 0: never)");

/*
 * How long a device's work item watches its list of complete groups after
 * a batch, while its watches find groups (see "Running and polling" at
 * the top): about what it takes the device to send its next page request
 * once answered and the IOMMU driver's IRQ thread to report it.
 */
#define IOPF_POLL_US		20
/* With no credit left, watch once every this many batches. */
#define IOPF_POLL_PROBE		16
/* Watches that may find nothing after the last one that found a group. */
#define IOPF_POLL_CREDIT	4

static unsigned int iopf_poll_us = IOPF_POLL_US;
module_param_named(poll_us, iopf_poll_us, uint, 0644);
MODULE_PARM_DESC(poll_us,
		 "Microseconds a device's work item watches for its next group before it sleeps (default "
		 __stringify(IOPF_POLL_US) ", 0: never)");

/*
 * Reserve of each queue's mempools: enough for a burst of reports while
 * the slab has no memory at hand; the work item refills it.
 */
#define IOPF_POOL_REQUESTS	64
#define IOPF_POOL_GROUPS	32

/* Answered groups a device keeps for its next reports, at most. */
#define IOPF_SPARE_GROUPS	16

/* Faults handled per hold of mmap_lock at most (see the top comment). */
#define IOPF_FAULTS_PER_LOCK	64
/* Sleeps of 10 to 20 us at most while tasks wait to take mmap_lock first. */
#define IOPF_WRITER_WAITS	10
/* PASIDs of a batch whose groups may wait for their mmap_lock at the end. */
#define IOPF_ASIDE_PASIDS	4

/**
 * struct iopf_queue - a workqueue shared by the devices of one IOMMU
 * @wq: runs the work items of the devices on the queue
 * @lock: protects @devices
 * @devices: the iopf_device_param of every device on the queue
 * @requests: where the report path takes partial requests from
 * @groups: where the report path takes groups from
 * @stats: per-CPU counters; no lock
 * @debugfs: the queue's directory in debugfs, or an error pointer
 */
struct iopf_queue {
	struct workqueue_struct *wq;
	struct mutex lock;		/* protects devices */
	struct list_head devices;
	mempool_t *requests;
	mempool_t *groups;
	struct iopf_queue_stats __percpu *stats;
	struct dentry *debugfs;
};

#define iopf_stat_inc(queue, field)	this_cpu_inc((queue)->stats->field)
#define iopf_stat_add(queue, field, n)	this_cpu_add((queue)->stats->field, n)

/*
 * 256 buckets for iopf_device_param::partial, indexed by the low 8 bits of
 * the group id: a PRI group id has 9 bits, so a bucket holds the requests
 * of two groups at most.  (SMMUv3 stall has no partial requests.)
 */
#define IOPF_PARTIAL_BITS	8

/**
 * struct iopf_device_param - fault state of one device on a queue
 * @dev: the device
 * @queue: the queue the device is on; constant
 * @queue_node: entry in @queue->devices, under @queue->lock
 * @partial: the partial requests, in buckets by group id, newest first;
 *           under dev->iommu->lock
 * @nr_partial: requests in @partial, under dev->iommu->lock
 * @ready: complete groups not yet taken by @work, newest first; lock-less
 * @work: takes the groups on @ready, handles and answers them
 * @flushers: iopf_queue_flush_dev() calls in progress on this device;
 *            removal waits for them to drop to zero
 * @nr_queued: groups queued and not yet answered
 * @queued_wq: a report at the bound of @nr_queued waits here
 * @unhandled: the device driver's notifier of groups answered INVALID, or
 *             NULL; set under dev->iommu->lock, read by @work without a
 *             lock
 * @running: @work is running and looks at @ready again before it
 *           returns: a report need not queue it; written by @work, read
 *           by the report path
 * @poll_credit: watches that may still find nothing before the device is
 *               watched only once every IOPF_POLL_PROBE batches; @work
 *               only
 * @poll_skipped: batches that left @ready empty since the last watch;
 *                @work only
 * @spare: answered groups kept for the next reports; lock-less
 * @stash: groups the report path took from @spare, under
 *         dev->iommu->lock
 * @nr_spare: groups on @spare and @stash
 */
struct iopf_device_param {
	struct device *dev;
	struct iopf_queue *queue;
	struct list_head queue_node;
	struct hlist_head partial[1 << IOPF_PARTIAL_BITS];
	unsigned int nr_partial;
	struct llist_head ready;
	struct work_struct work;
	atomic_t flushers;
	atomic_t nr_queued;
	wait_queue_head_t queued_wq;
	struct iopf_unhandled_notifier *unhandled;
	bool running;
	unsigned int poll_credit;
	unsigned int poll_skipped;
	struct llist_head spare;
	struct llist_node *stash;
	atomic_t nr_spare;
};

/**
 * struct iopf_request - a non-last request of a group
 * @prm: the request as reported
 * @node: entry in iopf_device_param::partial, then in iopf_group::partial
 */
struct iopf_request {
	struct iommu_fault_page_request prm;
	struct hlist_node node;
};

/**
 * struct iopf_group - a complete page request group
 * @last: the last request
 * @partial: the group's non-last requests, oldest first
 * @nr_partial: requests in @partial
 * @code: the answer, once the group is handled
 * @ready: entry in iopf_device_param::ready, then in the work item's batch
 * @queued_ns: when the last request was queued (local_clock())
 * @why: why the group failed, when @code is INVALID
 */
struct iopf_group {
	struct iommu_fault_page_request last;
	struct hlist_head partial;
	unsigned int nr_partial;
	enum iommu_page_response_code code;
	struct llist_node ready;
	u64 queued_ns;
	struct iopf_unhandled why;
};

static struct kmem_cache *iopf_request_cache;
static struct kmem_cache *iopf_group_cache;

/* ---------------------------------------------------------------------- */
/* Handling the groups (work item, no lock held on entry)                 */
/* ---------------------------------------------------------------------- */

/*
 * Whether @param may keep one more answered group: below the bound (read
 * without a lock: the work item and the inline path together may go one
 * beyond it), and not while the queue's pool is short of its reserve,
 * which the group refills first (read without the pool's lock: at worst
 * a group goes to the pool that could have been kept, or the other way).
 */
static bool iopf_keep_spare(struct iopf_device_param *param)
{
	mempool_t *pool = param->queue->groups;

	if (atomic_read(&param->nr_spare) >= IOPF_SPARE_GROUPS)
		return false;
	/* Racy read of the reserve, written under the pool's lock: above. */
	return data_race(pool->curr_nr) >= pool->min_nr;
}

/*
 * Give @group's requests back to @param's queue, and @group to @param's
 * spare groups, or to the queue when the device has enough (all counted
 * in the frees: a spare group is not in use).
 */
static void iopf_group_free(struct iopf_device_param *param,
			    struct iopf_group *group)
{
	struct iopf_queue *queue = param->queue;
	struct iopf_request *req;
	struct hlist_node *next;
	unsigned int n = 1;

	hlist_for_each_entry_safe(req, next, &group->partial, node) {
		mempool_free(req, queue->requests);
		n++;
	}
	if (iopf_keep_spare(param)) {
		atomic_inc(&param->nr_spare);
		llist_add(&group->ready, &param->spare);
	} else {
		mempool_free(group, queue->groups);
	}
	iopf_stat_add(queue, frees, n);
}

/* Give the groups of the list @node to @pool. */
static void iopf_free_groups(mempool_t *pool, struct llist_node *node)
{
	struct llist_node *next;

	llist_for_each_safe(node, next, node)
		mempool_free(llist_entry(node, struct iopf_group, ready), pool);
}

/* Give @param's spare groups back to its queue (not counted: see above). */
static void iopf_free_spare(struct iopf_device_param *param)
{
	iopf_free_groups(param->queue->groups, llist_del_all(&param->spare));
	iopf_free_groups(param->queue->groups, param->stash);
	param->stash = NULL;
	atomic_set(&param->nr_spare, 0);
}

/* The requests of @group in arrival order: its partial ones, then @last. */
static struct iommu_fault_page_request *iopf_first(struct iopf_group *group)
{
	struct iopf_request *req = hlist_entry_safe(group->partial.first,
						    struct iopf_request, node);

	return req ? &req->prm : &group->last;
}

static struct iommu_fault_page_request *
iopf_next(struct iopf_group *group, struct iommu_fault_page_request *prm)
{
	struct iopf_request *req;

	if (prm == &group->last)
		return NULL;
	req = container_of(prm, struct iopf_request, prm);
	req = hlist_entry_safe(req->node.next, struct iopf_request, node);
	return req ? &req->prm : &group->last;
}

static unsigned long iopf_vm_flags(u32 perm)
{
	unsigned long flags = 0;

	if (perm & IOMMU_FAULT_PERM_READ)
		flags |= VM_READ;
	if (perm & IOMMU_FAULT_PERM_WRITE)
		flags |= VM_WRITE;
	if (perm & IOMMU_FAULT_PERM_EXEC)
		flags |= VM_EXEC;
	return flags;
}

static unsigned int iopf_fault_flags(u32 perm)
{
	unsigned int flags = FAULT_FLAG_REMOTE;

	if (perm & IOMMU_FAULT_PERM_WRITE)
		flags |= FAULT_FLAG_WRITE;
	if (perm & IOMMU_FAULT_PERM_EXEC)
		flags |= FAULT_FLAG_INSTRUCTION;
	if (!(perm & IOMMU_FAULT_PERM_PRIV))
		flags |= FAULT_FLAG_USER;
	return flags;
}

/*
 * mmap_read_lock() for the work item, which lets the tasks waiting for
 * @mm's mmap_lock take it first: while some wait (a writer woken by our
 * last unlock may be on its way), sleep, IOPF_WRITER_WAITS times at most.
 * mmap_read_lock() alone would take an unlocked mmap_lock ahead of a
 * waiting writer (rwsem's reader lock stealing), and the writer would
 * wait for its handoff, milliseconds later.  Sleep rather than spin: the
 * writer may have been woken on this CPU, where the high-priority worker
 * would not let it run.  The bound keeps the work item from waiting long
 * when tasks keep queueing (readers behind a writer that holds the lock).
 */
static void iopf_mmap_read_lock(struct mm_struct *mm)
{
	unsigned int i;

	for (i = 0; i < IOPF_WRITER_WAITS && mmap_lock_is_contended(mm); i++)
		usleep_range(10, 20);
	mmap_read_lock(mm);
}

/*
 * Fault one page in.  mmap_lock is held for read on entry and on return;
 * a fault that waits for I/O drops it meanwhile and is tried again
 * (FAULT_FLAG_ALLOW_RETRY), except in a userfaultfd range, whose faults
 * would wait for user space: those fail as they did without retry.  Never
 * expands a stack.  Return 0, -EFAULT when no VMA maps @addr, -EACCES when
 * the VMA does not allow @perm, or the error of the fault; on error, say
 * why in @reason.
 */
static int iopf_fault_in(struct mm_struct *mm, unsigned long addr, u32 perm,
			 enum iopf_reason *reason)
{
	unsigned int flags, tried = 0;
	struct vm_area_struct *vma;
	vm_fault_t ret;

	mmap_assert_locked(mm);

	for (;;) {
		flags = iopf_fault_flags(perm) | tried;
		vma = vma_lookup(mm, addr);
		if (!vma) {
			*reason = IOPF_REASON_NO_VMA;
			return -EFAULT;
		}
		if (iopf_vm_flags(perm) & ~vma->vm_flags) {
			*reason = IOPF_REASON_PERM;
			return -EACCES;
		}
		if (!userfaultfd_armed(vma))
			flags |= FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE;
		ret = handle_mm_fault(vma, addr, flags, NULL);
		if (!(ret & (VM_FAULT_RETRY | VM_FAULT_COMPLETED)))
			break;
		/*
		 * mmap_lock was dropped: the fault is done, or to be retried
		 * (on the VMA found then: the range may have changed).
		 */
		iopf_mmap_read_lock(mm);
		if (ret & VM_FAULT_COMPLETED)
			return 0;
		tried = FAULT_FLAG_TRIED;
	}
	if (ret & VM_FAULT_ERROR) {
		*reason = IOPF_REASON_FAULT;
		return vm_fault_to_errno(ret, 0) ?: -EFAULT;
	}
	return 0;
}

/* Record that @group fails at @addr for @perm. */
static void iopf_set_unhandled(struct iopf_group *group, u64 addr, u32 perm,
			       enum iopf_reason reason, int err)
{
	struct iopf_unhandled *why = &group->why;

	group->code = IOMMU_PAGE_RESP_INVALID;
	why->pasid = group->last.pasid;
	why->grpid = group->last.grpid;
	why->addr = addr;
	why->perm = perm;
	why->reason = reason;
	why->err = err;
}

/* @group fails before any page is handled: its first request stands for it. */
static void iopf_fail_first(struct iopf_group *group, enum iopf_reason reason,
			    int err)
{
	struct iommu_fault_page_request *first = iopf_first(group);

	iopf_set_unhandled(group, first->addr, first->perm, reason, err);
}

/* Fault in one page for @group; false when the group fails with it. */
static bool iopf_handle_one(struct iopf_device_param *param,
			    struct iopf_group *group, struct mm_struct *mm,
			    u64 addr, u32 perm)
{
	struct iommu_fault_page_request *last = &group->last;
	enum iopf_reason reason;
	int ret = iopf_fault_in(mm, addr, perm, &reason);

	iopf_stat_inc(param->queue, faults);
	trace_iopf_fault(param->dev, last->pasid, last->grpid, addr, perm, ret);
	if (ret)
		iopf_set_unhandled(group, addr, perm, reason, ret);
	return !ret;
}

/* Does @prm belong with the group whose last request is @last? */
static bool iopf_pasid_ok(const struct iommu_fault_page_request *prm,
			  const struct iommu_fault_page_request *last)
{
	return (prm->flags & IOMMU_FAULT_PAGE_REQUEST_PASID_VALID) &&
	       prm->pasid == last->pasid;
}

/*
 * Merge the requests that follow @prm in @group for the same page into
 * one: return the last of them and the union of their permissions in
 * @perm.
 */
static struct iommu_fault_page_request *
iopf_merge_page(struct iopf_group *group, struct iommu_fault_page_request *prm,
		u32 *perm)
{
	unsigned long page = prm->addr & PAGE_MASK;
	struct iommu_fault_page_request *next;

	*perm = prm->perm;
	while ((next = iopf_next(group, prm)) &&
	       (next->addr & PAGE_MASK) == page &&
	       iopf_pasid_ok(next, &group->last)) {
		*perm |= next->perm;
		prm = next;
	}
	return prm;
}

/*
 * Before a fault: after IOPF_FAULTS_PER_LOCK faults under one hold of
 * mmap_lock, let it go for a while, to the tasks waiting for it first.
 * @held counts the faults handled under the current hold.
 */
static void iopf_relax_lock(struct mm_struct *mm, unsigned int *held)
{
	mmap_assert_locked(mm);

	if (*held >= IOPF_FAULTS_PER_LOCK) {
		mmap_read_unlock(mm);
		cond_resched();
		iopf_mmap_read_lock(mm);
		*held = 0;
	}
	(*held)++;
}

/*
 * Handle every request of @group with @mm's mmap_lock held for read.
 * Consecutive requests for one page are handled once, with the union of
 * their permissions.  Errors are sticky: the first failed request ends the
 * group, and group->why says where and why.
 */
static void iopf_handle_faults(struct iopf_device_param *param,
			       struct iopf_group *group, struct mm_struct *mm,
			       unsigned int *held)
{
	struct iommu_fault_page_request *prm;
	u64 addr;
	u32 perm;

	for (prm = iopf_first(group); prm; prm = iopf_next(group, prm)) {
		if (!iopf_pasid_ok(prm, &group->last)) {
			iopf_set_unhandled(group, prm->addr, prm->perm,
					   IOPF_REASON_PASID, -EINVAL);
			return;
		}
		addr = prm->addr;
		prm = iopf_merge_page(group, prm, &perm);
		iopf_relax_lock(mm, held);
		if (!iopf_handle_one(param, group, mm, addr, perm))
			return;
	}
}

static unsigned int iopf_group_faults(struct iopf_group *group)
{
	return group->nr_partial + 1;
}

/* The first group after the run of groups that starts @batch (see below). */
static struct llist_node *iopf_run_end(struct llist_node *batch)
{
	struct iopf_group *first = llist_entry(batch, struct iopf_group, ready);
	struct llist_node *node;
	struct iopf_group *group;
	unsigned int n = 0;

	if (!(first->last.flags & IOMMU_FAULT_PAGE_REQUEST_PASID_VALID))
		return batch->next;
	for (node = batch; node; node = node->next) {
		group = llist_entry(node, struct iopf_group, ready);
		if (node != batch && (n >= IOPF_FAULTS_PER_LOCK ||
				      !iopf_pasid_ok(&group->last, &first->last)))
			break;
		n += iopf_group_faults(group);
	}
	return node;
}

/*
 * Handle a run of groups, [@batch, @end): a group without PASID alone, or
 * the groups from @batch on that have its PASID, up to
 * IOPF_FAULTS_PER_LOCK requests in all (at least one group), under one mm
 * reference and one mmap_read_lock.  Without @wait, handle nothing and
 * return false when the mm's mmap_lock is taken.
 */
static bool iopf_handle_run(struct iopf_device_param *param,
			    struct llist_node *batch, struct llist_node *end,
			    bool wait)
{
	struct iopf_group *first = llist_entry(batch, struct iopf_group, ready);
	struct llist_node *node;
	struct iopf_group *group;
	unsigned int held = 0;
	struct mm_struct *mm;

	if (!(first->last.flags & IOMMU_FAULT_PAGE_REQUEST_PASID_VALID)) {
		iopf_fail_first(first, IOPF_REASON_PASID, -EINVAL);
		return true;
	}
	mm = iommu_sva_find(first->last.pasid);
	if (IS_ERR_OR_NULL(mm)) {
		for (node = batch; node != end; node = node->next) {
			group = llist_entry(node, struct iopf_group, ready);
			iopf_fail_first(group, IOPF_REASON_NO_MM, -ESRCH);
		}
		return true;
	}

	if (wait) {
		iopf_mmap_read_lock(mm);
	} else if (!mmap_read_trylock(mm)) {
		mmput_async(mm);
		return false;
	}
	for (node = batch; node != end; node = node->next) {
		group = llist_entry(node, struct iopf_group, ready);
		iopf_handle_faults(param, group, mm, &held);
	}
	mmap_read_unlock(mm);
	/*
	 * Never the last mm_users reference synchronously: exit_mmap() would
	 * call the IOMMU driver's mmu_notifier ->release(), which takes the
	 * driver lock (SMMUv3's sva_lock) that the driver may hold around
	 * iopf_queue_remove_device(), while remove waits for this work.
	 */
	mmput_async(mm);
	return true;
}

/*
 * Nanoseconds since @t0, a local_clock() of this CPU or another.
 * local_clock() rather than ktime_get_ns(): the report path reads it for
 * every group, and on a machine whose clocksource is not the TSC (an SMP
 * guest under QEMU TCG uses the HPET) ktime_get_ns() is a device register
 * read.  Two CPUs' local_clock() may differ by a little (exactly where
 * the TSCs are synchronised, within a tick otherwise): never below 0.
 */
static u64 iopf_since(u64 t0)
{
	s64 d = local_clock() - t0;

	return d > 0 ? d : 0;
}

/* Log2 buckets of microseconds: [0, 1us), [1us, 2us), [2us, 4us), ... */
static unsigned int iopf_latency_bucket(u64 ns)
{
	u64 us = div_u64(ns, NSEC_PER_USEC);

	if (!us)
		return 0;
	return min_t(unsigned int, ilog2(us) + 1, IOPF_LATENCY_BUCKETS - 1);
}

static void iopf_account_response(struct iopf_device_param *param,
				  struct iopf_group *group)
{
	struct iommu_fault_page_request *last = &group->last;
	struct iopf_queue *queue = param->queue;
	u64 latency = iopf_since(group->queued_ns);

	if (group->code == IOMMU_PAGE_RESP_SUCCESS)
		iopf_stat_inc(queue, success);
	else
		iopf_stat_inc(queue, invalid);
	iopf_stat_inc(queue, latency[iopf_latency_bucket(latency)]);
	trace_iopf_response(param->dev, last->pasid, last->grpid, group->code,
			    iopf_group_faults(group), latency);
}

static void iopf_respond(struct iopf_device_param *param,
			 struct iopf_group *group)
{
	struct iommu_fault_page_request *last = &group->last;
	struct iommu_page_response resp = {
		.version = IOMMU_PAGE_RESP_VERSION_1,
		.pasid = last->pasid,
		.grpid = last->grpid,
		.code = group->code,
	};

	if ((last->flags & IOMMU_FAULT_PAGE_REQUEST_PASID_VALID) &&
	    (last->flags & IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID))
		resp.flags = IOMMU_PAGE_RESP_PASID_VALID;

	iopf_account_response(param, group);
	iommu_page_response(param->dev, &resp);
}

/* One of @param's queued groups is answered: let a waiting report in. */
static void iopf_dequeued(struct iopf_device_param *param)
{
	atomic_dec(&param->nr_queued);
	/* Pairs with the barrier of the waiter's set_current_state(). */
	if (wq_has_sleeper(&param->queued_wq))
		wake_up(&param->queued_wq);
}

/* Tell the device driver, if it asked, why @param's group failed. */
static void iopf_notify_unhandled(struct iopf_device_param *param,
				  const struct iopf_unhandled *why)
{
	/* Pairs with iopf_queue_set_unhandled(): a notifier set up in full. */
	struct iopf_unhandled_notifier *nb = smp_load_acquire(&param->unhandled);

	if (nb)
		nb->notify(nb, param->dev, why);
}

/* Answer a handled @group, tell the driver if it failed, free it. */
static void iopf_finish(struct iopf_device_param *param,
			struct iopf_group *group)
{
	iopf_respond(param, group);
	iopf_dequeued(param);
	/*
	 * After the answer and the slot: the device is not kept waiting for
	 * its driver, and a report waiting at the bound with
	 * dev->iommu->lock held (which the notifier may take) has had its
	 * slot back.
	 */
	if (group->code == IOMMU_PAGE_RESP_INVALID)
		iopf_notify_unhandled(param, &group->why);
	iopf_group_free(param, group);
}

/* Answer the handled groups [@run, @end) and free them. */
static void iopf_finish_run(struct iopf_device_param *param,
			    struct llist_node *run, struct llist_node *end)
{
	struct llist_node *next;

	for (; run != end; run = next) {
		next = run->next;
		iopf_finish(param, llist_entry(run, struct iopf_group, ready));
	}
}

/*
 * The runs of a batch set aside because their mm's mmap_lock was taken,
 * in order, and their PASIDs (IOPF_ASIDE_PASIDS of them at most).
 */
struct iopf_aside {
	struct llist_node *head;
	struct llist_node **tail;
	u32 pasid[IOPF_ASIDE_PASIDS];
	unsigned int nr;
};

static bool iopf_aside_has(const struct iopf_aside *aside, u32 pasid)
{
	unsigned int i;

	for (i = 0; i < aside->nr; i++) {
		if (aside->pasid[i] == pasid)
			return true;
	}
	return false;
}

/* Move the run [@run, @end) of @pasid to the end of @aside. */
static void iopf_aside_add(struct iopf_aside *aside, struct llist_node *run,
			   struct llist_node *end, u32 pasid)
{
	struct llist_node *last = run;

	while (last->next != end)
		last = last->next;
	last->next = NULL;
	*aside->tail = run;
	aside->tail = &last->next;
	if (!iopf_aside_has(aside, pasid))
		aside->pasid[aside->nr++] = pasid;
}

/*
 * Handle the run [@run, @end) now, or set it aside (true): when earlier
 * groups of its PASID were set aside (a PASID's groups keep their order),
 * or when its mm's mmap_lock is taken (a writer holds it or waits for it),
 * other runs follow, which need not wait for that writer, and fewer than
 * IOPF_ASIDE_PASIDS PASIDs are set aside.
 */
static bool iopf_run_or_set_aside(struct iopf_device_param *param,
				  struct iopf_aside *aside,
				  struct llist_node *run, struct llist_node *end)
{
	struct iopf_group *first = llist_entry(run, struct iopf_group, ready);
	u32 pasid = first->last.pasid;

	if (first->last.flags & IOMMU_FAULT_PAGE_REQUEST_PASID_VALID) {
		if (iopf_aside_has(aside, pasid))
			goto set_aside;
		if (end && aside->nr < IOPF_ASIDE_PASIDS) {
			if (iopf_handle_run(param, run, end, false))
				return false;
			goto set_aside;
		}
	}
	iopf_handle_run(param, run, end, true);
	return false;

set_aside:
	iopf_aside_add(aside, run, end, pasid);
	return true;
}

/*
 * Handle every group of @batch (oldest first) run by run, and answer each
 * run's groups once its mmap_lock is dropped; then the runs set aside, in
 * order, waiting for their mmap_lock.
 */
static void iopf_handle_batch(struct iopf_device_param *param,
			      struct llist_node *batch)
{
	struct iopf_aside aside = { .tail = &aside.head };
	struct llist_node *end;

	for (; batch; batch = end) {
		end = iopf_run_end(batch);
		if (!iopf_run_or_set_aside(param, &aside, batch, end))
			iopf_finish_run(param, batch, end);
	}
	for (batch = aside.head; batch; batch = end) {
		end = iopf_run_end(batch);
		iopf_handle_run(param, batch, end, true);
		iopf_finish_run(param, batch, end);
	}
}

/* io_pgfault.poll_us in nanoseconds: read afresh, lowering it ends watches. */
static u64 iopf_poll_ns(void)
{
	return (u64)READ_ONCE(iopf_poll_us) * NSEC_PER_USEC;
}

/*
 * Whether a batch that left @param->ready empty is followed by a watch
 * (see "Running and polling"): while the device has credit, else once
 * every IOPF_POLL_PROBE such batches.
 */
static bool iopf_poll_due(struct iopf_device_param *param)
{
	if (!param->poll_credit && ++param->poll_skipped < IOPF_POLL_PROBE)
		return false;
	param->poll_skipped = 0;
	return true;
}

/*
 * Watch @param->ready until a group comes, io_pgfault.poll_us has passed,
 * a flush starts, or another task is ready to run on this CPU while the
 * scheduler does not ask for it (it would wait for the worker's time
 * slice: the watch is worth less than the CPU it holds).  A task the
 * scheduler asks the CPU for has it in cond_resched(), and the watch goes
 * on.  The time is added up from local_clock() steps on whatever CPU the
 * work item runs, a step backwards counting 0 (an unbound worker may move
 * to a CPU whose clock is behind); time off the CPU counts.
 */
static void iopf_poll_watch(struct iopf_device_param *param)
{
	u64 spent = 0, last = local_clock(), now;

	while (llist_empty(&param->ready) && spent < iopf_poll_ns() &&
	       !atomic_read(&param->flushers) &&
	       (single_task_running() || need_resched())) {
		cond_resched();
		cpu_relax();
		now = local_clock();
		if (now > last)
			spent += now - last;
		last = now;
	}
}

/*
 * After a batch: when @param->ready is empty, watch it, when due, so that
 * a group reported meanwhile is taken without waking a worker.  Return
 * true when the list has a group to take.  With polling on and no flush
 * waiting (a flush would wait for as long as the device goes on
 * faulting), a group found at once counts as a watch that found one.
 */
static bool iopf_poll(struct iopf_device_param *param)
{
	bool found = !llist_empty(&param->ready);

	if (!iopf_poll_ns() || atomic_read(&param->flushers))
		return found;
	if (!found) {
		if (!iopf_poll_due(param))
			return false;
		iopf_poll_watch(param);
		found = !llist_empty(&param->ready);
	}
	if (found) {
		param->poll_credit = IOPF_POLL_CREDIT;
		iopf_stat_inc(param->queue, polled);
	} else if (param->poll_credit) {
		param->poll_credit--;
	}
	return found;
}

/* The work item stops taking groups: from now on a report queues it. */
static void iopf_stop_running(struct iopf_device_param *param)
{
	WRITE_ONCE(param->running, false);
	/*
	 * Order the end before the next look at the list; pairs with the
	 * report's llist_add() (a full barrier: a successful try_cmpxchg())
	 * before its look at param->running: either the report sees the
	 * work item stopped and queues it, or that look finds its group.
	 */
	smp_mb();
}

/*
 * The device's work item: take every complete group at once and handle
 * them, as long as groups come; while groups keep coming back to back,
 * watch for the next ones a little before going to sleep.  A report made
 * while the work item runs does not queue it (param->running): the work
 * item looks at the list once more after it stops running.  While a flush
 * waits, it takes one last batch instead, after it stops running (the
 * groups reported later queue it again), so that the flush does not wait
 * for as long as the device goes on faulting.
 */
static void iopf_handle_ready(struct work_struct *work)
{
	struct iopf_device_param *param =
		container_of(work, struct iopf_device_param, work);
	struct llist_node *batch;
	bool last;

	WRITE_ONCE(param->running, true);
	for (;;) {
		cond_resched();
		/*
		 * Read flushers before the list (llist_del_all() is a full
		 * barrier): a group reported before the flush started is in
		 * the last batch.
		 */
		last = atomic_read(&param->flushers);
		if (last)
			iopf_stop_running(param);
		batch = llist_del_all(&param->ready);
		if (batch)
			iopf_handle_batch(param, llist_reverse_order(batch));
		if (last)
			return;
		/* An empty run (the list was taken already) does not watch. */
		if (batch && iopf_poll(param))
			continue;
		iopf_stop_running(param);
		if (llist_empty(&param->ready))
			return;
		WRITE_ONCE(param->running, true);
	}
}

/* ---------------------------------------------------------------------- */
/* Reporting (dev->iommu->lock held)                                      */
/* ---------------------------------------------------------------------- */

/*
 * Take a request or a group for @param's device from @pool without
 * sleeping (counted in the allocs): the slab's memory at hand, else the
 * pool's reserve.
 */
static void *iopf_obj_get(struct iopf_device_param *param, mempool_t *pool,
			  size_t size)
{
	void *obj;

	if (iopf_should_fail(size))
		return NULL;
	obj = mempool_alloc(pool, GFP_NOWAIT);
	if (obj)
		iopf_stat_inc(param->queue, allocs);
	return obj;
}

/*
 * Take a group for @param's device: one of its spare groups (answered
 * groups it kept), else one from the queue's pool (counted in the allocs
 * either way).
 */
static struct iopf_group *iopf_group_get(struct iopf_device_param *param)
{
	struct llist_node *node;

	lockdep_assert_held(&param->dev->iommu->lock);

	/* No atomic exchange while the device keeps no spare group. */
	if (!param->stash && !llist_empty(&param->spare))
		param->stash = llist_del_all(&param->spare);
	node = param->stash;
	if (!node)
		return iopf_obj_get(param, param->queue->groups,
				    sizeof(struct iopf_group));
	if (iopf_should_fail(sizeof(struct iopf_group)))
		return NULL;
	param->stash = node->next;
	atomic_dec(&param->nr_spare);
	iopf_stat_inc(param->queue, allocs);
	iopf_stat_inc(param->queue, reused);
	return llist_entry(node, struct iopf_group, ready);
}

static struct hlist_head *iopf_bucket(struct iopf_device_param *param,
				      u32 grpid)
{
	return &param->partial[grpid & (ARRAY_SIZE(param->partial) - 1)];
}

/*
 * Move the partial requests of group @grpid from @param->partial to @head,
 * oldest first; return how many.
 */
static unsigned int iopf_take_partial(struct iopf_device_param *param,
				      u32 grpid, struct hlist_head *head)
{
	struct iopf_request *req;
	struct hlist_node *next;
	unsigned int n = 0;

	lockdep_assert_held(&param->dev->iommu->lock);

	/* The bucket is newest first: adding each at the head reverses it. */
	hlist_for_each_entry_safe(req, next, iopf_bucket(param, grpid), node) {
		if (req->prm.grpid != grpid)
			continue;
		hlist_del(&req->node);
		hlist_add_head(&req->node, head);
		n++;
	}
	param->nr_partial -= n;
	return n;
}

/* Free the requests of @head (counted as discarded and freed). */
static void iopf_free_requests(struct iopf_queue *queue,
			       struct hlist_head *head)
{
	struct iopf_request *req;
	struct hlist_node *next;
	unsigned int n = 0;

	hlist_for_each_entry_safe(req, next, head, node) {
		hlist_del(&req->node);
		mempool_free(req, queue->requests);
		n++;
	}
	iopf_stat_add(queue, discarded, n);
	iopf_stat_add(queue, frees, n);
}

/* Free every partial request of @param.  Caller owns param->partial. */
static void iopf_free_partial(struct iopf_device_param *param)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(param->partial); i++)
		iopf_free_requests(param->queue, &param->partial[i]);
	param->nr_partial = 0;
}

/*
 * The last request of group @grpid is refused with @err: the driver
 * answers the group, so drop the partial requests it had (a later group
 * with that id must not have them).  Return @err.
 */
static int iopf_drop_group(struct iopf_device_param *param, u32 grpid,
			   int err)
{
	HLIST_HEAD(partial);

	iopf_take_partial(param, grpid, &partial);
	iopf_free_requests(param->queue, &partial);
	return err;
}

static int iopf_keep_partial(struct iopf_device_param *param,
			     struct iommu_fault *fault)
{
	struct iopf_request *req;

	lockdep_assert_held(&param->dev->iommu->lock);

	if (param->nr_partial >= READ_ONCE(iopf_max_partial))
		return -ENOSPC;

	req = iopf_obj_get(param, param->queue->requests, sizeof(*req));
	if (!req)
		return -ENOMEM;
	req->prm = fault->prm;
	hlist_add_head(&req->node, iopf_bucket(param, fault->prm.grpid));
	param->nr_partial++;
	return 0;
}

/*
 * Wait until @param may have one more group queued (backpressure on the
 * reporting thread), then count it.
 */
static void iopf_enqueue_wait(struct iopf_device_param *param)
{
	/*
	 * Read once: a bound lowered meanwhile must not keep waiting for
	 * groups that wait behind a notifier that takes dev_iommu::lock.
	 */
	unsigned int max = READ_ONCE(iopf_max_queued);

	lockdep_assert_held(&param->dev->iommu->lock);

	if (atomic_read(&param->nr_queued) >= max) {
		iopf_stat_inc(param->queue, throttled);
		wait_event(param->queued_wq,
			   atomic_read(&param->nr_queued) < max);
	}
	atomic_inc(&param->nr_queued);
}

/*
 * Fault one page of an anonymous VMA in for the inline path: as
 * iopf_fault_in(), but a fault that would wait for I/O or a page lock
 * (FAULT_FLAG_RETRY_NOWAIT) is not handled, and mmap_lock stays held.
 * Return true when the page is in.
 */
static bool iopf_fault_in_nowait(struct mm_struct *mm, unsigned long addr,
				 u32 perm)
{
	struct vm_area_struct *vma = vma_lookup(mm, addr);
	vm_fault_t ret;

	mmap_assert_locked(mm);

	if (!vma || !vma_is_anonymous(vma) || userfaultfd_armed(vma) ||
	    (iopf_vm_flags(perm) & ~vma->vm_flags))
		return false;
	ret = handle_mm_fault(vma, addr, iopf_fault_flags(perm) |
			      FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_RETRY_NOWAIT,
			      NULL);
	return !(ret & (VM_FAULT_ERROR | VM_FAULT_RETRY));
}

/*
 * Try to handle every request of @group in the reporting thread, with
 * @mm's mmap_lock held for read: false as soon as one needs a wait or
 * fails (the work item then handles the group, and says why it fails).
 */
static bool iopf_try_faults(struct iopf_group *group, struct mm_struct *mm)
{
	struct iommu_fault_page_request *prm;
	u64 addr;
	u32 perm;

	for (prm = iopf_first(group); prm; prm = iopf_next(group, prm)) {
		if (!iopf_pasid_ok(prm, &group->last))
			return false;
		addr = prm->addr;
		prm = iopf_merge_page(group, prm, &perm);
		if (!iopf_fault_in_nowait(mm, addr, perm))
			return false;
	}
	return true;
}

/* Count and trace the faults of @group, handled in the reporting thread. */
static void iopf_account_inline(struct iopf_device_param *param,
				struct iopf_group *group)
{
	struct iommu_fault_page_request *last = &group->last, *prm;
	u64 addr;
	u32 perm;

	for (prm = iopf_first(group); prm; prm = iopf_next(group, prm)) {
		addr = prm->addr;
		prm = iopf_merge_page(group, prm, &perm);
		iopf_stat_inc(param->queue, faults);
		trace_iopf_fault(param->dev, last->pasid, last->grpid, addr,
				 perm, 0);
	}
}

/*
 * The inline path (io_pgfault.inline_faults): handle and answer a small
 * @group at once in the reporting thread, when it need not wait for I/O,
 * a page lock or another task: @group is the device's only group queued
 * and unanswered (answers keep their order: none is on param->ready or
 * with the work item), the mm's mmap_lock is free, every page is in an
 * anonymous VMA and none needs I/O.  The faults may still allocate memory
 * with reclaim, as any fault does.  Otherwise, and whenever a fault fails, the group
 * goes to the work item, which handles it again from the start (the
 * pages already in cost little).  True when @group was answered (and
 * freed).
 */
static bool iopf_handle_inline(struct iopf_device_param *param,
			       struct iopf_group *group)
{
	struct iommu_fault_page_request *last = &group->last;
	struct mm_struct *mm;
	bool done;

	lockdep_assert_held(&param->dev->iommu->lock);

	/* nr_queued counts @group already. */
	if (iopf_group_faults(group) > READ_ONCE(iopf_inline_faults) ||
	    atomic_read(&param->nr_queued) != 1 ||
	    !(last->flags & IOMMU_FAULT_PAGE_REQUEST_PASID_VALID))
		return false;
	mm = iommu_sva_find(last->pasid);
	if (IS_ERR_OR_NULL(mm))
		return false;
	done = mmap_read_trylock(mm);
	if (done) {
		done = iopf_try_faults(group, mm);
		mmap_read_unlock(mm);
	}
	/* Not the last reference here either (see iopf_handle_run()). */
	mmput_async(mm);
	if (!done)
		return false;

	iopf_stat_inc(param->queue, inlined);
	iopf_account_inline(param, group);
	iopf_finish(param, group);
	return true;
}

static int iopf_queue_group(struct iopf_device_param *param,
			    struct iommu_fault *fault)
{
	struct iopf_queue *queue = param->queue;
	struct iopf_group *group;

	lockdep_assert_held(&param->dev->iommu->lock);

	group = iopf_group_get(param);
	if (!group)
		return iopf_drop_group(param, fault->prm.grpid, -ENOMEM);

	group->last = fault->prm;
	INIT_HLIST_HEAD(&group->partial);
	group->nr_partial = iopf_take_partial(param, fault->prm.grpid,
					      &group->partial);
	group->code = IOMMU_PAGE_RESP_SUCCESS;

	iopf_enqueue_wait(param);
	group->queued_ns = local_clock();
	iopf_stat_inc(queue, groups);
	if (iopf_handle_inline(param, group))
		return 0;
	/*
	 * The first group on the list queues the work item, unless the work
	 * item is running (it looks at the list again before it returns).
	 * llist_add() is a full barrier (a cmpxchg): it orders the add
	 * before the look at param->running, and pairs with the smp_mb() of
	 * iopf_stop_running().
	 */
	if (llist_add(&group->ready, &param->ready) &&
	    !READ_ONCE(param->running) && queue_work(queue->wq, &param->work))
		iopf_stat_inc(queue, wakeups);
	return 0;
}

static int iopf_add_request(struct iopf_device_param *param,
			    struct iommu_fault *fault)
{
	u32 flags = fault->prm.flags;
	bool last = flags & IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE;
	int ret;

	/*
	 * A response that needs a PASID the request does not have would not
	 * match the request in iommu_page_response(): the group would never
	 * be answered.
	 */
	if (last && (flags & IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID) &&
	    !(flags & IOMMU_FAULT_PAGE_REQUEST_PASID_VALID))
		ret = iopf_drop_group(param, fault->prm.grpid, -EINVAL);
	else if (last)
		ret = iopf_queue_group(param, fault);
	else
		ret = iopf_keep_partial(param, fault);

	iopf_stat_inc(param->queue, requests);
	if (ret)
		iopf_stat_inc(param->queue, dropped);
	else if (!last)
		iopf_stat_inc(param->queue, partial);
	return ret;
}

/**
 * iommu_queue_iopf() - report a page request to the I/O page fault handler
 * @fault: the request
 * @cookie: the struct device, as registered with
 *          iommu_register_device_fault_handler(dev, iommu_queue_iopf, dev)
 *
 * Keep a non-last request of a page request group aside until the last one
 * arrives; on the last request, queue the whole group for handling.  The
 * group is then answered exactly once with iommu_page_response().
 *
 * Stop markers are not page requests: drivers must drop them before
 * reporting.
 *
 * Context: Process context, with dev->iommu->lock held (as
 * iommu_report_device_fault() does).  Does not sleep to allocate its own
 * objects (with io_pgfault.inline_faults, the faults it handles allocate
 * page tables and pages as any fault does); for a last request when the
 * device already has IOPF_MAX_QUEUED
 * (io_pgfault.max_queued) groups queued, sleeps until one of them is
 * answered.
 * Return: 0 when the request was accepted.  -EOPNOTSUPP when @fault is not
 * a page request; -ENODEV when the device is on no queue; -EINVAL for a
 * last request flagged IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID without a
 * valid PASID (its answer could not be matched); -ENOSPC when the
 * device already has the maximum of partial requests pending; -ENOMEM when
 * out of memory.  On error nothing of the request is kept and, for a last
 * request, the caller must answer the group (its partial requests are
 * dropped).
 */
int iommu_queue_iopf(struct iommu_fault *fault, void *cookie)
{
	struct device *dev = cookie;
	struct iopf_device_param *param;
	int ret;

	lockdep_assert_held(&dev->iommu->lock);

	if (fault->type != IOMMU_FAULT_PAGE_REQ)
		return -EOPNOTSUPP;

	param = dev->iommu->iopf_param;
	if (param)
		ret = iopf_add_request(param, fault);
	else
		ret = -ENODEV;

	trace_iopf_report(dev, &fault->prm, ret);
	return ret;
}
EXPORT_SYMBOL_GPL(iommu_queue_iopf);

/* ---------------------------------------------------------------------- */
/* Queue and device management (no lock held on entry)                    */
/* ---------------------------------------------------------------------- */

/*
 * Start waiting for the queued groups of dev's param, if it has one: the
 * param is not freed while flushers remain.  Return the param or NULL.
 */
static struct iopf_device_param *iopf_flush_begin(struct dev_iommu *iommu)
{
	struct iopf_device_param *param = iommu->iopf_param;

	lockdep_assert_held(&iommu->lock);

	if (param)
		atomic_inc(&param->flushers);
	return param;
}

/*
 * Wait for the groups queued before iopf_flush_begin(), then let go.  They
 * are on param->ready or with the work item, which is queued or running:
 * waiting for it to finish is enough (a group queued later may be waited
 * for too, never one queued earlier).
 */
static void iopf_flush_end(struct iopf_device_param *param)
{
	flush_work(&param->work);
	if (atomic_dec_and_test(&param->flushers))
		wake_up_var(&param->flushers);
}

/**
 * iopf_queue_flush_dev() - wait until the device's queued groups are answered
 * @dev: the device
 *
 * Return after every group of @dev accepted before the call has been handled
 * and answered.  IOMMU drivers call this before freeing a PASID, after
 * draining their hardware queue, so that no fault of the old address space
 * lands in the next user of the PASID.  Only @dev's groups are waited for,
 * and no lock is held while waiting: reports of this and other devices go
 * on meanwhile.
 *
 * Context: Process context, may sleep.  Must not be called from the
 * device's work item nor with a lock held that ->page_response() takes.
 * Return: 0, or -ENODEV when @dev is on no queue.
 */
int iopf_queue_flush_dev(struct device *dev)
{
	struct iopf_device_param *param;
	struct dev_iommu *iommu;

	if (!dev || !dev->iommu)
		return -ENODEV;
	iommu = dev->iommu;

	mutex_lock(&iommu->lock);
	param = iopf_flush_begin(iommu);
	mutex_unlock(&iommu->lock);
	if (!param)
		return -ENODEV;

	iopf_flush_end(param);
	return 0;
}
EXPORT_SYMBOL_GPL(iopf_queue_flush_dev);

/**
 * iopf_queue_set_unhandled() - be told of the groups answered INVALID
 * @dev: the device, on a fault queue
 * @nb: the notifier, or NULL to stop notifications
 *
 * From now on, each group of @dev that the handler answers
 * IOMMU_PAGE_RESP_INVALID is passed to @nb->notify() after the answer:
 * its PASID, group id, the address and permissions of the request that
 * failed and why.  Groups the handler refused when they were reported
 * (iommu_queue_iopf() returned an error) are answered by the IOMMU driver
 * and not notified.  The notifier stays set until replaced, cleared, or
 * the device is removed from its queue.  When it replaces or clears a
 * notifier, the call returns after every call to the old one has returned.
 *
 * Context: Process context, may sleep.  Must not be called from a notifier
 * nor with a lock held that a notifier or ->page_response() takes.
 * Return: 0; -ENODEV when @dev is NULL or on no queue; -EINVAL when @nb
 * has no notify function.
 */
int iopf_queue_set_unhandled(struct device *dev,
			     struct iopf_unhandled_notifier *nb)
{
	struct iopf_unhandled_notifier *old = NULL;
	struct iopf_device_param *param;
	struct dev_iommu *iommu;

	if (!dev || !dev->iommu)
		return -ENODEV;
	if (nb && !nb->notify)
		return -EINVAL;
	iommu = dev->iommu;

	mutex_lock(&iommu->lock);
	param = iommu->iopf_param;
	if (param) {
		old = param->unhandled;
		/* Pairs with iopf_notify_unhandled(). */
		smp_store_release(&param->unhandled, nb);
		if (old)
			param = iopf_flush_begin(iommu);
	}
	mutex_unlock(&iommu->lock);
	if (!param)
		return -ENODEV;

	/* A work item that read the old notifier ran before this. */
	if (old)
		iopf_flush_end(param);
	return 0;
}
EXPORT_SYMBOL_GPL(iopf_queue_set_unhandled);

/**
 * iopf_queue_discard_partial() - drop every partial group of a queue
 * @queue: the queue
 *
 * When its hardware queue overflowed, the IOMMU driver may have lost last
 * requests: it calls this to free every group still waiting for its last
 * request, on every device of @queue.  Those groups are not answered (the
 * device will not wait for them).  Groups already queued are not affected.
 *
 * Context: Process context, may sleep.  Takes @queue's lock and each
 * device's dev->iommu->lock.
 * Return: 0, or -EINVAL when @queue is NULL.
 */
int iopf_queue_discard_partial(struct iopf_queue *queue)
{
	struct iopf_device_param *param;

	if (!queue)
		return -EINVAL;

	mutex_lock(&queue->lock);
	list_for_each_entry(param, &queue->devices, queue_node) {
		mutex_lock(&param->dev->iommu->lock);
		iopf_free_partial(param);
		mutex_unlock(&param->dev->iommu->lock);
	}
	mutex_unlock(&queue->lock);
	return 0;
}
EXPORT_SYMBOL_GPL(iopf_queue_discard_partial);

/**
 * iopf_queue_add_device() - attach a device to a fault queue
 * @queue: the queue
 * @dev: the device; dev->iommu must be set up
 *
 * Once attached, the device's page requests can be reported with
 * iommu_queue_iopf().
 *
 * Context: Process context, may sleep.
 * Return: 0 on success; -EINVAL when @queue or @dev is NULL; -ENODEV when
 * @dev has no dev->iommu; -EBUSY when @dev is already on a queue; -ENOMEM.
 */
int iopf_queue_add_device(struct iopf_queue *queue, struct device *dev)
{
	struct iopf_device_param *param;
	struct dev_iommu *iommu;
	int ret = 0;

	if (!queue || !dev)
		return -EINVAL;
	iommu = dev->iommu;
	if (!iommu)
		return -ENODEV;

	param = iopf_alloc(sizeof(*param), GFP_KERNEL | __GFP_ZERO);
	if (!param)
		return -ENOMEM;
	param->dev = dev;
	param->queue = queue;
	init_llist_head(&param->ready);
	init_llist_head(&param->spare);
	INIT_WORK(&param->work, iopf_handle_ready);
	init_waitqueue_head(&param->queued_wq);
	/* A device that starts faulting goes on: watch after its first batches. */
	param->poll_credit = IOPF_POLL_CREDIT;

	mutex_lock(&queue->lock);
	mutex_lock(&iommu->lock);
	if (iommu->iopf_param) {
		ret = -EBUSY;
	} else {
		list_add_tail(&param->queue_node, &queue->devices);
		iommu->iopf_param = param;
	}
	mutex_unlock(&iommu->lock);
	mutex_unlock(&queue->lock);

	if (ret)
		kfree(param);
	return ret;
}
EXPORT_SYMBOL_GPL(iopf_queue_add_device);

/* Stop the device's reports from reaching @param; detach it from its queue. */
static void iopf_param_unpublish(struct iopf_device_param *param)
{
	struct dev_iommu *iommu = param->dev->iommu;

	lockdep_assert_held(&param->queue->lock);
	lockdep_assert_held(&iommu->lock);

	iommu->iopf_param = NULL;
	list_del(&param->queue_node);
}

/*
 * Free an unpublished param: its partial groups go unanswered (their last
 * request never came), its queued groups are answered before it is freed.
 */
static void iopf_param_release(struct iopf_device_param *param)
{
	/* Unpublished: nobody else reaches param->partial any more. */
	iopf_free_partial(param);

	/* No group is added any more: the last ones are answered after this. */
	flush_work(&param->work);
	wait_var_event(&param->flushers, !atomic_read(&param->flushers));
	iopf_free_spare(param);
	kfree(param);
}

/**
 * iopf_queue_remove_device() - detach a device from its fault queue
 * @queue: the queue the device is on
 * @dev: the device
 *
 * Stop accepting the device's requests, free its partial groups, and wait
 * until every group of the device already queued has been answered.  The
 * driver should stop the device's page requests first; requests reported
 * after this started get -ENODEV and the caller answers them.
 *
 * Context: Process context, may sleep.  Must not be called from the
 * device's work item nor with a lock held that ->page_response() takes.
 * Return: 0 once every group of @dev has been answered and no work for it
 * remains; -EINVAL when @queue or @dev is NULL or @dev is not on @queue.
 */
int iopf_queue_remove_device(struct iopf_queue *queue, struct device *dev)
{
	struct iopf_device_param *param;
	struct dev_iommu *iommu;
	int ret = 0;

	if (!queue || !dev || !dev->iommu)
		return -EINVAL;
	iommu = dev->iommu;

	mutex_lock(&queue->lock);
	mutex_lock(&iommu->lock);
	param = iommu->iopf_param;
	if (!param || param->queue != queue) {
		ret = -EINVAL;
		goto out_unlock;
	}
	iopf_param_unpublish(param);
out_unlock:
	mutex_unlock(&iommu->lock);
	mutex_unlock(&queue->lock);
	if (ret)
		return ret;

	iopf_param_release(param);
	return 0;
}
EXPORT_SYMBOL_GPL(iopf_queue_remove_device);

/* ---------------------------------------------------------------------- */
/* Statistics (no lock)                                                   */
/* ---------------------------------------------------------------------- */

/**
 * iopf_queue_read_stats() - sum a fault queue's counters
 * @queue: the queue
 * @stats: filled with the sums over every CPU
 *
 * The counters are bumped without a lock: a sum taken while faults are
 * reported may be a few events behind.  Once the queue is idle (no report
 * in progress and every group answered), @stats->groups equals
 * @stats->success + @stats->invalid and @stats->allocs equals
 * @stats->frees plus the partial requests still kept (a device's spare
 * groups count as freed).
 *
 * Context: Any context.
 * Return: 0, or -EINVAL when @queue or @stats is NULL.
 */
int iopf_queue_read_stats(struct iopf_queue *queue,
			  struct iopf_queue_stats *stats)
{
	/* Every member is a u64 counter: sum them as an array. */
	const unsigned int n = sizeof(*stats) / sizeof(u64);
	u64 *sum = (u64 *)stats;
	const u64 *pcpu;
	unsigned int i;
	int cpu;

	static_assert(sizeof(*stats) % sizeof(u64) == 0);
	if (!queue || !stats)
		return -EINVAL;

	memset(stats, 0, sizeof(*stats));
	for_each_possible_cpu(cpu) {
		pcpu = (const u64 *)per_cpu_ptr(queue->stats, cpu);
		for (i = 0; i < n; i++) {
			/*
			 * Racy by design: the owning CPU bumps its counters
			 * without a lock while we sum them.  A u64 counter is
			 * written whole on 64-bit; a sum may miss the events
			 * in progress, which the kernel-doc above allows.
			 */
			sum[i] += data_race(pcpu[i]);
		}
	}
	return 0;
}
EXPORT_SYMBOL_GPL(iopf_queue_read_stats);

static int iopf_stats_show(struct seq_file *m, void *unused)
{
	struct iopf_queue_stats st;

	iopf_queue_read_stats(m->private, &st);
	seq_printf(m, "requests %llu\n", st.requests);
	seq_printf(m, "partial %llu\n", st.partial);
	seq_printf(m, "dropped %llu\n", st.dropped);
	seq_printf(m, "discarded %llu\n", st.discarded);
	seq_printf(m, "groups %llu\n", st.groups);
	seq_printf(m, "faults %llu\n", st.faults);
	seq_printf(m, "success %llu\n", st.success);
	seq_printf(m, "invalid %llu\n", st.invalid);
	seq_printf(m, "throttled %llu\n", st.throttled);
	seq_printf(m, "inlined %llu\n", st.inlined);
	seq_printf(m, "polled %llu\n", st.polled);
	seq_printf(m, "wakeups %llu\n", st.wakeups);
	seq_printf(m, "reused %llu\n", st.reused);
	seq_printf(m, "in_flight %lld\n",
		   (s64)(st.groups - st.success - st.invalid));
	seq_printf(m, "objects %lld\n", (s64)(st.allocs - st.frees));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(iopf_stats);

static int iopf_latency_show(struct seq_file *m, void *unused)
{
	struct iopf_queue_stats st;
	unsigned int i;

	iopf_queue_read_stats(m->private, &st);
	seq_printf(m, "%10s %10s %12s\n", "from_us", "to_us", "groups");
	for (i = 0; i < IOPF_LATENCY_BUCKETS; i++) {
		if (!st.latency[i])
			continue;
		if (i == IOPF_LATENCY_BUCKETS - 1)
			seq_printf(m, "%10lu %10s %12llu\n", 1UL << (i - 1), "-",
				   st.latency[i]);
		else
			seq_printf(m, "%10lu %10lu %12llu\n",
				   i ? 1UL << (i - 1) : 0, 1UL << i,
				   st.latency[i]);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(iopf_latency);

/*
 * iommu/iopf/ in debugfs, created by the first queue.  The iommu/ directory
 * belongs to drivers/iommu/iommu-debugfs.c when CONFIG_IOMMU_DEBUGFS is set
 * (made at core_initcall, before any IOMMU driver allocates a queue);
 * otherwise nobody else makes it and it is made here.  Without debugfs the
 * result is an error pointer, which debugfs' functions accept as a parent
 * and debugfs_remove_recursive() ignores: nothing else to check.
 */
static struct dentry *iopf_debugfs_root(void)
{
	static DEFINE_MUTEX(lock);
	static struct dentry *root;
	struct dentry *iommu;

	mutex_lock(&lock);
	if (!root) {
#ifdef CONFIG_IOMMU_DEBUGFS
		iommu = iommu_debugfs_dir;
#else
		iommu = debugfs_create_dir("iommu", NULL);
#endif
		root = debugfs_create_dir("iopf", iommu);
	}
	mutex_unlock(&lock);
	return root;
}

static void iopf_queue_debugfs_init(struct iopf_queue *queue,
				    const char *name)
{
	queue->debugfs = debugfs_create_dir(name, iopf_debugfs_root());
	debugfs_create_file("stats", 0444, queue->debugfs, queue,
			    &iopf_stats_fops);
	debugfs_create_file("latency", 0444, queue->debugfs, queue,
			    &iopf_latency_fops);
}

/* ---------------------------------------------------------------------- */
/* Queue allocation (no lock held on entry)                               */
/* ---------------------------------------------------------------------- */

/* The slab caches of requests and groups, made by the first queue. */
static int iopf_caches_init(void)
{
	static DEFINE_MUTEX(lock);
	int ret = 0;

	mutex_lock(&lock);
	if (!iopf_group_cache) {
		iopf_request_cache = KMEM_CACHE(iopf_request, 0);
		if (iopf_request_cache)
			iopf_group_cache = KMEM_CACHE(iopf_group, 0);
		if (!iopf_group_cache) {
			kmem_cache_destroy(iopf_request_cache);
			iopf_request_cache = NULL;
			ret = -ENOMEM;
		}
	}
	mutex_unlock(&lock);
	return ret;
}

/* A mempool of @min objects of @cache (fault injection: its allocation). */
static mempool_t *iopf_pool_create(int min, struct kmem_cache *cache)
{
	if (iopf_should_fail(kmem_cache_size(cache)))
		return NULL;
	return mempool_create_slab_pool(min, cache);
}

/**
 * iopf_queue_alloc() - allocate a fault queue
 * @name: a name for the queue's workqueue, "iopf_queue/<name>"
 *
 * Each device's groups are handled by a work item of the device on the
 * queue's workqueue (unbound, high priority), in arrival order for each
 * PASID; the devices' work items run in parallel.  The queue's counters are in
 * debugfs, in iommu/iopf/<name>/ (when no other queue has that name).
 *
 * Context: Process context, may sleep.
 * Return: the queue, or NULL when out of memory.
 */
struct iopf_queue *iopf_queue_alloc(const char *name)
{
	struct iopf_queue *queue;

	if (iopf_caches_init())
		return NULL;
	queue = iopf_alloc(sizeof(*queue), GFP_KERNEL | __GFP_ZERO);
	if (!queue)
		return NULL;

	queue->requests = iopf_pool_create(IOPF_POOL_REQUESTS,
					   iopf_request_cache);
	if (!queue->requests)
		goto err_free_queue;
	queue->groups = iopf_pool_create(IOPF_POOL_GROUPS, iopf_group_cache);
	if (!queue->groups)
		goto err_free_requests;

	if (iopf_should_fail(sizeof(*queue->stats)))
		goto err_free_groups;
	queue->stats = alloc_percpu(struct iopf_queue_stats);
	if (!queue->stats)
		goto err_free_groups;

	queue->wq = alloc_workqueue("iopf_queue/%s", WQ_UNBOUND | WQ_HIGHPRI,
				    0, name);
	if (!queue->wq)
		goto err_free_stats;

	mutex_init(&queue->lock);
	INIT_LIST_HEAD(&queue->devices);
	iopf_queue_debugfs_init(queue, name);
	return queue;

err_free_stats:
	free_percpu(queue->stats);
err_free_groups:
	mempool_destroy(queue->groups);
err_free_requests:
	mempool_destroy(queue->requests);
err_free_queue:
	kfree(queue);
	return NULL;
}
EXPORT_SYMBOL_GPL(iopf_queue_alloc);

/**
 * iopf_queue_free() - free a fault queue
 * @queue: the queue, or NULL
 *
 * Remove every device still on @queue as iopf_queue_remove_device() does
 * (their queued groups are answered, their partial groups freed), then
 * destroy the workqueue and free @queue.
 *
 * Context: Process context, may sleep.  No device may be added to @queue
 * concurrently.
 */
void iopf_queue_free(struct iopf_queue *queue)
{
	struct iopf_device_param *param, *next;
	LIST_HEAD(removed);

	if (!queue)
		return;

	mutex_lock(&queue->lock);
	list_for_each_entry_safe(param, next, &queue->devices, queue_node) {
		mutex_lock(&param->dev->iommu->lock);
		iopf_param_unpublish(param);
		mutex_unlock(&param->dev->iommu->lock);
		list_add(&param->queue_node, &removed);
	}
	mutex_unlock(&queue->lock);

	list_for_each_entry_safe(param, next, &removed, queue_node)
		iopf_param_release(param);

	/* Waits for the readers of the files, which read queue->stats. */
	debugfs_remove_recursive(queue->debugfs);
	destroy_workqueue(queue->wq);
	free_percpu(queue->stats);
	mempool_destroy(queue->groups);
	mempool_destroy(queue->requests);
	mutex_destroy(&queue->lock);
	kfree(queue);
}
EXPORT_SYMBOL_GPL(iopf_queue_free);
