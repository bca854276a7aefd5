// SPDX-License-Identifier: GPL-2.0
/*
 * Torture test of the I/O page fault handler (drivers/iommu/io-pgfault.c).
 *
 * For a bounded time, on one fault queue:
 *
 *  - reporter threads send page request groups (a few partial requests
 *    and a last one, sometimes no last one, sometimes no PASID) for
 *    IOPF_TORTURE_DEVS mock devices and the PASIDs of IOPF_TORTURE_MMS
 *    address spaces, with random allocation failures (current->fail_nth);
 *  - mapper threads own the address spaces: they unmap and remap the pages
 *    being faulted, read-only or writable, and now and then replace their
 *    whole mm (the old one exits with faults queued, its PASID goes away);
 *  - manager threads, one per operation and all at once: one removes and
 *    adds back devices, one flushes them, one discards the partial
 *    requests of the queue, one unregisters and registers again their
 *    fault handler (as VT-d and SMMUv3 do when they disable a device), and
 *    one allocates a queue of its own, reports groups for a spare device
 *    on it and frees the queue with the groups still queued.
 *
 * Every thread is bound to a CPU, round robin, so that on an SMP kernel
 * the reporters, the workers and the managers run in parallel.
 *
 * The mock IOMMU's ->page_response() hook counts the answers per device
 * and group id; a reporter reuses a group id only once its group has been
 * answered.  At the end every device is removed, which answers everything
 * queued, and the suite prints one line:
 *
 *   torture: groups=<n> answered=<n> duplicates=0 lost=0 leaks=<n> splats=<n>
 *
 * groups: groups accepted (last request reported with 0); answered:
 * answers the mock received; duplicates: answers beyond one per accepted
 * group (seen by the mock, or counted by the handler);
 * lost: accepted groups never answered; leaks: groups and requests the
 * handler allocated and did not free (its allocs - frees counters);
 * splats: new taint flags (WARN, KASAN's bad page, oops) and lockdep
 * turning itself off during the run.
 *
 * Parameters (kernel command line): iopf_torture.rounds (the run is split
 * in rounds, one KUnit case each, to stay within KUnit's 300 s per case;
 * default 1), iopf_torture.seconds (each round runs at least this long,
 * default 5), iopf_torture.groups (and until the rounds accepted this many
 * groups in all, default 0), iopf_torture.max_seconds (but a round never
 * runs longer, default and at most IOPF_TORTURE_MAX_SECONDS).  Each round
 * prints its line; the last one prints the totals.
 */

#include <kunit/test.h>
#include <linux/debug_locks.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/moduleparam.h>
#include <linux/panic.h>
#include <linux/random.h>
#include <linux/sched/mm.h>

#include "../../drivers/iommu/iommu-sva-lib.h"
#include "iopf_mock.h"

#define IOPF_TORTURE_DEVS	4	/* on the shared queue */
#define IOPF_TORTURE_SPARE	IOPF_TORTURE_DEVS	/* on the freed queues */
#define IOPF_TORTURE_MANAGERS	5
#define IOPF_TORTURE_MMS	2
#define IOPF_TORTURE_REPORTERS	3
#define IOPF_TORTURE_GRPIDS	512	/* PRI group ids have 9 bits */
#define IOPF_TORTURE_PER_REP	(IOPF_TORTURE_GRPIDS / IOPF_TORTURE_REPORTERS)
#define IOPF_TORTURE_PAGES	64
/* Every mm maps its pages at the same address: the PASID tells them apart. */
#define IOPF_TORTURE_BASE	0x10000000UL
#define IOPF_TORTURE_MAX_ROUNDS	16
#define IOPF_TORTURE_MAX_SECONDS	240
#define IOPF_TORTURE_SPLATS	(BIT(TAINT_WARN) | BIT(TAINT_BAD_PAGE) | \
				 BIT(TAINT_DIE))

static unsigned int seconds = 5;
module_param(seconds, uint, 0444);
MODULE_PARM_DESC(seconds, "Run at least this many seconds");

static unsigned long groups;
module_param(groups, ulong, 0444);
MODULE_PARM_DESC(groups, "Run until this many groups were accepted");

static unsigned int max_seconds = IOPF_TORTURE_MAX_SECONDS;
module_param(max_seconds, uint, 0444);
MODULE_PARM_DESC(max_seconds, "A round never runs longer than this");

static unsigned int rounds = 1;
module_param(rounds, uint, 0444);
MODULE_PARM_DESC(rounds, "Number of rounds (KUnit cases)");

/**
 * struct iopf_torture_totals - the sums over the rounds so far
 * @groups: groups accepted
 * @answered: answers received
 * @duplicates: answers beyond one per group
 * @lost: groups not answered
 * @leaks: objects the handler did not free
 * @splats: WARN, KASAN, oops and lockdep reports
 */
static struct iopf_torture_totals {
	u64 groups;
	u64 answered;
	u64 duplicates;
	u64 lost;
	s64 leaks;
	u64 splats;
} iopf_torture_totals;

struct iopf_torture;

/**
 * struct iopf_torture_dev - a mock device and its answer book
 * @t: the run
 * @mock: the device
 * @on_queue: the device is on the queue (the remover thread only)
 * @outstanding: per group id, accepted groups minus answers: 0 or 1
 */
struct iopf_torture_dev {
	struct iopf_torture *t;
	struct iopf_mock *mock;
	bool on_queue;
	atomic_t outstanding[IOPF_TORTURE_GRPIDS];
};

/**
 * struct iopf_torture - one torture run
 * @queue: the fault queue of every device
 * @dev: the devices
 * @pasid: the PASID of each mapper's current mm, 0 between two mms
 * @accepted: groups accepted
 * @refused: last requests refused (device off the queue, no memory)
 * @answered: answers the mock received
 * @duplicates: answers the mock received for a group not outstanding
 * @mm_swaps: address spaces replaced while their faults were queued
 * @remaps: unmaps and remaps of faulted pages
 * @removals: devices removed from the queue and added back
 * @unregs: fault handlers unregistered and registered again
 * @queue_frees: queues freed with groups queued
 * @spare_accepted: groups accepted on those queues (in @accepted too)
 * @nb: the unhandled-fault notifier of the devices on @queue, set again
 *      each time one is added back
 * @notified: groups the notifier was told of
 * @bad_notified: notifications for another device, or whose reason and
 *                error do not go together
 */
struct iopf_torture {
	struct iopf_queue *queue;
	struct iopf_torture_dev dev[IOPF_TORTURE_DEVS + 1];
	u32 pasid[IOPF_TORTURE_MMS];
	atomic64_t accepted;
	atomic64_t refused;
	atomic64_t answered;
	atomic64_t duplicates;
	atomic64_t mm_swaps;
	atomic64_t remaps;
	atomic64_t removals;
	atomic64_t unregs;
	atomic64_t queue_frees;
	atomic64_t spare_accepted;
	struct iopf_unhandled_notifier nb;
	atomic64_t notified;
	atomic64_t bad_notified;
};

/**
 * struct iopf_torture_thread - a thread of the run
 * @t: the run
 * @test: the case
 * @id: reporter index (group id range), mapper index (mm slot) or manager
 *      index (its operation)
 * @task: the kthread
 */
struct iopf_torture_thread {
	struct iopf_torture *t;
	struct kunit *test;
	unsigned int id;
	struct task_struct *task;
};

/* ->page_response() of every mock: book the answer. */
static void iopf_torture_answer(struct iopf_mock *mock,
				const struct iommu_page_response *msg)
{
	struct iopf_torture_dev *d = mock->priv;

	atomic64_inc(&d->t->answered);
	if (msg->grpid >= IOPF_TORTURE_GRPIDS ||
	    atomic_dec_return(&d->outstanding[msg->grpid]) < 0) {
		atomic64_inc(&d->t->duplicates);
		if (msg->grpid < IOPF_TORTURE_GRPIDS)
			atomic_inc(&d->outstanding[msg->grpid]);
	}
}

/* The error each reason comes with; a failed fault has its own. */
static bool iopf_torture_why_ok(const struct iopf_unhandled *why)
{
	switch (why->reason) {
	case IOPF_REASON_PASID:
		return why->err == -EINVAL;
	case IOPF_REASON_NO_MM:
		return why->err == -ESRCH;
	case IOPF_REASON_NO_VMA:
		return why->err == -EFAULT;
	case IOPF_REASON_PERM:
		return why->err == -EACCES;
	case IOPF_REASON_FAULT:
		return why->err < 0;
	}
	return false;
}

/* The notifier of the devices on the run's queue: book and check. */
static void iopf_torture_unhandled(struct iopf_unhandled_notifier *nb,
				   struct device *dev,
				   const struct iopf_unhandled *why)
{
	struct iopf_torture *t = container_of(nb, struct iopf_torture, nb);
	bool ours = false;
	unsigned int i;

	for (i = 0; i < IOPF_TORTURE_DEVS; i++)
		ours |= t->dev[i].mock->dev == dev;
	atomic64_inc(&t->notified);
	if (!ours || why->grpid >= IOPF_TORTURE_GRPIDS ||
	    !iopf_torture_why_ok(why))
		atomic64_inc(&t->bad_notified);
}

/* Put @d on the run's queue, with the notifier. */
static int iopf_torture_add(struct iopf_torture *t, struct iopf_torture_dev *d)
{
	int ret = iopf_queue_add_device(t->queue, d->mock->dev);

	if (!ret)
		WARN_ON(iopf_queue_set_unhandled(d->mock->dev, &t->nb));
	return ret;
}

static unsigned long iopf_torture_addr(void)
{
	return IOPF_TORTURE_BASE +
	       get_random_u32_below(IOPF_TORTURE_PAGES) * PAGE_SIZE +
	       get_random_u32_below(PAGE_SIZE / 8) * 8;
}

static u32 iopf_torture_perm(void)
{
	return get_random_u32_below(2) ? IOMMU_FAULT_PERM_READ :
	       IOMMU_FAULT_PERM_READ | IOMMU_FAULT_PERM_WRITE;
}

/* A free group id of reporter @id on @d, or -1 when all are in flight. */
static int iopf_torture_grpid(struct iopf_torture_dev *d, unsigned int id)
{
	unsigned int first = id * IOPF_TORTURE_PER_REP;
	unsigned int start = get_random_u32_below(IOPF_TORTURE_PER_REP);
	unsigned int i, g;

	for (i = 0; i < IOPF_TORTURE_PER_REP; i++) {
		g = first + (start + i) % IOPF_TORTURE_PER_REP;
		if (!atomic_read(&d->outstanding[g]))
			return g;
	}
	return -1;
}

/*
 * Send one group for @d: 0-3 partial requests, then (nearly always) the
 * last.  Return true when the last request was accepted.
 */
static bool iopf_torture_group(struct iopf_torture *t,
			       struct iopf_torture_dev *d, unsigned int id)
{
	u32 flags = IOMMU_FAULT_PAGE_REQUEST_PASID_VALID |
		    IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID;
	unsigned int i, nr_partial;
	u32 pasid;
	int grpid, ret;

	grpid = iopf_torture_grpid(d, id);
	if (grpid < 0)
		return false;
	pasid = READ_ONCE(t->pasid[get_random_u32_below(IOPF_TORTURE_MMS)]);
	if (!get_random_u32_below(32))
		flags = 0;

	nr_partial = get_random_u32_below(4);
	for (i = 0; i < nr_partial; i++)
		iopf_mock_report(d->mock, IOMMU_FAULT_PAGE_REQ, flags, pasid,
				 grpid, iopf_torture_perm(),
				 iopf_torture_addr());
	/* Left for discard and removal to free. */
	if (!get_random_u32_below(64))
		return false;

	flags |= IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE;
	/* Booked before the report: the answer may come before it returns. */
	atomic_inc(&d->outstanding[grpid]);
	if (!get_random_u32_below(16))
		iopf_mock_fail_nth(1 + get_random_u32_below(3));
	ret = iopf_mock_report(d->mock, IOMMU_FAULT_PAGE_REQ, flags, pasid,
			       grpid, iopf_torture_perm(), iopf_torture_addr());
	iopf_mock_fail_nth(0);
	if (ret) {
		atomic_dec(&d->outstanding[grpid]);
		atomic64_inc(&t->refused);
		return false;
	}
	atomic64_inc(&t->accepted);
	return true;
}

static int iopf_torture_reporter(void *data)
{
	struct iopf_torture_thread *th = data;
	struct iopf_torture *t = th->t;

	while (!kthread_should_stop()) {
		iopf_torture_group(t, &t->dev[get_random_u32_below(IOPF_TORTURE_DEVS)],
				   th->id);
		cond_resched();
	}
	return 0;
}

/* A fresh mm with the pages mapped, used by the calling thread. */
static struct mm_struct *iopf_torture_mm(void)
{
	struct mm_struct *mm = iopf_mock_mm_create();
	unsigned long addr;

	if (!mm)
		return NULL;
	addr = vm_mmap(NULL, IOPF_TORTURE_BASE, IOPF_TORTURE_PAGES * PAGE_SIZE,
		       PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, 0);
	/* On failure, faults on an mm with nothing mapped: a fine test too. */
	if (IS_ERR_VALUE(addr))
		pr_info("iopf_torture: mmap: %ld\n", (long)addr);
	return mm;
}

/*
 * Unmap a few pages and map them again, read-only or writable.  Return
 * false when the new mapping failed (its faults get INVALID answers).
 */
static bool iopf_torture_remap(void)
{
	unsigned int first = get_random_u32_below(IOPF_TORTURE_PAGES);
	unsigned int nr = 1 + get_random_u32_below(IOPF_TORTURE_PAGES - first);
	unsigned long addr = IOPF_TORTURE_BASE + first * PAGE_SIZE;
	unsigned long prot = PROT_READ;

	if (get_random_u32_below(4))
		prot |= PROT_WRITE;
	vm_munmap(addr, nr * PAGE_SIZE);
	usleep_range(50, 200);
	addr = vm_mmap(NULL, addr, nr * PAGE_SIZE, prot,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, 0);
	return !IS_ERR_VALUE(addr);
}

static int iopf_torture_mapper(void *data)
{
	struct iopf_torture_thread *th = data;
	struct iopf_torture *t = th->t;
	struct mm_struct *mm = NULL;

	while (!kthread_should_stop()) {
		if (!mm || !get_random_u32_below(200)) {
			WRITE_ONCE(t->pasid[th->id], 0);
			if (mm) {
				iopf_mock_mm_destroy(mm);
				atomic64_inc(&t->mm_swaps);
			}
			mm = iopf_torture_mm();
			if (!mm) {
				msleep(20);
				continue;
			}
			WRITE_ONCE(t->pasid[th->id], mm->pasid);
		}
		if (iopf_torture_remap())
			atomic64_inc(&t->remaps);
		usleep_range(500, 2000);
	}
	WRITE_ONCE(t->pasid[th->id], 0);
	iopf_mock_mm_destroy(mm);
	return 0;
}

/* Remove a device from the queue and add it back. */
static void iopf_torture_remove(struct iopf_torture *t,
				struct iopf_torture_dev *d)
{
	if (d->on_queue) {
		WARN_ON(iopf_queue_remove_device(t->queue, d->mock->dev));
		d->on_queue = false;
		atomic64_inc(&t->removals);
		usleep_range(200, 1000);
	}
	if (!iopf_torture_add(t, d))
		d->on_queue = true;
}

/* Unregister a device's fault handler (when nothing is pending) and back. */
static void iopf_torture_unregister(struct iopf_torture *t,
				    struct iopf_torture_dev *d)
{
	struct device *dev = d->mock->dev;

	if (iommu_unregister_device_fault_handler(dev))
		return;		/* -EBUSY: answers pending */
	atomic64_inc(&t->unregs);
	usleep_range(100, 500);
	WARN_ON(iommu_register_device_fault_handler(dev, iommu_queue_iopf,
						    dev));
}

/*
 * Allocate a queue, put the spare device on it, report a few groups and
 * free the queue while they are queued: each accepted group must have
 * been answered when iopf_queue_free() returns.
 */
static void iopf_torture_free_queue(struct iopf_torture *t,
				    struct kunit *test)
{
	struct iopf_torture_dev *d = &t->dev[IOPF_TORTURE_SPARE];
	unsigned int i, n, unanswered = 0;
	struct iopf_queue *queue;
	int g;

	queue = iopf_queue_alloc("torture-spare");
	if (!queue)
		return;
	if (iopf_queue_add_device(queue, d->mock->dev)) {
		iopf_queue_free(queue);
		return;
	}
	n = 1 + get_random_u32_below(8);
	for (i = 0; i < n; i++)
		if (iopf_torture_group(t, d, 0))	/* the device is ours */
			atomic64_inc(&t->spare_accepted);
	iopf_queue_free(queue);
	atomic64_inc(&t->queue_frees);
	for (g = 0; g < IOPF_TORTURE_GRPIDS; g++)
		unanswered += atomic_read(&d->outstanding[g]) != 0;
	if (unanswered)
		KUNIT_FAIL(test, "%u groups unanswered after iopf_queue_free()",
			   unanswered);
}

/* Manager @id does one operation, over and over, on random devices. */
static int iopf_torture_manager(void *data)
{
	struct iopf_torture_thread *th = data;
	struct iopf_torture *t = th->t;
	struct iopf_torture_dev *d;

	while (!kthread_should_stop()) {
		d = &t->dev[get_random_u32_below(IOPF_TORTURE_DEVS)];
		switch (th->id) {
		case 0:
			iopf_torture_remove(t, d);
			break;
		case 1:
			/* -ENODEV only while the remover has it off. */
			iopf_queue_flush_dev(d->mock->dev);
			break;
		case 2:
			WARN_ON(iopf_queue_discard_partial(t->queue));
			break;
		case 3:
			iopf_torture_unregister(t, d);
			break;
		default:
			iopf_torture_free_queue(t, th->test);
			break;
		}
		usleep_range(1000, 3000);
	}
	return 0;
}

static void iopf_torture_stop(struct iopf_torture_thread *th, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (!IS_ERR_OR_NULL(th[i].task))
			kthread_stop(th[i].task);
	}
}

/* Start @n threads running @fn, bound to the online CPUs round robin. */
static int iopf_torture_start(struct kunit *test, struct iopf_torture *t,
			      struct iopf_torture_thread *th, unsigned int n,
			      int (*fn)(void *data), const char *name)
{
	static unsigned int next_cpu;
	char comm[TASK_COMM_LEN];
	unsigned int i;

	for (i = 0; i < n; i++) {
		th[i].t = t;
		th[i].test = test;
		th[i].id = i;
		snprintf(comm, sizeof(comm), "iopf-%s/%u", name, i);
		th[i].task = iopf_mock_run_on(cpumask_nth(next_cpu++ %
							  num_online_cpus(),
							  cpu_online_mask),
					      fn, &th[i], comm);
		if (IS_ERR(th[i].task))
			return PTR_ERR(th[i].task);
	}
	return 0;
}

static unsigned int iopf_torture_rounds(void)
{
	return clamp_t(unsigned int, rounds, 1, IOPF_TORTURE_MAX_ROUNDS);
}

static bool iopf_torture_done(struct iopf_torture *t, unsigned long start)
{
	unsigned long limit = min_t(unsigned int, max_seconds,
				    IOPF_TORTURE_MAX_SECONDS);
	unsigned long elapsed = jiffies - start;

	if (elapsed >= limit * HZ)
		return true;
	return elapsed >= (unsigned long)seconds * HZ &&
	       atomic64_read(&t->accepted) >=
	       DIV_ROUND_UP(groups, iopf_torture_rounds());
}

static void iopf_torture_run(struct kunit *test, struct iopf_torture *t)
{
	struct iopf_torture_thread rep[IOPF_TORTURE_REPORTERS] = { };
	struct iopf_torture_thread map[IOPF_TORTURE_MMS] = { };
	struct iopf_torture_thread mgr[IOPF_TORTURE_MANAGERS] = { };
	unsigned long start = jiffies;

	/* Mappers first: reporters start with PASIDs to fault on. */
	if (iopf_torture_start(test, t, map, IOPF_TORTURE_MMS,
			       iopf_torture_mapper, "map") ||
	    iopf_torture_start(test, t, rep, IOPF_TORTURE_REPORTERS,
			       iopf_torture_reporter, "report") ||
	    iopf_torture_start(test, t, mgr, IOPF_TORTURE_MANAGERS,
			       iopf_torture_manager, "manage"))
		KUNIT_FAIL(test, "cannot start the threads");
	else
		while (!iopf_torture_done(t, start))
			msleep(100);

	iopf_torture_stop(mgr, IOPF_TORTURE_MANAGERS);
	iopf_torture_stop(rep, IOPF_TORTURE_REPORTERS);
	iopf_torture_stop(map, IOPF_TORTURE_MMS);
	kunit_info(test, "%lu s on %u CPUs, %lld mm swaps, %lld remaps, %lld removals, %lld unregisters, %lld queues freed (%lld groups), %lld last requests refused\n",
		   (jiffies - start) / HZ, num_online_cpus(),
		   atomic64_read(&t->mm_swaps), atomic64_read(&t->remaps),
		   atomic64_read(&t->removals), atomic64_read(&t->unregs),
		   atomic64_read(&t->queue_frees),
		   atomic64_read(&t->spare_accepted),
		   atomic64_read(&t->refused));
}

/* Accepted groups never answered. */
static unsigned long iopf_torture_lost(struct iopf_torture *t)
{
	unsigned long lost = 0;
	unsigned int i, g;

	for (i = 0; i <= IOPF_TORTURE_SPARE; i++)
		for (g = 0; g < IOPF_TORTURE_GRPIDS; g++)
			lost += max(atomic_read(&t->dev[i].outstanding[g]), 0);
	return lost;
}

/* Add the round's figures to the totals; print them after the last round. */
static void iopf_torture_report(struct kunit *test, unsigned int round,
				const struct iopf_torture_totals *r)
{
	struct iopf_torture_totals *tot = &iopf_torture_totals;

	if (round == 1)
		memset(tot, 0, sizeof(*tot));
	tot->groups += r->groups;
	tot->answered += r->answered;
	tot->duplicates += r->duplicates;
	tot->lost += r->lost;
	tot->leaks += r->leaks;
	tot->splats += r->splats;

	kunit_info(test, "round %u: groups=%llu answered=%llu duplicates=%llu lost=%llu leaks=%lld splats=%llu\n",
		   round, r->groups, r->answered, r->duplicates, r->lost,
		   r->leaks, r->splats);
	if (round < iopf_torture_rounds())
		return;
	kunit_info(test, "torture: groups=%llu answered=%llu duplicates=%llu lost=%llu leaks=%lld splats=%llu\n",
		   tot->groups, tot->answered, tot->duplicates, tot->lost,
		   tot->leaks, tot->splats);
}

static void iopf_torture_test(struct kunit *test)
{
	const unsigned int *round = test->param_value;
	struct iopf_torture_totals r;
	unsigned long taint = get_taint();
	int locks = debug_locks;
	struct iopf_queue_stats st;
	struct iopf_torture *t;
	long long duplicates, main_accepted;
	unsigned long lost;
	unsigned int splats;
	int i;

	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t);
	t->queue = iopf_queue_alloc("torture");
	KUNIT_ASSERT_NOT_NULL(test, t->queue);
	t->nb.notify = iopf_torture_unhandled;
	for (i = 0; i <= IOPF_TORTURE_SPARE; i++) {
		t->dev[i].t = t;
		t->dev[i].mock = iopf_mock_create(iommu_queue_iopf);
		if (!t->dev[i].mock) {
			KUNIT_FAIL(test, "cannot create mock device %d", i);
			goto out_destroy;
		}
		t->dev[i].mock->priv = &t->dev[i];
		t->dev[i].mock->hook = iopf_torture_answer;
		if (i == IOPF_TORTURE_SPARE)
			break;
		if (iopf_torture_add(t, &t->dev[i])) {
			KUNIT_FAIL(test, "cannot add mock device %d", i);
			goto out_destroy;
		}
		t->dev[i].on_queue = true;
	}

	iopf_torture_run(test, t);

	/* Every queued group is answered once its device is removed. */
	for (i = 0; i < IOPF_TORTURE_DEVS; i++) {
		struct device *dev = t->dev[i].mock->dev;

		if (t->dev[i].on_queue)
			KUNIT_EXPECT_EQ(test,
					iopf_queue_remove_device(t->queue, dev),
					0);
		t->dev[i].on_queue = false;
	}
	KUNIT_ASSERT_EQ(test, iopf_queue_read_stats(t->queue, &st), 0);

	lost = iopf_torture_lost(t);
	duplicates = atomic64_read(&t->duplicates);
	/* Answers the handler sent beyond one per accepted group. */
	main_accepted = atomic64_read(&t->accepted) -
			atomic64_read(&t->spare_accepted);
	if (st.success + st.invalid > main_accepted)
		duplicates += st.success + st.invalid - main_accepted;
	splats = hweight_long((get_taint() & ~taint) & IOPF_TORTURE_SPLATS) +
		 (locks && !debug_locks);

	r.groups = atomic64_read(&t->accepted);
	r.answered = atomic64_read(&t->answered);
	r.duplicates = duplicates;
	r.lost = lost;
	r.leaks = st.allocs - st.frees;
	r.splats = splats;
	iopf_torture_report(test, *round, &r);
	kunit_info(test, "handler: requests=%llu partial=%llu dropped=%llu discarded=%llu groups=%llu faults=%llu success=%llu invalid=%llu\n",
		   st.requests, st.partial, st.dropped, st.discarded,
		   st.groups, st.faults, st.success, st.invalid);
	kunit_info(test, "notifier: %lld of the %llu INVALID answers notified, %lld bad\n",
		   (long long)atomic64_read(&t->notified), st.invalid,
		   (long long)atomic64_read(&t->bad_notified));

	KUNIT_EXPECT_GT(test, atomic64_read(&t->accepted), 0LL);
	KUNIT_EXPECT_EQ(test, atomic64_read(&t->answered),
			atomic64_read(&t->accepted));
	KUNIT_EXPECT_EQ(test, st.groups, (u64)main_accepted);
	KUNIT_EXPECT_EQ(test, st.success + st.invalid, st.groups);
	KUNIT_EXPECT_EQ(test, duplicates, 0LL);
	KUNIT_EXPECT_EQ(test, lost, 0UL);
	KUNIT_EXPECT_EQ(test, st.allocs, st.frees);
	KUNIT_EXPECT_EQ(test, splats, 0U);
	KUNIT_EXPECT_GT(test, st.success, 0ULL);
	KUNIT_EXPECT_GT(test, st.invalid, 0ULL);
	/*
	 * Every INVALID answer of the queue is notified, but those of a
	 * device just added back before its notifier is set again.
	 */
	KUNIT_EXPECT_GT(test, atomic64_read(&t->notified), 0LL);
	KUNIT_EXPECT_LE(test, (u64)atomic64_read(&t->notified), st.invalid);
	KUNIT_EXPECT_EQ(test, atomic64_read(&t->bad_notified), 0LL);

out_destroy:
	iopf_queue_free(t->queue);
	for (i = 0; i <= IOPF_TORTURE_SPARE; i++)
		iopf_mock_destroy(t->dev[i].mock);
}

static const unsigned int iopf_torture_round[IOPF_TORTURE_MAX_ROUNDS] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16
};

static const void *iopf_torture_gen_params(const void *prev, char *desc)
{
	const unsigned int *r = prev ? (const unsigned int *)prev + 1 :
				iopf_torture_round;

	if (r >= iopf_torture_round + IOPF_TORTURE_MAX_ROUNDS ||
	    *r > iopf_torture_rounds())
		return NULL;
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "round %u", *r);
	return r;
}

static struct kunit_case iopf_torture_cases[] = {
	KUNIT_CASE_PARAM(iopf_torture_test, iopf_torture_gen_params),
	{}
};

static struct kunit_suite iopf_torture_suite = {
	.name = "iopf_torture",
	.test_cases = iopf_torture_cases,
};

kunit_test_suite(iopf_torture_suite);

MODULE_LICENSE("GPL");
