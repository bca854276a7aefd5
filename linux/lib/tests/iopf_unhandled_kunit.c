// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite of the I/O page fault handler's unhandled-fault notifier
 * (iopf_queue_set_unhandled()): a device driver is told, after the
 * answer, which group was answered INVALID, where and why.
 *
 * Each case sets a notifier on the mock device, reports groups that fail
 * for one reason, and checks what the notifier received against the
 * answers the mock IOMMU got, and the context it was called in.
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/file.h>
#include <linux/kthread.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/sched.h>
#include <linux/shmem_fs.h>

#include "../../drivers/iommu/iommu-sva-lib.h"
#include "iopf_mock.h"

#define IOPF_UNH_TIMEOUT	(5 * HZ)
#define IOPF_UNH_MAX		16
#define IOPF_UNH_PASID		(IOMMU_FAULT_PAGE_REQUEST_PASID_VALID | \
				 IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID)
#define IOPF_UNH_LAST		IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE
#define IOPF_UNH_R		IOMMU_FAULT_PERM_READ
#define IOPF_UNH_W		IOMMU_FAULT_PERM_WRITE

/**
 * struct iopf_unh - the fixture and what the notifier saw
 * @nb: the notifier set on @mock
 * @mm: the address space, bound to @pasid
 * @pasid: its PASID
 * @queue: the queue
 * @mock: the device
 * @lock: protects @seen and @nr
 * @seen: the notifications, in order (the first IOPF_UNH_MAX)
 * @nr: notifications received
 * @answers: for each, the answers the mock had received by then
 * @bad_context: a notification came from elsewhere than a worker, for
 *               another device, or with dev->iommu->lock or mmap_lock held
 * @block: when set, the notifier waits for @unblock (and says so in
 *         @blocked)
 * @blocked: completed when a notifier call is waiting for @unblock
 * @unblock: completed to let it return
 * @notified: woken on every notification
 */
struct iopf_unh {
	struct iopf_unhandled_notifier nb;
	struct mm_struct *mm;
	u32 pasid;
	struct iopf_queue *queue;
	struct iopf_mock *mock;
	spinlock_t lock;	/* protects seen and nr */
	struct iopf_unhandled seen[IOPF_UNH_MAX];
	unsigned int answers[IOPF_UNH_MAX];
	unsigned int nr;
	bool bad_context;
	bool block;
	struct completion blocked;
	struct completion unblock;
	wait_queue_head_t notified;
};

/*
 * Neither dev->iommu->lock nor the mm's mmap_lock is held: lockdep says
 * so, and the notifier takes both, as a device driver may (it would
 * deadlock on a lock its own thread holds).
 */
static bool iopf_unh_locks_free(struct iopf_unh *u)
{
	bool held = false;

	if (IS_ENABLED(CONFIG_LOCKDEP) && debug_locks)
		held = lockdep_is_held(&u->mock->iommu.lock) ||
		       lockdep_is_held(&u->mm->mmap_lock);
	mutex_lock(&u->mock->iommu.lock);
	mutex_unlock(&u->mock->iommu.lock);
	mmap_write_lock(u->mm);
	mmap_write_unlock(u->mm);
	return !held;
}

static void iopf_unh_notify(struct iopf_unhandled_notifier *nb,
			    struct device *dev,
			    const struct iopf_unhandled *info)
{
	struct iopf_unh *u = container_of(nb, struct iopf_unh, nb);
	unsigned int answers = iopf_mock_count(u->mock);
	bool bad;

	bad = !(current->flags & PF_WQ_WORKER) || dev != u->mock->dev ||
	      !iopf_unh_locks_free(u);

	spin_lock(&u->lock);
	if (u->nr < IOPF_UNH_MAX) {
		u->seen[u->nr] = *info;
		u->answers[u->nr] = answers;
	}
	u->nr++;
	u->bad_context |= bad;
	spin_unlock(&u->lock);
	wake_up_all(&u->notified);

	if (READ_ONCE(u->block)) {
		complete(&u->blocked);
		wait_for_completion(&u->unblock);
	}
}

static unsigned int iopf_unh_count(struct iopf_unh *u)
{
	unsigned int nr;

	spin_lock(&u->lock);
	nr = u->nr;
	spin_unlock(&u->lock);
	return nr;
}

static int iopf_unh_init(struct kunit *test)
{
	struct iopf_unh *u;

	u = kunit_kzalloc(test, sizeof(*u), GFP_KERNEL);
	if (!u)
		return -ENOMEM;
	test->priv = u;
	u->nb.notify = iopf_unh_notify;
	spin_lock_init(&u->lock);
	init_completion(&u->blocked);
	init_completion(&u->unblock);
	init_waitqueue_head(&u->notified);

	u->mm = iopf_mock_mm_create();
	if (!u->mm)
		return -ENOMEM;
	u->pasid = u->mm->pasid;
	u->queue = iopf_queue_alloc("kunit-unhandled");
	if (!u->queue)
		return -ENOMEM;
	u->mock = iopf_mock_create(iommu_queue_iopf);
	if (!u->mock)
		return -ENOMEM;
	if (iopf_queue_add_device(u->queue, u->mock->dev))
		return -ENODEV;
	return iopf_queue_set_unhandled(u->mock->dev, &u->nb);
}

static void iopf_unh_exit(struct kunit *test)
{
	struct iopf_unh *u = test->priv;

	if (!u)
		return;
	/* A case that failed while a notifier call was blocked. */
	complete_all(&u->unblock);
	iopf_queue_free(u->queue);
	iopf_mock_destroy(u->mock);
	iopf_mock_mm_destroy(u->mm);
}

static int iopf_unh_report(struct iopf_unh *u, u32 flags, u32 pasid,
			   u32 grpid, u32 perm, u64 addr)
{
	return iopf_mock_report(u->mock, IOMMU_FAULT_PAGE_REQ, flags, pasid,
				grpid, perm, addr);
}

/* Flush; check the mock got @answers answers and the notifier @nr calls. */
static void iopf_unh_expect(struct kunit *test, unsigned int answers,
			    unsigned int nr)
{
	struct iopf_unh *u = test->priv;

	KUNIT_ASSERT_EQ(test, iopf_queue_flush_dev(u->mock->dev), 0);
	KUNIT_EXPECT_EQ(test, iopf_mock_count(u->mock), answers);
	KUNIT_EXPECT_EQ(test, iopf_unh_count(u), nr);
	KUNIT_EXPECT_FALSE(test, u->bad_context);
}

/*
 * Check notification @i: the group, the failing request and the reason,
 * and that the mock had been answered INVALID for the group by then.
 */
static void iopf_unh_expect_seen(struct kunit *test, unsigned int i,
				 u32 pasid, u32 grpid, u64 addr, u32 perm,
				 enum iopf_reason reason, int err)
{
	struct iopf_unh *u = test->priv;
	const struct iopf_unhandled *s = &u->seen[i];
	unsigned int j;
	bool answered = false;

	KUNIT_ASSERT_LT(test, i, iopf_unh_count(u));
	KUNIT_EXPECT_EQ(test, s->pasid, pasid);
	KUNIT_EXPECT_EQ(test, s->grpid, grpid);
	KUNIT_EXPECT_EQ(test, s->addr, addr);
	KUNIT_EXPECT_EQ(test, s->perm, perm);
	KUNIT_EXPECT_EQ(test, s->reason, reason);
	KUNIT_EXPECT_EQ(test, s->err, err);
	/* After the answer: the answer is among those received by then. */
	for (j = 0; j < u->answers[i] && j < IOPF_MOCK_MAX_RESP; j++)
		answered |= u->mock->resp[j].grpid == grpid &&
			    u->mock->resp[j].code == IOMMU_PAGE_RESP_INVALID;
	KUNIT_EXPECT_TRUE(test, answered);
}

/* An anonymous mapping of @pages pages; fails the case if it cannot. */
static unsigned long iopf_unh_mmap(struct kunit *test, unsigned int pages,
				   unsigned long prot)
{
	unsigned long addr = iopf_mock_mmap(pages * PAGE_SIZE, prot, 0);

	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(addr));
	return addr;
}

/* ---------------------------------------------------------------------- */
/* One case per reason                                                    */
/* ---------------------------------------------------------------------- */

/* A group whose last request has no PASID: the first request's address. */
static void iopf_unh_test_no_pasid(struct kunit *test)
{
	struct iopf_unh *u = test->priv;
	unsigned long addr = iopf_unh_mmap(test, 2, PROT_READ | PROT_WRITE);

	KUNIT_ASSERT_EQ(test, iopf_unh_report(u, 0, 0, 3, IOPF_UNH_W,
					      addr + PAGE_SIZE), 0);
	KUNIT_ASSERT_EQ(test, iopf_unh_report(u, IOPF_UNH_LAST, 0, 3,
					      IOPF_UNH_R, addr), 0);
	iopf_unh_expect(test, 1, 1);
	iopf_unh_expect_seen(test, 0, 0, 3, addr + PAGE_SIZE, IOPF_UNH_W,
			     IOPF_REASON_PASID, -EINVAL);
}

/* A partial request of another PASID in the group: that request. */
static void iopf_unh_test_other_pasid(struct kunit *test)
{
	struct iopf_unh *u = test->priv;
	unsigned long addr = iopf_unh_mmap(test, 2, PROT_READ | PROT_WRITE);

	KUNIT_ASSERT_EQ(test, iopf_unh_report(u, IOPF_UNH_PASID, u->pasid, 4,
					      IOPF_UNH_R, addr), 0);
	KUNIT_ASSERT_EQ(test, iopf_unh_report(u, IOPF_UNH_PASID, u->pasid + 7,
					      4, IOPF_UNH_W,
					      addr + PAGE_SIZE), 0);
	KUNIT_ASSERT_EQ(test, iopf_unh_report(u, IOPF_UNH_PASID | IOPF_UNH_LAST,
					      u->pasid, 4, IOPF_UNH_R, addr),
			0);
	iopf_unh_expect(test, 1, 1);
	iopf_unh_expect_seen(test, 0, u->pasid, 4, addr + PAGE_SIZE,
			     IOPF_UNH_W, IOPF_REASON_PASID, -EINVAL);
}

/* A PASID bound to no address space. */
static void iopf_unh_test_no_mm(struct kunit *test)
{
	struct iopf_unh *u = test->priv;
	u32 pasid = u->pasid + 1000;	/* bound to no mm */

	KUNIT_ASSERT_EQ(test, iopf_unh_report(u, IOPF_UNH_PASID | IOPF_UNH_LAST,
					      pasid, 5, IOPF_UNH_R, 0x5000),
			0);
	iopf_unh_expect(test, 1, 1);
	iopf_unh_expect_seen(test, 0, pasid, 5, 0x5000, IOPF_UNH_R,
			     IOPF_REASON_NO_MM, -ESRCH);
}

/*
 * An address no VMA maps (a hole just unmapped), after a page that was
 * handled: the notification names the failing request, not the first.
 */
static void iopf_unh_test_no_vma(struct kunit *test)
{
	struct iopf_unh *u = test->priv;
	unsigned long addr = iopf_unh_mmap(test, 2, PROT_READ | PROT_WRITE);

	KUNIT_ASSERT_EQ(test, vm_munmap(addr + PAGE_SIZE, PAGE_SIZE), 0);
	KUNIT_ASSERT_EQ(test, iopf_unh_report(u, IOPF_UNH_PASID, u->pasid, 6,
					      IOPF_UNH_W, addr), 0);
	KUNIT_ASSERT_EQ(test, iopf_unh_report(u, IOPF_UNH_PASID | IOPF_UNH_LAST,
					      u->pasid, 6, IOPF_UNH_R,
					      addr + PAGE_SIZE + 8), 0);
	iopf_unh_expect(test, 1, 1);
	iopf_unh_expect_seen(test, 0, u->pasid, 6, addr + PAGE_SIZE + 8,
			     IOPF_UNH_R, IOPF_REASON_NO_VMA, -EFAULT);
	/* The page before the hole was faulted in. */
	KUNIT_EXPECT_TRUE(test, iopf_mock_page_present(u->mm, addr, true));
}

/*
 * A write to a read-only mapping; the permissions are the union of the
 * group's consecutive requests for the page.
 */
static void iopf_unh_test_perm(struct kunit *test)
{
	struct iopf_unh *u = test->priv;
	unsigned long addr = iopf_unh_mmap(test, 1, PROT_READ);

	KUNIT_ASSERT_EQ(test, iopf_unh_report(u, IOPF_UNH_PASID, u->pasid, 7,
					      IOPF_UNH_R, addr), 0);
	KUNIT_ASSERT_EQ(test, iopf_unh_report(u, IOPF_UNH_PASID | IOPF_UNH_LAST,
					      u->pasid, 7, IOPF_UNH_W,
					      addr + 64), 0);
	iopf_unh_expect(test, 1, 1);
	iopf_unh_expect_seen(test, 0, u->pasid, 7, addr,
			     IOPF_UNH_R | IOPF_UNH_W, IOPF_REASON_PERM,
			     -EACCES);
}

/*
 * handle_mm_fault() fails: a shared mapping of a one-page shmem file,
 * faulted beyond its end (SIGBUS, -EFAULT).
 */
static void iopf_unh_test_fault(struct kunit *test)
{
	struct iopf_unh *u = test->priv;
	unsigned long addr;
	struct file *file;

	file = shmem_kernel_file_setup("iopf-unhandled", PAGE_SIZE, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(file));
	addr = vm_mmap(file, 0, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED, 0);
	fput(file);
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(addr));

	KUNIT_ASSERT_EQ(test, iopf_unh_report(u, IOPF_UNH_PASID, u->pasid, 8,
					      IOPF_UNH_W, addr), 0);
	KUNIT_ASSERT_EQ(test, iopf_unh_report(u, IOPF_UNH_PASID | IOPF_UNH_LAST,
					      u->pasid, 8, IOPF_UNH_W,
					      addr + PAGE_SIZE), 0);
	iopf_unh_expect(test, 1, 1);
	iopf_unh_expect_seen(test, 0, u->pasid, 8, addr + PAGE_SIZE,
			     IOPF_UNH_W, IOPF_REASON_FAULT, -EFAULT);
	KUNIT_EXPECT_TRUE(test, iopf_mock_page_present(u->mm, addr, true));
}

/* ---------------------------------------------------------------------- */
/* Which groups, when, and the notifier's life                            */
/* ---------------------------------------------------------------------- */

/*
 * Groups that succeed are not notified; of a mix, exactly the groups
 * answered INVALID are, each once.
 */
static void iopf_unh_test_only_invalid(struct kunit *test)
{
	struct iopf_unh *u = test->priv;
	unsigned long ok = iopf_unh_mmap(test, 4, PROT_READ | PROT_WRITE);
	unsigned long ro = iopf_unh_mmap(test, 1, PROT_READ);
	DECLARE_BITMAP(seen, 8) = { 0 };
	unsigned int i, invalid = 0;

	for (i = 0; i < 8; i++)
		KUNIT_ASSERT_EQ(test,
				iopf_unh_report(u, IOPF_UNH_PASID | IOPF_UNH_LAST,
						u->pasid, 20 + i, IOPF_UNH_W,
						i & 1 ? ro : ok + (i / 2) *
						PAGE_SIZE), 0);
	iopf_unh_expect(test, 8, 4);
	for (i = 0; i < 8; i++)
		invalid += u->mock->resp[i].code == IOMMU_PAGE_RESP_INVALID;
	KUNIT_EXPECT_EQ(test, invalid, 4U);

	/* Each odd group once, in any order. */
	for (i = 0; i < 4; i++) {
		KUNIT_EXPECT_EQ(test, u->seen[i].reason, IOPF_REASON_PERM);
		KUNIT_EXPECT_EQ(test, u->seen[i].addr, (u64)ro);
		if (u->seen[i].grpid >= 20 && u->seen[i].grpid < 28)
			__set_bit(u->seen[i].grpid - 20, seen);
	}
	for (i = 0; i < 8; i++)
		KUNIT_EXPECT_EQ(test, test_bit(i, seen), !!(i & 1));
}

/* Cleared, the notifier is not called; set again, it is. */
static void iopf_unh_test_clear(struct kunit *test)
{
	struct iopf_unh *u = test->priv;
	u32 flags = IOPF_UNH_PASID | IOPF_UNH_LAST;

	KUNIT_ASSERT_EQ(test, iopf_queue_set_unhandled(u->mock->dev, NULL), 0);
	KUNIT_ASSERT_EQ(test, iopf_unh_report(u, flags, u->pasid + 1000, 9,
					      IOPF_UNH_R, 0x9000), 0);
	iopf_unh_expect(test, 1, 0);

	KUNIT_ASSERT_EQ(test, iopf_queue_set_unhandled(u->mock->dev, &u->nb),
			0);
	KUNIT_ASSERT_EQ(test, iopf_unh_report(u, flags, u->pasid + 1000, 10,
					      IOPF_UNH_R, 0xa000), 0);
	iopf_unh_expect(test, 2, 1);
	iopf_unh_expect_seen(test, 0, u->pasid + 1000, 10, 0xa000, IOPF_UNH_R,
			     IOPF_REASON_NO_MM, -ESRCH);
}

struct iopf_unh_clearer {
	struct iopf_unh *u;
	int ret;
	struct completion started;
	struct completion done;
};

static int iopf_unh_clearer_fn(void *data)
{
	struct iopf_unh_clearer *c = data;

	complete(&c->started);
	c->ret = iopf_queue_set_unhandled(c->u->mock->dev, NULL);
	complete(&c->done);
	return 0;
}

/* Clearing the notifier returns once the call in progress has returned. */
static void iopf_unh_test_clear_waits(struct kunit *test)
{
	struct iopf_unh *u = test->priv;
	struct iopf_unh_clearer c = { .u = u, .ret = -1 };
	struct task_struct *task;
	bool waited;

	init_completion(&c.started);
	init_completion(&c.done);
	WRITE_ONCE(u->block, true);
	KUNIT_ASSERT_EQ(test, iopf_unh_report(u, IOPF_UNH_PASID | IOPF_UNH_LAST,
					      u->pasid + 1000, 11, IOPF_UNH_R,
					      0xb000), 0);
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&u->blocked,
							    IOPF_UNH_TIMEOUT));

	task = kthread_run(iopf_unh_clearer_fn, &c, "iopf-unh-clear");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	wait_for_completion(&c.started);
	/* Still in the notifier: clearing must not have returned. */
	waited = !wait_for_completion_timeout(&c.done, HZ / 5);
	complete(&u->unblock);
	if (waited)
		wait_for_completion(&c.done);

	KUNIT_EXPECT_TRUE(test, waited);
	KUNIT_EXPECT_EQ(test, c.ret, 0);
	iopf_unh_expect(test, 1, 1);
}

/* Bad arguments get error codes; a device off its queue loses it. */
static void iopf_unh_test_bad_arguments(struct kunit *test)
{
	struct iopf_unh *u = test->priv;
	struct iopf_unhandled_notifier empty = { };
	struct iopf_mock *other;

	KUNIT_EXPECT_EQ(test, iopf_queue_set_unhandled(NULL, &u->nb), -ENODEV);
	KUNIT_EXPECT_EQ(test, iopf_queue_set_unhandled(u->mock->dev, &empty),
			-EINVAL);

	other = iopf_mock_create(iommu_queue_iopf);
	KUNIT_ASSERT_NOT_NULL(test, other);
	KUNIT_EXPECT_EQ(test, iopf_queue_set_unhandled(other->dev, &u->nb),
			-ENODEV);
	iopf_mock_destroy(other);

	/* Removed and added back: no notifier until set again. */
	KUNIT_ASSERT_EQ(test, iopf_queue_remove_device(u->queue,
						       u->mock->dev), 0);
	KUNIT_ASSERT_EQ(test, iopf_queue_add_device(u->queue, u->mock->dev),
			0);
	KUNIT_ASSERT_EQ(test, iopf_unh_report(u, IOPF_UNH_PASID | IOPF_UNH_LAST,
					      u->pasid + 1000, 12, IOPF_UNH_R,
					      0xc000), 0);
	iopf_unh_expect(test, 1, 0);
}

static struct kunit_case iopf_unh_test_cases[] = {
	KUNIT_CASE(iopf_unh_test_no_pasid),
	KUNIT_CASE(iopf_unh_test_other_pasid),
	KUNIT_CASE(iopf_unh_test_no_mm),
	KUNIT_CASE(iopf_unh_test_no_vma),
	KUNIT_CASE(iopf_unh_test_perm),
	KUNIT_CASE(iopf_unh_test_fault),
	KUNIT_CASE(iopf_unh_test_only_invalid),
	KUNIT_CASE(iopf_unh_test_clear),
	KUNIT_CASE(iopf_unh_test_clear_waits),
	KUNIT_CASE(iopf_unh_test_bad_arguments),
	{}
};

static struct kunit_suite iopf_unh_test_suite = {
	.name = "iopf_unhandled",
	.init = iopf_unh_init,
	.exit = iopf_unh_exit,
	.test_cases = iopf_unh_test_cases,
};

kunit_test_suite(iopf_unh_test_suite);

MODULE_DESCRIPTION("KUnit tests of the I/O page fault handler's unhandled-fault notifier");
MODULE_LICENSE("GPL");
