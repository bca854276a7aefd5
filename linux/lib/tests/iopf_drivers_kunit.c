// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "iopf_drivers": the I/O page fault handler called the way the
 * VT-d (drivers/iommu/intel/) and SMMUv3 (drivers/iommu/arm/arm-smmu-v3/)
 * drivers of 6.1 call it, in the same order and under the same locks.
 *
 *  - enable: add the device to the queue, then register the handler;
 *  - disable: unregister the handler, then remove the device (VT-d's
 *    intel_iommu_disable_sva() stops at an unregister error; SMMUv3's
 *    arm_smmu_master_sva_disable_iopf() ignores it and does both under
 *    its sva_lock, which the mmu_notifier ->release() of every bound mm
 *    also takes);
 *  - unbind: stop and drain the device, iopf_queue_flush_dev(), then let
 *    the PASID go;
 *  - reports come from one IRQ thread per IOMMU, answers from the queue's
 *    workqueue; a request the handler refuses is answered by the driver.
 *
 * The races run on different CPUs when the kernel has them (threads are
 * bound with kthread_bind()).  Some of what these cases guard against is a
 * use-after-free that only KASAN sees, or a lock inversion that only
 * lockdep sees: run them in make test-debug too.
 */

#include <kunit/test.h>
#include <linux/debug_locks.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/sched/mm.h>

#include "../../drivers/iommu/iommu-sva-lib.h"
#include "iopf_mock.h"

#define IOPF_DRV_TIMEOUT	(5 * HZ)
#define IOPF_DRV_FLAGS		(IOMMU_FAULT_PAGE_REQUEST_PASID_VALID | \
				 IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID)
#define IOPF_DRV_LAST		IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE
#define IOPF_DRV_PAGES		16
#define IOPF_DRV_RACE_LOOPS	2000

/**
 * struct iopf_drv_test - fixture
 * @mm: the test's own address space (used by the test thread)
 * @base: IOPF_DRV_PAGES of fresh RW anonymous memory in @mm
 * @queue: the IOMMU's fault queue
 * @drv: the modelled driver's locks
 * @mock: two devices on @queue, enabled as the drivers enable them
 * @wedged: a case saw a deadlock: leave its objects alone in .exit
 */
struct iopf_drv_test {
	struct mm_struct *mm;
	unsigned long base;
	struct iopf_queue *queue;
	struct iopf_mock_drv drv;
	struct iopf_mock *mock[2];
	bool wedged;
};

static int iopf_drv_init(struct kunit *test)
{
	struct iopf_drv_test *t;
	int i, ret;

	/* Not a KUnit allocation: a wedged case leaves it to its threads. */
	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	test->priv = t;
	iopf_mock_drv_init(&t->drv);

	t->mm = iopf_mock_mm_create();
	if (!t->mm)
		return -ENOMEM;
	t->base = iopf_mock_mmap(IOPF_DRV_PAGES * PAGE_SIZE,
				 PROT_READ | PROT_WRITE, 0);
	if (IS_ERR_VALUE(t->base))
		return -ENOMEM;

	t->queue = iopf_queue_alloc("kunit-drv");
	if (!t->queue)
		return -ENOMEM;
	for (i = 0; i < ARRAY_SIZE(t->mock); i++) {
		t->mock[i] = iopf_mock_create(NULL);
		if (!t->mock[i])
			return -ENOMEM;
		ret = iopf_mock_enable_iopf(&t->drv, t->mock[i], t->queue);
		if (ret)
			return ret;
	}
	return 0;
}

static void iopf_drv_exit(struct kunit *test)
{
	struct iopf_drv_test *t = test->priv;
	int i;

	if (!t || t->wedged)
		return;
	iopf_queue_free(t->queue);
	for (i = 0; i < ARRAY_SIZE(t->mock); i++)
		iopf_mock_destroy(t->mock[i]);
	iopf_mock_drv_unbind(&t->drv);
	iopf_mock_mm_destroy(t->mm);
	kfree(t);
}

static int iopf_drv_report(struct iopf_mock *mock, u32 pasid, u32 grpid,
			   u64 addr, bool last)
{
	return iopf_mock_report(mock, IOMMU_FAULT_PAGE_REQ,
				IOPF_DRV_FLAGS | (last ? IOPF_DRV_LAST : 0),
				pasid, grpid, IOMMU_FAULT_PERM_WRITE, addr);
}

/* ---------------------------------------------------------------------- */
/* A process that exits while its fault is handled, under the driver lock */
/* ---------------------------------------------------------------------- */

/**
 * struct iopf_drv_locked - a call made under the driver's lock
 * @drv: the driver
 * @queue: the queue
 * @mock: the device
 * @flush: flush @mock (VT-d's unbind) rather than disable it (SMMUv3)
 * @ret: what the call returned
 * @done: completed when the call returned and the lock was dropped
 */
struct iopf_drv_locked {
	struct iopf_mock_drv *drv;
	struct iopf_queue *queue;
	struct iopf_mock *mock;
	bool flush;
	int ret;
	struct completion done;
};

static int iopf_drv_locked_fn(void *data)
{
	struct iopf_drv_locked *l = data;

	if (l->flush) {
		mutex_lock(&l->drv->lock);
		l->ret = iopf_queue_flush_dev(l->mock->dev);
		mutex_unlock(&l->drv->lock);
	} else {
		l->ret = iopf_mock_disable_iopf(l->drv, l->mock, l->queue);
	}
	complete(&l->done);
	return 0;
}

/*
 * Device 0 faults on a second process, which exits while the worker
 * handles the fault: the worker holds the last mm_users reference.
 * Meanwhile, on another CPU, the driver disables device 0 (SMMUv3:
 * unregister and remove under sva_lock) or flushes it under its lock.
 * Removal and flush wait for the device's work; if the worker dropped the
 * mm synchronously, exit_mmap() would call the notifier's ->release(),
 * which takes the driver lock held by the waiter: a deadlock (SMMUv3,
 * arm_smmu_master_disable_sva() against arm_smmu_mm_release()).
 */
static void iopf_drv_mm_exit_under_lock(struct kunit *test, bool flush)
{
	struct iopf_drv_test *t = test->priv;
	struct iopf_drv_locked *l;
	struct task_struct *task;
	struct mm_struct *mm;
	unsigned long deadline;
	bool answered, returned;
	u32 pasid;

	/* Not on the stack: a deadlocked thread keeps using it. */
	l = kzalloc(sizeof(*l), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, l);
	l->drv = &t->drv;
	l->queue = t->queue;
	l->mock = t->mock[0];
	l->flush = flush;
	init_completion(&l->done);
	mm = mm_alloc();
	if (!mm || iommu_sva_alloc_pasid(mm, 1, (1U << 20) - 1)) {
		if (mm)
			mmput(mm);
		kfree(l);
		KUNIT_FAIL(test, "no mm or no PASID");
		return;
	}
	pasid = mm->pasid;
	if (iopf_mock_drv_bind(&t->drv, mm)) {
		mmput(mm);
		kfree(l);
		KUNIT_FAIL(test, "no notifier");
		return;
	}

	/* The worker takes its mm reference, then waits for mmap_lock. */
	mmap_write_lock(mm);
	if (iopf_drv_report(t->mock[0], pasid, 1, 0x100000, true)) {
		mmap_write_unlock(mm);
		mmput(mm);
		kfree(l);
		KUNIT_FAIL(test, "report refused");
		return;
	}
	deadline = jiffies + IOPF_DRV_TIMEOUT;
	while (atomic_read(&mm->mm_users) < 2 && time_before(jiffies, deadline))
		usleep_range(1000, 2000);
	if (atomic_read(&mm->mm_users) < 2) {
		/* Ours would be the last: exit_mmap() takes mmap_lock. */
		mmap_write_unlock(mm);
		mmput(mm);
		kfree(l);
		KUNIT_FAIL(test, "the worker did not pin the mm");
		return;
	}
	mmput(mm);		/* the process exits: the worker's is the last */

	task = iopf_mock_run_on(iopf_mock_other_cpu(), iopf_drv_locked_fn, l,
				"iopf-drv-locked");
	/* Let it take the driver lock and wait for the worker. */
	deadline = jiffies + IOPF_DRV_TIMEOUT;
	while (!IS_ERR(task) && !mutex_is_locked(&t->drv.lock) &&
	       time_before(jiffies, deadline))
		usleep_range(1000, 2000);
	KUNIT_EXPECT_TRUE(test, mutex_is_locked(&t->drv.lock));
	msleep(50);
	mmap_write_unlock(mm);
	if (IS_ERR(task)) {
		kfree(l);
		KUNIT_FAIL(test, "no thread");
		return;
	}

	returned = wait_for_completion_timeout(&l->done, IOPF_DRV_TIMEOUT);
	answered = iopf_mock_wait(t->mock[0], 1, IOPF_DRV_TIMEOUT) == 1;
	if (!returned) {
		/* Deadlocked: the threads stay stuck, leave everything be. */
		t->wedged = true;
		KUNIT_FAIL(test, "%s under the driver lock did not return",
			   flush ? "flush" : "disable");
		return;
	}
	KUNIT_EXPECT_EQ(test, l->ret, 0);
	kfree(l);
	KUNIT_EXPECT_TRUE(test, answered);
	KUNIT_EXPECT_EQ(test, t->mock[0]->resp[0].grpid, 1U);
	KUNIT_EXPECT_EQ(test, t->mock[0]->resp[0].pasid, pasid);
	KUNIT_EXPECT_EQ(test, t->mock[0]->resp[0].code, IOMMU_PAGE_RESP_INVALID);
	/* The mm did exit, its ->release() ran under the driver lock. */
	KUNIT_EXPECT_TRUE(test, wait_event_timeout(t->drv.wq,
						   READ_ONCE(t->drv.released),
						   IOPF_DRV_TIMEOUT));
	if (!flush)
		KUNIT_EXPECT_EQ(test, iopf_queue_flush_dev(t->mock[0]->dev),
				-ENODEV);
}

static void iopf_drv_test_smmu_disable_mm_exit(struct kunit *test)
{
	iopf_drv_mm_exit_under_lock(test, false);
}

static void iopf_drv_test_flush_under_driver_lock(struct kunit *test)
{
	iopf_drv_mm_exit_under_lock(test, true);
}

/* ---------------------------------------------------------------------- */
/* Answer against unregister (iommu.c)                                    */
/* ---------------------------------------------------------------------- */

/**
 * struct iopf_drv_unreg - unregisters a handler as soon as it may
 * @mock: the device
 * @go: completed for each round
 * @stop: end the thread
 * @ret: the last return of iommu_unregister_device_fault_handler()
 * @done: completed when a round's unregister succeeded
 */
struct iopf_drv_unreg {
	struct iopf_mock *mock;
	struct completion go;
	bool stop;
	int ret;
	struct completion done;
};

static int iopf_drv_unreg_fn(void *data)
{
	struct iopf_drv_unreg *u = data;

	for (;;) {
		wait_for_completion(&u->go);
		if (READ_ONCE(u->stop))
			break;
		/* Spin: the window is the end of iommu_page_response(). */
		do {
			u->ret = iommu_unregister_device_fault_handler(u->mock->dev);
			cond_resched();
		} while (u->ret == -EBUSY && !READ_ONCE(u->stop));
		complete(&u->done);
	}
	return 0;
}

/*
 * The answer to the last pending request races with unregistering the
 * handler (both drivers unregister when they disable a device, while the
 * worker may still answer).  Unregistering must not free the fault
 * parameters while iommu_page_response() still uses them.  The answer
 * runs in the test thread so that a KASAN report fails the case.
 */
static void iopf_drv_test_unregister_vs_response(struct kunit *test)
{
	struct iopf_mock *mock = iopf_mock_create(iopf_mock_keep);
	struct iopf_drv_unreg u = { .mock = mock };
	struct task_struct *task;
	int i, bad_resp = 0, bad_unreg = 0;

	KUNIT_ASSERT_NOT_NULL(test, mock);
	init_completion(&u.go);
	init_completion(&u.done);
	task = iopf_mock_run_on(iopf_mock_other_cpu(), iopf_drv_unreg_fn, &u,
				"iopf-drv-unreg");
	if (IS_ERR(task)) {
		iopf_mock_destroy(mock);
		KUNIT_FAIL(test, "no thread");
		return;
	}
	get_task_struct(task);	/* it may exit before kthread_stop() */

	for (i = 0; i < IOPF_DRV_RACE_LOOPS; i++) {
		if (i && iommu_register_device_fault_handler(mock->dev,
							     iopf_mock_keep,
							     mock->dev))
			break;
		if (iopf_drv_report(mock, 5, i & 0x1ff, 0, true))
			break;
		complete(&u.go);
		udelay(i & 7);
		if (iopf_mock_respond(mock, i & 0x1ff, 5, true))
			bad_resp++;
		if (!wait_for_completion_timeout(&u.done, IOPF_DRV_TIMEOUT) ||
		    u.ret) {
			bad_unreg++;
			break;
		}
	}
	WRITE_ONCE(u.stop, true);
	complete(&u.go);
	kthread_stop(task);
	put_task_struct(task);

	KUNIT_EXPECT_EQ(test, i, IOPF_DRV_RACE_LOOPS);
	KUNIT_EXPECT_EQ(test, bad_resp, 0);
	KUNIT_EXPECT_EQ(test, bad_unreg, 0);
	KUNIT_EXPECT_EQ(test, iopf_mock_count(mock), (unsigned int)i);
	iopf_mock_destroy(mock);
}

/* ---------------------------------------------------------------------- */
/* The context of ->page_response()                                       */
/* ---------------------------------------------------------------------- */

/**
 * struct iopf_drv_ctx - what ->page_response() saw
 * @calls: answers seen
 * @in_worker: every one came from a workqueue worker
 * @dev_lock: dev->iommu->lock was held (by us, under lockdep)
 * @fparam_lock: iommu.c's fault_param->lock was held
 */
struct iopf_drv_ctx {
	unsigned int calls;
	bool in_worker;
	bool dev_lock;
	bool fparam_lock;
};

static bool iopf_drv_held(struct mutex *lock)
{
	if (IS_ENABLED(CONFIG_LOCKDEP) && debug_locks)
		return lockdep_is_held(lock);
	return mutex_is_locked(lock);
}

static void iopf_drv_ctx_hook(struct iopf_mock *mock,
			      const struct iommu_page_response *msg)
{
	struct iopf_drv_ctx *c = mock->priv;
	struct iommu_fault_param *fparam;

	fparam = rcu_dereference_protected(mock->iommu.fault_param, true);
	c->calls++;
	c->in_worker &= !!(current->flags & PF_WQ_WORKER);
	c->dev_lock |= iopf_drv_held(&mock->iommu.lock);
	c->fparam_lock &= fparam && iopf_drv_held(&fparam->lock);
}

/*
 * The lock legend: the handler answers from its worker, with none of its
 * locks and not dev->iommu->lock held, under iommu.c's fault_param->lock
 * (which the report path takes inside dev->iommu->lock: a driver must not
 * report from ->page_response()).
 */
static void iopf_drv_test_response_context(struct kunit *test)
{
	struct iopf_drv_test *t = test->priv;
	struct iopf_drv_ctx c = { .in_worker = true, .fparam_lock = true };
	unsigned int i;
	int ret;

	t->mock[0]->priv = &c;
	t->mock[0]->hook = iopf_drv_ctx_hook;
	/*
	 * One group at a time, each reported with the mm's mmap_lock held
	 * for writing: its worker waits in mmap_read_lock() until the
	 * report has returned and dropped dev->iommu->lock (which the hook
	 * would see without lockdep), and no two workers write @c at once.
	 */
	for (i = 0; i < 8; i++) {
		mmap_write_lock(t->mm);
		ret = iopf_drv_report(t->mock[0], t->mm->pasid, i, t->base,
				      true);
		mmap_write_unlock(t->mm);
		KUNIT_ASSERT_EQ(test, ret, 0);
		KUNIT_ASSERT_EQ(test, iopf_mock_wait(t->mock[0], i + 1,
						     IOPF_DRV_TIMEOUT), i + 1);
	}
	KUNIT_ASSERT_EQ(test, iopf_queue_flush_dev(t->mock[0]->dev), 0);
	t->mock[0]->hook = NULL;
	KUNIT_EXPECT_EQ(test, c.calls, 8U);
	KUNIT_EXPECT_TRUE(test, c.in_worker);
	KUNIT_EXPECT_TRUE(test, c.fparam_lock);
	KUNIT_EXPECT_FALSE(test, c.dev_lock);
}

/* ---------------------------------------------------------------------- */
/* The drivers' whole sequences                                           */
/* ---------------------------------------------------------------------- */

/**
 * struct iopf_drv_irq - an IOMMU's IRQ thread draining its page requests
 * @mock: the device whose requests it reports
 * @pasid: their PASID
 * @base: the pages they fault, @pages of them
 * @pages: number of pages
 * @groups: groups to report
 * @stop: stop early (the device was stopped)
 * @accepted: last requests the handler accepted
 * @refused: last requests refused, answered by the driver itself
 * @done: completed when the thread is done
 */
struct iopf_drv_irq {
	struct iopf_mock *mock;
	u32 pasid;
	unsigned long base;
	unsigned int pages;
	unsigned int groups;
	bool stop;
	unsigned int accepted;
	unsigned int refused;
	struct completion done;
};

static int iopf_drv_irq_fn(void *data)
{
	struct iopf_drv_irq *q = data;
	unsigned long addr;
	unsigned int i;
	u32 grpid;

	for (i = 0; i < q->groups && !READ_ONCE(q->stop); i++) {
		grpid = i & 0x1ff;
		addr = q->base + (i % q->pages) * PAGE_SIZE;
		/* Two requests a group, as a device asking for two pages. */
		iopf_drv_report(q->mock, q->pasid, grpid, addr, false);
		if (iopf_drv_report(q->mock, q->pasid, grpid,
				    q->base + ((i + 1) % q->pages) * PAGE_SIZE,
				    true))
			q->refused++;	/* as handle_bad_prq_event() */
		else
			WRITE_ONCE(q->accepted, q->accepted + 1);
		if (!(i & 15))
			cond_resched();
	}
	complete(&q->done);
	return 0;
}

/*
 * Start the IRQ thread on another CPU: @groups groups of device 0 on the
 * test's PASID and pages.  Return 0 or the error of kthread_create().
 */
static int iopf_drv_irq_start(struct iopf_drv_test *t, struct iopf_drv_irq *q,
			      unsigned int groups)
{
	struct task_struct *task;

	*q = (struct iopf_drv_irq) {
		.mock = t->mock[0], .pasid = t->mm->pasid, .base = t->base,
		.pages = IOPF_DRV_PAGES, .groups = groups,
	};
	init_completion(&q->done);
	task = iopf_mock_run_on(iopf_mock_other_cpu(), iopf_drv_irq_fn, q,
				"iopf-drv-irq");
	return PTR_ERR_OR_ZERO(task);
}

/*
 * VT-d: the IRQ thread reports on one CPU while the worker answers on the
 * other; unbind waits for the IRQ thread (drain), flushes, then drops the
 * PASID; disable unregisters and removes.  Every accepted group is
 * answered once, all before the flush returned; after the disable, new
 * requests are refused (the driver answers them) and nothing more is
 * answered by the handler.
 */
static void iopf_drv_test_vtd_unbind(struct kunit *test)
{
	struct iopf_drv_test *t = test->priv;
	struct iopf_drv_irq q;
	unsigned int n;

	KUNIT_ASSERT_EQ(test, iopf_drv_irq_start(t, &q, 1000), 0);

	/* intel_svm_drain_prq(): wait for the IRQ thread, then flush. */
	if (!wait_for_completion_timeout(&q.done, 10 * IOPF_DRV_TIMEOUT)) {
		WRITE_ONCE(q.stop, true);
		wait_for_completion(&q.done);
		KUNIT_FAIL(test, "the IRQ thread did not finish");
		return;
	}
	KUNIT_ASSERT_EQ(test, iopf_queue_flush_dev(t->mock[0]->dev), 0);
	n = iopf_mock_count(t->mock[0]);
	KUNIT_EXPECT_EQ(test, q.refused, 0U);
	KUNIT_EXPECT_EQ(test, n, q.accepted);
	KUNIT_EXPECT_EQ(test, t->mock[0]->resp[0].code,
			IOMMU_PAGE_RESP_SUCCESS);

	/* intel_iommu_disable_sva(): unregister, then remove. */
	KUNIT_EXPECT_EQ(test, iommu_unregister_device_fault_handler(t->mock[0]->dev),
			0);
	KUNIT_EXPECT_EQ(test, iopf_queue_remove_device(t->queue,
						       t->mock[0]->dev), 0);
	/* Late requests are refused: the driver answers them. */
	KUNIT_EXPECT_NE(test, iopf_drv_report(t->mock[0], q.pasid, 3, t->base,
					      true), 0);
	msleep(20);
	KUNIT_EXPECT_EQ(test, iopf_mock_count(t->mock[0]), n);
}

/*
 * SMMUv3: the device is disabled (unregister, remove, under sva_lock) on
 * one CPU while its IRQ thread still reports on the other.  Each last
 * request is either accepted and answered exactly once by the handler,
 * by the time remove returned, or refused and answered by the driver.
 */
static void iopf_drv_test_smmu_disable_while_reporting(struct kunit *test)
{
	struct iopf_drv_test *t = test->priv;
	struct iopf_drv_irq q;
	unsigned long deadline;
	unsigned int n;

	KUNIT_ASSERT_EQ(test, iopf_drv_irq_start(t, &q, 100000), 0);
	/* Disable in the middle of the flow, not before it started. */
	deadline = jiffies + IOPF_DRV_TIMEOUT;
	while (READ_ONCE(q.accepted) < 100 && !completion_done(&q.done) &&
	       time_before(jiffies, deadline))
		usleep_range(1000, 2000);

	KUNIT_EXPECT_EQ(test, iopf_mock_disable_iopf(&t->drv, t->mock[0],
						     t->queue), 0);
	n = iopf_mock_count(t->mock[0]);
	WRITE_ONCE(q.stop, true);
	wait_for_completion(&q.done);
	/* Nothing is answered after remove returned... */
	msleep(20);
	KUNIT_EXPECT_EQ(test, iopf_mock_count(t->mock[0]), n);
	/* ...and everything accepted was answered once. */
	KUNIT_EXPECT_EQ(test, n, q.accepted);
	KUNIT_EXPECT_GT(test, q.accepted, 0U);
	kunit_info(test, "accepted %u, refused %u (answered by the driver)\n",
		   q.accepted, q.refused);
	/* The other device of the queue still works. */
	KUNIT_EXPECT_EQ(test, iopf_drv_report(t->mock[1], q.pasid, 9, t->base,
					      true), 0);
	KUNIT_EXPECT_EQ(test, iopf_queue_flush_dev(t->mock[1]->dev), 0);
	KUNIT_EXPECT_EQ(test, iopf_mock_count(t->mock[1]), 1U);
}

static struct kunit_case iopf_drv_test_cases[] = {
	KUNIT_CASE(iopf_drv_test_vtd_unbind),
	KUNIT_CASE(iopf_drv_test_smmu_disable_while_reporting),
	KUNIT_CASE(iopf_drv_test_response_context),
	KUNIT_CASE(iopf_drv_test_unregister_vs_response),
	KUNIT_CASE(iopf_drv_test_smmu_disable_mm_exit),
	KUNIT_CASE(iopf_drv_test_flush_under_driver_lock),
	{}
};

static struct kunit_suite iopf_drv_test_suite = {
	.name = "iopf_drivers",
	.init = iopf_drv_init,
	.exit = iopf_drv_exit,
	.test_cases = iopf_drv_test_cases,
};

kunit_test_suite(iopf_drv_test_suite);

MODULE_DESCRIPTION("KUnit tests of the I/O page fault handler in the IOMMU drivers' sequences");
MODULE_LICENSE("GPL");
