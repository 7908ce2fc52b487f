// SPDX-License-Identifier: GPL-2.0
/* sysflow's CO-RE probe: the system calls SysFlow maps, one record per call.
 *
 * sys_enter keeps each allowed call's arguments per thread (a hash keyed by tid); sys_exit pairs them with the
 * result and emits one record with the strings and the socket tuple read there (at exit the user pages are
 * resident: at enter bpf_probe_read_user_str fails now and then). exec, fork and exit come from the sched
 * tracepoints, which see the new image, both tasks of a fork, and every exit. The record layout is `struct
 * sf_rec` below; src/native/ringbuf.ts and src/capture/live/records.ts read it. x86_64 syscall numbers. */
#include "sysflow.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

#define K_EXEC 1000
#define K_FORK 1001
#define K_EXIT 1002

#define STR_MAX 4096
#define NAME_MAX_ 128
#define CG_LEVELS 6
#define DATA_MAX 12288
#define OFF_MASK 0x1fff
#define WAKEUP_BACKLOG (1 << 20)
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define AF_INET 2

struct sf_rec {
	__u64 ts;
	__u32 tid;
	__u32 pid;
	__u16 kind;
	__u16 size;
	__u16 dlen[3];
	__u8 fam;
	__u8 proto;
	__u16 sport;
	__u16 dport;
	__u32 sip;
	__u32 dip;
	__s64 ret;
	__u64 args[6];
	__u64 aux;
	char data[DATA_MAX];
};

struct enter_args {
	__u64 args[6];
	__u32 nr;
};

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

struct {
	/* a plain (preallocated) hash: an LRU hash costs several times more per update; a thread that exits inside a
	 * call has its entry removed by sched_process_exit */
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct enter_args);
} pending SEC(".maps");

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

static __always_inline void submit(struct sf_rec *r, __u32 dlen)
{
	__u64 size = __builtin_offsetof(struct sf_rec, data) + (__u64)dlen;
	if (size > sizeof(struct sf_rec))
		size = sizeof(struct sf_rec);
	barrier_var(size);
	r->size = size;
	/* No wakeup per record (3-4 us each): the reader polls every 10 ms, and is woken once each time the backlog
	 * grows past another MiB (not on every record above it: that costs as much as waking per record). */
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) + size;
	__u64 flags = (avail / WAKEUP_BACKLOG) != ((avail - size) / WAKEUP_BACKLOG) ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	if (size < 8)
		return;
	if (bpf_ringbuf_output(&events, r, size, flags) != 0)
		count(0);
	else
		count(1);
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

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long id)
{
	struct sf_settings *cfg = get_settings();
	if (!cfg || id < 0 || id >= 512)
		return 0;
	if (!(cfg->allow[(id >> 6) & 7] & (1ULL << (id & 63))))
		return 0;
	__u64 pt = bpf_get_current_pid_tgid();
	if ((__u32)(pt >> 32) == cfg->own_tgid)
		return 0;
	struct enter_args e = {};
	e.nr = id;
	e.args[0] = BPF_CORE_READ(regs, di);
	e.args[1] = BPF_CORE_READ(regs, si);
	e.args[2] = BPF_CORE_READ(regs, dx);
	e.args[3] = BPF_CORE_READ(regs, r10);
	e.args[4] = BPF_CORE_READ(regs, r8);
	e.args[5] = BPF_CORE_READ(regs, r9);
	/* mmap: only of files (anonymous maps are most of them, and SysFlow has no use for them) */
	if (id == 9 && ((long)e.args[4] < 0 || (e.args[3] & 0x20)))
		return 0;
	__u32 tid = (__u32)pt;
	bpf_map_update_elem(&pending, &tid, &e, BPF_ANY);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	__u64 pt = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pt;
	struct enter_args *e = bpf_map_lookup_elem(&pending, &tid);
	if (!e)
		return 0;
	__u32 nr = e->nr;
	/* a successful exec is reported by sched_process_exec, with the new image */
	if ((nr == 59 || nr == 322) && ret == 0) {
		bpf_map_delete_elem(&pending, &tid);
		return 0;
	}
	struct sf_rec *r = new_rec(nr, tid, pt >> 32);
	if (!r) {
		bpf_map_delete_elem(&pending, &tid);
		return 0;
	}
	r->ret = ret;
	for (int i = 0; i < 6; i++)
		r->args[i] = e->args[i];
	bpf_map_delete_elem(&pending, &tid);

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
	bpf_map_delete_elem(&pending, &tid);
	if (!cfg || (__u32)tgid == cfg->own_tgid)
		return 0;
	struct sf_rec *r = new_rec(K_EXIT, tid, tgid);
	if (!r)
		return 0;
	r->ret = BPF_CORE_READ(p, exit_code);
	submit(r, 0);
	return 0;
}
