/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * /dev/iopf-mock: a mock shared-virtual-addressing DMA engine behind the
 * mock IOMMU of the I/O page fault handler's tests.  Shared by the driver
 * (lib/tests/iopf_device.c) and the user-space demo.
 */
#ifndef _IOPF_DEVICE_H
#define _IOPF_DEVICE_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* The device writes to memory (else it reads from it). */
#define IOPF_DMA_WRITE		(1U << 0)

/**
 * struct iopf_dma - one DMA of the mock device on the caller's memory
 * @addr: in: user address of the buffer
 * @len: in: its length in bytes, at most IOPF_DMA_MAX_LEN
 * @flags: in: IOPF_DMA_WRITE or 0
 * @pattern: in, for a write: 32-bit word i of the buffer is set to
 *           @pattern + i
 * @sum: out, for a read: the sum of the buffer's 32-bit words, mod 2^32
 * @requests: out: page requests the device sent for this DMA
 * @groups: out: page request groups it sent
 * @invalid: out: groups answered INVALID
 * @pasid: out: the PASID of the caller's address space
 * @reserved: must be 0
 * @fault_addr: out, on -EFAULT after a group answered INVALID: the address
 *              the handler could not fault in (from its unhandled-fault
 *              notifier)
 * @fault_reason: out: why, IOPF_DMA_REASON_*; IOPF_DMA_REASON_NONE when no
 *                group was answered INVALID
 * @fault_err: out: the handler's error for it, a negative errno
 *
 * The outputs are written back on success and on -EFAULT.
 */
struct iopf_dma {
	__u64 addr;
	__u64 len;
	__u32 flags;
	__u32 pattern;
	__u32 sum;
	__u32 requests;
	__u32 groups;
	__u32 invalid;
	__u32 pasid;
	__u32 reserved;
	__u64 fault_addr;
	__u32 fault_reason;
	__s32 fault_err;
};

/* Why the handler answered a group INVALID (its enum iopf_reason + 1). */
#define IOPF_DMA_REASON_NONE	0	/* no group answered INVALID */
#define IOPF_DMA_REASON_PASID	1	/* no PASID, or not the group's */
#define IOPF_DMA_REASON_NO_MM	2	/* the address space is gone */
#define IOPF_DMA_REASON_NO_VMA	3	/* nothing mapped at the address */
#define IOPF_DMA_REASON_PERM	4	/* the mapping does not allow it */
#define IOPF_DMA_REASON_FAULT	5	/* the page fault itself failed */

#define IOPF_DMA_MAX_LEN	(64U << 20)

#define IOPF_IOC_DMA		_IOWR('I', 0x70, struct iopf_dma)

#endif /* _IOPF_DEVICE_H */
