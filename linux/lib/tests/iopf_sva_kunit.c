// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite: the I/O page fault handler as SVA device drivers reach it,
 * through iommu_sva_bind_device(), iommu_sva_get_pasid() and
 * iommu_sva_unbind_device().
 *
 * The mock IOMMU binds as SMMUv3 and VT-d do (lib/tests/iopf_mock.c): the
 * mm's PASID from iommu_sva_alloc_pasid(), an mmu_notifier on the mm, and
 * an unbind that stops the device's requests for the PASID, drains them,
 * flushes the handler and only then lets go of the mm.  The mock device
 * sits alone in an iommu_group, as iommu_sva_bind_device() wants.
 *
 * Debian's 6.1 returns -EOPNOTSUPP from iommu_sva_bind_device() on x86
 * before it reaches the IOMMU driver: there every case is skipped (by the
 * suite's init).
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/sched/mm.h>
#include <linux/tracepoint.h>
#include <trace/events/iopf.h>

#include "../../drivers/iommu/iommu-sva-lib.h"
#include "iopf_mock.h"

#define IOPF_SVA_PAGES		16
#define IOPF_SVA_TIMEOUT	(10 * HZ)
#define IOPF_SVA_R		IOMMU_FAULT_PERM_READ
#define IOPF_SVA_W		IOMMU_FAULT_PERM_WRITE

/**
 * struct iopf_sva - the fixture
 * @mm: the test's address space (the kthread uses it)
 * @base: IOPF_SVA_PAGES pages of fresh anonymous memory in @mm
 * @queue: the IOMMU's fault queue
 * @mock: the device, on @queue, alone in its iommu_group
 */
struct iopf_sva {
	struct mm_struct *mm;
	unsigned long base;
	struct iopf_queue *queue;
	struct iopf_mock *mock;
};

static int iopf_sva_init(struct kunit *test)
{
	struct iopf_sva *s;

	/* Every case binds: skip them on x86, where the base refuses. */
	if (IS_ENABLED(CONFIG_X86))
		kunit_skip(test, "6.1 disables iommu_sva_bind_device() on x86 (-EOPNOTSUPP)");

	s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	test->priv = s;
	s->mm = iopf_mock_mm_create();
	if (!s->mm)
		return -ENOMEM;
	s->base = iopf_mock_mmap(IOPF_SVA_PAGES * PAGE_SIZE,
				 PROT_READ | PROT_WRITE, 0);
	if (IS_ERR_VALUE(s->base))
		return -ENOMEM;
	s->queue = iopf_queue_alloc("kunit-sva");
	if (!s->queue)
		return -ENOMEM;
	s->mock = iopf_mock_create(iommu_queue_iopf);
	if (!s->mock)
		return -ENOMEM;
	if (iopf_queue_add_device(s->queue, s->mock->dev))
		return -ENODEV;
	return iopf_mock_sva_enable(s->mock);
}

static void iopf_sva_exit(struct kunit *test)
{
	struct iopf_sva *s = test->priv;

	if (!s)
		return;
	/* A case that failed while bound. */
	if (s->mock)
		iopf_mock_sva_unbind_all(s->mock);
	iopf_queue_free(s->queue);
	iopf_mock_destroy(s->mock);
	iopf_mock_mm_destroy(s->mm);
}

static struct iommu_sva *iopf_sva_bind(struct kunit *test,
				       struct mm_struct *mm)
{
	struct iopf_sva *s = test->priv;
	struct iommu_sva *handle;

	handle = iommu_sva_bind_device(s->mock->dev, mm, NULL);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR_OR_NULL(handle), "bind: %ld",
			       PTR_ERR(handle));
	return handle;
}

/*
 * One group of two requests, for the pages at @addr and after it, answered
 * SUCCESS.  Expectations only: the callers clean up after a failure.
 */
static void iopf_sva_fault(struct kunit *test, struct iommu_sva *handle,
			   u32 grpid, unsigned long addr)
{
	struct iopf_sva *s = test->priv;
	unsigned int n = iopf_mock_count(s->mock);

	KUNIT_EXPECT_EQ(test, iopf_mock_sva_report(handle, grpid, IOPF_SVA_W,
						   addr, false), 0);
	KUNIT_EXPECT_EQ(test, iopf_mock_sva_report(handle, grpid, IOPF_SVA_R,
						   addr + PAGE_SIZE, true), 0);
	if (iopf_mock_wait(s->mock, n + 1, IOPF_SVA_TIMEOUT) != n + 1 ||
	    n >= IOPF_MOCK_MAX_RESP) {
		KUNIT_FAIL(test, "group %u not answered", grpid);
		return;
	}
	KUNIT_EXPECT_EQ(test, s->mock->resp[n].grpid, grpid);
	KUNIT_EXPECT_EQ(test, s->mock->resp[n].pasid,
			iommu_sva_get_pasid(handle));
	KUNIT_EXPECT_EQ(test, s->mock->resp[n].code, IOMMU_PAGE_RESP_SUCCESS);
}

/* ---------------------------------------------------------------------- */
/* Bind, fault, unbind                                                    */
/* ---------------------------------------------------------------------- */

static void iopf_sva_test_bind_fault_unbind(struct kunit *test)
{
	struct iopf_sva *s = test->priv;
	struct iommu_sva *handle;

	handle = iopf_sva_bind(test, s->mm);
	KUNIT_EXPECT_PTR_EQ(test, handle->dev, s->mock->dev);
	KUNIT_EXPECT_EQ(test, iommu_sva_get_pasid(handle), s->mm->pasid);

	iopf_sva_fault(test, handle, 1, s->base);
	KUNIT_EXPECT_TRUE(test, iopf_mock_page_present(s->mm, s->base, true));
	KUNIT_EXPECT_TRUE(test, iopf_mock_page_present(s->mm,
						       s->base + PAGE_SIZE,
						       false));

	iommu_sva_unbind_device(handle);
	/* Unbound: the device cannot send for the PASID any more. */
	KUNIT_EXPECT_TRUE(test, list_empty(&s->mock->bonds));
	KUNIT_EXPECT_EQ(test, iopf_mock_count(s->mock), 1U);
}

/* A second bind of the same mm is the same bond; it lasts until both go. */
static void iopf_sva_test_bind_twice(struct kunit *test)
{
	struct iopf_sva *s = test->priv;
	struct iommu_sva *a, *b;

	a = iopf_sva_bind(test, s->mm);
	b = iopf_sva_bind(test, s->mm);
	KUNIT_EXPECT_PTR_EQ(test, a, b);

	iommu_sva_unbind_device(b);
	iopf_sva_fault(test, a, 2, s->base);
	iommu_sva_unbind_device(a);
	KUNIT_EXPECT_TRUE(test, list_empty(&s->mock->bonds));
}

/**
 * struct iopf_sva_dev - the device, sending page requests for a bond from
 *                       another CPU until it cannot
 * @handle: the bond
 * @base: the pages it faults, IOPF_SVA_PAGES of them
 * @accepted: groups the handler accepted
 * @refused: groups refused once the bond was stopped (-ESRCH)
 * @errors: any other result
 * @stop: stop even if still bound (the case failed)
 * @done: completed when the device stopped
 */
struct iopf_sva_dev {
	struct iommu_sva *handle;
	unsigned long base;
	unsigned int accepted;
	unsigned int refused;
	unsigned int errors;
	bool stop;
	struct completion done;
};

static int iopf_sva_dev_fn(void *data)
{
	struct iopf_sva_dev *d = data;
	unsigned int i;
	int ret;

	for (i = 0; !READ_ONCE(d->stop); i++) {
		ret = iopf_mock_sva_report(d->handle, i & 0x1ff, IOPF_SVA_W,
					   d->base + (i % IOPF_SVA_PAGES) *
					   PAGE_SIZE, true);
		if (ret == -ESRCH) {
			d->refused++;
			break;
		}
		if (ret)
			d->errors++;
		else
			WRITE_ONCE(d->accepted, d->accepted + 1);
		if (!(i & 15))
			cond_resched();
	}
	complete(&d->done);
	return 0;
}

/*
 * Unbind while the device faults on another CPU: when unbind returns,
 * every group accepted has been answered, and the device's later requests
 * for the PASID do not reach the handler.
 */
static void iopf_sva_test_unbind_while_reporting(struct kunit *test)
{
	struct iopf_sva *s = test->priv;
	struct iopf_sva_dev d = { .base = s->base };
	struct iopf_queue_stats before, after;
	struct task_struct *task;
	unsigned long deadline;
	unsigned int answered;

	init_completion(&d.done);
	d.handle = iopf_sva_bind(test, s->mm);
	task = iopf_mock_run_on(iopf_mock_other_cpu(), iopf_sva_dev_fn, &d,
				"iopf-sva-dev");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	deadline = jiffies + IOPF_SVA_TIMEOUT;
	while (READ_ONCE(d.accepted) < 64 && !completion_done(&d.done) &&
	       time_before(jiffies, deadline))
		usleep_range(100, 200);

	iommu_sva_unbind_device(d.handle);
	answered = iopf_mock_count(s->mock);
	iopf_queue_read_stats(s->queue, &before);
	/* Unbound, the device stops; the thread uses our stack. */
	WRITE_ONCE(d.stop, true);
	wait_for_completion(&d.done);
	msleep(20);
	iopf_queue_read_stats(s->queue, &after);

	KUNIT_EXPECT_GE(test, d.accepted, 64U);
	KUNIT_EXPECT_EQ(test, d.refused, 1U);
	KUNIT_EXPECT_EQ(test, d.errors, 0U);
	/* Everything accepted was answered before unbind returned... */
	KUNIT_EXPECT_EQ(test, answered, d.accepted);
	/* ... and nothing was reported or handled after it. */
	KUNIT_EXPECT_EQ(test, iopf_mock_count(s->mock), answered);
	KUNIT_EXPECT_EQ(test, after.requests, before.requests);
	KUNIT_EXPECT_EQ(test, after.faults, before.faults);
}

struct iopf_sva_unbinder {
	struct iommu_sva *handle;
	struct completion started;
	struct completion done;
};

static int iopf_sva_unbinder_fn(void *data)
{
	struct iopf_sva_unbinder *u = data;

	complete(&u->started);
	iommu_sva_unbind_device(u->handle);
	complete(&u->done);
	return 0;
}

/*
 * Unbind with groups queued behind a held mmap_lock: it waits for them,
 * and they are handled (SUCCESS), not dropped, before it returns.
 */
static void iopf_sva_test_unbind_while_queued(struct kunit *test)
{
	struct iopf_sva *s = test->priv;
	struct iopf_sva_unbinder u = { };
	struct task_struct *task;
	unsigned int i, ok = 0;
	bool returned;

	init_completion(&u.started);
	init_completion(&u.done);
	u.handle = iopf_sva_bind(test, s->mm);

	mmap_write_lock(s->mm);
	for (i = 0; i < 8; i++) {
		if (iopf_mock_sva_report(u.handle, 10 + i, IOPF_SVA_W,
					 s->base + i * PAGE_SIZE, true))
			break;
	}
	task = kthread_run(iopf_sva_unbinder_fn, &u, "iopf-sva-unbind");
	if (!IS_ERR(task))
		wait_for_completion(&u.started);
	returned = !IS_ERR(task) && wait_for_completion_timeout(&u.done, HZ / 5);
	mmap_write_unlock(s->mm);
	/* Its completion, unless consumed above: it uses our stack. */
	if (!IS_ERR(task) && !returned)
		wait_for_completion(&u.done);

	KUNIT_ASSERT_EQ(test, i, 8U);
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	KUNIT_EXPECT_FALSE(test, returned);
	KUNIT_ASSERT_EQ(test, iopf_mock_count(s->mock), 8U);
	for (i = 0; i < 8; i++)
		ok += s->mock->resp[i].code == IOMMU_PAGE_RESP_SUCCESS;
	KUNIT_EXPECT_EQ(test, ok, 8U);
	KUNIT_EXPECT_TRUE(test, iopf_mock_page_present(s->mm,
						       s->base + 7 * PAGE_SIZE,
						       true));
}

/* ---------------------------------------------------------------------- */
/* Another process, and a process that exits                              */
/* ---------------------------------------------------------------------- */

/* Make the test thread use @mm instead of its current one. */
static void iopf_sva_switch_mm(struct mm_struct *mm)
{
	kthread_unuse_mm(current->mm);
	kthread_use_mm(mm);
}

/*
 * Another process: a fresh mm that the test thread uses from now on, the
 * fixture's kept aside.  NULL, the case failed and the thread back on the
 * fixture's mm, when there is none.
 */
static struct mm_struct *iopf_sva_other_process(struct kunit *test)
{
	struct iopf_sva *s = test->priv;
	struct mm_struct *mm;

	kthread_unuse_mm(s->mm);
	mm = iopf_mock_mm_create();
	if (!mm) {
		kthread_use_mm(s->mm);
		KUNIT_FAIL(test, "no second mm");
	}
	return mm;
}

/*
 * Bind, unbind, then bind another process: its faults land in its address
 * space only, also at an address the first one maps too.
 */
static void iopf_sva_test_rebind_other_process(struct kunit *test)
{
	struct iopf_sva *s = test->priv;
	unsigned long addr = s->base + 4 * PAGE_SIZE;
	struct iommu_sva *handle;
	struct mm_struct *mm1 = s->mm, *mm2;
	unsigned long got;

	handle = iopf_sva_bind(test, mm1);
	iopf_sva_fault(test, handle, 3, s->base);
	iommu_sva_unbind_device(handle);

	mm2 = iopf_sva_other_process(test);
	if (!mm2)
		return;
	got = vm_mmap(NULL, addr, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, 0);
	handle = IS_ERR_VALUE(got) ? ERR_PTR(-ENOMEM) :
		 iommu_sva_bind_device(s->mock->dev, mm2, NULL);
	if (!IS_ERR_OR_NULL(handle)) {
		KUNIT_EXPECT_EQ(test, iommu_sva_get_pasid(handle), mm2->pasid);
		iopf_sva_fault(test, handle, 4, addr);
		iommu_sva_unbind_device(handle);
	}
	KUNIT_EXPECT_EQ(test, got, addr);
	KUNIT_EXPECT_FALSE(test, IS_ERR_OR_NULL(handle));
	KUNIT_EXPECT_TRUE(test, iopf_mock_page_present(mm2, addr, true));
	KUNIT_EXPECT_FALSE(test, iopf_mock_page_present(mm1, addr, false));

	iopf_sva_switch_mm(mm1);
	mmput(mm2);
}

/*
 * The process exits while bound: the bond's ->release() stops the
 * device's requests, a group queued before the exit is still answered
 * exactly once, and the unbind that follows returns.
 */
static void iopf_sva_test_exit_while_bound(struct kunit *test)
{
	struct iopf_sva *s = test->priv;
	struct iopf_mock_bond *bond;
	struct iommu_sva *handle;
	unsigned long deadline;
	struct mm_struct *mm2;

	mm2 = iopf_sva_other_process(test);
	if (!mm2)
		return;
	handle = iommu_sva_bind_device(s->mock->dev, mm2, NULL);
	if (IS_ERR_OR_NULL(handle)) {
		iopf_sva_switch_mm(s->mm);
		mmput(mm2);
		KUNIT_FAIL(test, "bind: %ld", PTR_ERR(handle));
		return;
	}
	bond = container_of(handle, struct iopf_mock_bond, sva);
	KUNIT_EXPECT_EQ(test, iopf_mock_sva_report(handle, 5, IOPF_SVA_R,
						   0x10000, true), 0);

	/* The process exits: the last mm_users reference goes. */
	iopf_sva_switch_mm(s->mm);
	mmput(mm2);
	KUNIT_EXPECT_EQ(test, iopf_queue_flush_dev(s->mock->dev), 0);
	/* The worker's reference, if it had one, goes with mmput_async(). */
	deadline = jiffies + IOPF_SVA_TIMEOUT;
	while (!READ_ONCE(bond->released) && time_before(jiffies, deadline))
		usleep_range(10000, 20000);
	KUNIT_EXPECT_TRUE(test, READ_ONCE(bond->released));
	KUNIT_EXPECT_EQ(test, iopf_mock_sva_report(handle, 6, IOPF_SVA_R,
						   0x10000, true), -ESRCH);
	KUNIT_EXPECT_EQ(test, iopf_mock_count(s->mock), 1U);

	iommu_sva_unbind_device(handle);
	KUNIT_EXPECT_TRUE(test, list_empty(&s->mock->bonds));
}

/* ---------------------------------------------------------------------- */
/* The bind and unbind tracepoints                                        */
/* ---------------------------------------------------------------------- */

/**
 * struct iopf_sva_trace - what the bind and unbind probes saw
 * @dev: the device whose events count
 * @binds: iopf_bind events of @dev
 * @unbinds: iopf_unbind events of @dev
 * @pasid: the PASID of the last of them
 * @pid: the task that emitted the last iopf_bind, whose pid and comm the
 *       event records
 */
struct iopf_sva_trace {
	struct device *dev;
	unsigned int binds;
	unsigned int unbinds;
	u32 pasid;
	pid_t pid;
};

static void iopf_sva_probe_bind(void *data, struct device *dev, u32 pasid)
{
	struct iopf_sva_trace *t = data;

	if (dev != t->dev)
		return;
	t->binds++;
	t->pasid = pasid;
	t->pid = current->tgid;
}

static void iopf_sva_probe_unbind(void *data, struct device *dev, u32 pasid)
{
	struct iopf_sva_trace *t = data;

	if (dev != t->dev)
		return;
	t->unbinds++;
	t->pasid = pasid;
}

/* One iopf_bind per bind, one iopf_unbind per unbind, with the PASID. */
static void iopf_sva_test_trace(struct kunit *test)
{
	struct iopf_sva *s = test->priv;
	struct iopf_sva_trace t = { .dev = s->mock->dev };
	struct iommu_sva *handle;

	if (!IS_ENABLED(CONFIG_TRACEPOINTS))
		kunit_skip(test, "no CONFIG_TRACEPOINTS");
	KUNIT_ASSERT_EQ(test, register_trace_iopf_bind(iopf_sva_probe_bind,
						       &t), 0);
	if (register_trace_iopf_unbind(iopf_sva_probe_unbind, &t)) {
		unregister_trace_iopf_bind(iopf_sva_probe_bind, &t);
		tracepoint_synchronize_unregister();
		KUNIT_FAIL(test, "cannot attach to iopf_unbind");
		return;
	}

	handle = iommu_sva_bind_device(s->mock->dev, s->mm, NULL);
	KUNIT_EXPECT_EQ(test, t.binds, 1U);
	KUNIT_EXPECT_EQ(test, t.pasid, s->mm->pasid);
	KUNIT_EXPECT_EQ(test, t.pid, current->tgid);
	KUNIT_EXPECT_EQ(test, t.unbinds, 0U);
	if (!IS_ERR_OR_NULL(handle))
		iommu_sva_unbind_device(handle);
	KUNIT_EXPECT_EQ(test, t.unbinds, 1U);

	unregister_trace_iopf_unbind(iopf_sva_probe_unbind, &t);
	unregister_trace_iopf_bind(iopf_sva_probe_bind, &t);
	tracepoint_synchronize_unregister();
	KUNIT_EXPECT_FALSE(test, IS_ERR_OR_NULL(handle));
}

static struct kunit_case iopf_sva_test_cases[] = {
	KUNIT_CASE(iopf_sva_test_bind_fault_unbind),
	KUNIT_CASE(iopf_sva_test_bind_twice),
	KUNIT_CASE(iopf_sva_test_unbind_while_reporting),
	KUNIT_CASE(iopf_sva_test_unbind_while_queued),
	KUNIT_CASE(iopf_sva_test_rebind_other_process),
	KUNIT_CASE(iopf_sva_test_exit_while_bound),
	KUNIT_CASE(iopf_sva_test_trace),
	{}
};

static struct kunit_suite iopf_sva_test_suite = {
	.name = "iopf_sva",
	.init = iopf_sva_init,
	.exit = iopf_sva_exit,
	.test_cases = iopf_sva_test_cases,
};

kunit_test_suite(iopf_sva_test_suite);

MODULE_DESCRIPTION("KUnit tests of the I/O page fault handler through SVA bind and unbind");
MODULE_LICENSE("GPL");
