// SPDX-License-Identifier: GPL-2.0
/*
 * iopf-demo: a device touches process memory through I/O page faults.
 *
 * Runs as /init's child in the initramfs that make run and make test boot.
 * It uses /dev/iopf-mock, the mock SVA DMA engine of the patched kernel:
 * the device faults pages in through the kernel's I/O page fault handler
 * (drivers/iommu/io-pgfault.c), and the demo checks from the CPU what the
 * device did.  Each step prints "demo: <step>: OK" or "demo: <step>: FAIL";
 * the last line is "demo: <n> ok, <m> failed".  Exit status 1 if any step
 * failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "iopf_device.h"

#define DEV		"/dev/iopf-mock"
#define STATS		"/sys/kernel/debug/iommu/iopf/iopf-mock/stats"
#define LATENCY		"/sys/kernel/debug/iommu/iopf/iopf-mock/latency"
#define TRACING		"/sys/kernel/tracing"

static long page_size;
static int nr_ok, nr_failed;
/* Sums of what the device reported, to compare with the handler's. */
static unsigned long dev_requests, dev_groups, dev_invalid;

static void step(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("demo: %-44s %s", name, ok ? "OK  " : "FAIL");
	if (fmt) {
		printf("  (");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf(")");
	}
	printf("\n");
	if (ok)
		nr_ok++;
	else
		nr_failed++;
}

static int dma(int fd, void *buf, size_t len, unsigned int flags,
	       uint32_t pattern, struct iopf_dma *d)
{
	int ret;

	memset(d, 0, sizeof(*d));
	d->addr = (uintptr_t)buf;
	d->len = len;
	d->flags = flags;
	d->pattern = pattern;
	if (getenv("IOPF_DEMO_DEBUG"))
		fprintf(stderr, "demo-debug: dma %p len %zu flags %u\n", buf, len, flags);
	ret = ioctl(fd, IOPF_IOC_DMA, d);
	if (ret && errno != EFAULT)
		return -errno;
	dev_requests += d->requests;
	dev_groups += d->groups;
	dev_invalid += d->invalid;
	return ret ? -errno : 0;
}

static void *fresh(size_t pages)
{
	void *p = mmap(NULL, pages * page_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static size_t resident(void *p, size_t pages)
{
	unsigned char vec[pages];
	size_t i, n = 0;

	if (mincore(p, pages * page_size, vec))
		return (size_t)-1;
	for (i = 0; i < pages; i++)
		n += vec[i] & 1;
	return n;
}

/* Read "name value" lines of the handler's stats file. */
static long long stat_of(const char *name)
{
	char key[64];
	long long v;
	FILE *f = fopen(STATS, "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", key, &v) == 2) {
		if (!strcmp(key, name)) {
			fclose(f);
			return v;
		}
	}
	fclose(f);
	return -1;
}

static void write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(s, f);
		fclose(f);
	}
}

static void cat(const char *title, const char *path, int max_lines,
		const char *filter)
{
	char line[512];
	int n = 0, total = 0;
	FILE *f = fopen(path, "r");

	printf("demo: --- %s (%s)\n", title, path);
	if (!f) {
		printf("demo: cannot open %s: %s\n", path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (filter && !strstr(line, filter))
			continue;
		total++;
		if (n < max_lines) {
			printf("demo:   %s", line);
			n++;
		}
	}
	fclose(f);
	if (total > n)
		printf("demo:   ... %d more\n", total - n);
}

static void device_fills_fresh_memory(int fd)
{
	size_t pages = 64, words = pages * page_size / 4, i, bad = 0;
	uint32_t pattern = 0x10f00000, *p = fresh(pages);
	struct iopf_dma d;
	size_t before;
	int ret;

	if (!p) {
		step(0, "device writes never-touched memory", "mmap failed");
		return;
	}
	before = resident(p, pages);
	ret = dma(fd, p, pages * page_size, IOPF_DMA_WRITE, pattern, &d);
	printf("demo: PASID %u bound to this process\n", d.pasid);
	step(!ret && before == 0 && d.requests == pages, "device writes never-touched memory",
	     "%zu/%zu pages resident before, %u page requests in %u groups, ret %d",
	     before, pages, d.requests, d.groups, ret);
	for (i = 0; i < words; i++)
		bad += p[i] != pattern + i;
	step(!bad, "CPU reads the device's pattern back",
	     "%zu of %zu words wrong", bad, words);
	munmap(p, pages * page_size);
}

static void device_reads_cpu_memory(int fd)
{
	size_t pages = 16, words = pages * page_size / 4, i;
	uint32_t *p = fresh(pages), sum = 0;
	struct iopf_dma d;
	int ret;

	if (!p) {
		step(0, "device reads CPU-written memory", "mmap failed");
		return;
	}
	for (i = 0; i < words; i++) {
		p[i] = (uint32_t)(i * 2654435761u);
		sum += p[i];
	}
	ret = dma(fd, p, pages * page_size, 0, 0, &d);
	step(!ret && d.sum == sum && d.requests == 0,
	     "device reads CPU-written memory",
	     "sum 0x%08x, CPU 0x%08x, %u page requests", d.sum, sum,
	     d.requests);
	munmap(p, pages * page_size);

	p = fresh(4);
	ret = p ? dma(fd, p, 4 * page_size, 0, 0, &d) : -1;
	step(!ret && d.sum == 0 && d.requests == 4,
	     "device reads never-touched memory (zeroes)",
	     "sum 0x%08x, %u page requests", d.sum, d.requests);
	if (p)
		munmap(p, 4 * page_size);
}

static const char *reason_name(uint32_t reason)
{
	static const char *const names[] = {
		[IOPF_DMA_REASON_NONE] = "no reason",
		[IOPF_DMA_REASON_PASID] = "PASID",
		[IOPF_DMA_REASON_NO_MM] = "no address space",
		[IOPF_DMA_REASON_NO_VMA] = "nothing mapped",
		[IOPF_DMA_REASON_PERM] = "permission",
		[IOPF_DMA_REASON_FAULT] = "fault failed",
	};

	return reason < sizeof(names) / sizeof(names[0]) ? names[reason] : "?";
}

static void device_write_to_read_only_refused(int fd)
{
	uint32_t *p = fresh(4);
	struct iopf_dma d;
	uintptr_t ro;
	int ret;

	if (!p || mprotect((char *)p + 2 * page_size, page_size, PROT_READ)) {
		step(0, "device write to a read-only page refused", "setup");
		return;
	}
	ret = dma(fd, p, 4 * page_size, IOPF_DMA_WRITE, 0xdead0000, &d);
	/* The handler's notifier says where and why: the read-only page. */
	ro = (uintptr_t)p + 2 * page_size;
	step(ret == -EFAULT && d.invalid == 1 &&
	     p[2 * page_size / 4] == 0 && d.fault_addr == ro &&
	     d.fault_reason == IOPF_DMA_REASON_PERM && d.fault_err == -EACCES,
	     "device write to a read-only page refused",
	     "ret %d (%s), %u INVALID answer at 0x%llx (read-only page 0x%llx): %s, %d; page still 0x%x",
	     ret, ret < 0 ? strerror(-ret) : "no error", d.invalid,
	     (unsigned long long)d.fault_addr, (unsigned long long)ro,
	     reason_name(d.fault_reason), d.fault_err,
	     p[2 * page_size / 4]);
	munmap(p, 4 * page_size);
}

static void bad_arguments(int fd)
{
	uint32_t *p = fresh(1);
	struct iopf_dma d = { .addr = (uintptr_t)p, .len = 0 };
	int e1, e2, e3, e4;

	e1 = ioctl(fd, IOPF_IOC_DMA, &d) ? errno : 0;
	d.len = 3;
	e2 = ioctl(fd, IOPF_IOC_DMA, &d) ? errno : 0;
	d.len = 4;
	d.flags = 0x80;
	e3 = ioctl(fd, IOPF_IOC_DMA, &d) ? errno : 0;
	e4 = ioctl(fd, _IO('I', 0x7f)) ? errno : 0;
	step(e1 == EINVAL && e2 == EINVAL && e3 == EINVAL && e4 == ENOTTY,
	     "bad ioctl arguments refused",
	     "len 0: %s, len 3: %s, bad flags: %s, bad command: %s",
	     strerror(e1), strerror(e2), strerror(e3), strerror(e4));
	munmap(p, page_size);
}

int main(void)
{
	long long req0 = stat_of("requests"), grp0 = stat_of("groups");
	long long inv0 = stat_of("invalid"), req, grp, inv;
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	page_size = sysconf(_SC_PAGESIZE);
	write_file(TRACING "/trace", "");
	write_file(TRACING "/events/iopf/enable", "1");

	if (getenv("IOPF_DEMO_DEBUG"))
		fprintf(stderr, "demo-debug: open\n");
	fd = open(DEV, O_RDWR);
	if (fd < 0) {
		step(0, "open " DEV, "%s", strerror(errno));
		printf("demo: %d ok, %d failed\n", nr_ok, nr_failed);
		return 1;
	}
	device_fills_fresh_memory(fd);
	device_reads_cpu_memory(fd);
	device_write_to_read_only_refused(fd);
	bad_arguments(fd);
	close(fd);
	write_file(TRACING "/events/iopf/enable", "0");

	req = stat_of("requests") - req0;
	grp = stat_of("groups") - grp0;
	inv = stat_of("invalid") - inv0;
	step(req0 >= 0 && req == (long long)dev_requests &&
	     grp == (long long)dev_groups && inv == (long long)dev_invalid,
	     "handler statistics match the device's counts",
	     "requests %lld/%lu, groups %lld/%lu, INVALID %lld/%lu",
	     req, dev_requests, grp, dev_groups, inv, dev_invalid);

	cat("handler statistics", STATS, 20, NULL);
	cat("report-to-answer latency", LATENCY, 30, NULL);
	cat("iopf_report events", TRACING "/trace", 3, "iopf_report");
	cat("iopf_fault events", TRACING "/trace", 3, "iopf_fault");
	cat("iopf_response events", TRACING "/trace", 3, "iopf_response");
	cat("failed faults", TRACING "/trace", 2, "ret=-");
	printf("demo: %d ok, %d failed\n", nr_ok, nr_failed);
	return nr_failed ? 1 : 0;
}
