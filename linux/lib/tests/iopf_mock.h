/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Mock IOMMU for the I/O page fault handler's KUnit suite and benchmark.
 */
#ifndef _LIB_TESTS_IOPF_MOCK_H
#define _LIB_TESTS_IOPF_MOCK_H

#include <linux/iommu.h>
#include <linux/moduleparam.h>
#include <linux/mm_types.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#define IOPF_MOCK_MAX_RESP	256

/* Built-in module parameters, as kernel/params.c walks them. */
extern const struct kernel_param __start___param[], __stop___param[];

struct iopf_mock;
typedef void (*iopf_mock_hook_t)(struct iopf_mock *mock,
				 const struct iommu_page_response *msg);

/**
 * struct iopf_mock - a fake device behind a fake IOMMU
 * @dev: the root device standing for the endpoint
 * @iommu: its dev->iommu, hand-built
 * @iommu_dev: the IOMMU instance; its ops only have ->page_response()
 * @hook: when set, called by ->page_response() with the answer, before it
 *        records it
 * @priv: for the user of the mock (the hook's data)
 * @lock: protects @resp and @nr_resp
 * @resp: the answers received, in order (the first IOPF_MOCK_MAX_RESP)
 * @nr_resp: number of answers received
 * @answered: woken on every answer
 * @group: the device's own iommu_group, once iopf_mock_sva_enable() made
 *         it (iommu_sva_bind_device() wants a group of one device)
 * @bonds: the device's SVA bonds (struct iopf_mock_bond), under
 *         iopf_mock.c's sva_lock
 * @dead: its unbound bonds, under the same lock: a handle stays valid
 *        (the device's requests for it get -ESRCH) until the mock goes
 * @sva_rwsem: held for reading by a page request of a bond, for writing
 *             to stop a bond's requests (unbind, the mm's exit)
 */
struct iopf_mock {
	struct device *dev;
	struct dev_iommu iommu;
	struct iommu_device iommu_dev;
	iopf_mock_hook_t hook;
	void *priv;
	spinlock_t lock;	/* protects resp and nr_resp */
	struct iommu_page_response resp[IOPF_MOCK_MAX_RESP];
	unsigned int nr_resp;
	wait_queue_head_t answered;
	struct iommu_group *group;
	struct list_head bonds;
	struct list_head dead;
	struct rw_semaphore sva_rwsem;
};

/**
 * struct iopf_mock_bond - an SVA bond of a mock device to an address space,
 *                         as SMMUv3's struct arm_smmu_bond
 * @sva: the handle iommu_sva_bind_device() returns
 * @mock: the device
 * @mm: the bound address space, held with mmgrab() while bound (which
 *      keeps its PASID allocated)
 * @mn: registered on @mm: its ->release() (the mm exits) stops the
 *      device's requests for the PASID, as SMMUv3 and VT-d clear its entry
 * @refs: binds not unbound yet, under the mock's sva_lock
 * @node: entry in @mock->bonds, then in @mock->dead, under the mock's
 *        sva_lock
 * @live: the device may send page requests for the PASID; written under
 *        @mock->sva_rwsem held for writing
 * @released: ->release() ran, under @mock->sva_rwsem
 */
struct iopf_mock_bond {
	struct iommu_sva sva;
	struct iopf_mock *mock;
	struct mm_struct *mm;
	struct mmu_notifier mn;
	refcount_t refs;
	struct list_head node;
	bool live;
	bool released;
};

/**
 * struct iopf_mock_drv - the locks of a modelled IOMMU driver
 * @lock: the driver's mutex: SMMUv3's sva_lock (held around enabling and
 *        disabling a device's faults, and taken by the mmu_notifier
 *        ->release() of every bound mm), VT-d's pasid_mutex
 * @mn: the notifier on the bound mm; ->release() takes @lock, as
 *      arm_smmu_mm_release() does
 * @mm: the bound mm, held with mmgrab() while bound
 * @released: ->release() ran (the mm exited)
 * @wq: woken when @released is set
 */
struct iopf_mock_drv {
	struct mutex lock;	/* the driver's: sva_lock, pasid_mutex */
	struct mmu_notifier mn;
	struct mm_struct *mm;
	bool released;
	wait_queue_head_t wq;
};

void iopf_mock_drv_init(struct iopf_mock_drv *drv);
int iopf_mock_drv_bind(struct iopf_mock_drv *drv, struct mm_struct *mm);
void iopf_mock_drv_unbind(struct iopf_mock_drv *drv);
int iopf_mock_enable_iopf(struct iopf_mock_drv *drv, struct iopf_mock *mock,
			  struct iopf_queue *queue);
int iopf_mock_disable_iopf(struct iopf_mock_drv *drv, struct iopf_mock *mock,
			   struct iopf_queue *queue);
int iopf_mock_other_cpu(void);
int iopf_mock_workers_off(int cpu);
struct task_struct *iopf_mock_run_on(int cpu, int (*fn)(void *data),
				     void *data, const char *name);

struct iopf_mock *iopf_mock_create(iommu_dev_fault_handler_t handler);
int iopf_mock_sva_enable(struct iopf_mock *mock);
void iopf_mock_sva_unbind_all(struct iopf_mock *mock);
int iopf_mock_sva_report(struct iommu_sva *handle, u32 grpid, u32 perm,
			 u64 addr, bool last);
void iopf_mock_destroy(struct iopf_mock *mock);
unsigned int iopf_mock_count(struct iopf_mock *mock);
unsigned int iopf_mock_wait(struct iopf_mock *mock, unsigned int n,
			    unsigned long timeout);
int iopf_mock_poll(struct iopf_mock *mock, unsigned int n,
		   unsigned long timeout);
int iopf_mock_report(struct iopf_mock *mock, u32 type, u32 flags, u32 pasid,
		     u32 grpid, u32 perm, u64 addr);
int iopf_mock_keep(struct iommu_fault *fault, void *cookie);
int iopf_mock_respond(struct iopf_mock *mock, u32 grpid, u32 pasid,
		      bool pasid_valid);
unsigned long iopf_mock_mmap(unsigned long len, unsigned long prot,
			     unsigned long flags);
bool iopf_mock_page_present(struct mm_struct *mm, unsigned long addr,
			    bool write);
bool iopf_mock_page_present_locked(struct mm_struct *mm, unsigned long addr,
				   bool write);
struct mm_struct *iopf_mock_mm_create(void);
void iopf_mock_fail_nth(unsigned int nth);
void iopf_mock_mm_destroy(struct mm_struct *mm);
#define IOPF_MOCK_PARAM_LEN	32
int iopf_mock_set_param(const char *name, const char *val);
int iopf_mock_get_param(const char *name, char *buf);
int iopf_mock_call_on(int cpu, int (*fn)(void *data), void *data,
		      const char *name);

#endif /* _LIB_TESTS_IOPF_MOCK_H */
