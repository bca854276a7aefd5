// SPDX-License-Identifier: GPL-2.0
/*
 * Boot-time benchmark of the I/O page fault handler, on the mock IOMMU of
 * the KUnit suite.  Built in; runs when the kernel is booted with
 * iopf_bench.run=1 and prints one line per point:
 *
 *   iopf_bench: <scenario> <param>=<value> ns=<median> [floor_ns=<z>]
 *               [p99_ns=<p>] [per_s=<n>] [...]
 *
 * Scenarios:
 *   calib       time of a fixed loop on the reporting CPU (C=0) and on a
 *               workers' CPU (C=1): the speed of the boot
 *   report      cost of reporting one last request while P partial
 *               requests of other groups are outstanding on the device;
 *               floor_ns is iommu_report_device_fault() of the same
 *               request to a handler that keeps nothing (iommu.c alone)
 *   report_busy cost of reporting one last request while the device's
 *               earlier groups (G of them) wait for the worker; floor_ns
 *               as for report
 *   wake        cost of queue_work() waking an idle worker on another CPU
 *               (the platform's, not the handler's: for reading "report");
 *               run_ns, the time until that worker runs
 *   respond     cost of iommu_page_response() with P reports pending
 *   group       per-fault cost of servicing a group of F faults on fresh
 *               pages, from the last request to the answer (reporting the
 *               partial requests is what "report" measures); floor_ns is
 *               handle_mm_fault() called directly on the same kind of
 *               pages under one mmap_read_lock, in the same kernel;
 *               worker_floor_ns the same on a workers' CPU
 *   contended   group F=32 while a thread of the same process loops on
 *               mmap()/munmap() of another range (mmap_lock taken for
 *               writing) on the reporting CPU; the reporting thread
 *               sleeps until each answer (timed when the mock gets it),
 *               so the writer has that CPU while the device faults;
 *               writer_per_s is the writer's rate meanwhile,
 *               writer_alone_per_s its rate before, with no fault to handle
 *   latency     report-to-answer time of one isolated fault (median, p99):
 *               each reported once the previous one is answered, on a
 *               queue with nothing else to do (a pause before each would
 *               measure how long QEMU takes to wake an idle vCPU: about
 *               1 ms under TCG, for both handlers)
 *   throughput  faults answered per second with D devices on one queue
 *               (min_ns and max_ns: the fastest and slowest of the runs)
 *   latency_inline, throughput_inline
 *               the same with io_pgfault.inline_faults=1, where the handler
 *               has that parameter (ours): single-fault groups handled in
 *               the reporting thread
 *   group_inline
 *               group F=32 with io_pgfault.inline_faults=32 (ours): the
 *               whole group handled in the reporting thread
 *   memory      slab bytes per outstanding partial request and per
 *               in-flight group (N of each); threads is how many kernel
 *               threads were started meanwhile (workqueue workers)
 *
 * The reporting thread runs on CPU 0 and the unbound workqueues' workers
 * on the other CPUs (when there are others).  Times are local_clock()
 * differences on one CPU: cheap to read, where ktime_get_ns() reads the
 * HPET in an SMP guest under QEMU TCG (its TSCs are marked unstable).  The benchmark only uses the
 * handler's API, so the same file measures upstream's handler and ours.
 */

#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/moduleparam.h>
#include <linux/sched/clock.h>
#include <linux/sched/mm.h>
#include <linux/sched/stat.h>
#include <linux/vmstat.h>
#include <linux/workqueue.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/stringify.h>

#include "../../drivers/iommu/iommu-sva-lib.h"
#include "iopf_mock.h"

static bool iopf_bench_run;
module_param_named(run, iopf_bench_run, bool, 0444);
MODULE_PARM_DESC(run, "Run the I/O page fault benchmark at boot");

static char *iopf_bench_only;
module_param_named(only, iopf_bench_only, charp, 0444);
MODULE_PARM_DESC(only,
		 "Run only these scenarios (comma-separated names, e.g. report,wake; default: all)");

#define BENCH_REPS		63	/* samples per point: odd, for a median */
#define BENCH_TIMEOUT		(10 * HZ)
#define BENCH_FLAGS		(IOMMU_FAULT_PAGE_REQUEST_PASID_VALID | \
				 IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID)
#define BENCH_LAST		IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE
#define BENCH_INLINE		"io_pgfault.inline_faults"

static const unsigned int bench_p[] = { 1, 32, 128, 512, 2048 };
static const unsigned int bench_f[] = { 1, 8, 32, 128 };
static const unsigned int bench_d[] = { 1, 4, 16 };

struct bench {
	struct mm_struct *mm;
	struct iopf_queue *queue;
	u64 samples[256];
};

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Sort @n samples; return the median. */
static u64 median(u64 *s, unsigned int n)
{
	sort(s, n, sizeof(*s), cmp_u64, NULL);
	return s[n / 2];
}

/* Wait for @mock's @n-th answer without sleeping: see iopf_mock_poll(). */
static int bench_poll(struct iopf_mock *mock, unsigned int n)
{
	return iopf_mock_poll(mock, n, BENCH_TIMEOUT);
}

static struct iopf_mock *bench_device(struct bench *b)
{
	struct iopf_mock *mock = iopf_mock_create(iommu_queue_iopf);

	if (mock && iopf_queue_add_device(b->queue, mock->dev)) {
		iopf_mock_destroy(mock);
		mock = NULL;
	}
	return mock;
}

static void bench_device_free(struct bench *b, struct iopf_mock *mock)
{
	iopf_queue_remove_device(b->queue, mock->dev);
	iopf_mock_destroy(mock);
}

/* @pages of fresh read-write memory, or 0. */
static unsigned long bench_mmap(unsigned int pages)
{
	unsigned long addr;

	addr = iopf_mock_mmap((unsigned long)pages * PAGE_SIZE,
			      PROT_READ | PROT_WRITE, 0);
	return IS_ERR_VALUE(addr) ? 0 : addr;
}

/* Report @n requests with @flags, of group ids @grpid, @grpid + 1, ... */
static int bench_fill(struct iopf_mock *mock, unsigned int n, u32 flags,
		      u32 pasid, u32 grpid)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < n && !ret; i++)
		ret = iopf_mock_report(mock, IOMMU_FAULT_PAGE_REQ, flags,
				       pasid, grpid + i,
				       IOMMU_FAULT_PERM_READ, 0);
	return ret;
}

#define CALIB_REPS	15
#define CALIB_WORDS	4096

/*
 * One pass of a fixed loop of arithmetic and memory writes: how fast this
 * boot runs on this CPU (under QEMU TCG, whole boots run up to twice as
 * fast or slow as others: bench-merge.py scales each boot's figures by
 * it).
 */
static u64 bench_calib_once(u32 *buf)
{
	u32 x = 2463534242U;
	unsigned int i;
	u64 t0 = local_clock();

	for (i = 0; i < 100000; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		WRITE_ONCE(buf[x % CALIB_WORDS], buf[x % CALIB_WORDS] + i);
	}
	return local_clock() - t0;
}

/* The loop's median time, in *@data (a u64), on the calling CPU. */
static int bench_calib_fn(void *data)
{
	u32 *buf = kcalloc(CALIB_WORDS, sizeof(*buf), GFP_KERNEL);
	u64 s[CALIB_REPS];
	unsigned int i;

	if (!buf)
		return -ENOMEM;
	for (i = 0; i < CALIB_REPS; i++)
		s[i] = bench_calib_once(buf);
	*(u64 *)data = median(s, CALIB_REPS);
	kfree(buf);
	return 0;
}

/* calib: the loop's median time here (C=0) and on a workers' CPU (C=1). */
static int bench_calib(void)
{
	const int cpu[] = { raw_smp_processor_id(), iopf_mock_other_cpu() };
	unsigned int c;
	int ret = 0;
	u64 ns;

	for (c = 0; c < ARRAY_SIZE(cpu) && cpu[c] < nr_cpu_ids && !ret; c++) {
		ret = iopf_mock_call_on(cpu[c], bench_calib_fn, &ns,
					"iopf-bench-calib");
		if (!ret)
			pr_info("iopf_bench: calib C=%u ns=%llu\n", c, ns);
	}
	return ret;
}

/* An empty work item: it only notes when it ran. */
struct bench_nop {
	struct work_struct work;
	u64 ran_ns;
};

static void bench_nop_fn(struct work_struct *work)
{
	container_of(work, struct bench_nop, work)->ran_ns = local_clock();
}

/*
 * wake: the cost of queue_work() of an empty work item on an idle unbound
 * workqueue (its worker asleep on another CPU): what any handler that
 * hands a group to a worker pays in the reporting thread; run_ns, from
 * queue_work() until the work item runs (local_clock() of two CPUs: the
 * benchmark boots with tsc=reliable).
 */
static int bench_wake(struct bench *b)
{
	struct workqueue_struct *wq = alloc_workqueue("iopf_bench", WQ_UNBOUND,
						      0);
	struct bench_nop nop = { };
	u64 t0, run[BENCH_REPS];
	unsigned int i;

	if (!wq)
		return -ENOMEM;
	INIT_WORK_ONSTACK(&nop.work, bench_nop_fn);
	for (i = 0; i < BENCH_REPS; i++) {
		/* Let the worker go back to sleep; this CPU stays busy. */
		t0 = local_clock();
		while (local_clock() - t0 < 2 * NSEC_PER_MSEC)
			cpu_relax();
		t0 = local_clock();
		queue_work(wq, &nop.work);
		b->samples[i] = local_clock() - t0;
		flush_work(&nop.work);
		run[i] = nop.ran_ns > t0 ? nop.ran_ns - t0 : 0;
	}
	destroy_work_on_stack(&nop.work);
	destroy_workqueue(wq);
	pr_info("iopf_bench: wake W=1 ns=%llu run_ns=%llu\n",
		median(b->samples, BENCH_REPS), median(run, BENCH_REPS));
	return 0;
}

/* What bench_time_reports() does after each report. */
enum bench_settle {
	BENCH_RESPOND,	/* answer it: the floor's handler keeps nothing */
	BENCH_POLL,	/* wait for the handler's answer */
	BENCH_KEEP,	/* leave it queued */
};

/*
 * Time BENCH_REPS reports of a last request without PASID (answered
 * INVALID without touching the mm), of group ids @grpid on, each settled
 * as @settle says; the median in @ns.
 */
static int bench_time_reports(struct bench *b, struct iopf_mock *mock,
			      u32 grpid, enum bench_settle settle, u64 *ns)
{
	unsigned int n = iopf_mock_count(mock), i;
	int ret = 0;
	u64 t0;

	for (i = 0; i < BENCH_REPS && !ret; i++) {
		t0 = local_clock();
		ret = iopf_mock_report(mock, IOMMU_FAULT_PAGE_REQ, BENCH_LAST,
				       0, grpid + i, IOMMU_FAULT_PERM_READ, 0);
		b->samples[i] = local_clock() - t0;
		if (ret || settle == BENCH_KEEP)
			continue;
		if (settle == BENCH_RESPOND)
			ret = iopf_mock_respond(mock, grpid + i, 0, false);
		else
			ret = bench_poll(mock, n + i + 1);
	}
	if (!ret)
		*ns = median(b->samples, BENCH_REPS);
	return ret;
}

/*
 * report's floor: the same reports through iommu.c to a handler that keeps
 * nothing (iommu.c keeps the last request pending: answered, untimed).
 */
static int bench_report_floor(struct bench *b, unsigned int p, u64 *ns)
{
	struct iopf_mock *mock = iopf_mock_create(iopf_mock_keep);
	int ret;

	if (!mock)
		return -ENOMEM;
	ret = bench_fill(mock, p, BENCH_FLAGS, b->mm->pasid, 100000);
	if (!ret)
		ret = bench_time_reports(b, mock, 0, BENCH_RESPOND, ns);
	iopf_mock_destroy(mock);
	return ret;
}

/* report: one last request with @p partial requests of other groups kept */
static int bench_report(struct bench *b, unsigned int p)
{
	struct iopf_mock *mock;
	u64 ns, floor = 0;
	int ret;

	ret = bench_report_floor(b, p, &floor);
	if (ret)
		return ret;
	mock = bench_device(b);
	if (!mock)
		return -ENOMEM;
	ret = bench_fill(mock, p, BENCH_FLAGS, b->mm->pasid, 100000);
	if (!ret)
		ret = bench_time_reports(b, mock, 0, BENCH_POLL, &ns);
	if (!ret && p)
		pr_info("iopf_bench: report P=%u ns=%llu floor_ns=%llu\n", p, ns,
			floor);
	iopf_queue_discard_partial(b->queue);
	bench_device_free(b, mock);
	return ret;
}

/*
 * report_busy: one last request while the device's earlier groups wait
 * for the worker (held off by the process's mmap_lock, taken for writing
 * here): the report path as a busy device sees it, no worker to wake.
 */
static int bench_report_busy(struct bench *b)
{
	struct iopf_mock *mock;
	unsigned long addr;
	u64 ns, floor = 0;
	int ret;

	ret = bench_report_floor(b, 0, &floor);
	if (ret)
		return ret;
	addr = bench_mmap(1);
	mock = bench_device(b);
	if (!mock || !addr) {
		ret = -ENOMEM;
		goto out;
	}
	mmap_write_lock(b->mm);
	/* The first group takes the worker, which waits for mmap_lock. */
	ret = iopf_mock_report(mock, IOMMU_FAULT_PAGE_REQ,
			       BENCH_FLAGS | BENCH_LAST, b->mm->pasid, 0,
			       IOMMU_FAULT_PERM_WRITE, addr);
	if (!ret)
		ret = bench_time_reports(b, mock, 1, BENCH_KEEP, &ns);
	mmap_write_unlock(b->mm);
	if (!ret)
		ret = bench_poll(mock, BENCH_REPS + 1);
	if (!ret)
		pr_info("iopf_bench: report_busy G=%u ns=%llu floor_ns=%llu\n",
			BENCH_REPS, ns, floor);
out:
	if (mock)
		bench_device_free(b, mock);
	if (addr)
		vm_munmap(addr, PAGE_SIZE);
	return ret;
}

/* respond: iommu_page_response() with @p reports pending */
static int bench_respond(struct bench *b, unsigned int p)
{
	struct iopf_mock *mock = iopf_mock_create(iopf_mock_keep);
	unsigned int i;
	u64 t0;
	int ret = 0;

	if (!mock)
		return -ENOMEM;
	ret = bench_fill(mock, p, BENCH_LAST, 0, 0);
	for (i = 0; i < BENCH_REPS && !ret; i++) {
		/* Answer the newest report, then make it pending again. */
		t0 = local_clock();
		ret = iopf_mock_respond(mock, p - 1, 0, false);
		b->samples[i] = local_clock() - t0;
		if (!ret)
			ret = bench_fill(mock, 1, BENCH_LAST, 0, p - 1);
	}
	if (!ret)
		pr_info("iopf_bench: respond P=%u ns=%llu\n", p,
			median(b->samples, BENCH_REPS));
	for (i = 0; i < p; i++)
		iopf_mock_respond(mock, i, 0, false);
	iopf_mock_destroy(mock);
	return ret;
}

/* Fault @f fresh pages directly, under one mmap_read_lock: the floor. */
static int bench_floor(struct bench *b, unsigned int f, u64 *ns)
{
	unsigned long addr = bench_mmap(f);
	struct vm_area_struct *vma;
	unsigned int i;
	int ret = 0;
	u64 t0;

	if (!addr)
		return -ENOMEM;
	t0 = local_clock();
	mmap_read_lock(b->mm);
	vma = vma_lookup(b->mm, addr);
	for (i = 0; i < f && vma; i++) {
		if (handle_mm_fault(vma, addr + i * PAGE_SIZE,
				    FAULT_FLAG_REMOTE | FAULT_FLAG_WRITE |
				    FAULT_FLAG_USER, NULL) & VM_FAULT_ERROR)
			ret = -EFAULT;
	}
	mmap_read_unlock(b->mm);
	*ns = local_clock() - t0;
	vm_munmap(addr, (unsigned long)f * PAGE_SIZE);
	return vma ? ret : -EFAULT;
}

/* The mock's hook: note when the device got its answer (in mock->priv). */
static void bench_note_answer(struct iopf_mock *mock,
			      const struct iommu_page_response *msg)
{
	WRITE_ONCE(*(u64 *)mock->priv, local_clock());
}

/*
 * Report a group of @f write faults on fresh pages; wait for the answer,
 * spinning, or sleeping when @mock notes its answers' time (contended).
 */
static int bench_group_once(struct bench *b, struct iopf_mock *mock,
			    unsigned int f, u32 grpid, u64 *ns)
{
	unsigned long addr = bench_mmap(f);
	unsigned int n = iopf_mock_count(mock), i;
	u64 t0 = 0;
	int ret = 0;

	if (!addr)
		return -ENOMEM;
	for (i = 0; i < f && !ret; i++) {
		if (i == f - 1)
			t0 = local_clock();
		ret = iopf_mock_report(mock, IOMMU_FAULT_PAGE_REQ,
				       BENCH_FLAGS |
				       (i == f - 1 ? BENCH_LAST : 0),
				       b->mm->pasid, grpid,
				       IOMMU_FAULT_PERM_WRITE,
				       addr + i * PAGE_SIZE);
	}
	if (!ret && !mock->hook)
		ret = bench_poll(mock, n + 1);
	else if (!ret && iopf_mock_wait(mock, n + 1, BENCH_TIMEOUT) <= n)
		ret = -ETIMEDOUT;
	*ns = (mock->hook ? READ_ONCE(*(u64 *)mock->priv) : local_clock()) - t0;
	if (!ret && mock->resp[n % IOPF_MOCK_MAX_RESP].code !=
	    IOMMU_PAGE_RESP_SUCCESS && n < IOPF_MOCK_MAX_RESP)
		ret = -EFAULT;
	vm_munmap(addr, (unsigned long)f * PAGE_SIZE);
	return ret;
}

#define GROUP_REPS	31

/* bench_floor() for a thread of the process, maybe on another CPU. */
struct bench_floor_on {
	struct bench *b;
	unsigned int f;
	u64 ns;
};

static int bench_floor_fn(void *data)
{
	struct bench_floor_on *fo = data;
	bool use = current->mm != fo->b->mm;
	int ret;

	if (use)
		kthread_use_mm(fo->b->mm);
	ret = bench_floor(fo->b, fo->f, &fo->ns);
	if (use)
		kthread_unuse_mm(fo->b->mm);
	return ret;
}

/* bench_floor() on @cpu (where the workers run), or here when none. */
static int bench_floor_cpu(struct bench *b, unsigned int f, int cpu, u64 *ns)
{
	struct bench_floor_on fo = { .b = b, .f = f };
	int ret = iopf_mock_call_on(cpu, bench_floor_fn, &fo,
				    "iopf-bench-floor");

	*ns = fo.ns;
	return ret;
}

/*
 * Per-fault medians of GROUP_REPS groups of @f faults, and of the floor
 * on this CPU; with @wfloor_ns, also of the floor on a workers' CPU.
 * With @sleep, the reporting thread sleeps until each answer, timed by
 * the mock (bench_note_answer()).
 */
static int bench_groups(struct bench *b, unsigned int f, bool sleep, u64 *ns,
			u64 *floor_ns, u64 *wfloor_ns)
{
	struct iopf_mock *mock = bench_device(b);
	u64 floor[GROUP_REPS], wfloor[GROUP_REPS], answered_ns = 0;
	unsigned int i;
	int ret = 0;

	if (!mock)
		return -ENOMEM;
	if (sleep) {
		mock->priv = &answered_ns;
		mock->hook = bench_note_answer;
	}
	for (i = 0; i < GROUP_REPS && !ret; i++) {
		ret = bench_group_once(b, mock, f, i, &b->samples[i]);
		if (!ret)
			ret = bench_floor(b, f, &floor[i]);
		if (!ret && wfloor_ns)
			ret = bench_floor_cpu(b, f, iopf_mock_other_cpu(),
					      &wfloor[i]);
	}
	if (!ret) {
		*ns = div_u64(median(b->samples, GROUP_REPS), f);
		*floor_ns = div_u64(median(floor, GROUP_REPS), f);
		if (wfloor_ns)
			*wfloor_ns = div_u64(median(wfloor, GROUP_REPS), f);
	}
	bench_device_free(b, mock);
	return ret;
}

/*
 * group: per-fault cost of a group of @f faults, and the floor, here and
 * on a workers' CPU (worker_floor_ns)
 */
static int bench_group(struct bench *b, const char *name, unsigned int f)
{
	u64 ns, floor, wfloor;
	int ret = bench_groups(b, f, false, &ns, &floor, &wfloor);

	if (!ret)
		pr_info("iopf_bench: %s F=%u ns=%llu floor_ns=%llu worker_floor_ns=%llu\n",
			name, f, ns, floor, wfloor);
	return ret;
}

/* A thread of the benchmark's process that maps and unmaps in a loop. */
struct bench_writer {
	struct mm_struct *mm;
	unsigned long loops;
};

static int bench_writer_fn(void *data)
{
	struct bench_writer *w = data;
	unsigned long addr, len = 16 * PAGE_SIZE;

	kthread_use_mm(w->mm);
	while (!kthread_should_stop()) {
		addr = vm_mmap(NULL, 0, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, 0);
		if (!IS_ERR_VALUE(addr))
			vm_munmap(addr, len);
		WRITE_ONCE(w->loops, w->loops + 1);
		cond_resched();
	}
	kthread_unuse_mm(w->mm);
	return 0;
}

#define CONTENDED_F	32
#define CONTENDED_ALONE_MS	100

/*
 * contended: group F=32 while another thread of the process takes
 * mmap_lock for writing in a loop (on the reporting CPU: the workers have
 * the others); its rate meanwhile says whether the faults starve it.  The
 * reporting thread sleeps while each group is handled: spinning, it would
 * share the CPU with the writer, which would then loop during some groups
 * only (the median group would be an uncontended one).
 */
static int bench_contended(struct bench *b)
{
	struct bench_writer w = { .mm = b->mm };
	struct task_struct *task;
	u64 ns = 0, floor = 0, t0, dt, alone;
	unsigned long loops;
	int ret;

	task = iopf_mock_run_on(raw_smp_processor_id(), bench_writer_fn, &w,
				"iopf-bench-writer");
	if (IS_ERR(task))
		return PTR_ERR(task);
	/* The writer's rate with no fault to handle, this thread asleep. */
	t0 = local_clock();
	msleep(CONTENDED_ALONE_MS);
	loops = READ_ONCE(w.loops);
	alone = div64_u64((u64)loops * NSEC_PER_SEC, local_clock() - t0);
	t0 = local_clock();
	ret = bench_groups(b, CONTENDED_F, true, &ns, &floor, NULL);
	dt = local_clock() - t0;
	loops = READ_ONCE(w.loops) - loops;
	kthread_stop(task);
	if (!ret)
		pr_info("iopf_bench: contended F=%u ns=%llu floor_ns=%llu writer_per_s=%llu writer_alone_per_s=%llu\n",
			CONTENDED_F, ns, floor,
			div64_u64((u64)loops * NSEC_PER_SEC, dt ?: 1), alone);
	return ret;
}

#define LATENCY_REPS	401

/* latency: report-to-answer of one isolated fault, median and p99 */
static int bench_latency(struct bench *b, const char *name)
{
	struct iopf_mock *mock = bench_device(b);
	unsigned long addr = bench_mmap(LATENCY_REPS);
	u64 *s = kcalloc(LATENCY_REPS, sizeof(*s), GFP_KERNEL);
	unsigned int i;
	int ret = 0;
	u64 t0;

	if (!mock || !addr || !s) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < LATENCY_REPS && !ret; i++) {
		t0 = local_clock();
		ret = iopf_mock_report(mock, IOMMU_FAULT_PAGE_REQ,
				       BENCH_FLAGS | BENCH_LAST, b->mm->pasid,
				       i, IOMMU_FAULT_PERM_WRITE,
				       addr + i * PAGE_SIZE);
		if (!ret)
			ret = bench_poll(mock, i + 1);
		s[i] = local_clock() - t0;
	}
	if (!ret) {
		sort(s, LATENCY_REPS, sizeof(*s), cmp_u64, NULL);
		pr_info("iopf_bench: %s fault=1 ns=%llu p99_ns=%llu\n", name,
			s[LATENCY_REPS / 2], s[LATENCY_REPS * 99 / 100]);
	}
out:
	kfree(s);
	if (addr)
		vm_munmap(addr, (unsigned long)LATENCY_REPS * PAGE_SIZE);
	if (mock)
		bench_device_free(b, mock);
	return ret;
}

#define TPUT_GROUPS	512
#define TPUT_REPS	9

/* One run: TPUT_GROUPS single-fault groups spread over @d devices. */
static int bench_tput_once(struct bench *b, struct iopf_mock **m,
			   unsigned int d, u64 *ns)
{
	unsigned long addr = bench_mmap(TPUT_GROUPS);
	unsigned int base[16], i;
	int ret = 0;
	u64 t0;

	if (!addr)
		return -ENOMEM;
	for (i = 0; i < d; i++)
		base[i] = iopf_mock_count(m[i]);
	t0 = local_clock();
	for (i = 0; i < TPUT_GROUPS && !ret; i++)
		ret = iopf_mock_report(m[i % d], IOMMU_FAULT_PAGE_REQ,
				       BENCH_FLAGS | BENCH_LAST, b->mm->pasid,
				       i, IOMMU_FAULT_PERM_WRITE,
				       addr + i * PAGE_SIZE);
	for (i = 0; i < d && !ret; i++)
		ret = bench_poll(m[i], base[i] + TPUT_GROUPS / d);
	*ns = local_clock() - t0;
	vm_munmap(addr, (unsigned long)TPUT_GROUPS * PAGE_SIZE);
	return ret;
}

/* throughput: faults answered per second with @d devices on one queue */
static int bench_throughput(struct bench *b, const char *name, unsigned int d)
{
	struct iopf_mock *m[16] = { };
	unsigned int i;
	u64 ns;
	int ret = 0;

	for (i = 0; i < d && !ret; i++) {
		m[i] = bench_device(b);
		if (!m[i])
			ret = -ENOMEM;
	}
	for (i = 0; i < TPUT_REPS && !ret; i++)
		ret = bench_tput_once(b, m, d, &b->samples[i]);
	if (!ret) {
		ns = median(b->samples, TPUT_REPS);
		pr_info("iopf_bench: %s D=%u ns=%llu per_s=%llu min_ns=%llu max_ns=%llu\n",
			name, d, ns,
			div64_u64((u64)TPUT_GROUPS * NSEC_PER_SEC, ns),
			b->samples[0], b->samples[TPUT_REPS - 1]);
	}
	for (i = 0; i < d; i++) {
		if (m[i])
			bench_device_free(b, m[i]);
	}
	return ret;
}

#define MEM_N		4096
#define MEM_DEVS	2

/*
 * Slab in use, in bytes: the nodes' counters plus what each CPU has not
 * folded into them yet (a benchmark's racy read).
 */
static long bench_slab_bytes(void)
{
	struct per_cpu_nodestat *pcp;
	long pages = 0;
	int nid, cpu;

	for_each_online_node(nid) {
		pg_data_t *pgdat = NODE_DATA(nid);

		pages += node_page_state_pages(pgdat, NR_SLAB_UNRECLAIMABLE_B);
		pages += node_page_state_pages(pgdat, NR_SLAB_RECLAIMABLE_B);
		for_each_online_cpu(cpu) {
			pcp = per_cpu_ptr(pgdat->per_cpu_nodestats, cpu);
			/*
			 * Racy: each CPU updates its own without a lock.
			 * A benchmark's read may be off by an update.
			 */
			pages += data_race(pcp->vm_node_stat_diff[NR_SLAB_UNRECLAIMABLE_B] +
					   pcp->vm_node_stat_diff[NR_SLAB_RECLAIMABLE_B]);
		}
	}
	return pages << PAGE_SHIFT;
}

/*
 * memory: slab bytes per partial request (MEM_N of distinct groups, kept
 * by one device) and per in-flight group (MEM_N single-fault groups of
 * MEM_DEVS devices, held behind the process's mmap_lock taken for
 * writing), with the kernel threads started meanwhile.
 */
static int bench_memory(struct bench *b)
{
	unsigned long addr = bench_mmap(MEM_N);
	struct iopf_mock *m[MEM_DEVS] = { };
	long before, partial = 0, group = 0;
	int threads = 0, i, ret = 0;

	if (!addr)
		return -ENOMEM;
	for (i = 0; i < MEM_DEVS && !ret; i++) {
		m[i] = bench_device(b);
		if (!m[i])
			ret = -ENOMEM;
	}
	if (!ret) {
		before = bench_slab_bytes();
		ret = bench_fill(m[0], MEM_N, BENCH_FLAGS, b->mm->pasid, 0);
		partial = bench_slab_bytes() - before;
		iopf_queue_discard_partial(b->queue);
	}
	if (!ret) {
		mmap_write_lock(b->mm);
		threads = nr_threads;
		before = bench_slab_bytes();
		for (i = 0; i < MEM_N && !ret; i++)
			ret = iopf_mock_report(m[i % MEM_DEVS],
					       IOMMU_FAULT_PAGE_REQ,
					       BENCH_FLAGS | BENCH_LAST,
					       b->mm->pasid, i,
					       IOMMU_FAULT_PERM_WRITE,
					       addr + i * PAGE_SIZE);
		group = bench_slab_bytes() - before;
		threads = nr_threads - threads;
		mmap_write_unlock(b->mm);
		for (i = 0; i < MEM_DEVS && !ret; i++)
			ret = bench_poll(m[i], MEM_N / MEM_DEVS);
	}
	if (!ret)
		pr_info("iopf_bench: memory N=%u partial_bytes=%ld group_bytes=%ld threads=%d\n",
			MEM_N, partial / MEM_N, group / MEM_N, threads);
	for (i = 0; i < MEM_DEVS; i++) {
		if (m[i])
			bench_device_free(b, m[i]);
	}
	vm_munmap(addr, (unsigned long)MEM_N * PAGE_SIZE);
	return ret;
}

/* Whether scenario @name runs: every one, unless iopf_bench.only names others. */
static bool bench_on(const char *name)
{
	const char *s = iopf_bench_only;
	size_t len = strlen(name);

	if (!s || !*s)
		return true;
	while (s) {
		if (!strncmp(s, name, len) && (s[len] == ',' || !s[len]))
			return true;
		s = strchr(s, ',');
		if (s)
			s++;
	}
	return false;
}

static int bench_all(struct bench *b)
{
	unsigned int i;
	int ret = 0;

	ret = bench_calib();
	/* Warm up (slab caches, workqueue workers); P=0 prints nothing. */
	if (!ret)
		ret = bench_report(b, 0);
	if (!ret && bench_on("wake"))
		ret = bench_wake(b);
	for (i = 0; i < ARRAY_SIZE(bench_p) && !ret && bench_on("report"); i++)
		ret = bench_report(b, bench_p[i]);
	if (!ret && bench_on("report_busy"))
		ret = bench_report_busy(b);
	for (i = 0; i < ARRAY_SIZE(bench_p) && !ret && bench_on("respond"); i++)
		ret = bench_respond(b, bench_p[i]);
	for (i = 0; i < ARRAY_SIZE(bench_f) && !ret && bench_on("group"); i++)
		ret = bench_group(b, "group", bench_f[i]);
	if (!ret && bench_on("contended"))
		ret = bench_contended(b);
	if (!ret && bench_on("latency"))
		ret = bench_latency(b, "latency");
	for (i = 0; i < ARRAY_SIZE(bench_d) && !ret && bench_on("throughput");
	     i++)
		ret = bench_throughput(b, "throughput", bench_d[i]);
	if (!ret && bench_on("memory"))
		ret = bench_memory(b);
	/*
	 * Ours only: single-fault groups handled in the reporting thread
	 * (io_pgfault.inline_faults=1), where the handler has that option.
	 */
	if (!ret && bench_on("inline") &&
	    !iopf_mock_set_param(BENCH_INLINE, "1")) {
		ret = bench_latency(b, "latency_inline");
		for (i = 0; i < ARRAY_SIZE(bench_d) && !ret; i++)
			ret = bench_throughput(b, "throughput_inline",
					       bench_d[i]);
		/* Groups of 32 faults in the reporting thread. */
		if (!ret)
			ret = iopf_mock_set_param(BENCH_INLINE,
						  __stringify(CONTENDED_F));
		if (!ret)
			ret = bench_group(b, "group_inline", CONTENDED_F);
		iopf_mock_set_param(BENCH_INLINE, "0");
	}
	return ret;
}

static int bench_thread(void *data)
{
	struct completion *done = data;
	struct bench *b;
	int ret = -ENOMEM;

	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		goto out;
	b->queue = iopf_queue_alloc("bench");
	b->mm = iopf_mock_mm_create();
	if (b->queue && b->mm)
		ret = bench_all(b);
	iopf_queue_free(b->queue);
	iopf_mock_mm_destroy(b->mm);
	kfree(b);
out:
	pr_info("iopf_bench: done (%d)\n", ret);
	complete(done);
	return 0;
}

static int __init iopf_bench_init(void)
{
	DECLARE_COMPLETION_ONSTACK(done);
	struct task_struct *task;
	const int cpu = 0;

	if (!iopf_bench_run)
		return 0;
	/* The unbound workqueues' workers (upstream's and ours) elsewhere. */
	if (iopf_mock_workers_off(cpu))
		pr_info("iopf_bench: workers not moved off the reporting CPU\n");
	task = iopf_mock_run_on(cpu, bench_thread, &done, "iopf-bench");
	if (!IS_ERR(task))
		wait_for_completion(&done);
	iopf_mock_workers_off(-1);
	return PTR_ERR_OR_ZERO(task);
}
late_initcall(iopf_bench_init);
