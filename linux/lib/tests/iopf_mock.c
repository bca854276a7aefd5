// SPDX-License-Identifier: GPL-2.0
/*
 * Mock IOMMU for the I/O page fault handler's KUnit suite and benchmark.
 *
 * A mock device is a root device with a hand-built struct dev_iommu whose
 * IOMMU ops only have ->page_response(), which records every answer.  It
 * is never registered with iommu_device_register(): on 6.1 that would
 * claim the PCI and platform buses.  Page requests go through
 * iommu_report_device_fault() exactly as an IOMMU driver sends them.
 *
 * The mock IOMMU also binds address spaces as SMMUv3 and VT-d do
 * (->sva_bind(), ->sva_unbind(), ->sva_get_pasid()), for a mock device put
 * in an iommu_group of its own by iopf_mock_sva_enable().  Lock order:
 * the group's mutex (iommu_sva_bind_device()), then sva_lock, then
 * mmap_lock (mmu_notifier_register()); unbind drops sva_lock before it
 * stops the bond (mock->sva_rwsem, which page requests of bonds hold for
 * reading around iommu_report_device_fault()), flushes and unregisters
 * the notifier, whose ->release() takes mock->sva_rwsem.
 *
 * An address space for the mock's faults: mm_alloc(), a PASID bound with
 * iommu_sva_alloc_pasid() and the mm used by the calling kthread, so that
 * vm_mmap() maps into it.  Built in only: mm_alloc() and
 * arch_pick_mmap_layout() are not exported.
 */

#include <linux/completion.h>
#include <linux/device.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/sched/isolation.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "../../drivers/iommu/iommu-sva-lib.h"
#include "iopf_mock.h"

static struct iopf_mock *to_mock(struct device *dev)
{
	return container_of(dev->iommu, struct iopf_mock, iommu);
}

static int iopf_mock_page_response(struct device *dev,
				   struct iommu_fault_event *evt,
				   struct iommu_page_response *msg)
{
	struct iopf_mock *mock = to_mock(dev);

	if (mock->hook)
		mock->hook(mock, msg);

	spin_lock(&mock->lock);
	if (mock->nr_resp < IOPF_MOCK_MAX_RESP)
		mock->resp[mock->nr_resp] = *msg;
	mock->nr_resp++;
	spin_unlock(&mock->lock);
	wake_up_all(&mock->answered);
	return 0;
}

/* SMMUv3's sva_lock: protects every mock's bonds and their refs. */
static DEFINE_MUTEX(sva_lock);

static struct iopf_mock_bond *to_bond(struct iommu_sva *handle)
{
	return container_of(handle, struct iopf_mock_bond, sva);
}

/* Stop the device's page requests for @bond, once those in flight end. */
static void iopf_mock_bond_stop(struct iopf_mock_bond *bond, bool release)
{
	down_write(&bond->mock->sva_rwsem);
	bond->live = false;
	if (release)
		bond->released = true;
	up_write(&bond->mock->sva_rwsem);
}

/* The bound mm exits: clear the PASID's entry, as arm_smmu_mm_release(). */
static void iopf_mock_bond_release(struct mmu_notifier *mn,
				   struct mm_struct *mm)
{
	iopf_mock_bond_stop(container_of(mn, struct iopf_mock_bond, mn), true);
}

static const struct mmu_notifier_ops iopf_mock_bond_ops = {
	.release = iopf_mock_bond_release,
};

/*
 * As __arm_smmu_sva_bind() and intel_svm_bind(): one bond per device and
 * mm, counted; the mm's PASID from iommu_sva_alloc_pasid(); a notifier on
 * the mm.  Called under the group's mutex.
 */
static struct iommu_sva *iopf_mock_sva_bind(struct device *dev,
					    struct mm_struct *mm,
					    void *drvdata)
{
	struct iopf_mock *mock = to_mock(dev);
	struct iopf_mock_bond *bond;
	int ret;

	mutex_lock(&sva_lock);
	list_for_each_entry(bond, &mock->bonds, node) {
		if (bond->mm == mm) {
			refcount_inc(&bond->refs);
			goto out_unlock;
		}
	}

	bond = kzalloc(sizeof(*bond), GFP_KERNEL);
	if (!bond) {
		ret = -ENOMEM;
		goto err_unlock;
	}
	ret = iommu_sva_alloc_pasid(mm, 1, (1U << 20) - 1);
	if (ret)
		goto err_free;
	bond->mn.ops = &iopf_mock_bond_ops;
	ret = mmu_notifier_register(&bond->mn, mm);
	if (ret)
		goto err_free;
	mmgrab(mm);
	bond->mm = mm;
	bond->mock = mock;
	bond->sva.dev = dev;
	refcount_set(&bond->refs, 1);
	bond->live = true;
	list_add(&bond->node, &mock->bonds);
out_unlock:
	mutex_unlock(&sva_lock);
	return &bond->sva;

err_free:
	kfree(bond);
err_unlock:
	mutex_unlock(&sva_lock);
	return ERR_PTR(ret);
}

/*
 * As intel_svm_unbind_mm(): on the last unbind, stop the device's requests
 * for the PASID and wait for those in flight (the drain), wait until the
 * handler answered every group (iopf_queue_flush_dev()), and only then let
 * go of the mm, and with it of the PASID.
 */
static void iopf_mock_sva_unbind(struct iommu_sva *handle)
{
	struct iopf_mock_bond *bond = to_bond(handle);

	mutex_lock(&sva_lock);
	if (!refcount_dec_and_test(&bond->refs)) {
		mutex_unlock(&sva_lock);
		return;
	}
	/* The device may still try the handle: it gets -ESRCH. */
	list_move(&bond->node, &bond->mock->dead);
	mutex_unlock(&sva_lock);

	iopf_mock_bond_stop(bond, false);
	iopf_queue_flush_dev(bond->mock->dev);
	mmu_notifier_unregister(&bond->mn, bond->mm);
	mmdrop(bond->mm);
}

static u32 iopf_mock_sva_get_pasid(struct iommu_sva *handle)
{
	return to_bond(handle)->mm->pasid;
}

static const struct iommu_ops iopf_mock_ops = {
	.page_response = iopf_mock_page_response,
	.sva_bind = iopf_mock_sva_bind,
	.sva_unbind = iopf_mock_sva_unbind,
	.sva_get_pasid = iopf_mock_sva_get_pasid,
};

/*
 * The device sends a page request for the PASID of @handle, or cannot
 * (-ESRCH) once the bond is stopped: unbound, or its mm exited.  @handle
 * stays valid until the mock is destroyed.
 */
int iopf_mock_sva_report(struct iommu_sva *handle, u32 grpid, u32 perm,
			 u64 addr, bool last)
{
	struct iopf_mock_bond *bond = to_bond(handle);
	u32 flags = IOMMU_FAULT_PAGE_REQUEST_PASID_VALID |
		    IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID;
	int ret = -ESRCH;

	if (last)
		flags |= IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE;
	down_read(&bond->mock->sva_rwsem);
	if (bond->live)
		ret = iopf_mock_report(bond->mock, IOMMU_FAULT_PAGE_REQ, flags,
				       bond->mm->pasid, grpid, perm, addr);
	up_read(&bond->mock->sva_rwsem);
	return ret;
}

/* Unbind every bond of @mock still bound (a case that failed midway). */
void iopf_mock_sva_unbind_all(struct iopf_mock *mock)
{
	struct iopf_mock_bond *bond;

	for (;;) {
		mutex_lock(&sva_lock);
		bond = list_first_entry_or_null(&mock->bonds,
						struct iopf_mock_bond, node);
		mutex_unlock(&sva_lock);
		if (!bond)
			return;
		iommu_sva_unbind_device(&bond->sva);
	}
}

/* Put @mock in an iommu_group of its own, for iommu_sva_bind_device(). */
int iopf_mock_sva_enable(struct iopf_mock *mock)
{
	struct iommu_group *group;
	int ret;

	group = iommu_group_alloc();
	if (IS_ERR(group))
		return PTR_ERR(group);
	ret = iommu_group_add_device(group, mock->dev);
	if (ret) {
		iommu_group_put(group);
		return ret;
	}
	mock->group = group;
	return 0;
}

/* Number of answers @mock received so far. */
unsigned int iopf_mock_count(struct iopf_mock *mock)
{
	unsigned int n;

	spin_lock(&mock->lock);
	n = mock->nr_resp;
	spin_unlock(&mock->lock);
	return n;
}

/* Wait up to @timeout for @mock to have @n answers; return how many. */
unsigned int iopf_mock_wait(struct iopf_mock *mock, unsigned int n,
			    unsigned long timeout)
{
	wait_event_timeout(mock->answered, iopf_mock_count(mock) >= n,
			   timeout);
	return iopf_mock_count(mock);
}

/*
 * Wait until @mock has @n answers without sleeping (so no wake-up latency
 * is measured, and the next report follows the answer at once, as from a
 * thread spinning on its hardware queue), for @timeout jiffies at most;
 * cond_resched() lets a worker on this CPU run.  Return 0, or -ETIMEDOUT.
 */
int iopf_mock_poll(struct iopf_mock *mock, unsigned int n,
		   unsigned long timeout)
{
	unsigned long deadline = jiffies + timeout;

	while (iopf_mock_count(mock) < n) {
		if (time_after(jiffies, deadline))
			return -ETIMEDOUT;
		cond_resched();
		cpu_relax();
	}
	return 0;
}

/* Report one fault as an IOMMU driver's IRQ thread does. */
int iopf_mock_report(struct iopf_mock *mock, u32 type, u32 flags, u32 pasid,
		     u32 grpid, u32 perm, u64 addr)
{
	struct iommu_fault_event evt = {
		.fault = {
			.type = type,
			.prm = {
				.flags = flags,
				.pasid = pasid,
				.grpid = grpid,
				.perm = perm,
				.addr = addr,
			},
		},
	};

	return iommu_report_device_fault(mock->dev, &evt);
}

/*
 * A fault handler that accepts every request and never answers: the last
 * requests stay pending in iommu.c, for iopf_mock_respond().
 */
int iopf_mock_keep(struct iommu_fault *fault, void *cookie)
{
	return 0;
}

/* Answer SUCCESS through iommu_page_response(), as a handler does. */
int iopf_mock_respond(struct iopf_mock *mock, u32 grpid, u32 pasid,
		      bool pasid_valid)
{
	struct iommu_page_response msg = {
		.version = IOMMU_PAGE_RESP_VERSION_1,
		.flags = pasid_valid ? IOMMU_PAGE_RESP_PASID_VALID : 0,
		.pasid = pasid,
		.grpid = grpid,
		.code = IOMMU_PAGE_RESP_SUCCESS,
	};

	return iommu_page_response(mock->dev, &msg);
}

/* iopf_mock_page_present() with @mm's mmap_lock held, for read or write. */
bool iopf_mock_page_present_locked(struct mm_struct *mm, unsigned long addr,
				   bool write)
{
	bool ret = false;
	pte_t *ptep, pte;
	pgd_t *pgd;
	p4d_t *p4d;
	pud_t *pud;
	pmd_t *pmd;

	mmap_assert_locked(mm);
	pgd = pgd_offset(mm, addr);
	if (pgd_none(*pgd) || pgd_bad(*pgd))
		goto out;
	p4d = p4d_offset(pgd, addr);
	if (p4d_none(*p4d) || p4d_bad(*p4d))
		goto out;
	pud = pud_offset(p4d, addr);
	if (pud_none(*pud) || pud_bad(*pud))
		goto out;
	pmd = pmd_offset(pud, addr);
	if (pmd_none(*pmd) || pmd_bad(*pmd))
		goto out;
	ptep = pte_offset_map(pmd, addr);
	pte = *ptep;
	pte_unmap(ptep);
	ret = pte_present(pte) && (!write || pte_write(pte));
out:
	return ret;
}

/*
 * Is @addr mapped in @mm (and writable, when @write)?  Walks the page table
 * under mmap_lock, as a device's translation would: never faults.
 */
bool iopf_mock_page_present(struct mm_struct *mm, unsigned long addr, bool write)
{
	bool ret;

	mmap_read_lock(mm);
	ret = iopf_mock_page_present_locked(mm, addr, write);
	mmap_read_unlock(mm);
	return ret;
}

/*
 * Make the @nth fault-injected allocation of the current task fail from now
 * on (the handler's allocations are such); 0 stops it.  A no-op without
 * CONFIG_FAULT_INJECTION.
 */
void iopf_mock_fail_nth(unsigned int nth)
{
#ifdef CONFIG_FAULT_INJECTION
	current->fail_nth = nth;
#endif
}

/* Map fresh anonymous memory in the current mm (an error value on failure). */
unsigned long iopf_mock_mmap(unsigned long len, unsigned long prot,
			     unsigned long flags)
{
	return vm_mmap(NULL, 0, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | flags,
		       0);
}

/* ---------------------------------------------------------------------- */
/* Modelled IOMMU drivers: their locks and call sequences                 */
/* ---------------------------------------------------------------------- */

/* As arm_smmu_mm_release(): the mm exits, under the driver's sva_lock. */
static void iopf_mock_mm_release(struct mmu_notifier *mn,
				 struct mm_struct *mm)
{
	struct iopf_mock_drv *drv = container_of(mn, struct iopf_mock_drv, mn);

	mutex_lock(&drv->lock);
	WRITE_ONCE(drv->released, true);
	mutex_unlock(&drv->lock);
	wake_up_all(&drv->wq);
}

static const struct mmu_notifier_ops iopf_mock_mn_ops = {
	.release = iopf_mock_mm_release,
};

void iopf_mock_drv_init(struct iopf_mock_drv *drv)
{
	mutex_init(&drv->lock);
	init_waitqueue_head(&drv->wq);
	drv->mn.ops = &iopf_mock_mn_ops;
}

/*
 * Bind @mm as an SVA driver does: an mmu_notifier on it (whose ->release()
 * takes drv->lock) and a hold on the mm_struct, under drv->lock.  @mm must
 * have users.
 */
int iopf_mock_drv_bind(struct iopf_mock_drv *drv, struct mm_struct *mm)
{
	int ret;

	mutex_lock(&drv->lock);
	ret = mmu_notifier_register(&drv->mn, mm);
	if (!ret) {
		mmgrab(mm);
		drv->mm = mm;
		drv->released = false;
	}
	mutex_unlock(&drv->lock);
	return ret;
}

/* Unbind: the notifier goes (its ->release() is done after this). */
void iopf_mock_drv_unbind(struct iopf_mock_drv *drv)
{
	struct mm_struct *mm = drv->mm;

	if (!mm)
		return;
	drv->mm = NULL;
	mmu_notifier_unregister(&drv->mn, mm);
	mmdrop(mm);
}

/*
 * Enable a device's faults as both drivers do (intel_iommu_enable_sva(),
 * arm_smmu_master_sva_enable_iopf() under sva_lock): add the device to the
 * queue, then register the handler; on failure, remove it again.
 */
int iopf_mock_enable_iopf(struct iopf_mock_drv *drv, struct iopf_mock *mock,
			  struct iopf_queue *queue)
{
	int ret;

	mutex_lock(&drv->lock);
	ret = iopf_queue_add_device(queue, mock->dev);
	if (!ret) {
		ret = iommu_register_device_fault_handler(mock->dev,
							  iommu_queue_iopf,
							  mock->dev);
		if (ret)
			iopf_queue_remove_device(queue, mock->dev);
	}
	mutex_unlock(&drv->lock);
	return ret;
}

/*
 * Disable them as SMMUv3 does (arm_smmu_master_sva_disable_iopf(), under
 * sva_lock): unregister the handler, whose result it ignores (-EBUSY
 * while answers are pending), then remove the device from the queue.
 * Returns what remove returned.  (VT-d's intel_iommu_disable_sva() does
 * the same without the lock but stops at an unregister error.)
 */
int iopf_mock_disable_iopf(struct iopf_mock_drv *drv, struct iopf_mock *mock,
			   struct iopf_queue *queue)
{
	int ret;

	mutex_lock(&drv->lock);
	iommu_unregister_device_fault_handler(mock->dev);
	ret = iopf_queue_remove_device(queue, mock->dev);
	mutex_unlock(&drv->lock);
	return ret;
}

/* An online CPU other than the current one, or nr_cpu_ids when none. */
int iopf_mock_other_cpu(void)
{
	return cpumask_any_but(cpu_online_mask, raw_smp_processor_id());
}

/*
 * Keep the workers of the unbound workqueues (the handler's work items)
 * off @cpu, as long as another CPU is online; @cpu < 0 puts them back on
 * the CPUs they have at boot (housekeeping CPUs).  As writing
 * /sys/devices/virtual/workqueue/cpumask does, this applies to every
 * unbound workqueue, and those ordered only implicitly lose their
 * ordering: for test kernels only.  Return 0 (also with one CPU online,
 * where it does nothing), -ENOMEM, or the error of
 * workqueue_set_unbound_cpumask().
 */
int iopf_mock_workers_off(int cpu)
{
	cpumask_var_t mask;
	int ret;

	if (cpu >= 0 && num_online_cpus() < 2)
		return 0;
	if (!zalloc_cpumask_var(&mask, GFP_KERNEL))
		return -ENOMEM;
	cpumask_and(mask, housekeeping_cpumask(HK_TYPE_WQ),
		    housekeeping_cpumask(HK_TYPE_DOMAIN));
	if (cpu >= 0)
		cpumask_clear_cpu(cpu, mask);
	ret = workqueue_set_unbound_cpumask(mask);
	free_cpumask_var(mask);
	return ret;
}

/*
 * A kthread running @fn(@data) on @cpu when it is online (so that a race
 * runs in parallel on an SMP kernel), anywhere otherwise.
 */
struct task_struct *iopf_mock_run_on(int cpu, int (*fn)(void *data),
				     void *data, const char *name)
{
	struct task_struct *task;

	task = kthread_create(fn, data, "%s", name);
	if (IS_ERR(task))
		return task;
	if (cpu < nr_cpu_ids && cpu_online(cpu))
		kthread_bind(task, cpu);
	wake_up_process(task);
	return task;
}

void iopf_mock_destroy(struct iopf_mock *mock)
{
	struct iopf_mock_bond *bond, *next;

	if (!mock)
		return;
	iommu_unregister_device_fault_handler(mock->dev);
	/* Bonds still bound would leave a notifier on their mm: unbind them. */
	WARN_ON(!list_empty(&mock->bonds));
	list_for_each_entry_safe(bond, next, &mock->dead, node)
		kfree(bond);
	/* Before the device goes: its sysfs link to the group goes with it. */
	if (mock->group) {
		iommu_group_remove_device(mock->dev);
		iommu_group_put(mock->group);
	}
	mock->dev->iommu = NULL;
	root_device_unregister(mock->dev);
	kfree(mock);
}

/*
 * A mock device whose faults go to @handler (cookie: the device); with a
 * NULL @handler, none is registered (iopf_mock_enable_iopf() does it).
 */
struct iopf_mock *iopf_mock_create(iommu_dev_fault_handler_t handler)
{
	static atomic_t id = ATOMIC_INIT(0);
	struct iopf_mock *mock;
	char name[32];

	mock = kzalloc(sizeof(*mock), GFP_KERNEL);
	if (!mock)
		return NULL;

	snprintf(name, sizeof(name), "iopf-mock%d", atomic_inc_return(&id));
	mock->dev = root_device_register(name);
	if (IS_ERR(mock->dev))
		goto err_free;

	mutex_init(&mock->iommu.lock);
	mock->iommu_dev.ops = &iopf_mock_ops;
	mock->iommu.iommu_dev = &mock->iommu_dev;
	spin_lock_init(&mock->lock);
	init_waitqueue_head(&mock->answered);
	INIT_LIST_HEAD(&mock->bonds);
	INIT_LIST_HEAD(&mock->dead);
	init_rwsem(&mock->sva_rwsem);
	mock->dev->iommu = &mock->iommu;

	if (handler &&
	    iommu_register_device_fault_handler(mock->dev, handler, mock->dev))
		goto err_unregister;
	return mock;

err_unregister:
	mock->dev->iommu = NULL;
	root_device_unregister(mock->dev);
err_free:
	kfree(mock);
	return NULL;
}

/*
 * A fresh address space with a PASID (mm->pasid), used by the calling
 * kthread until iopf_mock_mm_destroy().
 */
struct mm_struct *iopf_mock_mm_create(void)
{
	struct mm_struct *mm;

	mm = mm_alloc();
	if (!mm)
		return NULL;
	mm->task_size = TASK_SIZE;
	arch_pick_mmap_layout(mm, &current->signal->rlim[RLIMIT_STACK]);
	if (iommu_sva_alloc_pasid(mm, 1, (1U << 20) - 1)) {
		mmput(mm);
		return NULL;
	}
	kthread_use_mm(mm);
	return mm;
}

/*
 * Drop the address space.  After a failed KUnit assertion this may run in
 * another thread: the thread that used @mm exited and dropped its mm_users
 * reference itself.
 */
void iopf_mock_mm_destroy(struct mm_struct *mm)
{
	if (!mm || current->mm != mm)
		return;
	kthread_unuse_mm(mm);
	mmput(mm);
}

/* The built-in module parameter @name ("module.param"), or NULL. */
static const struct kernel_param *iopf_mock_param(const char *name)
{
	const struct kernel_param *kp;

	for (kp = __start___param; kp < __stop___param; kp++) {
		if (!strcmp(kp->name, name))
			return kp;
	}
	return NULL;
}

/*
 * Set the built-in module parameter @name ("module.param") to @val, as the
 * kernel command line would.  Return what its set() returned, or -ENOENT
 * when there is no such parameter (upstream's handler has fewer).
 */
int iopf_mock_set_param(const char *name, const char *val)
{
	const struct kernel_param *kp = iopf_mock_param(name);
	int ret;

	if (!kp)
		return -ENOENT;
	kernel_param_lock(kp->mod);
	ret = kp->ops->set(val, kp);
	kernel_param_unlock(kp->mod);
	return ret;
}

/*
 * The value of the built-in module parameter @name in @buf, of
 * IOPF_MOCK_PARAM_LEN bytes, without the newline: 0, or -ENOENT when there
 * is no such parameter or its value does not fit.
 */
int iopf_mock_get_param(const char *name, char *buf)
{
	const struct kernel_param *kp = iopf_mock_param(name);
	char *page;
	int len;

	if (!kp || !kp->ops->get)
		return -ENOENT;
	page = (char *)__get_free_page(GFP_KERNEL);
	if (!page)
		return -ENOMEM;
	kernel_param_lock(kp->mod);
	len = kp->ops->get(page, kp);
	kernel_param_unlock(kp->mod);
	if (len > 0 && page[len - 1] == '\n')
		len--;
	if (len >= 0 && len < IOPF_MOCK_PARAM_LEN)
		strscpy(buf, page, len + 1);
	else
		len = -ENOENT;
	free_page((unsigned long)page);
	return len < 0 ? len : 0;
}

struct iopf_mock_call {
	int (*fn)(void *data);
	void *data;
	int ret;
	struct completion done;
};

static int iopf_mock_call_fn(void *data)
{
	struct iopf_mock_call *c = data;

	c->ret = c->fn(c->data);
	complete(&c->done);
	return 0;
}

/*
 * Call @fn(@data) in a kthread on @cpu and wait for it; here when @cpu is
 * this CPU or not online.  Return what @fn returned, or why no thread ran.
 */
int iopf_mock_call_on(int cpu, int (*fn)(void *data), void *data,
		      const char *name)
{
	struct iopf_mock_call c = { .fn = fn, .data = data };
	struct task_struct *task;

	if (cpu >= nr_cpu_ids || !cpu_online(cpu) ||
	    cpu == raw_smp_processor_id())
		return fn(data);
	init_completion(&c.done);
	task = iopf_mock_run_on(cpu, iopf_mock_call_fn, &c, name);
	if (IS_ERR(task))
		return PTR_ERR(task);
	wait_for_completion(&c.done);
	return c.ret;
}
