// SPDX-License-Identifier: GPL-2.0
/* sysflow's CO-RE probe: the system calls SysFlow maps, one record per call, except reads and writes.
 *
 * Only sys_exit is attached: on x86_64 a call's arguments are still in the task's saved registers when it
 * returns, so exit alone has the call number (orig_ax), the arguments and the result, and every traced call
 * costs one program instead of two and no per-thread map of pending calls. Strings and socket tuples are read
 * there (at exit the user pages are resident: at enter bpf_probe_read_user_str fails now and then). exec, fork
 * and exit come from the sched tracepoints, which see the new image, both tasks of a fork, and every exit.
 *
 * Reads and writes (most calls by far) are counted in the kernel instead: per (process, fd), the thread that did
 * them, their ops and bytes in each direction and the times of the first and last. User space gets one K_IOAGG
 * record per aggregate, which it applies as those calls, in place. An aggregate is emitted (flushed) before
 * anything that its calls must precede:
 *   - any other record that names the same fd of the same process (close, dup2 onto it, mmap, sendto, shutdown,
 *     setns, ...), by whichever thread: the key has no thread, so another thread finds it;
 *   - the exit and the exec of the thread that owns it (the task keeps a short list of the fds it owns);
 *   - the same fd used by another thread (the aggregate changes owner);
 *   - a window of IO_WINDOW_NS since its first call (so no aggregate spans more than that), and a sweep of the
 *     aggregates older than that, which user space asks for every 100 ms with a marker call (getpgid of
 *     SWEEP_MAGIC from its own process), so an fd that goes quiet is reported within ~200 ms.
 * What is left when the probe is detached is read from the map by user space. Counters are taken with atomic
 * exchanges, so a sweep that races the owning thread never loses or doubles a call.
 *
 * The record layout is `struct sf_rec` below; src/native/ringbuf.ts and src/capture/live/records.ts read it.
 * x86_64 syscall numbers. */
#include "sysflow.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

#define K_EXEC 1000
#define K_FORK 1001
#define K_EXIT 1002
#define K_IOAGG 1003

#define IO_WINDOW_NS 100000000ULL
#define IO_AGGS 16384
#define TASK_FDS 16
#define SWEEP_NR 121 /* getpgid */
#define SWEEP_MAGIC 0x5f5f5f5eUL /* | 1: every aggregate, not only those older than the window */

#define STR_MAX 4096
#define NAME_MAX_ 128
#define CG_LEVELS 6
#define DATA_MAX 12288
#define OFF_MASK 0x1fff
#define WAKEUP_BACKLOG (1 << 20)
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define AF_INET 2

/* The record: a fixed header, then the strings (data). K_IOAGG records are the header alone: ts = the first
 * call, aux = the last, args = fd, read ops, read bytes, write ops, write bytes. */
#define SF_HDR_FIELDS \
	__u64 ts; \
	__u32 tid; \
	__u32 pid; \
	__u16 kind; \
	__u16 size; \
	__u16 dlen[3]; \
	__u8 fam; \
	__u8 proto; \
	__u16 sport; \
	__u16 dport; \
	__u32 sip; \
	__u32 dip; \
	__s64 ret; \
	__u64 args[6]; \
	__u64 aux;

struct sf_hdr {
	SF_HDR_FIELDS
};

struct sf_rec {
	SF_HDR_FIELDS
	char data[DATA_MAX];
};

_Static_assert(__builtin_offsetof(struct sf_rec, data) == sizeof(struct sf_hdr), "header layout");

/* Written by user space before attach: its own tgid (never traced) and the allow-list of syscall numbers. */
struct sf_settings {
	__u32 own_tgid;
	__u32 pad;
	__u64 allow[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sf_settings);
} settings SEC(".maps");

struct io_key {
	__u32 tgid;
	__s32 fd;
};

struct io_agg {
	__u64 first_ts; /* 0: empty (emitted), the next call sets it */
	__u64 rops;
	__u64 rbytes;
	__u64 wops;
	__u64 wbytes;
	__u32 tid;
	__u32 pad;
};

struct {
	/* preallocated: an update never allocates on the hot path; when it is full, calls go out one record each */
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IO_AGGS);
	__type(key, struct io_key);
	__type(value, struct io_agg);
} io_aggs SEC(".maps");

/* The fds whose aggregates a thread owns (a cursor picks which one to flush when all slots are taken). */
struct task_fds {
	__u32 n;
	__u32 cursor;
	__s32 fd[TASK_FDS];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_fds);
} task_io SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sf_rec);
} scratch SEC(".maps");

/* Per-CPU counters: 0 records lost (ring buffer full), 1 records emitted. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 i)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &i);
	if (c)
		*c += 1;
}

static __always_inline struct sf_settings *get_settings(void)
{
	__u32 z = 0;
	return bpf_map_lookup_elem(&settings, &z);
}

static __always_inline struct sf_rec *new_rec(__u16 kind, __u32 tid, __u32 pid)
{
	__u32 z = 0;
	struct sf_rec *r = bpf_map_lookup_elem(&scratch, &z);
	if (!r)
		return 0;
	r->ts = bpf_ktime_get_ns(); /* CLOCK_MONOTONIC, as process.hrtime */
	r->tid = tid;
	r->pid = pid;
	r->kind = kind;
	r->dlen[0] = r->dlen[1] = r->dlen[2] = 0;
	r->fam = r->proto = 0;
	r->sport = r->dport = 0;
	r->sip = r->dip = 0;
	r->ret = 0;
	r->aux = 0;
	return r;
}

static __always_inline void output(void *rec, __u64 size);

static __always_inline void submit(struct sf_rec *r, __u32 dlen)
{
	__u64 size = __builtin_offsetof(struct sf_rec, data) + (__u64)dlen;
	if (size > sizeof(struct sf_rec))
		size = sizeof(struct sf_rec);
	barrier_var(size);
	r->size = size;
	if (size < 8)
		return;
	output(r, size);
}

/* A user string at data[off]; returns the new offset (the string keeps its NUL). */
static __always_inline __u32 put_user_str(struct sf_rec *r, __u32 off, int slot, __u64 ptr)
{
	if (off > OFF_MASK || !ptr)
		return off;
	long n = bpf_probe_read_user_str(&r->data[off & OFF_MASK], STR_MAX, (const void *)ptr);
	if (n < 0)
		n = 0;
	if (n > STR_MAX)
		n = STR_MAX;
	r->dlen[slot & 3] = n;
	return off + n;
}

static __always_inline __u32 put_kernel_str(struct sf_rec *r, __u32 off, int slot, const char *ptr)
{
	if (off > OFF_MASK || !ptr)
		return off;
	long n = bpf_probe_read_kernel_str(&r->data[off & OFF_MASK], STR_MAX, ptr);
	if (n < 0)
		n = 0;
	if (n > STR_MAX)
		n = STR_MAX;
	r->dlen[slot & 3] = n;
	return off + n;
}

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(kn->__parent))
		return BPF_CORE_READ(kn, __parent);
	struct kernfs_node___pre615 *old = (void *)kn;
	return BPF_CORE_READ(old, parent);
}

/* One cgroup's path as its names, leaf first, each NUL-terminated, and an empty name after the last. */
static __always_inline __u32 put_cgroup(struct sf_rec *r, __u32 off, struct cgroup *cg)
{
	struct kernfs_node *kn = cg ? BPF_CORE_READ(cg, kn) : 0;
	for (int i = 0; i < CG_LEVELS && kn; i++) {
		struct kernfs_node *parent = kn_parent(kn);
		if (!parent)
			break; /* the root's name is not part of the path */
		if (off > OFF_MASK)
			return off;
		long n = bpf_probe_read_kernel_str(&r->data[off & OFF_MASK], NAME_MAX_, BPF_CORE_READ(kn, name));
		if (n <= 0)
			break;
		off += n;
		kn = parent;
	}
	if (off > OFF_MASK)
		return off;
	r->data[off & OFF_MASK] = 0;
	return off + 1;
}

/* Blob 2: the task's cgroup v2 path, then its pids (v1) controller's path. */
static __always_inline __u32 put_cgroups(struct sf_rec *r, __u32 off, struct task_struct *task)
{
	__u32 start = off;
	struct css_set *cs = BPF_CORE_READ(task, cgroups);
	if (!cs)
		return off;
	off = put_cgroup(r, off, BPF_CORE_READ(cs, dfl_cgrp));
	if (bpf_core_enum_value_exists(enum cgroup_subsys_id, pids_cgrp_id)) {
		__u64 at = bpf_core_field_offset(struct css_set, subsys) + 8 * (__u64)bpf_core_enum_value(enum cgroup_subsys_id, pids_cgrp_id);
		struct cgroup_subsys_state *css = 0;
		bpf_probe_read_kernel(&css, sizeof(css), (char *)cs + at);
		off = put_cgroup(r, off, css ? BPF_CORE_READ(css, cgroup) : 0);
	}
	r->dlen[2] = off - start;
	return off;
}

/* The socket behind fd of the current task, or NULL. */
static __always_inline struct sock *fd_sock(long fd)
{
	if (fd < 0)
		return 0;
	struct task_struct *task = (void *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return 0;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = 0;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	if (!f)
		return 0;
	if ((BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return 0;
	struct socket *s = BPF_CORE_READ(f, private_data);
	return s ? BPF_CORE_READ(s, sk) : 0;
}

/* The local -> remote tuple of an IPv4 socket (ports in host order, addresses as on the wire). */
static __always_inline void put_tuple(struct sf_rec *r, long fd)
{
	struct sock *sk = fd_sock(fd);
	if (!sk)
		return;
	r->fam = BPF_CORE_READ(sk, __sk_common.skc_family);
	r->proto = BPF_CORE_READ(sk, sk_protocol);
	if (r->fam != AF_INET)
		return;
	r->sip = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
	r->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	r->dip = BPF_CORE_READ(sk, __sk_common.skc_daddr);
	r->dport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
}

struct sockaddr_in_ {
	__u16 family;
	__be16 port;
	__be32 addr;
};

/* An unconnected datagram socket's peer comes from the call's own sockaddr. */
static __always_inline void put_peer(struct sf_rec *r, __u64 uaddr)
{
	struct sockaddr_in_ sa = {};
	if (!uaddr || r->dport != 0 || bpf_probe_read_user(&sa, sizeof(sa), (void *)uaddr) != 0)
		return;
	if (sa.family != AF_INET)
		return;
	if (r->fam == 0)
		r->fam = AF_INET;
	r->dip = sa.addr;
	r->dport = __builtin_bswap16(sa.port);
}

/* sendmmsg/recvmmsg return a message count: the bytes are each mmsghdr's msg_len (after its 56-byte msghdr). */
#define MMSG_MAX 16
static __always_inline __u64 mmsg_bytes(__u64 vec, long n)
{
	__u64 sum = 0;
	for (int i = 0; i < MMSG_MAX; i++) {
		if (i >= n)
			break;
		__u32 len = 0;
		bpf_probe_read_user(&len, 4, (void *)(vec + 64 * i + 56));
		sum += len;
	}
	return sum;
}

/* 1: a read, 2: a write (the calls user space maps as plain reads and writes of an fd), 0: anything else. */
static __always_inline int io_dir(long nr)
{
	switch (nr) {
	case 0: case 17: case 19: case 295: case 327: /* read pread64 readv preadv preadv2 */
		return 1;
	case 1: case 18: case 20: case 296: case 328: /* write pwrite64 writev pwritev pwritev2 */
		return 2;
	}
	return 0;
}

static __always_inline void output(void *rec, __u64 size)
{
	/* No wakeup per record (3-4 us each): the reader polls every 10 ms, and is woken once each time the backlog
	 * grows past another MiB (not on every record above it: that costs as much as waking per record). */
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) + size;
	__u64 flags = (avail / WAKEUP_BACKLOG) != ((avail - size) / WAKEUP_BACKLOG) ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	if (bpf_ringbuf_output(&events, rec, size, flags) != 0)
		count(0);
	else
		count(1);
}

/* Emit what an aggregate holds (nothing when it is empty) and leave it empty. Its first call's time is taken
 * first (an emptied aggregate has none: the next call sets it); the counters are taken with atomic exchanges, so
 * calls counted meanwhile by the owning thread on another CPU land in the next record, never in two or none.
 * The record's last time is `now`, when the aggregate is flushed: calls are not timed one by one (a clock read
 * costs more than the rest of the count), and user space only needs it to tell an idle flow. */
static __always_inline void io_emit(__u32 tgid, __s32 fd, struct io_agg *v, __u64 now)
{
	__u64 first = v->first_ts;
	v->first_ts = 0;
	__u64 rops = __sync_lock_test_and_set(&v->rops, 0);
	__u64 wops = __sync_lock_test_and_set(&v->wops, 0);
	__u64 rbytes = __sync_lock_test_and_set(&v->rbytes, 0);
	__u64 wbytes = __sync_lock_test_and_set(&v->wbytes, 0);
	if (rops == 0 && wops == 0)
		return;
	struct sf_hdr h = {};
	h.ts = first ? first : now;
	h.aux = now;
	h.tid = v->tid;
	h.pid = tgid;
	h.kind = K_IOAGG;
	h.size = sizeof(h);
	h.args[0] = (__u64)(__s64)fd;
	h.args[1] = rops;
	h.args[2] = rbytes;
	h.args[3] = wops;
	h.args[4] = wbytes;
	output(&h, sizeof(h));
}

/* Flush the aggregate of (tgid, fd), if any, before a record that must come after its calls; `drop` also removes
 * it (the fd is closed, or its owner is gone). */
static __always_inline void io_flush(__u32 tgid, __s32 fd, bool drop)
{
	struct io_key k = {.tgid = tgid, .fd = fd};
	struct io_agg *v = bpf_map_lookup_elem(&io_aggs, &k);
	if (!v)
		return;
	io_emit(tgid, fd, v, bpf_ktime_get_ns());
	if (drop)
		bpf_map_delete_elem(&io_aggs, &k);
}

/* Remember that the current thread owns the aggregate of fd; false when the task storage is unavailable. When all
 * slots are taken, the aggregate of the slot under the cursor is flushed and dropped to make room. */
static __always_inline bool io_own(__u32 tgid, __u32 tid, __s32 fd)
{
	struct task_fds *tf = bpf_task_storage_get(&task_io, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!tf)
		return false;
	__u32 n = tf->n;
	for (int i = 0; i < TASK_FDS; i++) {
		if (i >= n)
			break;
		if (tf->fd[i] == fd)
			return true;
	}
	if (n < TASK_FDS) {
		tf->fd[n & (TASK_FDS - 1)] = fd;
		tf->n = n + 1;
		return true;
	}
	__u32 c = tf->cursor & (TASK_FDS - 1);
	tf->cursor = c + 1;
	struct io_key k = {.tgid = tgid, .fd = tf->fd[c]};
	struct io_agg *old = bpf_map_lookup_elem(&io_aggs, &k);
	if (old && old->tid == tid) {
		io_emit(tgid, k.fd, old, bpf_ktime_get_ns());
		bpf_map_delete_elem(&io_aggs, &k);
	}
	tf->fd[c] = fd;
	return true;
}

/* Flush (and drop) every aggregate the task owns: at its exit and exec, before their records. */
static __always_inline void io_flush_task(struct task_struct *task, __u32 tgid, __u32 tid)
{
	struct task_fds *tf = bpf_task_storage_get(&task_io, task, 0, 0);
	if (!tf)
		return;
	__u32 n = tf->n;
	for (int i = 0; i < TASK_FDS; i++) {
		if (i >= n)
			break;
		struct io_key k = {.tgid = tgid, .fd = tf->fd[i]};
		struct io_agg *v = bpf_map_lookup_elem(&io_aggs, &k);
		if (v && v->tid == tid) {
			io_emit(tgid, k.fd, v, bpf_ktime_get_ns());
			bpf_map_delete_elem(&io_aggs, &k);
		}
	}
	tf->n = 0;
}

/* A read or write: counted into its aggregate. The common case (the aggregate exists, this thread owns it) reads
 * no clock and calls nothing but the map lookup. */
static __always_inline void io_count(__u32 tgid, __u32 tid, __s32 fd, int dir, long ret)
{
	struct io_key k = {.tgid = tgid, .fd = fd};
	__u64 bytes = ret > 0 ? ret : 0;
	struct io_agg *v = bpf_map_lookup_elem(&io_aggs, &k);
	if (v) {
		if (v->tid != tid || v->first_ts == 0) {
			__u64 now = bpf_ktime_get_ns();
			io_emit(tgid, fd, v, now);
			if (v->tid != tid) {
				io_own(tgid, tid, fd);
				v->tid = tid;
			}
			v->first_ts = now;
		}
		if (dir == 1) {
			__sync_fetch_and_add(&v->rops, 1);
			__sync_fetch_and_add(&v->rbytes, bytes);
		} else {
			__sync_fetch_and_add(&v->wops, 1);
			__sync_fetch_and_add(&v->wbytes, bytes);
		}
		return;
	}
	__u64 now = bpf_ktime_get_ns();
	struct io_agg nv = {.first_ts = now, .tid = tid};
	if (dir == 1) {
		nv.rops = 1;
		nv.rbytes = bytes;
	} else {
		nv.wops = 1;
		nv.wbytes = bytes;
	}
	if (io_own(tgid, tid, fd) && bpf_map_update_elem(&io_aggs, &k, &nv, BPF_NOEXIST) == 0)
		return;
	/* no room (or another CPU inserted it first): this call goes out as a record of its own, nothing is lost */
	io_emit(tgid, fd, &nv, now);
}

struct sweep_ctx {
	__u64 now;
	__u64 all;
};

static long io_sweep_one(void *map, struct io_key *k, struct io_agg *v, struct sweep_ctx *sc)
{
	if (v->rops == 0 && v->wops == 0)
		return 0;
	if (!sc->all && sc->now - v->first_ts < IO_WINDOW_NS)
		return 0;
	io_emit(k->tgid, k->fd, v, sc->now);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	struct sf_settings *cfg = get_settings();
	long nr = regs->orig_ax;
	if (!cfg || nr < 0 || nr >= 512)
		return 0;
	__u64 pt;
	if (nr == SWEEP_NR && (regs->di | 1) == (SWEEP_MAGIC | 1)) {
		pt = bpf_get_current_pid_tgid();
		if ((__u32)(pt >> 32) == cfg->own_tgid) {
			struct sweep_ctx sc = {.now = bpf_ktime_get_ns(), .all = regs->di & 1};
			bpf_for_each_map_elem(&io_aggs, io_sweep_one, &sc, 0);
		}
		return 0;
	}
	if (!(cfg->allow[(nr >> 6) & 7] & (1ULL << (nr & 63))))
		return 0;
	pt = bpf_get_current_pid_tgid();
	__u32 tgid = pt >> 32, tid = (__u32)pt;
	if (tgid == cfg->own_tgid)
		return 0;
	int dir = io_dir(nr);
	if (dir) {
		io_count(tgid, tid, (__s32)regs->di, dir, ret);
		return 0;
	}
	/* mmap: only of files (anonymous maps are most of them, and SysFlow has no use for them) */
	if (nr == 9 && ((long)regs->r8 < 0 || (regs->r10 & 0x20)))
		return 0;
	/* the child's side of a fork returns 0: sched_process_fork has reported it */
	if ((nr == 56 || nr == 57 || nr == 58 || nr == 435) && ret == 0)
		return 0;
	/* a successful exec is reported by sched_process_exec, with the new image */
	if ((nr == 59 || nr == 322) && ret == 0)
		return 0;
	/* The calls counted on an fd this call names come first (a guess for calls whose first argument is not an fd:
	 * flushing early only costs a record). close and dup2/dup3 end the fd, mmap names it fifth. */
	io_flush(tgid, (__s32)regs->di, nr == 3);
	if (nr == 33 || nr == 292)
		io_flush(tgid, (__s32)regs->si, true);
	else if (nr == 9)
		io_flush(tgid, (__s32)regs->r8, false);
	/* A new fd whose number had an aggregate: its file was closed without a close call (close_range, an exec's
	 * close-on-exec), and those calls belong to the old file. */
	switch (nr) {
	case 2: case 85: case 257: case 437: case 41: case 43: case 288: case 32: case 72:
		if (ret >= 0 && ret != regs->di)
			io_flush(tgid, (__s32)ret, true);
	}
	struct sf_rec *r = new_rec(nr, tid, tgid);
	if (!r)
		return 0;
	r->ret = ret;
	r->args[0] = regs->di;
	r->args[1] = regs->si;
	r->args[2] = regs->dx;
	r->args[3] = regs->r10;
	r->args[4] = regs->r8;
	r->args[5] = regs->r9;

	/* which arguments are paths (s0, s1), and where the socket is */
	int s0 = -1, s1 = -1;
	long sockfd = -1;
	__u64 peer = 0;
	switch (nr) {
	case 2: case 85: case 80: case 83: case 84: case 87: /* open creat chdir mkdir rmdir unlink */
	case 59: /* execve (failed) */
		s0 = 0;
		break;
	case 257: case 437: case 258: case 263: case 322: /* openat openat2 mkdirat unlinkat execveat */
		s0 = 1;
		break;
	case 82: case 86: case 88: /* rename link symlink */
		s0 = 0; s1 = 1;
		break;
	case 264: case 316: case 265: /* renameat renameat2 linkat */
		s0 = 1; s1 = 3;
		break;
	case 266: /* symlinkat */
		s0 = 0; s1 = 2;
		break;
	case 42: /* connect */
		sockfd = r->args[0];
		peer = r->args[1];
		break;
	case 43: case 288: /* accept accept4 */
		sockfd = ret;
		break;
	case 44: /* sendto */
		sockfd = r->args[0];
		peer = r->args[4];
		break;
	case 45: /* recvfrom: the sender's address is filled in by the call */
		sockfd = r->args[0];
		peer = r->args[4];
		break;
	case 46: case 47: case 307: case 299: /* sendmsg recvmsg sendmmsg recvmmsg: the address is msg_name */
		sockfd = r->args[0];
		bpf_probe_read_user(&peer, 8, (void *)r->args[1]);
		if (nr >= 299 && ret > 0)
			r->aux = mmsg_bytes(r->args[1], ret);
		break;
	case 22: case 293: /* pipe pipe2: the two new descriptors */
		if (ret == 0)
			bpf_probe_read_user(&r->aux, 8, (void *)r->args[0]);
		break;
	}
	if (nr == 437) /* openat2: the flags live in struct open_how */
		bpf_probe_read_user(&r->aux, 8, (void *)r->args[2]);
	__u32 off = 0;
	if (s0 >= 0)
		off = put_user_str(r, off, 0, r->args[s0 & 7]);
	if (s1 >= 0)
		off = put_user_str(r, off, 1, r->args[s1 & 7]);
	if (sockfd >= 0) {
		put_tuple(r, sockfd);
		put_peer(r, peer);
	}
	submit(r, off);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(sched_process_exec, struct task_struct *p, __u32 old_pid, struct linux_binprm *bprm)
{
	struct sf_settings *cfg = get_settings();
	__u64 pt = bpf_get_current_pid_tgid();
	if (!cfg || (__u32)(pt >> 32) == cfg->own_tgid)
		return 0;
	/* the calls before the exec belong to the old image; a thread that execs takes the leader's tid */
	io_flush_task(p, pt >> 32, old_pid);
	struct sf_rec *r = new_rec(K_EXEC, (__u32)pt, pt >> 32);
	if (!r)
		return 0;
	__u64 ug = bpf_get_current_uid_gid();
	r->args[0] = (__u32)ug;
	r->args[1] = ug >> 32;
	r->args[2] = BPF_CORE_READ(p, real_parent, tgid);
	r->args[3] = old_pid;
	__u32 off = put_kernel_str(r, 0, 0, BPF_CORE_READ(bprm, filename));
	/* argv of the new image: NUL-separated, on the new stack (just written, so resident) */
	unsigned long a0 = BPF_CORE_READ(p, mm, arg_start), a1 = BPF_CORE_READ(p, mm, arg_end);
	__u64 n = a1 > a0 ? a1 - a0 : 0;
	if (n > STR_MAX)
		n = STR_MAX;
	barrier_var(n);
	if (n > 0 && off <= OFF_MASK && n <= STR_MAX) {
		if (bpf_probe_read_user(&r->data[off & OFF_MASK], n, (void *)a0) == 0) {
			r->dlen[1] = n;
			off += n;
		}
	}
	off = put_cgroups(r, off, p);
	submit(r, off);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(sched_process_fork, struct task_struct *parent, struct task_struct *child)
{
	struct sf_settings *cfg = get_settings();
	int ptgid = BPF_CORE_READ(parent, tgid);
	if (!cfg || (__u32)ptgid == cfg->own_tgid)
		return 0;
	int ctid = BPF_CORE_READ(child, pid), ctgid = BPF_CORE_READ(child, tgid);
	struct sf_rec *r = new_rec(K_FORK, ctid, ctgid);
	if (!r)
		return 0;
	r->args[0] = BPF_CORE_READ(parent, pid);
	r->args[1] = ptgid;
	r->args[2] = ctgid == ptgid; /* a thread */
	r->args[3] = BPF_CORE_READ(child, real_parent, tgid);
	__u32 off = put_cgroups(r, 0, child);
	submit(r, off);
	return 0;
}

/* Declares only the task: 6.x added a second argument (group_dead) that older kernels do not pass. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_process_exit, struct task_struct *p)
{
	struct sf_settings *cfg = get_settings();
	int tgid = BPF_CORE_READ(p, tgid);
	__u32 tid = BPF_CORE_READ(p, pid);
	if (!cfg || (__u32)tgid == cfg->own_tgid)
		return 0;
	io_flush_task(p, tgid, tid);
	struct sf_rec *r = new_rec(K_EXIT, tid, tgid);
	if (!r)
		return 0;
	r->ret = BPF_CORE_READ(p, exit_code);
	submit(r, 0);
	return 0;
}
