/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of the IOMMU I/O page fault handler (drivers/iommu/io-pgfault.c).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM iopf

#if !defined(_TRACE_IOPF_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_IOPF_H

#include <linux/device.h>
#include <linux/iommu.h>
#include <linux/sched.h>
#include <linux/tracepoint.h>

#define iopf_show_perm(perm)						\
	__print_flags(perm, "",						\
		      { IOMMU_FAULT_PERM_READ, "r" },			\
		      { IOMMU_FAULT_PERM_WRITE, "w" },			\
		      { IOMMU_FAULT_PERM_EXEC, "x" },			\
		      { IOMMU_FAULT_PERM_PRIV, "p" })

/*
 * iopf_report - a page request reached the handler
 * @dev: the device
 * @prm: the request
 * @ret: 0 when the handler accepted it, else the error returned
 */
TRACE_EVENT(iopf_report,
	TP_PROTO(struct device *dev, struct iommu_fault_page_request *prm,
		 int ret),
	TP_ARGS(dev, prm, ret),

	TP_STRUCT__entry(
		__string(dev, dev_name(dev))
		__field(u32, pasid)
		__field(u32, grpid)
		__field(u32, perm)
		__field(u64, addr)
		__field(bool, last)
		__field(bool, pasid_valid)
		__field(int, ret)
	),

	TP_fast_assign(
		__assign_str(dev, dev_name(dev));
		__entry->pasid = prm->pasid;
		__entry->grpid = prm->grpid;
		__entry->perm = prm->perm;
		__entry->addr = prm->addr;
		__entry->last = prm->flags & IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE;
		__entry->pasid_valid =
			prm->flags & IOMMU_FAULT_PAGE_REQUEST_PASID_VALID;
		__entry->ret = ret;
	),

	TP_printk("%s pasid=%u%s grpid=%u addr=0x%llx perm=%s%s ret=%d",
		  __get_str(dev), __entry->pasid,
		  __entry->pasid_valid ? "" : "(invalid)", __entry->grpid,
		  __entry->addr, iopf_show_perm(__entry->perm),
		  __entry->last ? " last" : "", __entry->ret)
);

/*
 * iopf_fault - the handler faulted a page in for a group, or failed to
 * @dev: the device of the group
 * @pasid: the address space
 * @grpid: the group id
 * @addr: the address
 * @perm: the access asked for (the union of a group's requests for the page)
 * @ret: 0, -EFAULT (no VMA or the fault failed), -EACCES (the VMA does not
 *       allow @perm), -ENOMEM or -EHWPOISON
 */
TRACE_EVENT(iopf_fault,
	TP_PROTO(struct device *dev, u32 pasid, u32 grpid, u64 addr, u32 perm,
		 int ret),
	TP_ARGS(dev, pasid, grpid, addr, perm, ret),

	TP_STRUCT__entry(
		__string(dev, dev_name(dev))
		__field(u32, pasid)
		__field(u32, grpid)
		__field(u64, addr)
		__field(u32, perm)
		__field(int, ret)
	),

	TP_fast_assign(
		__assign_str(dev, dev_name(dev));
		__entry->pasid = pasid;
		__entry->grpid = grpid;
		__entry->addr = addr;
		__entry->perm = perm;
		__entry->ret = ret;
	),

	TP_printk("%s pasid=%u grpid=%u addr=0x%llx perm=%s ret=%d",
		  __get_str(dev), __entry->pasid, __entry->grpid,
		  __entry->addr, iopf_show_perm(__entry->perm), __entry->ret)
);

/*
 * iopf_response - the handler answered a group
 * @dev: the device
 * @pasid: the group's PASID
 * @grpid: the group id
 * @code: the answer (enum iommu_page_response_code)
 * @nr_faults: the requests the group had
 * @latency_ns: time from the group's last request to the answer
 */
TRACE_EVENT(iopf_response,
	TP_PROTO(struct device *dev, u32 pasid, u32 grpid, u32 code,
		 unsigned int nr_faults, u64 latency_ns),
	TP_ARGS(dev, pasid, grpid, code, nr_faults, latency_ns),

	TP_STRUCT__entry(
		__string(dev, dev_name(dev))
		__field(u32, pasid)
		__field(u32, grpid)
		__field(u32, code)
		__field(unsigned int, nr_faults)
		__field(u64, latency_ns)
	),

	TP_fast_assign(
		__assign_str(dev, dev_name(dev));
		__entry->pasid = pasid;
		__entry->grpid = grpid;
		__entry->code = code;
		__entry->nr_faults = nr_faults;
		__entry->latency_ns = latency_ns;
	),

	TP_printk("%s pasid=%u grpid=%u code=%s faults=%u latency=%lluns",
		  __get_str(dev), __entry->pasid, __entry->grpid,
		  __print_symbolic(__entry->code,
				   { IOMMU_PAGE_RESP_SUCCESS, "SUCCESS" },
				   { IOMMU_PAGE_RESP_INVALID, "INVALID" },
				   { IOMMU_PAGE_RESP_FAILURE, "FAILURE" }),
		  __entry->nr_faults, __entry->latency_ns)
);

/*
 * iopf_bond - a device bound to or unbound from an address space
 * @dev: the device
 * @pasid: the PASID its requests for the address space carry
 *
 * Records the pid and comm of the task that binds or unbinds, usually the
 * process whose address space it is (a device driver's open() or ioctl()):
 * filter the fault events of one process by the PASID its iopf_bind gives.
 */
DECLARE_EVENT_CLASS(iopf_bond,
	TP_PROTO(struct device *dev, u32 pasid),
	TP_ARGS(dev, pasid),

	TP_STRUCT__entry(
		__string(dev, dev_name(dev))
		__field(u32, pasid)
		__field(pid_t, pid)
		__array(char, comm, TASK_COMM_LEN)
	),

	TP_fast_assign(
		__assign_str(dev, dev_name(dev));
		__entry->pasid = pasid;
		__entry->pid = current->tgid;
		memcpy(__entry->comm, current->comm, TASK_COMM_LEN);
	),

	TP_printk("%s pasid=%u pid=%d comm=%s", __get_str(dev),
		  __entry->pasid, __entry->pid, __entry->comm)
);

/* iopf_bind - iommu_sva_bind_device() bound a device to an address space */
DEFINE_EVENT(iopf_bond, iopf_bind,
	TP_PROTO(struct device *dev, u32 pasid),
	TP_ARGS(dev, pasid)
);

/* iopf_unbind - iommu_sva_unbind_device() is about to drop a bond */
DEFINE_EVENT(iopf_bond, iopf_unbind,
	TP_PROTO(struct device *dev, u32 pasid),
	TP_ARGS(dev, pasid)
);

#endif /* _TRACE_IOPF_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
