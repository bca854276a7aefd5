// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for the I/O page fault handler (drivers/iommu/io-pgfault.c).
 *
 * Each case owns a real address space (mm_alloc() + kthread_use_mm()) bound
 * to a PASID, an iopf queue, and a mock IOMMU: a root device with a
 * hand-built dev_iommu whose ops only have ->page_response(), which records
 * every answer.  Requests go through iommu_report_device_fault() exactly as
 * the VT-d and SMMUv3 drivers send them.  Cases assert the answers received
 * (code, pasid, grpid, count), the pages present in the mm and the error
 * codes returned.
 *
 * Built in only: mm_alloc() and arch_pick_mmap_layout() are not exported.
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/iommu.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/sched/clock.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/vmstat.h>

#include "../../drivers/iommu/iommu-sva-lib.h"
#include "iopf_mock.h"

#ifndef IOPF_MAX_PARTIAL
#define IOPF_MAX_PARTIAL	4096	/* baseline: upstream has no cap */
#endif
#ifndef IOPF_MAX_QUEUED
#define IOPF_MAX_QUEUED		2048	/* baseline: upstream has no bound */
#endif

#define IOPF_TEST_PAGES		64
#define IOPF_TEST_TIMEOUT	(5 * HZ)
#define IOPF_FLAGS_PASID	(IOMMU_FAULT_PAGE_REQUEST_PASID_VALID | \
				 IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID)
#define IOPF_LAST		IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE
#define IOPF_R			IOMMU_FAULT_PERM_READ
#define IOPF_W			IOMMU_FAULT_PERM_WRITE
#define IOPF_X			IOMMU_FAULT_PERM_EXEC
#define IOPF_PRIV		IOMMU_FAULT_PERM_PRIV

/* ---------------------------------------------------------------------- */
/* Fixture: an address space, a PASID, a queue and one device on it       */
/* ---------------------------------------------------------------------- */

struct iopf_test {
	struct mm_struct *mm;
	struct iopf_queue *queue;
	struct iopf_mock *mock;
	struct iopf_mock *extra[4];
	unsigned long base;	/* IOPF_TEST_PAGES of fresh RW anonymous memory */
	u32 pasid;
	char poll_us[IOPF_MOCK_PARAM_LEN];	/* before the case set it, or "" */
	bool workers_off;	/* the case moved the workers off a CPU */
	void *answerer;		/* the thread of the last answer (the hook) */
	int answer_cpu;		/* and its CPU */
};

static int iopf_test_init(struct kunit *test)
{
	struct iopf_test *t;

	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	test->priv = t;

	t->mm = iopf_mock_mm_create();
	if (!t->mm)
		return -ENOMEM;
	t->pasid = t->mm->pasid;

	t->base = iopf_mock_mmap(IOPF_TEST_PAGES * PAGE_SIZE,
				 PROT_READ | PROT_WRITE, 0);
	if (IS_ERR_VALUE(t->base))
		return -ENOMEM;

	t->queue = iopf_queue_alloc("kunit");
	if (!t->queue)
		return -ENOMEM;

	t->mock = iopf_mock_create(iommu_queue_iopf);
	if (!t->mock)
		return -ENOMEM;
	return iopf_queue_add_device(t->queue, t->mock->dev);
}

#define IOPF_INLINE_PARAM	"io_pgfault.inline_faults"
#define IOPF_POLL_PARAM		"io_pgfault.poll_us"

static void iopf_test_exit(struct kunit *test)
{
	struct iopf_test *t = test->priv;
	int i;

	if (!t)
		return;

	/* Back to the default, whatever the case set. */
	iopf_mock_set_param(IOPF_INLINE_PARAM, "0");
	if (t->poll_us[0])
		iopf_mock_set_param(IOPF_POLL_PARAM, t->poll_us);
	if (t->workers_off)
		iopf_mock_workers_off(-1);
	/* Answers every queued group before the mm goes. */
	iopf_queue_free(t->queue);
	iopf_mock_destroy(t->mock);
	for (i = 0; i < ARRAY_SIZE(t->extra); i++)
		iopf_mock_destroy(t->extra[i]);

	iopf_mock_mm_destroy(t->mm);
}

static struct iopf_mock *iopf_test_extra_device(struct kunit *test, int i)
{
	struct iopf_test *t = test->priv;

	t->extra[i] = iopf_mock_create(iommu_queue_iopf);
	KUNIT_ASSERT_NOT_NULL(test, t->extra[i]);
	KUNIT_ASSERT_EQ(test, iopf_queue_add_device(t->queue, t->extra[i]->dev),
			0);
	return t->extra[i];
}

static unsigned long page_addr(struct iopf_test *t, int i)
{
	return t->base + i * PAGE_SIZE;
}

/* Report a page request for the test's PASID. */
static int report_page(struct iopf_test *t, struct iopf_mock *mock, u32 grpid,
		       u32 perm, u64 addr, bool last)
{
	return iopf_mock_report(mock, IOMMU_FAULT_PAGE_REQ,
				IOPF_FLAGS_PASID | (last ? IOPF_LAST : 0),
				t->pasid, grpid, perm, addr);
}

static bool page_present(struct mm_struct *mm, unsigned long addr, bool write)
{
	return iopf_mock_page_present(mm, addr, write);
}

static void expect_resp(struct kunit *test, struct iopf_mock *mock,
			unsigned int i, u32 grpid, u32 pasid, u32 code)
{
	KUNIT_ASSERT_LT(test, i, iopf_mock_count(mock));
	KUNIT_EXPECT_EQ(test, mock->resp[i].version, IOMMU_PAGE_RESP_VERSION_1);
	KUNIT_EXPECT_EQ(test, mock->resp[i].grpid, grpid);
	KUNIT_EXPECT_EQ(test, mock->resp[i].pasid, pasid);
	KUNIT_EXPECT_EQ(test, mock->resp[i].code, code);
}

/* Flush the device and check it got exactly @n answers. */
static void flush_expect(struct kunit *test, struct iopf_mock *mock,
			 unsigned int n)
{
	KUNIT_ASSERT_EQ(test, iopf_queue_flush_dev(mock->dev), 0);
	KUNIT_EXPECT_EQ(test, iopf_mock_count(mock), n);
}

/* ---------------------------------------------------------------------- */
/* API: queue and device management                                       */
/* ---------------------------------------------------------------------- */

static void iopf_test_queue_alloc_free(struct kunit *test)
{
	struct iopf_queue *queue = iopf_queue_alloc("kunit-alloc");

	KUNIT_ASSERT_NOT_NULL(test, queue);
	iopf_queue_free(queue);
	iopf_queue_free(NULL);
}

static void iopf_test_add_device_errors(struct kunit *test)
{
	struct iopf_test *t = test->priv;
	struct iopf_queue *other = iopf_queue_alloc("kunit-other");
	struct dev_iommu *saved = t->mock->dev->iommu;

	KUNIT_ASSERT_NOT_NULL(test, other);
	KUNIT_EXPECT_EQ(test, iopf_queue_add_device(t->queue, t->mock->dev),
			-EBUSY);
	KUNIT_EXPECT_EQ(test, iopf_queue_add_device(other, t->mock->dev),
			-EBUSY);

	t->mock->dev->iommu = NULL;
	KUNIT_EXPECT_EQ(test, iopf_queue_add_device(other, t->mock->dev),
			-ENODEV);
	t->mock->dev->iommu = saved;
	iopf_queue_free(other);
}

static void iopf_test_remove_device_errors(struct kunit *test)
{
	struct iopf_test *t = test->priv;
	struct iopf_queue *other = iopf_queue_alloc("kunit-other");

	KUNIT_ASSERT_NOT_NULL(test, other);
	KUNIT_EXPECT_EQ(test, iopf_queue_remove_device(NULL, t->mock->dev),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, iopf_queue_remove_device(other, t->mock->dev),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, iopf_queue_remove_device(t->queue, t->mock->dev),
			0);
	KUNIT_EXPECT_EQ(test, iopf_queue_remove_device(t->queue, t->mock->dev),
			-EINVAL);
	/* And it can join again. */
	KUNIT_EXPECT_EQ(test, iopf_queue_add_device(other, t->mock->dev), 0);
	iopf_queue_free(other);
}

static void iopf_test_flush_errors(struct kunit *test)
{
	struct iopf_test *t = test->priv;

	KUNIT_EXPECT_EQ(test, iopf_queue_flush_dev(t->mock->dev), 0);
	KUNIT_ASSERT_EQ(test, iopf_queue_remove_device(t->queue, t->mock->dev),
			0);
	KUNIT_EXPECT_EQ(test, iopf_queue_flush_dev(t->mock->dev), -ENODEV);
	KUNIT_EXPECT_EQ(test, iopf_queue_discard_partial(NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, iopf_queue_discard_partial(t->queue), 0);
}

/* ---------------------------------------------------------------------- */
/* Report path                                                            */
/* ---------------------------------------------------------------------- */

static void iopf_test_not_page_request(struct kunit *test)
{
	struct iopf_test *t = test->priv;

	KUNIT_EXPECT_EQ(test, iopf_mock_report(t->mock, IOMMU_FAULT_DMA_UNRECOV,
					       0, t->pasid, 1, IOPF_R,
					       page_addr(t, 0)), -EOPNOTSUPP);
	flush_expect(test, t->mock, 0);
	KUNIT_EXPECT_FALSE(test, page_present(t->mm, page_addr(t, 0), false));
}

static void iopf_test_no_queue(struct kunit *test)
{
	struct iopf_test *t = test->priv;

	KUNIT_ASSERT_EQ(test, iopf_queue_remove_device(t->queue, t->mock->dev),
			0);
	/* The caller gets the error and answers the group itself. */
	KUNIT_EXPECT_EQ(test, report_page(t, t->mock, 1, IOPF_R,
					  page_addr(t, 0), true), -ENODEV);
	KUNIT_EXPECT_EQ(test, report_page(t, t->mock, 2, IOPF_R,
					  page_addr(t, 0), false), -ENODEV);
	KUNIT_EXPECT_EQ(test, iopf_mock_count(t->mock), 0U);
	KUNIT_EXPECT_FALSE(test, page_present(t->mm, page_addr(t, 0), false));
}

static void iopf_test_read_fault(struct kunit *test)
{
	struct iopf_test *t = test->priv;

	KUNIT_ASSERT_FALSE(test, page_present(t->mm, page_addr(t, 3), false));
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 5, IOPF_R,
					  page_addr(t, 3), true), 0);
	flush_expect(test, t->mock, 1);
	expect_resp(test, t->mock, 0, 5, t->pasid, IOMMU_PAGE_RESP_SUCCESS);
	KUNIT_EXPECT_EQ(test, t->mock->resp[0].flags,
			(u32)IOMMU_PAGE_RESP_PASID_VALID);
	KUNIT_EXPECT_TRUE(test, page_present(t->mm, page_addr(t, 3), false));
}

static void iopf_test_write_fault(struct kunit *test)
{
	struct iopf_test *t = test->priv;

	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 6, IOPF_R | IOPF_W,
					  page_addr(t, 4), true), 0);
	flush_expect(test, t->mock, 1);
	expect_resp(test, t->mock, 0, 6, t->pasid, IOMMU_PAGE_RESP_SUCCESS);
	KUNIT_EXPECT_TRUE(test, page_present(t->mm, page_addr(t, 4), true));
	KUNIT_EXPECT_FALSE(test, page_present(t->mm, page_addr(t, 5), false));
}

static void iopf_test_group(struct kunit *test)
{
	struct iopf_test *t = test->priv;
	int i;

	for (i = 0; i < 3; i++)
		KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 7, IOPF_W,
						  page_addr(t, i), false), 0);
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 7, IOPF_W,
					  page_addr(t, 3), true), 0);
	flush_expect(test, t->mock, 1);
	expect_resp(test, t->mock, 0, 7, t->pasid, IOMMU_PAGE_RESP_SUCCESS);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_TRUE(test, page_present(t->mm, page_addr(t, i),
						     true));
}

static void iopf_test_partial_waits_for_last(struct kunit *test)
{
	struct iopf_test *t = test->priv;

	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 8, IOPF_R,
					  page_addr(t, 0), false), 0);
	flush_expect(test, t->mock, 0);
	KUNIT_EXPECT_FALSE(test, page_present(t->mm, page_addr(t, 0), false));

	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 8, IOPF_R,
					  page_addr(t, 1), true), 0);
	flush_expect(test, t->mock, 1);
	expect_resp(test, t->mock, 0, 8, t->pasid, IOMMU_PAGE_RESP_SUCCESS);
	KUNIT_EXPECT_TRUE(test, page_present(t->mm, page_addr(t, 0), false));
	KUNIT_EXPECT_TRUE(test, page_present(t->mm, page_addr(t, 1), false));

	/* The partial went with its group: a new group of that id is alone. */
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 8, IOPF_R,
					  page_addr(t, 2), true), 0);
	flush_expect(test, t->mock, 2);
	expect_resp(test, t->mock, 1, 8, t->pasid, IOMMU_PAGE_RESP_SUCCESS);
}

static void iopf_test_interleaved_groups(struct kunit *test)
{
	struct iopf_test *t = test->priv;
	int i;

	for (i = 0; i < 8; i++)
		KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 10 + (i & 1),
						  IOPF_W, page_addr(t, i),
						  false), 0);
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 11, IOPF_W,
					  page_addr(t, 8), true), 0);
	flush_expect(test, t->mock, 1);
	expect_resp(test, t->mock, 0, 11, t->pasid, IOMMU_PAGE_RESP_SUCCESS);
	for (i = 0; i < 8; i++)
		KUNIT_EXPECT_EQ(test, page_present(t->mm, page_addr(t, i), true),
				!!(i & 1));

	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 10, IOPF_W,
					  page_addr(t, 9), true), 0);
	flush_expect(test, t->mock, 2);
	expect_resp(test, t->mock, 1, 10, t->pasid, IOMMU_PAGE_RESP_SUCCESS);
	for (i = 0; i < 10; i++)
		KUNIT_EXPECT_TRUE(test, page_present(t->mm, page_addr(t, i),
						     true));
}

static void iopf_test_many_groups(struct kunit *test)
{
	struct iopf_test *t = test->priv;
	unsigned int ok = 0;
	int g, i;

	for (g = 0; g < 16; g++)
		for (i = 0; i < 4; i++)
			KUNIT_ASSERT_EQ(test,
					report_page(t, t->mock, 100 + g, IOPF_W,
						    page_addr(t, g * 4 + i),
						    i == 3), 0);
	flush_expect(test, t->mock, 16);
	for (i = 0; i < 16; i++)
		ok += t->mock->resp[i].code == IOMMU_PAGE_RESP_SUCCESS;
	KUNIT_EXPECT_EQ(test, ok, 16U);
	for (i = 0; i < IOPF_TEST_PAGES; i++)
		KUNIT_EXPECT_TRUE(test, page_present(t->mm, page_addr(t, i),
						     true));
}

/*
 * Two last requests with one group id, both outstanding: two groups, each
 * handled on its own and answered once.  The first faults a mapped page
 * (SUCCESS), the second an unmapped address (INVALID), so that merged or
 * swapped groups show.  Groups are answered in any order.
 */
static void iopf_test_duplicate_last(struct kunit *test)
{
	struct iopf_test *t = test->priv;
	unsigned int i, success = 0, invalid = 0;

	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 12, IOPF_R,
					  page_addr(t, 0), true), 0);
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 12, IOPF_R, PAGE_SIZE,
					  true), 0);
	flush_expect(test, t->mock, 2);
	for (i = 0; i < 2 && i < iopf_mock_count(t->mock); i++) {
		KUNIT_EXPECT_EQ(test, t->mock->resp[i].grpid, 12U);
		KUNIT_EXPECT_EQ(test, t->mock->resp[i].pasid, t->pasid);
		if (t->mock->resp[i].code == IOMMU_PAGE_RESP_SUCCESS)
			success++;
		else if (t->mock->resp[i].code == IOMMU_PAGE_RESP_INVALID)
			invalid++;
	}
	KUNIT_EXPECT_EQ(test, success, 1U);
	KUNIT_EXPECT_EQ(test, invalid, 1U);
	KUNIT_EXPECT_TRUE(test, page_present(t->mm, page_addr(t, 0), false));
}

static void iopf_test_grpid_limits(struct kunit *test)
{
	static const u32 grpids[] = { 0, 0x1ff, 0xffff, U32_MAX };
	struct iopf_test *t = test->priv;
	int i;

	for (i = 0; i < ARRAY_SIZE(grpids); i++) {
		KUNIT_ASSERT_EQ(test, report_page(t, t->mock, grpids[i], IOPF_R,
						  page_addr(t, 2 * i), false),
				0);
		KUNIT_ASSERT_EQ(test, report_page(t, t->mock, grpids[i], IOPF_R,
						  page_addr(t, 2 * i + 1),
						  true), 0);
		flush_expect(test, t->mock, i + 1);
		expect_resp(test, t->mock, i, grpids[i], t->pasid,
			    IOMMU_PAGE_RESP_SUCCESS);
		KUNIT_EXPECT_TRUE(test, page_present(t->mm, page_addr(t, 2 * i),
						     false));
	}
}

/* ---------------------------------------------------------------------- */
/* Handling and answers                                                   */
/* ---------------------------------------------------------------------- */

static void iopf_test_no_pasid(struct kunit *test)
{
	struct iopf_test *t = test->priv;

	KUNIT_ASSERT_EQ(test, iopf_mock_report(t->mock, IOMMU_FAULT_PAGE_REQ,
					       IOPF_LAST, t->pasid, 13, IOPF_R,
					       page_addr(t, 0)), 0);
	flush_expect(test, t->mock, 1);
	expect_resp(test, t->mock, 0, 13, t->pasid, IOMMU_PAGE_RESP_INVALID);
	KUNIT_EXPECT_EQ(test, t->mock->resp[0].flags, 0U);
	KUNIT_EXPECT_FALSE(test, page_present(t->mm, page_addr(t, 0), false));
}

/*
 * A last request that wants its PASID in the answer but has none: the
 * answer could never match it in iommu_page_response(), so the request is
 * refused and the driver answers.
 */
static void iopf_test_needs_pasid_without_pasid(struct kunit *test)
{
	struct iopf_test *t = test->priv;

	/* A partial request of the group, with another PASID. */
	KUNIT_ASSERT_EQ(test, iopf_mock_report(t->mock, IOMMU_FAULT_PAGE_REQ,
					       IOPF_FLAGS_PASID, t->pasid + 1,
					       16, IOPF_R, page_addr(t, 1)), 0);
	KUNIT_EXPECT_EQ(test, iopf_mock_report(t->mock, IOMMU_FAULT_PAGE_REQ,
					       IOPF_LAST |
					       IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID,
					       t->pasid, 16, IOPF_R,
					       page_addr(t, 0)), -EINVAL);
	flush_expect(test, t->mock, 0);
	/*
	 * Nothing left pending in iommu.c, and the refused group's partial
	 * request dropped with it: the same group id is usable.
	 */
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 16, IOPF_R,
					  page_addr(t, 0), true), 0);
	flush_expect(test, t->mock, 1);
	expect_resp(test, t->mock, 0, 16, t->pasid, IOMMU_PAGE_RESP_SUCCESS);
}

static void iopf_test_pasid_flags(struct kunit *test)
{
	struct iopf_test *t = test->priv;

	/* PASID valid but the response must not carry it. */
	KUNIT_ASSERT_EQ(test, iopf_mock_report(t->mock, IOMMU_FAULT_PAGE_REQ,
					       IOPF_LAST |
					       IOMMU_FAULT_PAGE_REQUEST_PASID_VALID,
					       t->pasid, 14, IOPF_R,
					       page_addr(t, 0)), 0);
	flush_expect(test, t->mock, 1);
	KUNIT_EXPECT_EQ(test, t->mock->resp[0].code, IOMMU_PAGE_RESP_SUCCESS);
	KUNIT_EXPECT_EQ(test, t->mock->resp[0].flags, 0U);
	KUNIT_EXPECT_EQ(test, t->mock->resp[0].grpid, 14U);
}

static void iopf_test_unbound_pasid(struct kunit *test)
{
	struct iopf_test *t = test->priv;
	u32 pasid = t->pasid + 1000;	/* bound to no mm */

	KUNIT_ASSERT_EQ(test, iopf_mock_report(t->mock, IOMMU_FAULT_PAGE_REQ,
					       IOPF_LAST | IOPF_FLAGS_PASID,
					       pasid, 15, IOPF_R,
					       page_addr(t, 0)), 0);
	flush_expect(test, t->mock, 1);
	expect_resp(test, t->mock, 0, 15, pasid, IOMMU_PAGE_RESP_INVALID);
	KUNIT_EXPECT_FALSE(test, page_present(t->mm, page_addr(t, 0), false));
}

static void iopf_test_bad_addresses(struct kunit *test)
{
	struct iopf_test *t = test->priv;
	unsigned long hole = page_addr(t, IOPF_TEST_PAGES);

	/* Unmapped area (just above the test's mapping), kernel address, non-canonical address. */
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 16, IOPF_R, hole, true),
			0);
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 17, IOPF_R,
					  (u64)PAGE_OFFSET, true), 0);
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 18, IOPF_R,
					  TASK_SIZE + PAGE_SIZE, true), 0);
	flush_expect(test, t->mock, 3);
	KUNIT_EXPECT_EQ(test, t->mock->resp[0].code, IOMMU_PAGE_RESP_INVALID);
	KUNIT_EXPECT_EQ(test, t->mock->resp[1].code, IOMMU_PAGE_RESP_INVALID);
	KUNIT_EXPECT_EQ(test, t->mock->resp[2].code, IOMMU_PAGE_RESP_INVALID);
	KUNIT_EXPECT_FALSE(test, page_present(t->mm, hole, false));
}

static void iopf_test_unaligned(struct kunit *test)
{
	struct iopf_test *t = test->priv;

	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 19, IOPF_W,
					  page_addr(t, 6) + 123, true), 0);
	flush_expect(test, t->mock, 1);
	expect_resp(test, t->mock, 0, 19, t->pasid, IOMMU_PAGE_RESP_SUCCESS);
	KUNIT_EXPECT_TRUE(test, page_present(t->mm, page_addr(t, 6), true));
}

static void iopf_test_sticky_error(struct kunit *test)
{
	struct iopf_test *t = test->priv;
	unsigned long hole = page_addr(t, IOPF_TEST_PAGES);

	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 20, IOPF_W,
					  page_addr(t, 0), false), 0);
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 20, IOPF_W, hole, false),
			0);
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 20, IOPF_W,
					  page_addr(t, 1), true), 0);
	flush_expect(test, t->mock, 1);
	expect_resp(test, t->mock, 0, 20, t->pasid, IOMMU_PAGE_RESP_INVALID);
	KUNIT_EXPECT_TRUE(test, page_present(t->mm, page_addr(t, 0), true));
	/* Not handled after the failure. */
	KUNIT_EXPECT_FALSE(test, page_present(t->mm, page_addr(t, 1), false));
}

static void iopf_test_group_pasid_mismatch(struct kunit *test)
{
	struct iopf_test *t = test->priv;

	KUNIT_ASSERT_EQ(test, iopf_mock_report(t->mock, IOMMU_FAULT_PAGE_REQ,
					       IOPF_FLAGS_PASID, t->pasid + 1,
					       21, IOPF_W, page_addr(t, 0)), 0);
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 21, IOPF_W,
					  page_addr(t, 1), true), 0);
	flush_expect(test, t->mock, 1);
	expect_resp(test, t->mock, 0, 21, t->pasid, IOMMU_PAGE_RESP_INVALID);
	KUNIT_EXPECT_FALSE(test, page_present(t->mm, page_addr(t, 0), false));
}

static void iopf_test_same_page(struct kunit *test)
{
	struct iopf_test *t = test->priv;

	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 22, IOPF_R,
					  page_addr(t, 7), false), 0);
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 22, IOPF_R,
					  page_addr(t, 7) + 8, false), 0);
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 22, IOPF_W,
					  page_addr(t, 7) + 16, true), 0);
	flush_expect(test, t->mock, 1);
	expect_resp(test, t->mock, 0, 22, t->pasid, IOMMU_PAGE_RESP_SUCCESS);
	/* The write that came last was not skipped. */
	KUNIT_EXPECT_TRUE(test, page_present(t->mm, page_addr(t, 7), true));
}

/* The union of the requests for one page is checked against the VMA. */
static void iopf_test_same_page_union(struct kunit *test)
{
	struct iopf_test *t = test->priv;
	unsigned long ro;

	ro = iopf_mock_mmap(PAGE_SIZE, PROT_READ, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(ro));
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 26, IOPF_R, ro, false),
			0);
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 26, IOPF_W, ro + 64,
					  true), 0);
	flush_expect(test, t->mock, 1);
	expect_resp(test, t->mock, 0, 26, t->pasid, IOMMU_PAGE_RESP_INVALID);
	KUNIT_EXPECT_FALSE(test, page_present(t->mm, ro, false));
}

static void iopf_test_stack_guard(struct kunit *test)
{
	struct iopf_test *t = test->priv;
	struct vm_area_struct *vma;
	unsigned long stack, start;

	stack = iopf_mock_mmap(4 * PAGE_SIZE, PROT_READ | PROT_WRITE,
			       MAP_GROWSDOWN);
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(stack));

	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 23, IOPF_W,
					  stack - PAGE_SIZE, true), 0);
	flush_expect(test, t->mock, 1);
	expect_resp(test, t->mock, 0, 23, t->pasid, IOMMU_PAGE_RESP_INVALID);

	mmap_read_lock(t->mm);
	vma = vma_lookup(t->mm, stack);
	start = vma ? vma->vm_start : 0;
	KUNIT_EXPECT_NULL(test, vma_lookup(t->mm, stack - PAGE_SIZE));
	mmap_read_unlock(t->mm);
	KUNIT_EXPECT_EQ(test, start, stack);
	KUNIT_EXPECT_FALSE(test, page_present(t->mm, stack - PAGE_SIZE, false));

	/* The stack itself is served. */
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 24, IOPF_W, stack, true),
			0);
	flush_expect(test, t->mock, 2);
	expect_resp(test, t->mock, 1, 24, t->pasid, IOMMU_PAGE_RESP_SUCCESS);
}

/* Every permission combination against every VMA protection. */
struct iopf_perm_case {
	unsigned long prot;
	u32 perm;
	bool ok;
	const char *desc;
};

static const struct iopf_perm_case iopf_perm_cases[] = {
	{ PROT_NONE, IOPF_R, false, "none/r" },
	{ PROT_NONE, IOPF_W, false, "none/w" },
	{ PROT_NONE, IOPF_R | IOPF_W, false, "none/rw" },
	{ PROT_READ, IOPF_R, true, "r/r" },
	{ PROT_READ, IOPF_R | IOPF_PRIV, true, "r/r-priv" },
	{ PROT_READ, IOPF_W, false, "r/w" },
	{ PROT_READ, IOPF_R | IOPF_W, false, "r/rw" },
	{ PROT_READ, IOPF_R | IOPF_X, false, "r/rx" },
	{ PROT_READ | PROT_WRITE, IOPF_R, true, "rw/r" },
	{ PROT_READ | PROT_WRITE, IOPF_W, true, "rw/w" },
	{ PROT_READ | PROT_WRITE, IOPF_R | IOPF_W, true, "rw/rw" },
	{ PROT_READ | PROT_WRITE, IOPF_R | IOPF_W | IOPF_PRIV, true,
	  "rw/rw-priv" },
	{ PROT_READ | PROT_WRITE, IOPF_R | IOPF_X, false, "rw/rx" },
	{ PROT_READ | PROT_EXEC, IOPF_R, true, "rx/r" },
	{ PROT_READ | PROT_EXEC, IOPF_R | IOPF_X, true, "rx/rx" },
	{ PROT_READ | PROT_EXEC, IOPF_W, false, "rx/w" },
	{ PROT_READ | PROT_EXEC, IOPF_R | IOPF_W | IOPF_X, false, "rx/rwx" },
	{ PROT_READ | PROT_WRITE | PROT_EXEC, IOPF_R | IOPF_W | IOPF_X, true,
	  "rwx/rwx" },
	{ PROT_READ | PROT_WRITE | PROT_EXEC, IOPF_R | IOPF_X | IOPF_PRIV, true,
	  "rwx/rx-priv" },
};

static void iopf_perm_desc(const struct iopf_perm_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(iopf_perm, iopf_perm_cases, iopf_perm_desc);

static void iopf_test_permissions(struct kunit *test)
{
	const struct iopf_perm_case *c = test->param_value;
	struct iopf_test *t = test->priv;
	unsigned long addr;

	addr = iopf_mock_mmap(PAGE_SIZE, c->prot, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(addr));

	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 25, c->perm, addr, true),
			0);
	flush_expect(test, t->mock, 1);
	expect_resp(test, t->mock, 0, 25, t->pasid,
		    c->ok ? IOMMU_PAGE_RESP_SUCCESS : IOMMU_PAGE_RESP_INVALID);
	KUNIT_EXPECT_EQ(test, page_present(t->mm, addr,
					   c->ok && (c->perm & IOPF_W)),
			c->ok);
}

/* ---------------------------------------------------------------------- */
/* Lifetime: remove, free, discard, flush, mm exit                        */
/* ---------------------------------------------------------------------- */

struct iopf_remover {
	struct iopf_queue *queue;
	struct device *dev;
	bool free_queue;
	int ret;
	struct completion done;
};

static int iopf_remover_fn(void *data)
{
	struct iopf_remover *r = data;

	if (r->free_queue)
		iopf_queue_free(r->queue);
	else
		r->ret = iopf_queue_remove_device(r->queue, r->dev);
	complete(&r->done);
	return 0;
}

/*
 * Queue @n groups while the worker is held off by mmap_lock, remove the
 * device (or free the queue) from another thread, and check that it waits
 * and that every group was answered once by the time it returned.
 */
static void iopf_remove_pending(struct kunit *test, bool free_queue)
{
	struct iopf_test *t = test->priv;
	struct iopf_remover r = {
		.queue = t->queue,
		.dev = t->mock->dev,
		.free_queue = free_queue,
	};
	struct task_struct *task;
	unsigned int n = 5;
	int i;

	init_completion(&r.done);
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 30, IOPF_W,
					  page_addr(t, 40), false), 0);

	mmap_write_lock(t->mm);
	for (i = 0; i < n; i++) {
		if (report_page(t, t->mock, 31 + i, IOPF_W, page_addr(t, i),
				true))
			break;
	}
	task = kthread_run(iopf_remover_fn, &r, "iopf-remover");
	if (!IS_ERR(task))
		msleep(100);
	mmap_write_unlock(t->mm);
	KUNIT_ASSERT_EQ(test, i, (int)n);
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));

	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&r.done,
							  IOPF_TEST_TIMEOUT),
			0UL);
	if (free_queue)
		t->queue = NULL;
	KUNIT_EXPECT_EQ(test, r.ret, 0);
	/* Answered before remove returned, each once; the partial is gone. */
	KUNIT_EXPECT_EQ(test, iopf_mock_count(t->mock), n);
	msleep(20);
	KUNIT_EXPECT_EQ(test, iopf_mock_count(t->mock), n);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ(test, t->mock->resp[i].code,
				IOMMU_PAGE_RESP_SUCCESS);
	KUNIT_EXPECT_FALSE(test, page_present(t->mm, page_addr(t, 40), false));
	/* No handler state left: the fault handler can be unregistered. */
	KUNIT_EXPECT_EQ(test, iommu_unregister_device_fault_handler(t->mock->dev),
			0);
	KUNIT_EXPECT_EQ(test,
			iommu_register_device_fault_handler(t->mock->dev,
							    iommu_queue_iopf,
							    t->mock->dev), 0);
}

static void iopf_test_remove_pending(struct kunit *test)
{
	iopf_remove_pending(test, false);
}

static void iopf_test_free_pending(struct kunit *test)
{
	iopf_remove_pending(test, true);
}

static void iopf_test_discard_partial(struct kunit *test)
{
	struct iopf_test *t = test->priv;
	struct iopf_mock *mock2 = iopf_test_extra_device(test, 0);

	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 40, IOPF_W,
					  page_addr(t, 0), false), 0);
	KUNIT_ASSERT_EQ(test, report_page(t, mock2, 40, IOPF_W,
					  page_addr(t, 1), false), 0);
	KUNIT_ASSERT_EQ(test, iopf_queue_discard_partial(t->queue), 0);

	/* The last requests arrive: their groups lost the partials. */
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 40, IOPF_W,
					  page_addr(t, 2), true), 0);
	KUNIT_ASSERT_EQ(test, report_page(t, mock2, 40, IOPF_W,
					  page_addr(t, 3), true), 0);
	flush_expect(test, t->mock, 1);
	flush_expect(test, mock2, 1);
	expect_resp(test, t->mock, 0, 40, t->pasid, IOMMU_PAGE_RESP_SUCCESS);
	expect_resp(test, mock2, 0, 40, t->pasid, IOMMU_PAGE_RESP_SUCCESS);
	KUNIT_EXPECT_FALSE(test, page_present(t->mm, page_addr(t, 0), false));
	KUNIT_EXPECT_FALSE(test, page_present(t->mm, page_addr(t, 1), false));
	KUNIT_EXPECT_TRUE(test, page_present(t->mm, page_addr(t, 2), true));
	KUNIT_EXPECT_TRUE(test, page_present(t->mm, page_addr(t, 3), true));
}

static void iopf_test_partial_cap(struct kunit *test)
{
	struct iopf_test *t = test->priv;
	int i, ret = 0;

	for (i = 0; i < IOPF_MAX_PARTIAL; i++) {
		ret = report_page(t, t->mock, 50, IOPF_R, page_addr(t, 0),
				  false);
		if (ret)
			break;
	}
	KUNIT_ASSERT_EQ(test, ret, 0);
	/* Over the cap: refused and not kept, neither partial nor last. */
	KUNIT_EXPECT_EQ(test, report_page(t, t->mock, 51, IOPF_W,
					  page_addr(t, 1), false), -ENOSPC);
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 51, IOPF_W,
					  page_addr(t, 2), true), 0);
	flush_expect(test, t->mock, 1);
	expect_resp(test, t->mock, 0, 51, t->pasid, IOMMU_PAGE_RESP_SUCCESS);
	KUNIT_EXPECT_FALSE(test, page_present(t->mm, page_addr(t, 1), false));
	KUNIT_EXPECT_TRUE(test, page_present(t->mm, page_addr(t, 2), true));

	/* Completing the big group frees the room. */
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 50, IOPF_R,
					  page_addr(t, 3), true), 0);
	flush_expect(test, t->mock, 2);
	expect_resp(test, t->mock, 1, 50, t->pasid, IOMMU_PAGE_RESP_SUCCESS);
	KUNIT_EXPECT_EQ(test, report_page(t, t->mock, 52, IOPF_W,
					  page_addr(t, 1), false), 0);
}

/* Unreclaimable slab in use, in KiB. */
static unsigned long slab_kib(void)
{
	return global_node_page_state_pages(NR_SLAB_UNRECLAIMABLE_B) *
	       (PAGE_SIZE / 1024);
}

#define IOPF_FLOOD	200000

enum iopf_test_stat {
	IOPF_STAT_OBJECTS,
	IOPF_STAT_THROTTLED,
	IOPF_STAT_POLLED,
	IOPF_STAT_WAKEUPS,
	IOPF_STAT_REUSED,
};

/*
 * A counter of the handler on @queue: its own objects still allocated
 * (groups and partial requests: allocs - frees), the reports that waited
 * at the bound of queued groups, the groups that watching work items
 * found, the reports that queued a work item, or the groups that were a
 * device's spare ones.  -1 for upstream's handler, which has no counters.
 */
static long long handler_counter(struct iopf_queue *queue,
				 enum iopf_test_stat which)
{
#ifdef IOPF_LATENCY_BUCKETS
	struct iopf_queue_stats st;

	if (iopf_queue_read_stats(queue, &st))
		return -1;
	switch (which) {
	case IOPF_STAT_OBJECTS:
		return st.allocs - st.frees;
	case IOPF_STAT_THROTTLED:
		return st.throttled;
	case IOPF_STAT_POLLED:
		return st.polled;
	case IOPF_STAT_WAKEUPS:
		return st.wakeups;
	case IOPF_STAT_REUSED:
		return st.reused;
	}
	return -1;
#else
	return -1;
#endif
}

static void iopf_test_partial_flood(struct kunit *test)
{
	struct iopf_test *t = test->priv;
	unsigned int kept = 0, refused = 0, i;
	unsigned long before, after, growth;
	long long objects;
	int ret = 0;

	before = slab_kib();
	for (i = 0; i < IOPF_FLOOD; i++) {
		ret = report_page(t, t->mock, 1000 + i, IOPF_R, page_addr(t, 0),
				  false);
		if (!ret)
			kept++;
		else if (ret == -ENOSPC)
			refused++;
		else
			break;
	}
	after = slab_kib();
	growth = after > before ? after - before : 0;
	objects = handler_counter(t->queue, IOPF_STAT_OBJECTS);
	kunit_info(test, "%u partial requests: %u kept, %u refused, %lld objects of the handler, slab +%lu KiB\n",
		   IOPF_FLOOD, kept, refused, objects, growth);
	KUNIT_EXPECT_EQ(test, kept + refused, IOPF_FLOOD);
	KUNIT_EXPECT_EQ(test, kept, (unsigned int)IOPF_MAX_PARTIAL);
	/* One object per kept request: a group is made by its last one. */
	if (objects >= 0)
		KUNIT_EXPECT_EQ(test, objects, (long long)kept);

	/* A group of one request is still served. */
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 5, IOPF_W,
					  page_addr(t, 1), true), 0);
	flush_expect(test, t->mock, 1);
	expect_resp(test, t->mock, 0, 5, t->pasid, IOMMU_PAGE_RESP_SUCCESS);
	KUNIT_EXPECT_TRUE(test, page_present(t->mm, page_addr(t, 1), true));

	/* Discarding the partials (after an overflow) frees them all... */
	KUNIT_EXPECT_EQ(test, iopf_queue_discard_partial(t->queue), 0);
	if (objects >= 0)
		KUNIT_EXPECT_EQ(test, handler_counter(t->queue,
						      IOPF_STAT_OBJECTS),
				0LL);
	/* ...and makes room again. */
	KUNIT_EXPECT_EQ(test, report_page(t, t->mock, 6, IOPF_W,
					  page_addr(t, 2), false), 0);
	if (objects >= 0)
		KUNIT_EXPECT_EQ(test, handler_counter(t->queue,
						      IOPF_STAT_OBJECTS),
				1LL);
}

#ifdef CONFIG_FAULT_INJECTION
/* Report with the @nth allocation of the current task made to fail. */
static int report_fail_nth(struct iopf_test *t, unsigned int nth, u32 grpid,
			   unsigned long addr, bool last)
{
	int ret;

	iopf_mock_fail_nth(nth);
	ret = report_page(t, t->mock, grpid, IOPF_W, addr, last);
	iopf_mock_fail_nth(0);
	return ret;
}

/*
 * Allocation failure at every allocation site of the report path and of
 * queue and device set-up: an error is returned and nothing is kept, or
 * the group is answered.
 */
static void iopf_test_alloc_failure(struct kunit *test)
{
	struct iopf_test *t = test->priv;
	struct iopf_mock *mock2;
	struct iopf_queue *q;
	unsigned int nth;

	/* A partial request, opening a group or not: the request only. */
	KUNIT_EXPECT_EQ(test, report_fail_nth(t, 1, 60, page_addr(t, 0), false),
			-ENOMEM);
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 60, IOPF_W,
					  page_addr(t, 2), true), 0);
	flush_expect(test, t->mock, 1);
	expect_resp(test, t->mock, 0, 60, t->pasid, IOMMU_PAGE_RESP_SUCCESS);
	KUNIT_EXPECT_FALSE(test, page_present(t->mm, page_addr(t, 0), false));
	KUNIT_EXPECT_TRUE(test, page_present(t->mm, page_addr(t, 2), true));

	/* A partial request joining a group: the request only. */
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 61, IOPF_W,
					  page_addr(t, 3), false), 0);
	KUNIT_EXPECT_EQ(test, report_fail_nth(t, 1, 61, page_addr(t, 4), false),
			-ENOMEM);
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 61, IOPF_W,
					  page_addr(t, 5), true), 0);
	flush_expect(test, t->mock, 2);
	expect_resp(test, t->mock, 1, 61, t->pasid, IOMMU_PAGE_RESP_SUCCESS);
	KUNIT_EXPECT_TRUE(test, page_present(t->mm, page_addr(t, 3), true));
	KUNIT_EXPECT_FALSE(test, page_present(t->mm, page_addr(t, 4), false));

	/* A last request alone: the group.  The caller answers, not us. */
	KUNIT_EXPECT_EQ(test, report_fail_nth(t, 1, 62, page_addr(t, 6), true),
			-ENOMEM);
	flush_expect(test, t->mock, 2);
	KUNIT_EXPECT_FALSE(test, page_present(t->mm, page_addr(t, 6), false));

	/*
	 * A last request completing a group: the group.  The caller answers,
	 * and the group's partial requests are dropped with it: the next
	 * group with that id does not have them.
	 */
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 63, IOPF_W,
					  page_addr(t, 7), false), 0);
	KUNIT_EXPECT_EQ(test, report_fail_nth(t, 1, 63, page_addr(t, 8), true),
			-ENOMEM);
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 63, IOPF_W,
					  page_addr(t, 10), true), 0);
	flush_expect(test, t->mock, 3);
	expect_resp(test, t->mock, 2, 63, t->pasid, IOMMU_PAGE_RESP_SUCCESS);
	KUNIT_EXPECT_FALSE(test, page_present(t->mm, page_addr(t, 7), false));
	KUNIT_EXPECT_FALSE(test, page_present(t->mm, page_addr(t, 8), false));
	KUNIT_EXPECT_TRUE(test, page_present(t->mm, page_addr(t, 10), true));

	/*
	 * Queue set-up: the queue, its pools of requests and of groups, its
	 * per-CPU counters.
	 */
	for (nth = 1; nth <= 4; nth++) {
		iopf_mock_fail_nth(nth);
		q = iopf_queue_alloc("kunit-fail");
		iopf_mock_fail_nth(0);
		KUNIT_EXPECT_NULL(test, q);
		iopf_queue_free(q);
	}
	/* No fifth site: the queue works. */
	iopf_mock_fail_nth(5);
	q = iopf_queue_alloc("kunit-fail");
	iopf_mock_fail_nth(0);
	KUNIT_EXPECT_NOT_NULL(test, q);
	iopf_queue_free(q);

	mock2 = iopf_mock_create(iommu_queue_iopf);
	KUNIT_ASSERT_NOT_NULL(test, mock2);
	t->extra[0] = mock2;
	iopf_mock_fail_nth(1);
	KUNIT_EXPECT_EQ(test, iopf_queue_add_device(t->queue, mock2->dev),
			-ENOMEM);
	iopf_mock_fail_nth(0);
	KUNIT_EXPECT_EQ(test, report_page(t, mock2, 1, IOPF_W, page_addr(t, 9),
					  true), -ENODEV);
	KUNIT_EXPECT_EQ(test, iopf_queue_add_device(t->queue, mock2->dev), 0);

	/* Nothing was left pending in iommu.c: the handler can go. */
	KUNIT_EXPECT_EQ(test,
			iommu_unregister_device_fault_handler(t->mock->dev), 0);
}
#else
static void iopf_test_alloc_failure(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_FAULT_INJECTION");
}
#endif

static void iopf_test_flush_answers(struct kunit *test)
{
	struct iopf_test *t = test->priv;
	int i;

	for (i = 0; i < 32; i++)
		KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 60 + i, IOPF_W,
						  page_addr(t, i), true), 0);
	/* No wait: flush alone guarantees the answers. */
	flush_expect(test, t->mock, 32);
	for (i = 0; i < 32; i++)
		KUNIT_EXPECT_TRUE(test, page_present(t->mm, page_addr(t, i),
						     true));
}

struct iopf_flusher {
	struct device *dev;
	int ret;
	struct completion done;
};

static int iopf_flusher_fn(void *data)
{
	struct iopf_flusher *f = data;

	f->ret = iopf_queue_flush_dev(f->dev);
	complete(&f->done);
	return 0;
}

struct iopf_reporter {
	struct iopf_test *t;
	struct iopf_mock *mock;
	u32 grpid;
	unsigned long addr;
	int ret;
	struct completion done;
};

static int iopf_reporter_fn(void *data)
{
	struct iopf_reporter *r = data;

	r->ret = report_page(r->t, r->mock, r->grpid, IOPF_W, r->addr, true);
	complete(&r->done);
	return 0;
}

/*
 * While a flush of a device waits for its worker, this device and the
 * others on the queue still report promptly.  The worker is held off by
 * mmap_lock, before it answers (iommu.c holds its own lock around
 * ->page_response(), which would block reports whatever the flush does).
 */
static void iopf_test_flush_does_not_block(struct kunit *test)
{
	struct iopf_test *t = test->priv;
	struct iopf_mock *mock2 = iopf_test_extra_device(test, 0);
	struct iopf_flusher f = { .dev = t->mock->dev };
	struct iopf_reporter same = { .t = t, .mock = t->mock, .grpid = 81,
				      .addr = page_addr(t, 1) };
	struct iopf_reporter other = { .t = t, .mock = mock2, .grpid = 82,
				       .addr = page_addr(t, 2) };
	struct task_struct *tf, *ts, *to;
	bool same_done, other_done, flush_waited;

	init_completion(&f.done);
	init_completion(&same.done);
	init_completion(&other.done);

	mmap_write_lock(t->mm);
	if (report_page(t, t->mock, 80, IOPF_W, page_addr(t, 0), true)) {
		mmap_write_unlock(t->mm);
		KUNIT_FAIL(test, "report refused");
		return;
	}
	tf = kthread_run(iopf_flusher_fn, &f, "iopf-flusher");
	msleep(50);
	ts = kthread_run(iopf_reporter_fn, &same, "iopf-rep1");
	to = kthread_run(iopf_reporter_fn, &other, "iopf-rep2");
	same_done = !IS_ERR(ts) &&
		    wait_for_completion_timeout(&same.done, IOPF_TEST_TIMEOUT);
	other_done = !IS_ERR(to) &&
		     wait_for_completion_timeout(&other.done, IOPF_TEST_TIMEOUT);
	flush_waited = !IS_ERR(tf) && !completion_done(&f.done);
	mmap_write_unlock(t->mm);
	/*
	 * The threads use our stack: wait for them before any assertion
	 * (those whose completion was not consumed above).
	 */
	if (!IS_ERR(tf))
		wait_for_completion(&f.done);
	if (!IS_ERR(ts) && !same_done)
		wait_for_completion(&same.done);
	if (!IS_ERR(to) && !other_done)
		wait_for_completion(&other.done);

	KUNIT_ASSERT_FALSE(test, IS_ERR(tf) || IS_ERR(ts) || IS_ERR(to));
	KUNIT_EXPECT_TRUE(test, flush_waited);
	KUNIT_EXPECT_TRUE(test, same_done);
	KUNIT_EXPECT_TRUE(test, other_done);
	KUNIT_EXPECT_EQ(test, same.ret, 0);
	KUNIT_EXPECT_EQ(test, other.ret, 0);
	KUNIT_EXPECT_EQ(test, f.ret, 0);
	flush_expect(test, t->mock, 2);
	flush_expect(test, mock2, 1);
	expect_resp(test, mock2, 0, 82, t->pasid, IOMMU_PAGE_RESP_SUCCESS);
}

/*
 * A flush waits for its own device's groups only: while a device's group
 * is held off behind mmap_lock (held by this thread), a flush of a second
 * device on the same queue returns, from another CPU, with the second
 * device's group answered; the held group is answered once the lock is
 * dropped.
 */
static void iopf_test_flush_own_device(struct kunit *test)
{
	struct iopf_test *t = test->priv;
	struct iopf_mock *mock2 = iopf_test_extra_device(test, 0);
	struct iopf_flusher f = { .dev = mock2->dev };
	struct task_struct *tf;
	unsigned int held;
	bool flushed;

	init_completion(&f.done);
	mmap_write_lock(t->mm);
	if (report_page(t, t->mock, 90, IOPF_W, page_addr(t, 0), true) ||
	    iopf_mock_report(mock2, IOMMU_FAULT_PAGE_REQ, IOPF_LAST, 0, 91,
			     IOPF_R, 0)) {
		mmap_write_unlock(t->mm);
		KUNIT_FAIL(test, "report refused");
		return;
	}
	tf = iopf_mock_run_on(iopf_mock_other_cpu(), iopf_flusher_fn, &f,
			      "iopf-flusher");
	flushed = !IS_ERR(tf) &&
		  wait_for_completion_timeout(&f.done, IOPF_TEST_TIMEOUT);
	held = iopf_mock_count(t->mock);
	mmap_write_unlock(t->mm);
	/* The thread uses our stack: wait for it before any assertion. */
	if (!IS_ERR(tf) && !flushed)
		wait_for_completion(&f.done);

	KUNIT_ASSERT_FALSE(test, IS_ERR(tf));
	KUNIT_EXPECT_TRUE(test, flushed);
	KUNIT_EXPECT_EQ(test, f.ret, 0);
	KUNIT_EXPECT_EQ(test, held, 0U);
	KUNIT_EXPECT_EQ(test, iopf_mock_count(mock2), 1U);
	expect_resp(test, mock2, 0, 91, 0, IOMMU_PAGE_RESP_INVALID);
	flush_expect(test, t->mock, 1);
	expect_resp(test, t->mock, 0, 90, t->pasid, IOMMU_PAGE_RESP_SUCCESS);
}

/*
 * Another process: an mm with a PASID, held with mmgrab() as a bond holds
 * it (the PASID stays until the last mmdrop()), with a layout for mmap
 * when @mappable.  NULL, the case failed, when out of memory or PASIDs.
 */
static struct mm_struct *iopf_test_process(struct kunit *test, bool mappable)
{
	struct mm_struct *mm = mm_alloc();

	if (!mm) {
		KUNIT_FAIL(test, "no mm");
		return NULL;
	}
	if (mappable) {
		mm->task_size = TASK_SIZE;
		arch_pick_mmap_layout(mm, &current->signal->rlim[RLIMIT_STACK]);
	}
	if (iommu_sva_alloc_pasid(mm, 1, (1U << 20) - 1)) {
		mmput(mm);
		KUNIT_FAIL(test, "no PASID");
		return NULL;
	}
	mmgrab(mm);
	return mm;
}

/* The process exited but its PASID is still bound: INVALID, no crash. */
static void iopf_test_mm_exited(struct kunit *test)
{
	struct iopf_test *t = test->priv;
	struct mm_struct *mm;
	u32 pasid;

	mm = iopf_test_process(test, false);
	if (!mm)
		return;
	pasid = mm->pasid;
	mmput(mm);		/* the process exits */

	KUNIT_EXPECT_EQ(test, iopf_mock_report(t->mock, IOMMU_FAULT_PAGE_REQ,
					       IOPF_FLAGS_PASID, pasid, 90,
					       IOPF_R, page_addr(t, 0)), 0);
	KUNIT_EXPECT_EQ(test, iopf_mock_report(t->mock, IOMMU_FAULT_PAGE_REQ,
					       IOPF_FLAGS_PASID | IOPF_LAST,
					       pasid, 90, IOPF_R,
					       page_addr(t, 1)), 0);
	flush_expect(test, t->mock, 1);
	expect_resp(test, t->mock, 0, 90, pasid, IOMMU_PAGE_RESP_INVALID);
	mmdrop(mm);		/* unbind: the PASID is freed */

	/* Freed PASID: still INVALID, and our own mm is untouched. */
	KUNIT_EXPECT_EQ(test, iopf_mock_report(t->mock, IOMMU_FAULT_PAGE_REQ,
					       IOPF_FLAGS_PASID | IOPF_LAST,
					       pasid, 91, IOPF_R,
					       page_addr(t, 1)), 0);
	flush_expect(test, t->mock, 2);
	expect_resp(test, t->mock, 1, 91, pasid, IOMMU_PAGE_RESP_INVALID);
	KUNIT_EXPECT_FALSE(test, page_present(t->mm, page_addr(t, 1), false));
}

/*
 * The process exits while its groups are queued.  They are reported while
 * the workers are held off (the mm's mmap_lock is held for writing), then
 * the process's last reference goes while at least one worker has pinned
 * the mm.  Every group is answered once: SUCCESS when its worker pinned
 * the mm before the exit, INVALID after.  The last reference was a
 * worker's: the mm is gone once the flush returned, and later faults of
 * the PASID are INVALID.
 */
static void iopf_test_mm_exits_while_queued(struct kunit *test)
{
	struct iopf_test *t = test->priv;
	unsigned int i, n = 8, success = 0, invalid = 0;
	unsigned long addr, deadline;
	struct mm_struct *mm;
	u32 pasid;

	mm = iopf_test_process(test, true);
	if (!mm)
		return;
	pasid = mm->pasid;

	kthread_unuse_mm(t->mm);
	kthread_use_mm(mm);
	addr = iopf_mock_mmap(n * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
	kthread_unuse_mm(mm);
	kthread_use_mm(t->mm);

	mmap_write_lock(mm);
	for (i = 0; i < n && !IS_ERR_VALUE(addr); i++)
		if (iopf_mock_report(t->mock, IOMMU_FAULT_PAGE_REQ,
				     IOPF_FLAGS_PASID | IOPF_LAST, pasid,
				     100 + i, IOPF_W, addr + i * PAGE_SIZE))
			break;
	/* Our reference must not be the last: exit_mmap() takes mmap_lock. */
	deadline = jiffies + IOPF_TEST_TIMEOUT;
	while (i == n && atomic_read(&mm->mm_users) < 2 &&
	       time_before(jiffies, deadline))
		usleep_range(1000, 2000);
	if (i < n || atomic_read(&mm->mm_users) < 2) {
		mmap_write_unlock(mm);
		mmput(mm);
		mmdrop(mm);
		KUNIT_FAIL(test, "reported %u of %u groups, no worker pinned the mm",
			   i, n);
		return;
	}
	mmput(mm);		/* the process exits, its groups still queued */
	mmap_write_unlock(mm);

	flush_expect(test, t->mock, n);
	for (i = 0; i < n && i < IOPF_MOCK_MAX_RESP; i++) {
		KUNIT_EXPECT_EQ(test, t->mock->resp[i].pasid, pasid);
		if (t->mock->resp[i].code == IOMMU_PAGE_RESP_SUCCESS)
			success++;
		else if (t->mock->resp[i].code == IOMMU_PAGE_RESP_INVALID)
			invalid++;
	}
	KUNIT_EXPECT_EQ(test, success + invalid, n);
	KUNIT_EXPECT_GT(test, success, 0U);
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_users), 0);
	kunit_info(test, "%u groups answered SUCCESS, %u INVALID\n", success,
		   invalid);

	KUNIT_EXPECT_EQ(test, iopf_mock_report(t->mock, IOMMU_FAULT_PAGE_REQ,
					       IOPF_FLAGS_PASID | IOPF_LAST,
					       pasid, 120, IOPF_W, addr), 0);
	flush_expect(test, t->mock, n + 1);
	expect_resp(test, t->mock, n, 120, pasid, IOMMU_PAGE_RESP_INVALID);
	mmdrop(mm);		/* unbind: the PASID is freed */
}

/**
 * struct iopf_filler - reports one last request after another
 * @t: the fixture
 * @n: requests to report
 * @done_n: requests reported so far (the one in progress not counted)
 * @ret: the first error, if any
 * @done: completed when all are reported
 */
struct iopf_filler {
	struct iopf_test *t;
	unsigned int n;
	unsigned int done_n;
	int ret;
	struct completion done;
};

static int iopf_filler_fn(void *data)
{
	struct iopf_filler *f = data;
	unsigned int i;

	for (i = 0; i < f->n; i++) {
		f->ret = report_page(f->t, f->t->mock, i & 0xff, IOPF_R,
				     page_addr(f->t, i == f->n - 1), true);
		if (f->ret)
			break;
		WRITE_ONCE(f->done_n, i + 1);
	}
	complete(&f->done);
	return 0;
}

/*
 * At most IOPF_MAX_QUEUED groups of a device wait for the worker (held off
 * here by the mm's mmap_lock).  The next last request is not refused: its
 * report waits until a group was answered, then is accepted.  Other
 * devices of the queue are not held up by the bound of this one.
 */
static void iopf_test_queued_bound(struct kunit *test)
{
	struct iopf_test *t = test->priv;
	struct iopf_mock *mock2 = iopf_test_extra_device(test, 0);
	struct iopf_filler f = { .t = t, .n = IOPF_MAX_QUEUED + 1 };
	struct iopf_reporter other = { .t = t, .mock = mock2, .grpid = 3,
				       .addr = page_addr(t, 2) };
	unsigned int reported, stalled;
	struct task_struct *tf, *to;
	unsigned long deadline;
	long long throttled;
	bool other_done;

	init_completion(&f.done);
	init_completion(&other.done);
	mmap_write_lock(t->mm);
	tf = kthread_run(iopf_filler_fn, &f, "iopf-filler");
	/* Reports do not block before the bound: wait for them to get there. */
	deadline = jiffies + 12 * IOPF_TEST_TIMEOUT;
	while (!IS_ERR(tf) && READ_ONCE(f.done_n) < IOPF_MAX_QUEUED &&
	       !completion_done(&f.done) && time_before(jiffies, deadline))
		usleep_range(1000, 2000);
	reported = READ_ONCE(f.done_n);
	msleep(200);
	stalled = !IS_ERR(tf) && !completion_done(&f.done);
	to = kthread_run(iopf_reporter_fn, &other, "iopf-rep-other");
	other_done = !IS_ERR(to) &&
		     wait_for_completion_timeout(&other.done, IOPF_TEST_TIMEOUT);
	mmap_write_unlock(t->mm);
	/*
	 * The threads use our stack: wait for them before any assertion
	 * (those whose completion was not consumed above).
	 */
	if (!IS_ERR(tf))
		wait_for_completion(&f.done);
	if (!IS_ERR(to) && !other_done)
		wait_for_completion(&other.done);

	KUNIT_ASSERT_FALSE(test, IS_ERR(tf) || IS_ERR(to));
	KUNIT_EXPECT_EQ(test, reported, (unsigned int)IOPF_MAX_QUEUED);
	KUNIT_EXPECT_TRUE(test, stalled);
	KUNIT_EXPECT_TRUE(test, other_done);
	KUNIT_EXPECT_EQ(test, f.ret, 0);
	KUNIT_EXPECT_EQ(test, f.done_n, f.n);
	KUNIT_EXPECT_EQ(test, other.ret, 0);
	flush_expect(test, t->mock, IOPF_MAX_QUEUED + 1);
	flush_expect(test, mock2, 1);
	KUNIT_EXPECT_TRUE(test, page_present(t->mm, page_addr(t, 1), false));
	throttled = handler_counter(t->queue, IOPF_STAT_THROTTLED);
	if (throttled >= 0)
		KUNIT_EXPECT_EQ(test, throttled, 1LL);
}

/* Faults of several devices on one queue are answered to their device. */
static void iopf_test_devices_share_queue(struct kunit *test)
{
	struct iopf_test *t = test->priv;
	struct iopf_mock *m[3] = { t->mock };
	int d, i;

	m[1] = iopf_test_extra_device(test, 0);
	m[2] = iopf_test_extra_device(test, 1);
	for (i = 0; i < 4; i++)
		for (d = 0; d < 3; d++)
			KUNIT_ASSERT_EQ(test, report_page(t, m[d], 7, IOPF_W,
							  page_addr(t, d * 4 + i),
							  i == 3), 0);
	for (d = 0; d < 3; d++) {
		flush_expect(test, m[d], 1);
		expect_resp(test, m[d], 0, 7, t->pasid,
			    IOMMU_PAGE_RESP_SUCCESS);
	}
	for (i = 0; i < 12; i++)
		KUNIT_EXPECT_TRUE(test, page_present(t->mm, page_addr(t, i),
						     true));
}

/* ---------------------------------------------------------------------- */
/* The inline path (io_pgfault.inline_faults)                             */
/* ---------------------------------------------------------------------- */

/* The answering thread and its CPU, recorded by the mock's hook. */
static void iopf_test_answerer_hook(struct iopf_mock *mock,
				    const struct iommu_page_response *msg)
{
	struct iopf_test *t = mock->priv;

	WRITE_ONCE(t->answerer, current);
	WRITE_ONCE(t->answer_cpu, raw_smp_processor_id());
}

/* The hook on (in @t, not on a stack: the exit may answer groups too). */
static void iopf_test_answerer_on(struct iopf_test *t)
{
	t->answer_cpu = -1;
	t->mock->priv = t;
	t->mock->hook = iopf_test_answerer_hook;
}

/* The thread that sent the last answer. */
static void *iopf_test_answerer(struct iopf_test *t)
{
	return READ_ONCE(t->answerer);
}

/* Inline handling on for groups of up to @n requests; the hook on. */
static void iopf_test_inline(struct kunit *test, unsigned int n)
{
	struct iopf_test *t = test->priv;
	char val[16];

	snprintf(val, sizeof(val), "%u", n);
	if (iopf_mock_set_param(IOPF_INLINE_PARAM, val))
		kunit_skip(test, "the handler has no " IOPF_INLINE_PARAM);
	iopf_test_answerer_on(t);
}

/*
 * Inline on: a small group on anonymous memory is handled and answered in
 * the reporting thread, before the report returns; one group larger than
 * the inline bound goes to the work item.
 */
static void iopf_test_inline_answers(struct kunit *test)
{
	struct iopf_test *t = test->priv;

	iopf_test_inline(test, 2);
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 70, IOPF_R,
					  page_addr(t, 0), false), 0);
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 70, IOPF_W,
					  page_addr(t, 1), true), 0);
	KUNIT_EXPECT_EQ(test, iopf_mock_count(t->mock), 1U);
	KUNIT_EXPECT_PTR_EQ(test, iopf_test_answerer(t), (void *)current);
	expect_resp(test, t->mock, 0, 70, t->pasid, IOMMU_PAGE_RESP_SUCCESS);
	KUNIT_EXPECT_TRUE(test, page_present(t->mm, page_addr(t, 0), false));
	KUNIT_EXPECT_TRUE(test, page_present(t->mm, page_addr(t, 1), true));

	/* Three requests: over the bound, the work item answers. */
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 71, IOPF_W,
					  page_addr(t, 2), false), 0);
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 71, IOPF_W,
					  page_addr(t, 3), false), 0);
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 71, IOPF_W,
					  page_addr(t, 4), true), 0);
	flush_expect(test, t->mock, 2);
	expect_resp(test, t->mock, 1, 71, t->pasid, IOMMU_PAGE_RESP_SUCCESS);
	KUNIT_EXPECT_PTR_NE(test, iopf_test_answerer(t), (void *)current);
	KUNIT_EXPECT_TRUE(test, page_present(t->mm, page_addr(t, 4), true));
}

/*
 * Inline on, but the group cannot be handled without a wait or fails: it
 * goes to the work item, which answers it once.  mmap_lock held for
 * writing: the report does not wait for it, the group is answered once
 * it is dropped.  A page in no VMA: INVALID, from the work item.
 */
static void iopf_test_inline_falls_back(struct kunit *test)
{
	struct iopf_test *t = test->priv;
	unsigned int held;

	iopf_test_inline(test, 4);
	mmap_write_lock(t->mm);
	if (report_page(t, t->mock, 72, IOPF_W, page_addr(t, 0), true)) {
		mmap_write_unlock(t->mm);
		KUNIT_FAIL(test, "report refused");
		return;
	}
	msleep(20);
	held = iopf_mock_count(t->mock);
	mmap_write_unlock(t->mm);
	KUNIT_EXPECT_EQ(test, held, 0U);
	flush_expect(test, t->mock, 1);
	expect_resp(test, t->mock, 0, 72, t->pasid, IOMMU_PAGE_RESP_SUCCESS);
	KUNIT_EXPECT_PTR_NE(test, iopf_test_answerer(t), (void *)current);

	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 73, IOPF_W,
					  page_addr(t, IOPF_TEST_PAGES), true),
			0);
	flush_expect(test, t->mock, 2);
	expect_resp(test, t->mock, 1, 73, t->pasid, IOMMU_PAGE_RESP_INVALID);
	KUNIT_EXPECT_PTR_NE(test, iopf_test_answerer(t), (void *)current);
}

/*
 * A stream of single-fault groups, as a device that sends each request
 * once the previous one is answered, reported by one thread that waits
 * for each answer without sleeping (so the next group follows at once).
 */
struct iopf_test_stream {
	struct iopf_test *t;
	u32 grpid;		/* of the first group, then one more each */
	unsigned int n;		/* groups at most */
	unsigned long until;	/* jiffies: none reported after it */
	bool stop;		/* none reported once set */
	unsigned int sent;	/* groups reported and answered */
	long long polled[2];	/* "polled" counter after the first two */
	bool done;		/* the stream has ended */
	int ret;
};

#define IOPF_GRPIDS	512	/* a PRI group id has 9 bits */

static int iopf_test_stream_fn(void *data)
{
	struct iopf_test_stream *st = data;
	struct iopf_test *t = st->t;
	unsigned int i;
	int ret = 0;

	for (i = 0; i < st->n && !ret && !READ_ONCE(st->stop) &&
	     time_before(jiffies, st->until); i++) {
		ret = report_page(t, t->mock, (st->grpid + i) % IOPF_GRPIDS,
				  IOPF_W, page_addr(t, i % IOPF_TEST_PAGES),
				  true) ?:
		      iopf_mock_poll(t->mock, i + 1, IOPF_TEST_TIMEOUT);
		if (i < ARRAY_SIZE(st->polled))
			st->polled[i] = handler_counter(t->queue,
							IOPF_STAT_POLLED);
		WRITE_ONCE(st->sent, i + 1);
	}
	st->ret = ret;
	/* Pairs with the acquire of the case: st->ret is set when it sees done. */
	smp_store_release(&st->done, true);
	return ret;
}

/* iopf_test_stream_fn() in a kthread that waits for kthread_stop(). */
static int iopf_test_stream_kthread(void *data)
{
	iopf_test_stream_fn(data);
	while (!kthread_should_stop())
		schedule_timeout_idle(1);
	return 0;
}

/*
 * The CPU a stream reports from, with the workers moved off it (the exit
 * lets them back): a watch ends when another task is ready to run on its
 * CPU, as the stream's thread always is.  The workers of the new CPU mask
 * are new: the first work item a worker takes makes it start another,
 * which would end the work item's first watches.  So a group of another
 * device of the queue goes first, answered and flushed.
 */
static int iopf_test_stream_cpu(struct kunit *test)
{
	struct iopf_test *t = test->priv;
	struct iopf_mock *warm;
	int cpu = iopf_mock_other_cpu();

	t->workers_off = true;
	KUNIT_EXPECT_EQ(test, iopf_mock_workers_off(cpu), 0);
	warm = iopf_test_extra_device(test, ARRAY_SIZE(t->extra) - 1);
	KUNIT_EXPECT_EQ(test, report_page(t, warm, 0, IOPF_W, page_addr(t, 0),
					  true), 0);
	flush_expect(test, warm, 1);
	return cpu;
}

/*
 * Run a stream of @n groups from @grpid on, from a thread busy on one CPU
 * (as an IOMMU driver's IRQ thread; the work items run on the others),
 * then turn polling off (which ends a watch in progress) and check the
 * answers: @n, in order, SUCCESS.
 */
static void iopf_test_run_stream(struct kunit *test,
				 struct iopf_test_stream *st, u32 grpid,
				 unsigned int n)
{
	struct iopf_test *t = test->priv;
	unsigned int i, wrong = 0;

	*st = (struct iopf_test_stream){ .t = t, .grpid = grpid, .n = n,
					 .until = jiffies + IOPF_TEST_TIMEOUT };
	KUNIT_EXPECT_EQ(test, iopf_mock_call_on(iopf_test_stream_cpu(test),
						iopf_test_stream_fn, st,
						"iopf-test-stream"), 0);
	KUNIT_EXPECT_EQ(test, st->sent, n);
	KUNIT_EXPECT_EQ(test, iopf_mock_set_param(IOPF_POLL_PARAM, "0"), 0);
	flush_expect(test, t->mock, st->sent);
	for (i = 0; i < min_t(unsigned int, st->sent, IOPF_MOCK_MAX_RESP); i++) {
		if (t->mock->resp[i].grpid != (grpid + i) % IOPF_GRPIDS ||
		    t->mock->resp[i].code != IOMMU_PAGE_RESP_SUCCESS)
			wrong++;
	}
	KUNIT_EXPECT_EQ(test, wrong, 0U);
}

/*
 * io_pgfault.poll_us set to @us for this case (the exit puts the value
 * back); skip where the handler has no such parameter, or on one CPU.
 */
static void iopf_test_poll_us(struct kunit *test, const char *us)
{
	struct iopf_test *t = test->priv;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs");
	if (!t->poll_us[0] &&
	    iopf_mock_get_param(IOPF_POLL_PARAM, t->poll_us))
		kunit_skip(test, "the handler has no " IOPF_POLL_PARAM);
	KUNIT_ASSERT_EQ(test, iopf_mock_set_param(IOPF_POLL_PARAM, us), 0);
}

#define IOPF_TEST_WATCHED	32

/*
 * Polling on, with a long watch: once a group is answered, the device's
 * work item watches its list and takes the next group itself (the
 * "polled" counter goes up by one for each).  A watch also ends when
 * another task is ready to run on its CPU, which a busy test kernel has
 * now and then: of IOPF_TEST_WATCHED groups, the watches take most of
 * the 31 after the first.  Each group is answered once, in order.
 * Lowering poll_us ends the watch: the flush returns.
 */
static void iopf_test_poll_takes_next_group(struct kunit *test)
{
	struct iopf_test *t = test->priv;
	struct iopf_test_stream st;
	long long polled;

	iopf_test_poll_us(test, "10000000");
	iopf_test_run_stream(test, &st, 80, IOPF_TEST_WATCHED);
	polled = handler_counter(t->queue, IOPF_STAT_POLLED) - st.polled[0];
	kunit_info(test, "%lld of %d groups taken by a watch\n", polled,
		   IOPF_TEST_WATCHED - 1);
	KUNIT_EXPECT_GT(test, polled, (long long)IOPF_TEST_WATCHED / 2);
}

/* Polling off: no watch finds a group, each is answered once. */
static void iopf_test_poll_off(struct kunit *test)
{
	struct iopf_test_stream st;

	iopf_test_poll_us(test, "0");
	iopf_test_run_stream(test, &st, 82, 2);
	KUNIT_EXPECT_EQ(test, st.polled[1] - st.polled[0], 0LL);
}

static const char * const iopf_poll_windows[] = { "1", "5", "20", "100" };

static void iopf_poll_window_desc(const char * const *us, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "poll_us=%s", *us);
}

KUNIT_ARRAY_PARAM(iopf_poll_window, iopf_poll_windows, iopf_poll_window_desc);

/*
 * A stream of 2000 groups with watches of about the time between two
 * groups: many reports land as a watch ends.  None is lost (the stream
 * would wait for it and time out), none is answered twice, all in order.
 */
static void iopf_test_poll_stream(struct kunit *test)
{
	const char * const *us = test->param_value;
	struct iopf_test_stream st;

	iopf_test_poll_us(test, *us);
	iopf_test_run_stream(test, &st, 0, 2000);
	KUNIT_EXPECT_EQ(test, st.ret, 0);
}

struct iopf_test_yield {
	struct iopf_test *t;
	u64 ran_ns;	/* local_clock() when the thread ran */
	int ret;	/* of its report */
};

static int iopf_test_yield_fn(void *data)
{
	struct iopf_test_yield *y = data;

	y->ran_ns = local_clock();
	y->ret = report_page(y->t, y->t->mock, 151, IOPF_W, page_addr(y->t, 1),
			     true);
	return 0;
}

/*
 * A watch ends when another task is ready to run on its CPU, one that the
 * scheduler does not run at once.  With a watch of 10 s, group 150 is
 * answered; a new thread bound to the CPU that answered it (where the
 * work item now watches) then reports group 151.  Its group is not taken
 * by the watch (the "polled" counter stays): a watch that kept the CPU
 * would hold the thread off until the high-priority worker's time slice
 * ran out, then take its group.  The thread also runs well before the
 * watch would end (within 5 s).
 */
static void iopf_test_poll_yields(struct kunit *test)
{
	struct iopf_test *t = test->priv;
	struct iopf_test_yield y = { .t = t, .ret = -EINVAL };
	long long polled;
	u64 t0;

	iopf_test_poll_us(test, "10000000");
	iopf_test_answerer_on(t);
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 150, IOPF_W,
					  page_addr(t, 0), true), 0);
	KUNIT_ASSERT_EQ(test, iopf_mock_poll(t->mock, 1, IOPF_TEST_TIMEOUT), 0);
	polled = handler_counter(t->queue, IOPF_STAT_POLLED);
	t0 = local_clock();
	KUNIT_EXPECT_EQ(test, iopf_mock_call_on(READ_ONCE(t->answer_cpu),
						iopf_test_yield_fn, &y,
						"iopf-test-yield"), 0);
	KUNIT_EXPECT_EQ(test, y.ret, 0);
	/* Two CPUs' clocks: a step backwards is a prompt run too. */
	KUNIT_EXPECT_LT(test, (s64)(y.ran_ns - t0), 5LL * NSEC_PER_SEC);
	KUNIT_EXPECT_EQ(test, iopf_mock_poll(t->mock, 2, IOPF_TEST_TIMEOUT), 0);
	KUNIT_EXPECT_EQ(test, handler_counter(t->queue, IOPF_STAT_POLLED),
			polled);
	KUNIT_EXPECT_EQ(test, iopf_mock_set_param(IOPF_POLL_PARAM, "0"), 0);
	flush_expect(test, t->mock, 2);
	expect_resp(test, t->mock, 0, 150, t->pasid, IOMMU_PAGE_RESP_SUCCESS);
	expect_resp(test, t->mock, 1, 151, t->pasid, IOMMU_PAGE_RESP_SUCCESS);
}

/*
 * A flush while the device goes on faulting, with a long watch: the
 * watch stops for the flush, which returns while the stream still runs
 * (a work item that kept watching would hold it until the stream ends).
 */
static void iopf_test_poll_flush_during_stream(struct kunit *test)
{
	struct iopf_test_stream st = { .n = UINT_MAX };
	struct iopf_test *t = test->priv;
	unsigned long deadline;
	struct task_struct *task;
	bool running;

	iopf_test_poll_us(test, "10000000");
	st.t = t;
	st.until = jiffies + IOPF_TEST_TIMEOUT;
	task = iopf_mock_run_on(iopf_test_stream_cpu(test),
				iopf_test_stream_kthread, &st, "iopf-test-stream");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	deadline = jiffies + IOPF_TEST_TIMEOUT;
	/* Acquire: pairs with the stream's release of st.done. */
	while (READ_ONCE(st.sent) < 8 && !smp_load_acquire(&st.done) &&
	       time_before(jiffies, deadline))
		usleep_range(1000, 2000);

	KUNIT_EXPECT_EQ(test, iopf_queue_flush_dev(t->mock->dev), 0);
	/* Acquire: pairs with the stream's release of st.done. */
	running = !smp_load_acquire(&st.done);
	WRITE_ONCE(st.stop, true);
	kthread_stop(task);

	KUNIT_EXPECT_TRUE(test, running);
	KUNIT_EXPECT_EQ(test, st.ret, 0);
	KUNIT_EXPECT_EQ(test, iopf_mock_set_param(IOPF_POLL_PARAM, "0"), 0);
	flush_expect(test, t->mock, st.sent);
}

/*
 * Wait until a thread waits for @mm's mmap_lock, held for writing here
 * (the work item, with a group of @mm taken), for IOPF_TEST_TIMEOUT at
 * most.
 */
static void wait_lock_contended(struct mm_struct *mm)
{
	unsigned long deadline = jiffies + IOPF_TEST_TIMEOUT;

	while (!mmap_lock_is_contended(mm) && time_before(jiffies, deadline))
		usleep_range(1000, 2000);
}

/* Report a single-request group @grpid of @pasid, on an address of ours. */
static int report_pasid(struct iopf_test *t, u32 pasid, u32 grpid)
{
	return iopf_mock_report(t->mock, IOMMU_FAULT_PAGE_REQ,
				IOPF_FLAGS_PASID | IOPF_LAST, pasid, grpid,
				IOPF_R, page_addr(t, 0));
}

/* The other process @mm of a case exits and lets its PASID go. */
static void iopf_test_process_end(struct mm_struct *mm)
{
	if (mm) {
		mmput(mm);
		mmdrop(mm);
	}
}

/*
 * A PASID whose mmap_lock is taken does not hold up the device's other
 * PASIDs.  The work item waits for process 3's mmap_lock (group 110)
 * while groups of process 2, whose mmap_lock is taken too, and of ours
 * queue up, alternately (111 to 114).  Once process 3 lets go, the work
 * item sets process 2's groups aside and answers ours while process 2
 * still holds its lock; process 2's are answered, in order, once it lets
 * go.  The other processes have no VMA at the address: INVALID, after
 * their lock.
 */
static void iopf_test_pasid_aside(struct kunit *test)
{
	struct iopf_test *t = test->priv;
	struct mm_struct *mm2 = iopf_test_process(test, false);
	struct mm_struct *mm3 = mm2 ? iopf_test_process(test, false) : NULL;
	unsigned int answered, i;

	if (!mm3)
		goto out;
	mmap_write_lock(mm2);
	/* Two processes' locks: a lockdep class of its own for the second. */
	mmap_write_lock_nested(mm3, SINGLE_DEPTH_NESTING);
	KUNIT_EXPECT_EQ(test, report_pasid(t, mm3->pasid, 110), 0);
	wait_lock_contended(mm3);
	for (i = 111; i <= 114; i++)
		KUNIT_EXPECT_EQ(test, i % 2 ? report_pasid(t, mm2->pasid, i) :
				report_page(t, t->mock, i, IOPF_W,
					    page_addr(t, i - 110), true), 0);
	mmap_write_unlock(mm3);
	answered = iopf_mock_wait(t->mock, 3, IOPF_TEST_TIMEOUT);
	mmap_write_unlock(mm2);

	KUNIT_EXPECT_EQ(test, answered, 3U);
	flush_expect(test, t->mock, 5);
	expect_resp(test, t->mock, 0, 110, mm3->pasid, IOMMU_PAGE_RESP_INVALID);
	expect_resp(test, t->mock, 1, 112, t->pasid, IOMMU_PAGE_RESP_SUCCESS);
	expect_resp(test, t->mock, 2, 114, t->pasid, IOMMU_PAGE_RESP_SUCCESS);
	expect_resp(test, t->mock, 3, 111, mm2->pasid, IOMMU_PAGE_RESP_INVALID);
	expect_resp(test, t->mock, 4, 113, mm2->pasid, IOMMU_PAGE_RESP_INVALID);
out:
	iopf_test_process_end(mm3);
	iopf_test_process_end(mm2);
}

/*
 * A report does not queue the device's work item while it runs: the work
 * item takes the groups reported meanwhile before it returns.  It waits
 * for mmap_lock (held for writing here) with group 120; groups 121 to 123
 * come meanwhile.  One wake-up for the four groups, each answered once,
 * in order.
 */
static void iopf_test_no_wakeup_while_running(struct kunit *test)
{
	struct iopf_test *t = test->priv;
	long long before = handler_counter(t->queue, IOPF_STAT_WAKEUPS);
	unsigned int i;

	if (before < 0)
		kunit_skip(test, "the handler has no wakeups counter");
	mmap_write_lock(t->mm);
	KUNIT_EXPECT_EQ(test, report_page(t, t->mock, 120, IOPF_W,
					  page_addr(t, 0), true), 0);
	wait_lock_contended(t->mm);
	for (i = 121; i <= 123; i++)
		KUNIT_EXPECT_EQ(test, report_page(t, t->mock, i, IOPF_W,
						  page_addr(t, i - 120), true),
				0);
	mmap_write_unlock(t->mm);

	flush_expect(test, t->mock, 4);
	for (i = 0; i < 4; i++)
		expect_resp(test, t->mock, i, 120 + i, t->pasid,
			    IOMMU_PAGE_RESP_SUCCESS);
	KUNIT_EXPECT_EQ(test,
			handler_counter(t->queue, IOPF_STAT_WAKEUPS) - before,
			1LL);
}

#define IOPF_TEST_SPARE		16	/* IOPF_SPARE_GROUPS */
#define IOPF_TEST_BURST		24

/* Report IOPF_TEST_BURST groups from @grpid on while mmap_lock is held. */
static void iopf_test_burst(struct kunit *test, u32 grpid)
{
	struct iopf_test *t = test->priv;
	unsigned int i;

	mmap_write_lock(t->mm);
	for (i = 0; i < IOPF_TEST_BURST; i++)
		KUNIT_EXPECT_EQ(test, report_page(t, t->mock, grpid + i, IOPF_W,
						  page_addr(t, i), true), 0);
	mmap_write_unlock(t->mm);
}

/*
 * A device keeps up to IOPF_SPARE_GROUPS (16) of its answered groups for
 * its next reports (the "reused" counter), never more.  Group 129 reuses
 * group 128, which had a partial request and was answered INVALID (a page
 * in no VMA): 129 is answered SUCCESS, for its own page.  Then a burst of
 * 24 groups in flight at once (held back by mmap_lock) reuses the one
 * spare group, and, once answered, leaves 16 spare, which the next burst
 * reuses.  Every group is answered, and none is counted in use at the end.
 */
static void iopf_test_spare_groups(struct kunit *test)
{
	struct iopf_test *t = test->priv;
	long long before = handler_counter(t->queue, IOPF_STAT_REUSED);

	if (before < 0)
		kunit_skip(test, "the handler keeps no spare groups");
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 128, IOPF_W,
					  page_addr(t, 0), false), 0);
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 128, IOPF_W,
					  page_addr(t, IOPF_TEST_PAGES), true),
			0);
	flush_expect(test, t->mock, 1);
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 129, IOPF_W,
					  page_addr(t, 1), true), 0);
	flush_expect(test, t->mock, 2);
	expect_resp(test, t->mock, 0, 128, t->pasid, IOMMU_PAGE_RESP_INVALID);
	expect_resp(test, t->mock, 1, 129, t->pasid, IOMMU_PAGE_RESP_SUCCESS);
	KUNIT_EXPECT_TRUE(test, page_present(t->mm, page_addr(t, 1), true));
	KUNIT_EXPECT_EQ(test,
			handler_counter(t->queue, IOPF_STAT_REUSED) - before,
			1LL);

	iopf_test_burst(test, 140);
	flush_expect(test, t->mock, 2 + IOPF_TEST_BURST);
	KUNIT_EXPECT_EQ(test,
			handler_counter(t->queue, IOPF_STAT_REUSED) - before,
			2LL);
	iopf_test_burst(test, 170);
	flush_expect(test, t->mock, 2 + 2 * IOPF_TEST_BURST);
	KUNIT_EXPECT_EQ(test,
			handler_counter(t->queue, IOPF_STAT_REUSED) - before,
			2LL + IOPF_TEST_SPARE);
	expect_resp(test, t->mock, 1 + 2 * IOPF_TEST_BURST,
		    170 + IOPF_TEST_BURST - 1, t->pasid,
		    IOMMU_PAGE_RESP_SUCCESS);
	KUNIT_EXPECT_EQ(test, handler_counter(t->queue, IOPF_STAT_OBJECTS),
			0LL);
}

#define IOPF_TEST_HOLD		64	/* IOPF_FAULTS_PER_LOCK */
#define IOPF_TEST_HOLDS		8

/* writer_after_hold: the work item's faults in @groups groups. */
struct iopf_hold_case {
	unsigned int groups;
	const char *desc;
};

static const struct iopf_hold_case iopf_hold_cases[] = {
	{ 1, "one group of 8 holds" },	/* the work item lets go in a run */
	{ 8, "8 groups of a hold" },	/* between runs of a batch */
};

static void iopf_hold_desc(const struct iopf_hold_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(iopf_hold, iopf_hold_cases, iopf_hold_desc);

/* Report @n write faults from @addr on, in groups of @per, from @grpid. */
static void report_groups(struct kunit *test, unsigned long addr,
			  unsigned int n, unsigned int per, u32 grpid)
{
	struct iopf_test *t = test->priv;
	unsigned int i;

	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ(test, report_page(t, t->mock, grpid + i / per,
						  IOPF_W, addr + i * PAGE_SIZE,
						  i % per == per - 1), 0);
}

/* A thread of the process that waits for mmap_lock for writing. */
struct iopf_test_writer {
	struct mm_struct *mm;
	unsigned long addr;
	unsigned int n;
	unsigned int present;	/* of the n pages, when it got the lock */
	struct completion started;
};

static int iopf_test_writer_fn(void *data)
{
	struct iopf_test_writer *w = data;
	unsigned int i;

	complete(&w->started);
	/* The only place where this thread sleeps uninterruptibly. */
	mmap_write_lock(w->mm);
	for (i = 0; i < w->n; i++)
		w->present += iopf_mock_page_present_locked(w->mm,
							    w->addr + i * PAGE_SIZE,
							    true);
	mmap_write_unlock(w->mm);
	/* Wait for kthread_stop(), which collects the result. */
	set_current_state(TASK_INTERRUPTIBLE);
	while (!kthread_should_stop()) {
		schedule();
		set_current_state(TASK_INTERRUPTIBLE);
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

/*
 * Start @w on another CPU and return once it waits for @w->mm's mmap_lock
 * (held for writing here), queued: its state is TASK_UNINTERRUPTIBLE only
 * there.  NULL if it could not start.
 */
static struct task_struct *iopf_test_writer_start(struct kunit *test,
						  struct iopf_test_writer *w)
{
	unsigned long deadline = jiffies + IOPF_TEST_TIMEOUT;
	struct task_struct *task;

	init_completion(&w->started);
	task = iopf_mock_run_on(iopf_mock_other_cpu(), iopf_test_writer_fn, w,
				"iopf-test-writer");
	if (IS_ERR(task)) {
		KUNIT_FAIL(test, "no writer thread: %ld", PTR_ERR(task));
		return NULL;
	}
	wait_for_completion(&w->started);
	while (READ_ONCE(task->__state) != TASK_UNINTERRUPTIBLE &&
	       time_before(jiffies, deadline))
		usleep_range(1000, 2000);
	KUNIT_EXPECT_EQ(test, READ_ONCE(task->__state), TASK_UNINTERRUPTIBLE);
	return task;
}

/*
 * A writer waiting for mmap_lock gets it at the end of the work item's
 * hold (IOPF_FAULTS_PER_LOCK faults), not at the end of its work: the
 * work item lets go and lets the writer have the lock, within a group and
 * between the runs of a batch.  The work item waits for mmap_lock (held
 * for writing here) with 8 holds' faults, in one group or in 8 (all in
 * its next batch: it waits first for another process's lock, with group
 * 189, while ours are reported); a writer queues behind it; this thread
 * lets the lock go.  The writer finds a whole number of holds' pages
 * faulted in, not all: IOPF_TEST_HOLDS - 1 chances to get in, each lost
 * only if it does not run within the work item's wait for it.
 */
static void iopf_test_writer_after_hold(struct kunit *test)
{
	const struct iopf_hold_case *c = test->param_value;
	struct iopf_test *t = test->priv;
	unsigned int n = IOPF_TEST_HOLD * IOPF_TEST_HOLDS, present, i;
	struct iopf_test_writer w = { .mm = t->mm, .n = n };
	struct mm_struct *mm2 = NULL;
	struct task_struct *task;
	unsigned int first = 0;	/* answers before ours: mm2's group */

	w.addr = iopf_mock_mmap(n * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(w.addr));
	if (c->groups > 1) {
		mm2 = iopf_test_process(test, false);
		if (!mm2)
			return;
		first = 1;
		mmap_write_lock(mm2);
		KUNIT_EXPECT_EQ(test, report_pasid(t, mm2->pasid, 189), 0);
		wait_lock_contended(mm2);
		/* Two processes' locks: a lockdep class of its own for ours. */
		mmap_write_lock_nested(t->mm, SINGLE_DEPTH_NESTING);
		report_groups(test, w.addr, n, n / c->groups, 190);
		mmap_write_unlock(mm2);
	} else {
		mmap_write_lock(t->mm);
		report_groups(test, w.addr, n, n, 190);
	}
	wait_lock_contended(t->mm);
	task = iopf_test_writer_start(test, &w);
	/* The work item gets the lock, the writer stays queued behind it. */
	mmap_write_unlock(t->mm);
	if (task)
		kthread_stop(task);
	kunit_info(test, "the writer found %u of %u pages faulted in\n",
		   w.present, n);

	KUNIT_EXPECT_GT(test, w.present, 0U);
	KUNIT_EXPECT_LT(test, w.present, n);
	KUNIT_EXPECT_EQ(test, w.present % IOPF_TEST_HOLD, 0U);
	KUNIT_EXPECT_EQ(test, iopf_queue_flush_dev(t->mock->dev), 0);
	KUNIT_EXPECT_EQ(test, iopf_mock_count(t->mock), first + c->groups);
	if (first && iopf_mock_count(t->mock))	/* mm2 has no VMA there */
		expect_resp(test, t->mock, 0, 189, mm2->pasid,
			    IOMMU_PAGE_RESP_INVALID);
	for (i = 0; i < c->groups && first + i < iopf_mock_count(t->mock); i++)
		expect_resp(test, t->mock, first + i, 190 + i, t->pasid,
			    IOMMU_PAGE_RESP_SUCCESS);
	for (i = 0, present = 0; i < n; i++)
		present += page_present(t->mm, w.addr + i * PAGE_SIZE, true);
	KUNIT_EXPECT_EQ(test, present, n);
	iopf_test_process_end(mm2);
}

/* Removing one device leaves the others on the queue working. */
static void iopf_test_remove_one_of_many(struct kunit *test)
{
	struct iopf_test *t = test->priv;
	struct iopf_mock *mock2 = iopf_test_extra_device(test, 0);

	KUNIT_ASSERT_EQ(test, report_page(t, mock2, 3, IOPF_W,
					  page_addr(t, 0), false), 0);
	KUNIT_ASSERT_EQ(test, iopf_queue_remove_device(t->queue, t->mock->dev),
			0);
	KUNIT_ASSERT_EQ(test, report_page(t, mock2, 3, IOPF_W,
					  page_addr(t, 1), true), 0);
	flush_expect(test, mock2, 1);
	expect_resp(test, mock2, 0, 3, t->pasid, IOMMU_PAGE_RESP_SUCCESS);
	KUNIT_EXPECT_TRUE(test, page_present(t->mm, page_addr(t, 0), true));
	KUNIT_EXPECT_EQ(test, iopf_mock_count(t->mock), 0U);
}

static void iopf_test_wait_without_flush(struct kunit *test)
{
	struct iopf_test *t = test->priv;

	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 95, IOPF_R,
					  page_addr(t, 9), true), 0);
	KUNIT_EXPECT_EQ(test, iopf_mock_wait(t->mock, 1, IOPF_TEST_TIMEOUT), 1U);
	expect_resp(test, t->mock, 0, 95, t->pasid, IOMMU_PAGE_RESP_SUCCESS);
}

/*
 * iommu_page_response() matches a response to its pending report by group
 * id, and by PASID when the report needs it, oldest first.
 */
static void iopf_test_response_matching(struct kunit *test)
{
	struct iopf_mock *mock = iopf_mock_create(iopf_mock_keep);
	struct iopf_test *t = test->priv;

	KUNIT_ASSERT_NOT_NULL(test, mock);
	t->extra[0] = mock;

	KUNIT_EXPECT_EQ(test, iopf_mock_respond(mock, 7, 1, true), -EINVAL);
	KUNIT_ASSERT_EQ(test, iopf_mock_report(mock, IOMMU_FAULT_PAGE_REQ,
					       IOPF_LAST | IOPF_FLAGS_PASID, 1,
					       7, IOPF_R, 0), 0);
	KUNIT_ASSERT_EQ(test, iopf_mock_report(mock, IOMMU_FAULT_PAGE_REQ,
					       IOPF_LAST | IOPF_FLAGS_PASID, 2,
					       7, IOPF_R, 0), 0);
	KUNIT_ASSERT_EQ(test, iopf_mock_report(mock, IOMMU_FAULT_PAGE_REQ,
					       IOPF_LAST, 0, 8, IOPF_R, 0), 0);
	/* Partial requests are not pending reports. */
	KUNIT_ASSERT_EQ(test, iopf_mock_report(mock, IOMMU_FAULT_PAGE_REQ,
					       IOPF_FLAGS_PASID, 1, 9, IOPF_R,
					       0), 0);

	KUNIT_EXPECT_EQ(test, iopf_mock_respond(mock, 9, 1, true), -EINVAL);
	KUNIT_EXPECT_EQ(test, iopf_mock_respond(mock, 7, 3, true), -EINVAL);
	KUNIT_EXPECT_EQ(test, iopf_mock_respond(mock, 7, 2, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, iopf_mock_count(mock), 0U);

	KUNIT_EXPECT_EQ(test, iopf_mock_respond(mock, 7, 2, true), 0);
	KUNIT_EXPECT_EQ(test, iopf_mock_respond(mock, 7, 2, true), -EINVAL);
	/* No PASID needed: a PASID in the response is cleared. */
	KUNIT_EXPECT_EQ(test, iopf_mock_respond(mock, 8, 5, true), 0);
	KUNIT_EXPECT_EQ(test, iopf_mock_respond(mock, 7, 1, true), 0);
	KUNIT_EXPECT_EQ(test, iopf_mock_respond(mock, 7, 1, true), -EINVAL);

	KUNIT_ASSERT_EQ(test, iopf_mock_count(mock), 3U);
	KUNIT_EXPECT_EQ(test, mock->resp[0].grpid, 7U);
	KUNIT_EXPECT_EQ(test, mock->resp[0].pasid, 2U);
	KUNIT_EXPECT_EQ(test, mock->resp[1].grpid, 8U);
	KUNIT_EXPECT_EQ(test, mock->resp[1].pasid, 0U);
	KUNIT_EXPECT_EQ(test, mock->resp[1].flags, 0U);
	KUNIT_EXPECT_EQ(test, mock->resp[2].grpid, 7U);
	KUNIT_EXPECT_EQ(test, mock->resp[2].pasid, 1U);
	/* Nothing pending is left: the handler can go. */
	KUNIT_EXPECT_EQ(test, iommu_unregister_device_fault_handler(mock->dev),
			0);
}

/*
 * NULL arguments get an error code, not a crash.  Last in the suite: run
 * against upstream 6.1's handler, which dereferences a NULL device in
 * iopf_queue_remove_device(), the crash ends the run.
 */
static void iopf_test_null_arguments(struct kunit *test)
{
	struct iopf_test *t = test->priv;

	KUNIT_EXPECT_EQ(test, iopf_queue_discard_partial(NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, iopf_queue_remove_device(NULL, t->mock->dev),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, iopf_queue_remove_device(t->queue, NULL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, iopf_queue_add_device(t->queue, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, iopf_queue_add_device(NULL, t->mock->dev),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, iopf_queue_flush_dev(NULL), -ENODEV);
	/* Nothing changed for the device. */
	KUNIT_ASSERT_EQ(test, report_page(t, t->mock, 99, IOPF_W,
					  page_addr(t, 0), true), 0);
	flush_expect(test, t->mock, 1);
	expect_resp(test, t->mock, 0, 99, t->pasid, IOMMU_PAGE_RESP_SUCCESS);
}

static struct kunit_case iopf_test_cases[] = {
	KUNIT_CASE(iopf_test_queue_alloc_free),
	KUNIT_CASE(iopf_test_add_device_errors),
	KUNIT_CASE(iopf_test_remove_device_errors),
	KUNIT_CASE(iopf_test_flush_errors),
	KUNIT_CASE(iopf_test_not_page_request),
	KUNIT_CASE(iopf_test_no_queue),
	KUNIT_CASE(iopf_test_read_fault),
	KUNIT_CASE(iopf_test_write_fault),
	KUNIT_CASE(iopf_test_wait_without_flush),
	KUNIT_CASE(iopf_test_group),
	KUNIT_CASE(iopf_test_partial_waits_for_last),
	KUNIT_CASE(iopf_test_interleaved_groups),
	KUNIT_CASE(iopf_test_many_groups),
	KUNIT_CASE(iopf_test_duplicate_last),
	KUNIT_CASE(iopf_test_grpid_limits),
	KUNIT_CASE(iopf_test_no_pasid),
	KUNIT_CASE(iopf_test_pasid_flags),
	KUNIT_CASE(iopf_test_needs_pasid_without_pasid),
	KUNIT_CASE(iopf_test_unbound_pasid),
	KUNIT_CASE(iopf_test_bad_addresses),
	KUNIT_CASE(iopf_test_unaligned),
	KUNIT_CASE(iopf_test_sticky_error),
	KUNIT_CASE(iopf_test_group_pasid_mismatch),
	KUNIT_CASE(iopf_test_same_page),
	KUNIT_CASE(iopf_test_same_page_union),
	KUNIT_CASE(iopf_test_stack_guard),
	KUNIT_CASE_PARAM(iopf_test_permissions, iopf_perm_gen_params),
	KUNIT_CASE(iopf_test_remove_pending),
	KUNIT_CASE(iopf_test_free_pending),
	KUNIT_CASE(iopf_test_discard_partial),
	KUNIT_CASE(iopf_test_partial_cap),
	KUNIT_CASE(iopf_test_partial_flood),
	KUNIT_CASE(iopf_test_alloc_failure),
	KUNIT_CASE(iopf_test_flush_answers),
	KUNIT_CASE(iopf_test_flush_does_not_block),
	KUNIT_CASE(iopf_test_flush_own_device),
	KUNIT_CASE(iopf_test_queued_bound),
	KUNIT_CASE(iopf_test_mm_exited),
	KUNIT_CASE(iopf_test_mm_exits_while_queued),
	KUNIT_CASE(iopf_test_devices_share_queue),
	KUNIT_CASE(iopf_test_remove_one_of_many),
	KUNIT_CASE(iopf_test_inline_answers),
	KUNIT_CASE(iopf_test_inline_falls_back),
	KUNIT_CASE(iopf_test_poll_takes_next_group),
	KUNIT_CASE(iopf_test_poll_off),
	KUNIT_CASE_PARAM(iopf_test_poll_stream, iopf_poll_window_gen_params),
	KUNIT_CASE(iopf_test_poll_flush_during_stream),
	KUNIT_CASE(iopf_test_poll_yields),
	KUNIT_CASE(iopf_test_pasid_aside),
	KUNIT_CASE(iopf_test_no_wakeup_while_running),
	KUNIT_CASE(iopf_test_spare_groups),
	KUNIT_CASE_PARAM(iopf_test_writer_after_hold, iopf_hold_gen_params),
	KUNIT_CASE(iopf_test_response_matching),
	KUNIT_CASE(iopf_test_null_arguments),
	{}
};

static struct kunit_suite iopf_test_suite = {
	.name = "iopf",
	.init = iopf_test_init,
	.exit = iopf_test_exit,
	.test_cases = iopf_test_cases,
};

kunit_test_suite(iopf_test_suite);

MODULE_DESCRIPTION("KUnit tests for the I/O page fault handler");
MODULE_LICENSE("GPL");
