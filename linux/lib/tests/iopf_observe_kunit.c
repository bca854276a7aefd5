// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for what the I/O page fault handler shows of itself: its
 * tracepoints (include/trace/events/iopf.h) and its per-queue counters
 * (iopf_queue_read_stats(), also in debugfs).  Known sequences of page
 * requests go through the mock IOMMU; probes attached to the tracepoints
 * record every event, and the cases check the fields and the counters.
 */

#include <kunit/test.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/spinlock.h>
#include <linux/tracepoint.h>
#include <trace/events/iopf.h>

#include "../../drivers/iommu/iommu-sva-lib.h"
#include "iopf_mock.h"

#define IOPF_OBS_PAGES		8
#define IOPF_OBS_EVENTS		16
#define IOPF_OBS_FLAGS		(IOMMU_FAULT_PAGE_REQUEST_PASID_VALID | \
				 IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID)
#define IOPF_OBS_LAST		IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE
#define IOPF_OBS_R		IOMMU_FAULT_PERM_READ
#define IOPF_OBS_W		IOMMU_FAULT_PERM_WRITE

/**
 * struct iopf_obs_event - one event seen by a probe
 * @dev: iopf_report, iopf_response: the device
 * @pasid: the PASID
 * @grpid: iopf_report, iopf_response: the group id
 * @addr: iopf_report, iopf_fault: the address
 * @perm: iopf_report, iopf_fault: the permissions
 * @last: iopf_report: the request is the last of its group
 * @ret: iopf_report, iopf_fault: the result; iopf_response: the code
 * @nr_faults: iopf_response: the requests of the group
 * @latency_ns: iopf_response: the latency
 */
struct iopf_obs_event {
	struct device *dev;
	u32 pasid;
	u32 grpid;
	u64 addr;
	u32 perm;
	bool last;
	int ret;
	unsigned int nr_faults;
	u64 latency_ns;
};

/**
 * struct iopf_obs - the fixture of a case
 * @mm: the address space, with @base mapped
 * @base: IOPF_OBS_PAGES pages, readable and writable
 * @queue: the queue of @mock
 * @mock: the device
 * @lock: protects the event logs
 * @report: iopf_report events
 * @fault: iopf_fault events
 * @response: iopf_response events
 * @nr_report: events in @report
 * @nr_fault: events in @fault
 * @nr_response: events in @response
 */
struct iopf_obs {
	struct mm_struct *mm;
	unsigned long base;
	struct iopf_queue *queue;
	struct iopf_mock *mock;
	spinlock_t lock;	/* protects the logs */
	struct iopf_obs_event report[IOPF_OBS_EVENTS];
	struct iopf_obs_event fault[IOPF_OBS_EVENTS];
	struct iopf_obs_event response[IOPF_OBS_EVENTS];
	unsigned int nr_report;
	unsigned int nr_fault;
	unsigned int nr_response;
};

/*
 * Append @e to @log under @o->lock; count it even when @log is full.  Events
 * of other devices (the probes are global) are not ours.
 */
static void iopf_obs_log(struct iopf_obs *o, struct iopf_obs_event *log,
			 unsigned int *nr, const struct iopf_obs_event *e)
{
	if (e->dev != o->mock->dev)
		return;
	spin_lock(&o->lock);
	if (*nr < IOPF_OBS_EVENTS)
		log[*nr] = *e;
	(*nr)++;
	spin_unlock(&o->lock);
}

static void iopf_obs_report(void *data, struct device *dev,
			    struct iommu_fault_page_request *prm, int ret)
{
	struct iopf_obs *o = data;
	struct iopf_obs_event e = {
		.dev = dev, .pasid = prm->pasid, .grpid = prm->grpid,
		.addr = prm->addr, .perm = prm->perm, .ret = ret,
		.last = prm->flags & IOPF_OBS_LAST,
	};

	iopf_obs_log(o, o->report, &o->nr_report, &e);
}

static void iopf_obs_fault(void *data, struct device *dev, u32 pasid,
			   u32 grpid, u64 addr, u32 perm, int ret)
{
	struct iopf_obs *o = data;
	struct iopf_obs_event e = {
		.dev = dev, .pasid = pasid, .grpid = grpid, .addr = addr,
		.perm = perm, .ret = ret,
	};

	iopf_obs_log(o, o->fault, &o->nr_fault, &e);
}

static void iopf_obs_response(void *data, struct device *dev, u32 pasid,
			      u32 grpid, u32 code, unsigned int nr_faults,
			      u64 latency_ns)
{
	struct iopf_obs *o = data;
	struct iopf_obs_event e = {
		.dev = dev, .pasid = pasid, .grpid = grpid, .ret = code,
		.nr_faults = nr_faults, .latency_ns = latency_ns,
	};

	iopf_obs_log(o, o->response, &o->nr_response, &e);
}

static int iopf_obs_init(struct kunit *test)
{
	struct iopf_obs *o;

	o = kunit_kzalloc(test, sizeof(*o), GFP_KERNEL);
	if (!o)
		return -ENOMEM;
	test->priv = o;
	spin_lock_init(&o->lock);

	o->mm = iopf_mock_mm_create();
	if (!o->mm)
		return -ENOMEM;
	o->base = iopf_mock_mmap(IOPF_OBS_PAGES * PAGE_SIZE,
				 PROT_READ | PROT_WRITE, 0);
	if (IS_ERR_VALUE(o->base))
		return -ENOMEM;
	o->queue = iopf_queue_alloc("kunit-observe");
	if (!o->queue)
		return -ENOMEM;
	o->mock = iopf_mock_create(iommu_queue_iopf);
	if (!o->mock)
		return -ENOMEM;
	if (iopf_queue_add_device(o->queue, o->mock->dev))
		return -ENOMEM;

	/* Without tracepoints, the trace cases skip; the counters remain. */
	if (!IS_ENABLED(CONFIG_TRACEPOINTS))
		return 0;
	if (register_trace_iopf_report(iopf_obs_report, o))
		return -EINVAL;
	if (register_trace_iopf_fault(iopf_obs_fault, o))
		goto err_report;
	if (register_trace_iopf_response(iopf_obs_response, o))
		goto err_fault;
	return 0;

err_fault:
	unregister_trace_iopf_fault(iopf_obs_fault, o);
err_report:
	unregister_trace_iopf_report(iopf_obs_report, o);
	return -EINVAL;
}

static void iopf_obs_exit(struct kunit *test)
{
	struct iopf_obs *o = test->priv;

	if (!o)
		return;
	if (IS_ENABLED(CONFIG_TRACEPOINTS)) {
		unregister_trace_iopf_response(iopf_obs_response, o);
		unregister_trace_iopf_fault(iopf_obs_fault, o);
		unregister_trace_iopf_report(iopf_obs_report, o);
		tracepoint_synchronize_unregister();
	}

	iopf_queue_free(o->queue);
	iopf_mock_destroy(o->mock);
	iopf_mock_mm_destroy(o->mm);
}

static unsigned long obs_page(struct iopf_obs *o, int i)
{
	return o->base + i * PAGE_SIZE;
}

static int obs_report(struct iopf_obs *o, u32 grpid, u32 perm, u64 addr,
		      bool last)
{
	return iopf_mock_report(o->mock, IOMMU_FAULT_PAGE_REQ,
				IOPF_OBS_FLAGS | (last ? IOPF_OBS_LAST : 0),
				o->mm->pasid, grpid, perm, addr);
}

/* Wait for the answers: every group reported so far is handled after it. */
static void obs_flush(struct kunit *test, struct iopf_obs *o)
{
	KUNIT_ASSERT_EQ(test, iopf_queue_flush_dev(o->mock->dev), 0);
}

static struct iopf_queue_stats *obs_stats(struct kunit *test,
					  struct iopf_obs *o)
{
	struct iopf_queue_stats *st;

	st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, st);
	KUNIT_ASSERT_EQ(test, iopf_queue_read_stats(o->queue, st), 0);
	return st;
}

static u64 obs_latency_total(struct iopf_queue_stats *st)
{
	u64 n = 0;
	int i;

	for (i = 0; i < IOPF_LATENCY_BUCKETS; i++)
		n += st->latency[i];
	return n;
}

/* ---------------------------------------------------------------------- */
/* Tracepoints                                                            */
/* ---------------------------------------------------------------------- */

/* The trace cases need tracepoints (CONFIG_TRACING): skip without. */
static void iopf_obs_need_tracepoints(struct kunit *test)
{
	if (!IS_ENABLED(CONFIG_TRACEPOINTS))
		kunit_skip(test, "needs CONFIG_TRACEPOINTS");
}

/* iopf_report: one event per request, with the request and the result. */
static void iopf_obs_trace_report(struct kunit *test)
{
	struct iopf_obs *o = test->priv;
	struct iopf_obs_event *e = o->report;

	iopf_obs_need_tracepoints(test);
	KUNIT_ASSERT_EQ(test, obs_report(o, 7, IOPF_OBS_R, obs_page(o, 1) + 8,
					 false), 0);
	KUNIT_ASSERT_EQ(test, obs_report(o, 7, IOPF_OBS_R | IOPF_OBS_W,
					 obs_page(o, 2), true), 0);
	/* Refused: not on a queue any more. */
	KUNIT_ASSERT_EQ(test, iopf_queue_remove_device(o->queue, o->mock->dev),
			0);
	KUNIT_EXPECT_EQ(test, obs_report(o, 8, IOPF_OBS_R, obs_page(o, 3),
					 true), -ENODEV);

	KUNIT_ASSERT_EQ(test, o->nr_report, 3U);
	KUNIT_EXPECT_PTR_EQ(test, e[0].dev, o->mock->dev);
	KUNIT_EXPECT_EQ(test, e[0].pasid, o->mm->pasid);
	KUNIT_EXPECT_EQ(test, e[0].grpid, 7U);
	KUNIT_EXPECT_EQ(test, e[0].addr, (u64)obs_page(o, 1) + 8);
	KUNIT_EXPECT_EQ(test, e[0].perm, (u32)IOPF_OBS_R);
	KUNIT_EXPECT_FALSE(test, e[0].last);
	KUNIT_EXPECT_EQ(test, e[0].ret, 0);
	KUNIT_EXPECT_EQ(test, e[1].grpid, 7U);
	KUNIT_EXPECT_EQ(test, e[1].addr, (u64)obs_page(o, 2));
	KUNIT_EXPECT_EQ(test, e[1].perm, (u32)(IOPF_OBS_R | IOPF_OBS_W));
	KUNIT_EXPECT_TRUE(test, e[1].last);
	KUNIT_EXPECT_EQ(test, e[1].ret, 0);
	KUNIT_EXPECT_EQ(test, e[2].grpid, 8U);
	KUNIT_EXPECT_TRUE(test, e[2].last);
	KUNIT_EXPECT_EQ(test, e[2].ret, -ENODEV);
}

/*
 * iopf_fault: one event per page handled, with the union of the group's
 * permissions for the page; the first failure ends the group.
 */
static void iopf_obs_trace_fault(struct kunit *test)
{
	struct iopf_obs *o = test->priv;
	struct iopf_obs_event *e = o->fault;

	iopf_obs_need_tracepoints(test);
	obs_report(o, 3, IOPF_OBS_R, obs_page(o, 0), false);
	obs_report(o, 3, IOPF_OBS_W, obs_page(o, 0) + 64, false);
	obs_report(o, 3, IOPF_OBS_R, obs_page(o, IOPF_OBS_PAGES), false);
	KUNIT_ASSERT_EQ(test, obs_report(o, 3, IOPF_OBS_R, obs_page(o, 1),
					 true), 0);
	obs_flush(test, o);

	KUNIT_ASSERT_EQ(test, o->nr_fault, 2U);
	KUNIT_EXPECT_PTR_EQ(test, e[0].dev, o->mock->dev);
	KUNIT_EXPECT_EQ(test, e[0].pasid, o->mm->pasid);
	KUNIT_EXPECT_EQ(test, e[0].grpid, 3U);
	KUNIT_EXPECT_EQ(test, e[0].addr, (u64)obs_page(o, 0));
	KUNIT_EXPECT_EQ(test, e[0].perm, (u32)(IOPF_OBS_R | IOPF_OBS_W));
	KUNIT_EXPECT_EQ(test, e[0].ret, 0);
	KUNIT_EXPECT_EQ(test, e[1].addr, (u64)obs_page(o, IOPF_OBS_PAGES));
	KUNIT_EXPECT_EQ(test, e[1].ret, -EFAULT);
}

/* iopf_fault: a write to a read-only mapping is -EACCES. */
static void iopf_obs_trace_fault_perm(struct kunit *test)
{
	struct iopf_obs *o = test->priv;
	unsigned long ro;

	iopf_obs_need_tracepoints(test);
	ro = iopf_mock_mmap(PAGE_SIZE, PROT_READ, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(ro));
	KUNIT_ASSERT_EQ(test, obs_report(o, 4, IOPF_OBS_W, ro, true), 0);
	obs_flush(test, o);

	KUNIT_ASSERT_EQ(test, o->nr_fault, 1U);
	KUNIT_EXPECT_EQ(test, o->fault[0].addr, (u64)ro);
	KUNIT_EXPECT_EQ(test, o->fault[0].ret, -EACCES);
}

/* iopf_response: device, PASID, group, code, size and latency. */
static void iopf_obs_trace_response(struct kunit *test)
{
	struct iopf_obs *o = test->priv;
	struct iopf_obs_event *e = o->response;

	iopf_obs_need_tracepoints(test);
	obs_report(o, 5, IOPF_OBS_R, obs_page(o, 0), false);
	obs_report(o, 5, IOPF_OBS_R, obs_page(o, 1), false);
	KUNIT_ASSERT_EQ(test, obs_report(o, 5, IOPF_OBS_W, obs_page(o, 2),
					 true), 0);
	obs_flush(test, o);
	KUNIT_ASSERT_EQ(test, obs_report(o, 6, IOPF_OBS_R, 0, true), 0);
	obs_flush(test, o);

	KUNIT_ASSERT_EQ(test, o->nr_response, 2U);
	KUNIT_EXPECT_PTR_EQ(test, e[0].dev, o->mock->dev);
	KUNIT_EXPECT_EQ(test, e[0].pasid, o->mm->pasid);
	KUNIT_EXPECT_EQ(test, e[0].grpid, 5U);
	KUNIT_EXPECT_EQ(test, e[0].ret, IOMMU_PAGE_RESP_SUCCESS);
	KUNIT_EXPECT_EQ(test, e[0].nr_faults, 3U);
	KUNIT_EXPECT_GT(test, e[0].latency_ns, 0ULL);
	KUNIT_EXPECT_LT(test, e[0].latency_ns, 5ULL * NSEC_PER_SEC);
	KUNIT_EXPECT_EQ(test, e[1].grpid, 6U);
	KUNIT_EXPECT_EQ(test, e[1].ret, IOMMU_PAGE_RESP_INVALID);
	KUNIT_EXPECT_EQ(test, e[1].nr_faults, 1U);
	/* The mock got the same answers. */
	KUNIT_ASSERT_EQ(test, iopf_mock_count(o->mock), 2U);
	KUNIT_EXPECT_EQ(test, o->mock->resp[0].code, IOMMU_PAGE_RESP_SUCCESS);
	KUNIT_EXPECT_EQ(test, o->mock->resp[1].code, IOMMU_PAGE_RESP_INVALID);
}

/* ---------------------------------------------------------------------- */
/* Counters                                                               */
/* ---------------------------------------------------------------------- */

/* A fresh queue counts nothing. */
static void iopf_obs_stats_zero(struct kunit *test)
{
	struct iopf_obs *o = test->priv;
	struct iopf_queue_stats *st = obs_stats(test, o);

	KUNIT_EXPECT_EQ(test, st->requests, 0ULL);
	KUNIT_EXPECT_EQ(test, st->groups, 0ULL);
	KUNIT_EXPECT_EQ(test, st->allocs, 0ULL);
	KUNIT_EXPECT_EQ(test, obs_latency_total(st), 0ULL);
	KUNIT_EXPECT_EQ(test, iopf_queue_read_stats(NULL, st), -EINVAL);
	KUNIT_EXPECT_EQ(test, iopf_queue_read_stats(o->queue, NULL), -EINVAL);
}

/* Two groups, one SUCCESS and one INVALID, one page requested twice. */
static void iopf_obs_stats_groups(struct kunit *test)
{
	struct iopf_obs *o = test->priv;
	struct iopf_queue_stats *st;

	obs_report(o, 1, IOPF_OBS_R, obs_page(o, 0), false);
	obs_report(o, 1, IOPF_OBS_W, obs_page(o, 0), false);
	obs_report(o, 1, IOPF_OBS_R, obs_page(o, 1), true);
	obs_report(o, 2, IOPF_OBS_R, obs_page(o, IOPF_OBS_PAGES), true);
	obs_flush(test, o);
	st = obs_stats(test, o);

	KUNIT_EXPECT_EQ(test, st->requests, 4ULL);
	KUNIT_EXPECT_EQ(test, st->partial, 2ULL);
	KUNIT_EXPECT_EQ(test, st->dropped, 0ULL);
	KUNIT_EXPECT_EQ(test, st->discarded, 0ULL);
	KUNIT_EXPECT_EQ(test, st->groups, 2ULL);
	KUNIT_EXPECT_EQ(test, st->faults, 3ULL);	/* page 0 once */
	KUNIT_EXPECT_EQ(test, st->success, 1ULL);
	KUNIT_EXPECT_EQ(test, st->invalid, 1ULL);
	/* Group 1: two partials, the group (last embedded); group 2. */
	KUNIT_EXPECT_EQ(test, st->allocs, 4ULL);
	KUNIT_EXPECT_EQ(test, st->frees, 4ULL);
	KUNIT_EXPECT_EQ(test, obs_latency_total(st), 2ULL);
	KUNIT_EXPECT_EQ(test, iopf_mock_count(o->mock), 2U);
}

/* Partial requests discarded, and freed by removal, are counted. */
static void iopf_obs_stats_discarded(struct kunit *test)
{
	struct iopf_obs *o = test->priv;
	struct iopf_queue_stats *st;

	obs_report(o, 10, IOPF_OBS_R, obs_page(o, 0), false);
	obs_report(o, 10, IOPF_OBS_R, obs_page(o, 1), false);
	obs_report(o, 11, IOPF_OBS_R, obs_page(o, 2), false);
	st = obs_stats(test, o);
	KUNIT_EXPECT_EQ(test, st->partial, 3ULL);
	/* A request each: a group is made when its last request comes. */
	KUNIT_EXPECT_EQ(test, st->allocs - st->frees, 3ULL);

	KUNIT_ASSERT_EQ(test, iopf_queue_discard_partial(o->queue), 0);
	obs_report(o, 12, IOPF_OBS_R, obs_page(o, 3), false);
	KUNIT_ASSERT_EQ(test, iopf_queue_remove_device(o->queue, o->mock->dev),
			0);
	st = obs_stats(test, o);
	KUNIT_EXPECT_EQ(test, st->requests, 4ULL);
	KUNIT_EXPECT_EQ(test, st->partial, 4ULL);
	KUNIT_EXPECT_EQ(test, st->discarded, 4ULL);
	KUNIT_EXPECT_EQ(test, st->groups, 0ULL);
	KUNIT_EXPECT_EQ(test, st->allocs, st->frees);
	KUNIT_EXPECT_EQ(test, iopf_mock_count(o->mock), 0U);
}

/* Requests refused for want of memory are counted as dropped. */
static void iopf_obs_stats_dropped(struct kunit *test)
{
	struct iopf_obs *o = test->priv;
	struct iopf_queue_stats *st;
	int ret;

	if (!IS_ENABLED(CONFIG_FAULT_INJECTION))
		kunit_skip(test, "needs CONFIG_FAULT_INJECTION");
	iopf_mock_fail_nth(1);
	ret = obs_report(o, 20, IOPF_OBS_R, obs_page(o, 0), true);
	iopf_mock_fail_nth(0);
	KUNIT_EXPECT_EQ(test, ret, -ENOMEM);
	obs_flush(test, o);
	st = obs_stats(test, o);
	KUNIT_EXPECT_EQ(test, st->requests, 1ULL);
	KUNIT_EXPECT_EQ(test, st->dropped, 1ULL);
	KUNIT_EXPECT_EQ(test, st->groups, 0ULL);
	KUNIT_EXPECT_EQ(test, st->allocs, 0ULL);
	KUNIT_EXPECT_EQ(test, iopf_mock_count(o->mock), 0U);
}

/*
 * The answers of the groups that were queued when their device was
 * removed are counted before removal returns.
 */
static void iopf_obs_stats_in_flight(struct kunit *test)
{
	struct iopf_obs *o = test->priv;
	struct iopf_queue_stats *st;
	int i;

	for (i = 0; i < IOPF_OBS_PAGES; i++)
		KUNIT_ASSERT_EQ(test, obs_report(o, 30 + i, IOPF_OBS_W,
						 obs_page(o, i), true), 0);
	KUNIT_ASSERT_EQ(test, iopf_queue_remove_device(o->queue, o->mock->dev),
			0);
	st = obs_stats(test, o);
	KUNIT_EXPECT_EQ(test, st->groups, (u64)IOPF_OBS_PAGES);
	KUNIT_EXPECT_EQ(test, st->success, (u64)IOPF_OBS_PAGES);
	KUNIT_EXPECT_EQ(test, st->groups - st->success - st->invalid, 0ULL);
	KUNIT_EXPECT_EQ(test, obs_latency_total(st), (u64)IOPF_OBS_PAGES);
	KUNIT_EXPECT_EQ(test, iopf_mock_count(o->mock), IOPF_OBS_PAGES);
}

static struct kunit_case iopf_observe_cases[] = {
	KUNIT_CASE(iopf_obs_trace_report),
	KUNIT_CASE(iopf_obs_trace_fault),
	KUNIT_CASE(iopf_obs_trace_fault_perm),
	KUNIT_CASE(iopf_obs_trace_response),
	KUNIT_CASE(iopf_obs_stats_zero),
	KUNIT_CASE(iopf_obs_stats_groups),
	KUNIT_CASE(iopf_obs_stats_discarded),
	KUNIT_CASE(iopf_obs_stats_dropped),
	KUNIT_CASE(iopf_obs_stats_in_flight),
	{}
};

static struct kunit_suite iopf_observe_suite = {
	.name = "iopf_observe",
	.init = iopf_obs_init,
	.exit = iopf_obs_exit,
	.test_cases = iopf_observe_cases,
};

kunit_test_suite(iopf_observe_suite);

MODULE_LICENSE("GPL");
