/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Mock IOMMU for the I/O page fault handler's KUnit suite and benchmark.
 */
#ifndef _LIB_TESTS_IOPF_MOCK_H
#define _LIB_TESTS_IOPF_MOCK_H

#include <linux/iommu.h>
#include <linux/mm_types.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#define IOPF_MOCK_MAX_RESP	256

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
};

struct iopf_mock *iopf_mock_create(iommu_dev_fault_handler_t handler);
void iopf_mock_destroy(struct iopf_mock *mock);
unsigned int iopf_mock_count(struct iopf_mock *mock);
unsigned int iopf_mock_wait(struct iopf_mock *mock, unsigned int n,
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
struct mm_struct *iopf_mock_mm_create(void);
void iopf_mock_fail_nth(unsigned int nth);
void iopf_mock_mm_destroy(struct mm_struct *mm);

#endif /* _LIB_TESTS_IOPF_MOCK_H */
