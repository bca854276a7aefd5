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
};

#define IOPF_DMA_MAX_LEN	(64U << 20)

#define IOPF_IOC_DMA		_IOWR('I', 0x70, struct iopf_dma)

#endif /* _IOPF_DEVICE_H */
