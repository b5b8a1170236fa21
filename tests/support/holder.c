/*
 * holder: create KNOWN kernel slab allocations in the 2 KiB class from
 * userspace, for slableak integration tests.  See docs/vectors.md.
 *
 * Usage: holder VECTOR COUNT
 *   kmalloc  COUNT unread 1500-byte NETLINK_USERSOCK messages between two
 *            of our own sockets (skb head, netlink_sendmsg) -> kmalloc-2k
 *   cg       COUNT pipes resized to 32 slots; the 32 * 40 = 1280-byte
 *            pipe_buffer array is GFP_KERNEL_ACCOUNT       -> kmalloc-cg-2k
 *   msg      COUNT SysV messages of 1500 bytes (load_msg)  -> msg_msg-2k
 *            (6.11+ slab buckets; kmalloc-cg-2k / kmalloc-2k before)
 *   churn    msgsnd+msgrcv of 1500 bytes, COUNT ops (0 = until stdin says
 *            stop); holds nothing                          -> msg_msg-2k
 *   churn-kmalloc  same, with netlink send+recv            -> kmalloc-2k
 *   churn-acl  COUNT (> 0) POSIX ACL replacements on a tmpfs file (/dev/shm,
 *            else /tmp): each setxattr allocates a 200-entry ACL (1624 bytes,
 *            posix_acl_alloc) and drops the previous one with kfree_rcu,
 *            which frees in batches (kfree_bulk): no per-object kfree event.
 *            Holds one ACL at most                          -> kmalloc-2k
 * Named (non-kmalloc) caches, checked with /proc/slabinfo on 6.18:
 *   sock     COUNT AF_UNIX datagram sockets, each one end of a socketpair
 *            whose other end is closed: one socket inode each
 *            (sock_alloc_inode <- __sys_socketpair; socketpair, not
 *            socket, for a stack of its own)              -> sock_inode_cache
 *   epoll    COUNT eventfds, each added to one epoll: an epitem (ep_insert)
 *            -> eventpoll_epi, a wait-queue hook (ep_ptable_queue_proc)
 *            -> eventpoll_pwq (merged into anon_vma_chain on 6.18), and a
 *            file per eventfd (alloc_empty_file)           -> filp
 *   churn-named  per op: an AF_UNIX socketpair opened and closed, an eventfd
 *            added to an epoll and removed, a netlink message sent and
 *            read with sendmsg as skb does (-> skbuff_head_cache); holds
 *            nothing
 *   tun      COUNT opens of /dev/net/tun: a tun_file socket each, kmalloc'd
 *            by sk_alloc from the tun module's open (sk_prot_alloc <- sk_alloc
 *            <- tun_chr_open [tun]); for the module-symbolization guest test
 *            (the cache is the guest's to find: its size moves between kernels)
 *   sock-drip  like sock, one socketpair a millisecond: prints "ready 0"
 *            at once and grows for COUNT ms (a leak in progress, for
 *            triage) unless a stdin line or a signal comes first
 *   large    COUNT "user" keys (add_key) of LARGE_KEY_BYTES (20000) each, in
 *            the process keyring: user_preparse kmallocs the payload with
 *            its 24-byte header, 20024 bytes, above kmalloc-8k: the page
 *            allocator serves 32 KiB each                -> kmalloc-large
 *            (root's key quota, kernel.keys.root_maxbytes, is 25 MB by
 *            default: 1000 keys fit). Keys are freed by the kernel's key
 *            garbage collector, some time after release or exit.
 *   large-drip  like large, one key every 10 ms: prints "ready 0" at once
 *            and grows for COUNT keys unless a stdin line or a signal
 *            comes first (a leak in progress, for triage)
 *   skb      COUNT unread 64-byte netlink messages sent with sendmsg(2)
 *            (not sendto: a stack of its own, ____sys_sendmsg ->
 *            netlink_sendmsg -> __alloc_skb)               -> skbuff_head_cache
 * (kmalloc also holds one skbuff_head_cache object per message.)
 * For the verdict and run tests:
 *   churn-write    as churn-kmalloc, with write+read on a connected netlink
 *            socket (sock_write_iter: a stack of its own)  -> kmalloc-2k
 *   drip     a paced leak: one held 1500-byte netlink message, sent with
 *            sendmsg (____sys_sendmsg: not vector kmalloc's stack), every
 *            1/RATE s: holder drip COUNT [RATE] (RATE per second, default
 *            20).  COUNT > 0 stops after COUNT (a pool that fills and stays
 *            full) and prints "ready COUNT"; COUNT = 0 prints "ready 0" at
 *            once, drips until a stdin line, prints "held N" and obeys the
 *            line                                          -> kmalloc-2k
 *   drip-oom COUNT RATE  drip for the OOM guest test: prints "ready 0",
 *            drips until the first OOM kill after its start (oom_kill in
 *            /proc/vmstat, read every 20 ms through one descriptor; the file
 *            HOLDER_VMSTAT instead, for tests), COUNT held (0 = no cap), a
 *            stdin line, or a failed send; then prints "held N stopped=
 *            oom|count|stdin|failed [error=WHAT:WHY] oom_kill=K" and keeps
 *            every message until "release", "quit", EOF or a stop signal
 *            (a failed send frees nothing: the leak must outlive the OOM)
 *                                                          -> kmalloc-2k
 *   msg-keep COUNT SysV messages as msg, then prints "queues ID..." and
 *            exits WITHOUT removing the queues: the kernel keeps the
 *            messages after the process is gone (the caller removes them,
 *            e.g. ipcrm -q ID)                             -> msg_msg-2k
 *   msg-keep-thread  as msg-keep, from a second thread after the main
 *            thread has left with pthread_exit(): the worker waits until
 *            the leader is a zombie (its exit is behind it) and only then
 *            allocates. A process lives on while any thread does
 *                                                          -> msg_msg-2k
 *   paths FIRST COUNT  one message sent on each of the kernel paths FIRST ..
 *            FIRST+COUNT-1 (of 34, modulo): seven socket families (netlink,
 *            UDP and corked UDP and raw IP over IPv4 and IPv6) x five send
 *            syscalls, each a distinct kernel stack into kmalloc-2k (the skb
 *            head); holds nothing. Netlink sent with sendto() is left out:
 *            it is the "kmalloc" vector's path.
 *            Prints "ready N" with the number of paths sent on.
 *
 * Protocol: after allocating, prints "ready COUNT" (flushed) and reads
 * stdin lines: "release" frees everything and prints "released"; "quit"
 * or EOF frees and exits 0.  SIGTERM/SIGINT/SIGHUP free and exit 0.
 * churn with COUNT=0 prints "ready 0" at once, churns until any stdin line
 * (or EOF/SIGTERM), then prints "ops N"; "stop" just stops, "release"
 * also prints "released", "quit"/EOF/SIGTERM exit 0.
 * Errors: one line on stderr, exit 1 (everything held is freed first).
 *
 * Meant to run as root (SO_RCVBUFFORCE, msg_qbytes above msgmnb and pipe
 * sizes above the per-user soft limit need CAP_NET_ADMIN/CAP_SYS_RESOURCE);
 * it falls back to more sockets / queues where it can.
 *
 * Build: gcc -std=c11 -Wall -Wextra -O2 [-static] -o holder holder.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <time.h>
#include <unistd.h>

#define MSG_BYTES 1500       /* payload: lands in the 1025..2048 class */
#define LARGE_KEY_BYTES 20000 /* user key payload: a kmalloc of 20024 bytes */
#define KEY_SPEC_PROCESS_KEYRING_ (-2)
#define KEYCTL_INVALIDATE_ 21
#define PIPE_SLOTS 32        /* 32 * sizeof(struct pipe_buffer)=40 = 1280 */
#define RCVBUF_FORCE (64 << 20)
#define MAX_COUNT 10000000UL
#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif

static volatile sig_atomic_t g_stop;
static void say(const char *fmt, ...);
static void __attribute__((noreturn)) finish(void);
static sigset_t g_stopsigs;        /* SIGTERM, SIGINT, SIGHUP */

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

/* ---------------- resources held ---------------- */

static int *g_fds;           /* sockets (kmalloc) or pipe read ends (cg) */
static size_t g_nfds, g_capfds;
static int *g_qids;          /* SysV queues (msg, churn) */
static size_t g_nqids, g_capqids;

static int g_drain_fds;            /* netlink: read queues before close */
static int *g_keys;          /* user keys (large) */
static size_t g_nkeys, g_capkeys;

static void release_all(void)
{
	static char sink[4096];

	for (size_t i = 0; i < g_nfds; i++) {
		/* Reading frees each skb here, synchronously.  close() alone
		 * would purge the queue later, from an RCU callback
		 * (netlink_sock_destruct), i.e. after "released" is printed. */
		while (g_drain_fds && recv(g_fds[i], sink, sizeof(sink), MSG_DONTWAIT) > 0)
			;
		close(g_fds[i]);
	}
	g_nfds = 0;
	for (size_t i = 0; i < g_nqids; i++)
		msgctl(g_qids[i], IPC_RMID, NULL);
	g_nqids = 0;
	for (size_t i = 0; i < g_nkeys; i++)
		syscall(SYS_keyctl, KEYCTL_INVALIDATE_, g_keys[i]);
	g_nkeys = 0;
}

static void __attribute__((noreturn)) die(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	release_all();
	fputs("holder: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (e)
		fprintf(stderr, ": %s", strerror(e));
	fputc('\n', stderr);
	exit(1);
}

static void push_int(int **arr, size_t *n, size_t *cap, int v)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 256;
		int *p = realloc(*arr, nc * sizeof(int));
		if (!p) {
			errno = ENOMEM;
			die("out of memory");
		}
		*arr = p;
		*cap = nc;
	}
	(*arr)[(*n)++] = v;
}

static void push_fd(int fd) { push_int(&g_fds, &g_nfds, &g_capfds, fd); }

/* Makes room for `need` descriptors.  Past the 64 built-in slots it also
 * grows the fd table in one step (alloc_fdtable) to a size none of whose
 * pieces is in the 2 KiB class: a 256-slot table has a 2 KiB fd array and
 * a 4096-slot one 1032 bytes of bitmaps, both kmalloc-cg-2k and not ours.
 * So: at least 512 slots, and 8192 instead of 4096. */
static void raise_nofile(unsigned long need)
{
	struct rlimit rl;
	unsigned long hi = 0;

	need += 64;
	if (need > 64) {
		hi = need < 511 ? 511 : need;
		if (hi >= 2048 && hi < 4096)
			hi = 4096;
		if (need < hi + 1)
			need = hi + 1;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < need) {
		if (rl.rlim_max < need)
			rl.rlim_max = need;  /* needs CAP_SYS_RESOURCE */
		rl.rlim_cur = need;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			getrlimit(RLIMIT_NOFILE, &rl);
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);  /* best effort: EMFILE later */
		}
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (hi && hi < rl.rlim_cur) {
		int fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, (int)hi);
		if (fd >= 0)
			close(fd);
	}
}

/* ---------------- kmalloc: netlink skbs ----------------
 * AF_UNIX is NOT usable here: since 4.7 unix sockets allocate with
 * GFP_KERNEL_ACCOUNT, so their skb heads land in kmalloc-cg-2k.  A
 * NETLINK_USERSOCK unicast between two of our own sockets allocates the
 * skb head with plain GFP_KERNEL in netlink_sendmsg and parks the skb in
 * the receiver's queue until it is read or the socket is closed.  A full
 * receiver gives EAGAIN (never a silent drop, unlike UDP).
 */

static int g_nl_tx = -1;

static int nl_socket(void)
{
	return socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_USERSOCK);
}

/* Opens a bound receiver with a big receive buffer; returns its port id. */
static int nl_receiver(uint32_t *portid)
{
	struct sockaddr_nl a = { .nl_family = AF_NETLINK };
	socklen_t len = sizeof(a);
	int v = RCVBUF_FORCE;
	int fd = nl_socket();

	if (fd < 0)
		return -1;
	push_fd(fd);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	*portid = a.nl_pid;
	return fd;
}

static int g_nl_sendmsg;            /* skb: sendmsg(2) instead of sendto(2) */

static int nl_send(uint32_t portid, const void *buf, size_t len, int flags)
{
	struct sockaddr_nl a = { .nl_family = AF_NETLINK, .nl_pid = portid };
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_name = &a, .msg_namelen = sizeof(a), .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t r = g_nl_sendmsg ? sendmsg(g_nl_tx, &mh, flags)
				 : sendto(g_nl_tx, buf, len, flags, (struct sockaddr *)&a, sizeof(a));

	if (r == (ssize_t)len)
		return 0;
	if (r >= 0)
		errno = EIO;
	return -1;
}

static void nl_setup_tx(void)
{
	raise_nofile(64);
	g_drain_fds = 1;
	g_nl_tx = nl_socket();
	if (g_nl_tx < 0)
		die("socket(AF_NETLINK, NETLINK_USERSOCK)");
	push_fd(g_nl_tx);
}

/* How many more of our messages rx takes before netlink_attachskb refuses
 * (rmem_alloc > rcvbuf); switching receivers before that avoids the
 * transient kmalloc+kfree of a refused send.  0 = unknown. */
static unsigned long nl_room(int rx)
{
	uint32_t mi[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mi);

	if (getsockopt(rx, SOL_SOCKET, SO_MEMINFO, mi, &len) != 0 ||
	    len < sizeof(uint32_t) * (SK_MEMINFO_RCVBUF + 1) || mi[SK_MEMINFO_RMEM_ALLOC] == 0)
		return 0;
	unsigned long per = mi[SK_MEMINFO_RMEM_ALLOC];  /* truesize of 1 msg */
	unsigned long cap = mi[SK_MEMINFO_RCVBUF] / per;
	return cap > 2 ? cap - 2 : 1;
}

/* Receiver state of the held netlink messages: the current receiver, its
 * port, how many messages it holds and how many more it takes. */
static int g_hold_rx = -1;
static uint32_t g_hold_port;
static unsigned long g_hold_in_rx, g_hold_cap, g_held;

/* Parks one more @bytes-byte message in a receiver queue.  Returns 0, or -1
 * with errno set and *what naming the step that failed; what is held stays. */
static int try_hold_netlink_one(size_t bytes, const char **what)
{
	static char buf[MSG_BYTES];
	struct nlmsghdr *h = (struct nlmsghdr *)buf;

	memset(buf, 'k', sizeof(buf));
	h->nlmsg_len = (uint32_t)bytes;
	h->nlmsg_type = NLMSG_MIN_TYPE;
	h->nlmsg_flags = 0;
	for (;;) {
		if (g_hold_rx >= 0 && g_hold_cap && g_hold_in_rx >= g_hold_cap)
			g_hold_rx = -1;         /* receiver (nearly) full */
		if (g_hold_rx < 0) {
			if (g_nfds + 8 > 64 && (g_nfds & (g_nfds - 1)) == 0)
				raise_nofile(g_nfds * 2);
			g_hold_rx = nl_receiver(&g_hold_port);
			if (g_hold_rx < 0) {
				*what = "netlink receiver";
				return -1;
			}
			g_hold_in_rx = 0;
			g_hold_cap = 0;
		}
		if (nl_send(g_hold_port, buf, bytes, MSG_DONTWAIT) == 0) {
			g_held++;
			if (g_hold_in_rx++ == 0)
				g_hold_cap = nl_room(g_hold_rx);
			return 0;
		}
		if ((errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) && g_hold_in_rx > 0) {
			g_hold_rx = -1;         /* receiver full: open another */
			continue;
		}
		*what = "netlink send";
		return -1;
	}
}

static void hold_netlink_one(size_t bytes)
{
	const char *what;

	if (try_hold_netlink_one(bytes, &what) != 0)
		die("%s after %lu messages", what, g_held);
}

static void alloc_netlink(unsigned long count, size_t bytes)
{
	nl_setup_tx();
	while (g_held < count && !g_stop)
		hold_netlink_one(bytes);
}

/* ---------------- drip: a paced leak ---------------- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* oom_kill of /proc/vmstat through an fd opened once (no allocation when
 * memory is short); -1 if unreadable.  HOLDER_VMSTAT names another file (tests). */
static int g_vmstat_fd = -1;

static long oom_kills(void)
{
	static char buf[16384];
	ssize_t n = pread(g_vmstat_fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	for (char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (strncmp(p, "oom_kill ", 9) == 0)
			return strtol(p + 9, NULL, 10);
	return -1;
}

/* drip-oom: why the drip stopped ("held N stopped=WHY ..."). */
static const char *g_drip_stopped = "count";
static char g_drip_error[160];

/* The paced leak.  @until_oom (drip-oom): also stops at the first OOM kill
 * after the start (oom_kill of /proc/vmstat, read every 20 ms) and, instead
 * of dying, at a failed send or receiver, keeping everything held. */
static void drip(unsigned long count, unsigned long rate, int until_oom)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	double next = now_s(), next_check = 0;
	long base = 0;

	nl_setup_tx();
	if (until_oom) {
		const char *path = getenv("HOLDER_VMSTAT") ? getenv("HOLDER_VMSTAT") : "/proc/vmstat";

		g_vmstat_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (g_vmstat_fd < 0 || (base = oom_kills()) < 0)
			die("no oom_kill line in %s (kernel 4.13+)", path);
		/* room for the receivers' descriptors now: a failed realloc later
		 * would end in die(), which frees what is held */
		if (g_capfds < 4096) {
			int *p = realloc(g_fds, 4096 * sizeof(int));

			if (!p)
				die("out of memory");
			g_fds = p;
			g_capfds = 4096;
		}
	}
	if (count == 0 || until_oom)
		say("ready 0\n");
	for (;;) {
		if (g_stop || (count && g_held >= count))
			return;
		if (until_oom && now_s() >= next_check) {
			long k = oom_kills();

			if (k > base) {
				g_drip_stopped = "oom";
				return;
			}
			next_check = now_s() + 0.02;
		}
		double wait = next - now_s();
		if (wait > 0) {
			/* Sleep to the next drop; with COUNT = 0 (or drip-oom) any
			 * stdin line (or EOF) ends the drip and is handled by the
			 * caller. */
			if (wait > 0.02 && until_oom)
				wait = 0.02;
			if (poll(&pfd, count && !until_oom ? 0 : 1, (int)(wait * 1000) + 1) > 0) {
				g_drip_stopped = "stdin";
				return;
			}
			continue;
		}
		if (!until_oom) {
			hold_netlink_one(MSG_BYTES);
		} else {
			const char *what;

			if (try_hold_netlink_one(MSG_BYTES, &what) != 0) {
				snprintf(g_drip_error, sizeof(g_drip_error), "%s:%s", what, strerror(errno));
				for (char *c = g_drip_error; *c; c++)
					if (*c == ' ')
						*c = '_';
				g_drip_stopped = "failed";
				return;
			}
		}
		next += 1.0 / (double)rate;
		/* drip-oom: a holder held up in reclaim does not catch up in a
		 * burst afterwards (that burst would take back what the kill freed) */
		if (until_oom && next < now_s() - 0.1)
			next = now_s();
	}
}

/* ---------------- paths: many distinct kernel stacks ---------------- */

/* Families of senders whose 1500-byte message gets a kmalloc-2k skb head:
 * netlink, UDP over 127.0.0.1 and ::1 (plain and corked: ip_make_skb vs
 * ip_append_data), raw IP (protocol 253, "for experimentation") over both.
 * (Unix sockets are not here: their heads are not in kmalloc-2k on 6.18.) */
enum { PATH_NETLINK, PATH_UDP4, PATH_UDP6, PATH_UDP4_CORK, PATH_UDP6_CORK, PATH_RAW4, PATH_RAW6,
       PATH_FAMILIES };
enum { PATH_SENDS = 5, PATH_COUNT = PATH_FAMILIES * PATH_SENDS - 1, PATH_RAW_PROTO = 253 };

static socklen_t loopback(int v6, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (!v6) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(*in);
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	in6->sin6_family = AF_INET6;
	in6->sin6_addr = in6addr_loopback;
	return sizeof(*in6);
}

/* A connected sender for family @f, and its receiver (-1 for raw IP). */
static int path_pair(int f, int *tx, int *rx)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int v6 = f == PATH_UDP6 || f == PATH_UDP6_CORK || f == PATH_RAW6, one = 1;

	if (f == PATH_NETLINK) {
		struct sockaddr_nl a = { .nl_family = AF_NETLINK };
		uint32_t port;

		*rx = nl_receiver(&port);
		*tx = nl_socket();
		a.nl_pid = port;
		if (*rx < 0 || *tx < 0 || connect(*tx, (struct sockaddr *)&a, sizeof(a)) != 0)
			return -1;
		return 0;
	}
	len = loopback(v6, &ss);
	if (f == PATH_RAW4 || f == PATH_RAW6) {
		*rx = -1;
		*tx = socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_CLOEXEC, PATH_RAW_PROTO);
		return *tx < 0 || connect(*tx, (struct sockaddr *)&ss, len) != 0 ? -1 : 0;
	}
	*rx = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	*tx = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (*rx < 0 || *tx < 0 || bind(*rx, (struct sockaddr *)&ss, len) != 0 ||
	    getsockname(*rx, (struct sockaddr *)&ss, &len) != 0 ||
	    connect(*tx, (struct sockaddr *)&ss, len) != 0)
		return -1;
	if ((f == PATH_UDP4_CORK || f == PATH_UDP6_CORK) &&
	    setsockopt(*tx, IPPROTO_UDP, UDP_CORK, &one, sizeof(one)) != 0)
		return -1;
	return 0;
}

static ssize_t path_send(int how, int fd, char *buf, size_t len)
{
	struct iovec iov[2] = { { buf, len / 2 }, { buf + len / 2, len - len / 2 } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	struct mmsghdr mm = { .msg_hdr = mh };

	switch (how) {
	case 0: return write(fd, buf, len);
	case 1: return writev(fd, iov, 2);
	case 2: return sendto(fd, buf, len, 0, NULL, 0);
	case 3: return sendmsg(fd, &mh, 0);
	default: return sendmmsg(fd, &mm, 1, 0) == 1 ? (ssize_t)mm.msg_len : -1;
	}
}

static unsigned long send_paths(unsigned long first, unsigned long count)
{
	static char buf[MSG_BYTES], sink[MSG_BYTES * 2];
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	unsigned long done = 0;
	int zero = 0;

	memset(buf, 'p', sizeof(buf));
	h->nlmsg_len = sizeof(buf);
	h->nlmsg_type = NLMSG_MIN_TYPE;
	for (unsigned long i = 0; i < count && !g_stop; i++) {
		/* every family x syscall but netlink+sendto, the kmalloc vector's path */
		unsigned long v = (first + i) % PATH_COUNT;
		int f, how, tx = -1, rx = -1;

		if (v >= 2)
			v++;
		f = (int)(v / PATH_SENDS);
		how = (int)(v % PATH_SENDS);
		if (path_pair(f, &tx, &rx) != 0)
			die("path %lu: sockets of family %d", v, f);
		if (path_send(how, tx, buf, f >= PATH_RAW4 ? 1400 : sizeof(buf)) < 0)
			die("path %lu: send %d on family %d", v, how, f);
		if ((f == PATH_UDP4_CORK || f == PATH_UDP6_CORK) &&
		    setsockopt(tx, IPPROTO_UDP, UDP_CORK, &zero, sizeof(zero)) != 0)
			die("path %lu: uncork", v);
		if (rx >= 0 && recv(rx, sink, sizeof(sink), MSG_DONTWAIT) <= 0)
			die("path %lu: nothing received", v);
		if (rx >= 0 && f != PATH_NETLINK)  /* nl_receiver's socket is in g_fds */
			close(rx);
		close(tx);
		done++;
	}
	return done;
}

/* ---------------- cg: pipe_buffer arrays ---------------- */

static void alloc_cg(unsigned long count)
{
	long pg = sysconf(_SC_PAGESIZE);
	int want = (int)(PIPE_SLOTS * (pg > 0 ? pg : 4096));

	raise_nofile(count + 2);
	for (unsigned long i = 0; i < count; i++) {
		int p[2];

		if (g_stop)
			return;
		if (pipe2(p, O_CLOEXEC) != 0)
			die("pipe2 after %lu pipes", i);
		int got = fcntl(p[1], F_SETPIPE_SZ, want);
		if (got != want) {
			if (got >= 0)
				errno = ERANGE;
			close(p[0]);
			close(p[1]);
			die("F_SETPIPE_SZ %d after %lu pipes (got %d)", want, i, got);
		}
		/* The pipe (and its ring) lives while the read end is open. */
		close(p[1]);
		push_fd(p[0]);
	}
}

/* ---------------- msg: SysV message queues ---------------- */

struct msgbuf_2k {
	long mtype;
	char mtext[MSG_BYTES];
};

/* Creates a private queue; *room = how many of our messages it takes. */
static int new_queue(unsigned long want_bytes, unsigned long *room)
{
	struct msqid_ds ds;
	int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);

	if (q < 0)
		return -1;
	push_int(&g_qids, &g_nqids, &g_capqids, q);
	*room = 0;
	if (msgctl(q, IPC_STAT, &ds) != 0)
		return q;
	/* Raise msg_qbytes above msgmnb: needs CAP_SYS_RESOURCE (root in a
	 * container or VM may lack it).  The sysctl is left untouched;
	 * without the capability we just use more queues. */
	if (want_bytes && ds.msg_qbytes < want_bytes) {
		ds.msg_qbytes = want_bytes;
		(void)msgctl(q, IPC_SET, &ds);
		if (msgctl(q, IPC_STAT, &ds) != 0)
			return q;
	}
	/* do_msgsnd accepts while q_cbytes + msgsz <= q_qbytes.  Switching
	 * queues before a refusal avoids the transient load_msg
	 * allocation + free of a refused IPC_NOWAIT send. */
	*room = (unsigned long)ds.msg_qbytes / MSG_BYTES;
	return q;
}

static void alloc_msg(unsigned long count)
{
	static struct msgbuf_2k m;
	unsigned long done = 0, in_q = 0, room = 0;
	int q = -1;

	m.mtype = 1;
	memset(m.mtext, 'm', sizeof(m.mtext));
	while (done < count) {
		if (g_stop)
			return;
		if (q >= 0 && room && in_q >= room)
			q = -1;                 /* queue full */
		if (q < 0) {
			q = new_queue((count - done) * MSG_BYTES + 4096, &room);
			if (q < 0)
				die("msgget after %lu messages", done);
			in_q = 0;
		}
		if (msgsnd(q, &m, sizeof(m.mtext), IPC_NOWAIT) == 0) {
			done++;
			in_q++;
			continue;
		}
		if (errno == EAGAIN && in_q > 0) {
			q = -1;                 /* queue full: open another */
			continue;
		}
		die("msgsnd after %lu messages", done);
	}
}

/* msg-keep: hold COUNT messages in queues that outlive the process. */
static void __attribute__((noreturn)) keep_msgs(unsigned long count)
{
	alloc_msg(count);
	if (g_stop)
		finish();
	printf("ready %lu\nqueues", count);
	for (size_t i = 0; i < g_nqids; i++)
		printf(" %d", g_qids[i]);
	printf("\n");
	fflush(stdout);
	_exit(0);  /* no release_all(): the queues outlive us */
}

/* The state letter of the main thread, from /proc/self/task/PID/stat. */
static char leader_state(void)
{
	char path[64], buf[512];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)getpid());
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open %s", path);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		die("read %s", path);
	buf[n] = '\0';
	const char *paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' ? paren[2] : '?';
}

/* msg-keep-thread's worker: allocates once the main thread is gone. */
static void *keep_worker(void *arg)
{
	const struct timespec ms = { 0, 1000000 };

	while (leader_state() != 'Z' && !g_stop)
		nanosleep(&ms, NULL);
	keep_msgs(*(unsigned long *)arg);
}

/* ---------------- kmalloc-large ---------------- */

/* @drip: one key every 10 ms, "ready 0" first, until a stdin line. */
static void alloc_large(unsigned long count, int drip)
{
	static char payload[LARGE_KEY_BYTES];
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	struct timespec pace = { 0, 10000000 };
	char desc[32];

	memset(payload, 'k', sizeof(payload));
	if (drip) {
		printf("ready 0\n");
		fflush(stdout);
	}
	for (unsigned long i = 0; i < count; i++) {
		if (g_stop || (drip && poll(&pfd, 1, 0) > 0))
			return;
		if (drip && i)
			nanosleep(&pace, NULL);
		snprintf(desc, sizeof(desc), "slk-large-%lu", i);
		long id = syscall(SYS_add_key, "user", desc, payload, sizeof(payload), KEY_SPEC_PROCESS_KEYRING_);
		if (id < 0)
			die("add_key(user, %zu bytes) after %lu keys%s", sizeof(payload), i,
			    errno == EDQUOT ? " (raise /proc/sys/kernel/keys/root_maxbytes)" : "");
		push_int(&g_keys, &g_nkeys, &g_capkeys, (int)id);
	}
}

/* ---------------- named caches ---------------- */

static void alloc_sock(unsigned long count)
{
	raise_nofile(count + 2);
	for (unsigned long i = 0; i < count; i++) {
		if (g_stop)
			return;
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) != 0)
			die("socketpair(AF_UNIX) after %lu sockets", i);
		close(sv[1]);
		push_fd(sv[0]);
	}
}

static void alloc_tun(unsigned long count)
{
	raise_nofile(count + 2);
	for (unsigned long i = 0; i < count; i++) {
		if (g_stop)
			return;
		int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

		if (fd < 0)
			die("open(/dev/net/tun) after %lu (is the tun module loaded?)", i);
		push_fd(fd);
	}
}

static void alloc_sock_drip(unsigned long count)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	struct timespec ms = { 0, 1000000 };

	raise_nofile(count + 2);
	printf("ready 0\n");
	fflush(stdout);
	for (unsigned long i = 0; i < count && !g_stop; i++) {
		int sv[2];

		if (poll(&pfd, 1, 0) > 0)
			return;
		if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) != 0)
			die("socketpair(AF_UNIX) after %lu sockets", i);
		close(sv[1]);
		push_fd(sv[0]);
		nanosleep(&ms, NULL);
	}
}

static void alloc_epoll(unsigned long count)
{
	raise_nofile(count + 3);
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0)
		die("epoll_create1");
	push_fd(ep);
	for (unsigned long i = 0; i < count; i++) {
		struct epoll_event ev = { .events = EPOLLIN };

		if (g_stop)
			return;
		int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fd < 0)
			die("eventfd after %lu", i);
		push_fd(fd);
		ev.data.fd = fd;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
			die("epoll_ctl ADD after %lu", i);
	}
}

/* ---------------- churn ---------------- */

static int g_churn_nl;             /* churn-kmalloc: netlink instead of msg */
static int g_churn_named;          /* churn-named: sockets, epoll, netlink */
static int g_churn_write;          /* churn-write: write/read, connected */
static int g_churn_ep = -1, g_churn_efd = -1;
static int g_churn_q = -1, g_churn_rx = -1;
static uint32_t g_churn_port;

static void churn_setup(void)
{
	if (g_churn_named) {
		g_churn_ep = epoll_create1(EPOLL_CLOEXEC);
		g_churn_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (g_churn_ep < 0 || g_churn_efd < 0)
			die("epoll/eventfd");
		push_fd(g_churn_ep);
		push_fd(g_churn_efd);
	}
	if (g_churn_nl || g_churn_named) {
		nl_setup_tx();
		g_churn_rx = nl_receiver(&g_churn_port);
		if (g_churn_rx < 0)
			die("netlink receiver");
		if (g_churn_write) {
			struct sockaddr_nl a = { .nl_family = AF_NETLINK, .nl_pid = g_churn_port };

			if (connect(g_nl_tx, (struct sockaddr *)&a, sizeof(a)) != 0)
				die("connect netlink");
		}
	} else {
		unsigned long room;

		g_churn_q = new_queue(0, &room);
		if (g_churn_q < 0)
			die("msgget");
	}
}

/* One allocation and one free of a 2 KiB object; nothing stays held. */
static void churn_op(void)
{
	static struct msgbuf_2k m = { .mtype = 1 };

	if (g_churn_named) {
		struct epoll_event ev = { .events = EPOLLIN };
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) != 0)
			die("churn socketpair");
		close(sv[0]);
		close(sv[1]);
		if (epoll_ctl(g_churn_ep, EPOLL_CTL_ADD, g_churn_efd, &ev) != 0 ||
		    epoll_ctl(g_churn_ep, EPOLL_CTL_DEL, g_churn_efd, NULL) != 0)
			die("churn epoll_ctl");
		/* a small message: the skb head is the point, not the data */
		if (nl_send(g_churn_port, m.mtext, 64, 0) != 0)
			die("churn netlink send");
		if (recv(g_churn_rx, m.mtext, sizeof(m.mtext), 0) != 64)
			die("churn netlink recv");
		return;
	}
	if (g_churn_write) {
		if (write(g_nl_tx, m.mtext, sizeof(m.mtext)) != (ssize_t)sizeof(m.mtext))
			die("churn netlink write");
		if (read(g_churn_rx, m.mtext, sizeof(m.mtext)) != (ssize_t)sizeof(m.mtext))
			die("churn netlink read");
	} else if (g_churn_nl) {
		if (nl_send(g_churn_port, m.mtext, sizeof(m.mtext), 0) != 0)
			die("churn netlink send");
		if (recv(g_churn_rx, m.mtext, sizeof(m.mtext), 0) != (ssize_t)sizeof(m.mtext))
			die("churn netlink recv");
	} else {
		if (msgsnd(g_churn_q, &m, sizeof(m.mtext), 0) != 0)
			die("churn msgsnd");
		if (msgrcv(g_churn_q, &m, sizeof(m.mtext), 0, 0) != (ssize_t)sizeof(m.mtext))
			die("churn msgrcv");
	}
}

/* ---------------- churn-acl: frees without a kfree event ---------------- */

#define ACL_USERS 200 /* 24-byte header + (200 + 4) * 8-byte entries = 1656 -> 2k class */

static size_t acl_blob(unsigned char *b, int k)
{
	size_t n = 0;

	/* struct posix_acl_xattr_header { __le32 a_version = 2 } and entries
	 * { __le16 e_tag, __le16 e_perm, __le32 e_id }, sorted by tag then id. */
	uint32_t v = 2;
	memcpy(b, &v, 4);
	n = 4;
#define ACL_ENT(tag, perm, id)                                                                    \
	do {                                                                                      \
		uint16_t t_ = (tag), p_ = (perm);                                                 \
		uint32_t i_ = (id);                                                               \
		memcpy(b + n, &t_, 2);                                                            \
		memcpy(b + n + 2, &p_, 2);                                                        \
		memcpy(b + n + 4, &i_, 4);                                                        \
		n += 8;                                                                           \
	} while (0)
	ACL_ENT(0x01, 7, 0xffffffffu); /* ACL_USER_OBJ */
	for (int i = 0; i < ACL_USERS; i++)
		ACL_ENT(0x02, (i + k) & 7, 1000 + i); /* ACL_USER */
	ACL_ENT(0x04, 5, 0xffffffffu); /* ACL_GROUP_OBJ */
	ACL_ENT(0x10, 7, 0xffffffffu); /* ACL_MASK */
	ACL_ENT(0x20, 4, 0xffffffffu); /* ACL_OTHER */
#undef ACL_ENT
	return n;
}

static char g_acl_path[64];

static void churn_acl(unsigned long count)
{
	static unsigned char blob[2][4 + (ACL_USERS + 4) * 8];
	size_t len = acl_blob(blob[0], 0);
	int fd;

	acl_blob(blob[1], 1);
	snprintf(g_acl_path, sizeof g_acl_path, "%s/holder-acl.%d",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (int)getpid());
	fd = open(g_acl_path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0)
		die("create %s", g_acl_path);
	close(fd);
	for (unsigned long i = 0; i < count && !g_stop; i++)
		if (setxattr(g_acl_path, "system.posix_acl_access", blob[i & 1], len, 0) != 0) {
			int e = errno;
			unlink(g_acl_path);
			errno = e;
			die("setxattr system.posix_acl_access on %s (tmpfs without POSIX ACLs?)", g_acl_path);
		}
	unlink(g_acl_path);
}

/* ---------------- stdin commands ---------------- */

static char g_line[256];
static size_t g_linelen;
static char g_rbuf[1024];
static size_t g_rpos, g_rlen;

/* Returns 1 with a line in g_line, 0 on EOF, -1 on a signal. */
static int read_line(void)
{
	g_linelen = 0;
	for (;;) {
		if (g_stop)
			return -1;
		if (g_rpos == g_rlen) {
			/* Wait with the stop signals blocked except inside
			 * ppoll, so a signal cannot slip in between the g_stop
			 * check and a blocking read. */
			struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
			sigset_t old;

			sigprocmask(SIG_BLOCK, &g_stopsigs, &old);
			int pr = g_stop ? 0 : ppoll(&pfd, 1, NULL, &old);
			sigprocmask(SIG_SETMASK, &old, NULL);
			if (g_stop)
				return -1;
			if (pr < 0)
				continue;       /* EINTR */
			ssize_t r = read(STDIN_FILENO, g_rbuf, sizeof(g_rbuf));
			if (r < 0) {
				if (errno == EINTR)
					continue;
				return 0;
			}
			if (r == 0) {
				if (g_linelen == 0)
					return 0;
				break;
			}
			g_rpos = 0;
			g_rlen = (size_t)r;
		}
		char c = g_rbuf[g_rpos++];
		if (c == '\n')
			break;
		if (g_linelen < sizeof(g_line) - 1)
			g_line[g_linelen++] = c;
	}
	while (g_linelen && (g_line[g_linelen - 1] == '\r' || g_line[g_linelen - 1] == ' ' ||
			     g_line[g_linelen - 1] == '\t'))
		g_linelen--;
	g_line[g_linelen] = '\0';
	return 1;
}

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static void __attribute__((noreturn)) finish(void)
{
	release_all();
	fflush(stdout);
	exit(0);
}

/* Handles one command line; returns only if the program keeps running. */
static void command(void)
{
	if (strcmp(g_line, "release") == 0) {
		release_all();
		say("released\n");
	} else if (strcmp(g_line, "quit") == 0) {
		finish();
	} else if (g_line[0] != '\0' && strcmp(g_line, "stop") != 0) {
		fprintf(stderr, "holder: unknown command '%s' ignored\n", g_line);
	}
}

/* Answers commands on stdin until it closes or a stop signal: then finish(). */
static void __attribute__((noreturn)) serve_commands(void)
{
	if (g_stop)
		finish();
	for (;;) {
		if (read_line() <= 0)
			finish();
		command();
	}
}

/* churn COUNT=0: churn until stdin has something or a signal arrives. */
static void churn_forever(void)
{
	unsigned long long ops = 0;
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };

	say("ready 0\n");
	for (;;) {
		for (int i = 0; i < 4096 && !g_stop; i++, ops++)
			churn_op();
		if (g_stop)
			break;
		if (poll(&pfd, 1, 0) > 0)
			break;
	}
	say("ops %llu\n", ops);
	if (g_stop)
		finish();
	int r = read_line();
	if (r <= 0)
		finish();
	command();
}

static unsigned long parse_count(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	if (*s == '-' || *s == '\0')
		goto bad;
	v = strtoul(s, &end, 10);
	if (errno || *end != '\0' || v > MAX_COUNT)
		goto bad;
	return v;
bad:
	errno = 0;
	die("bad COUNT '%s' (0..%lu)", s, MAX_COUNT);
}

int main(int argc, char **argv)
{
	struct sigaction sa;

	const int paths = argc == 4 && strcmp(argv[1], "paths") == 0;

	const int drips = strcmp(argv[1 < argc ? 1 : 0], "drip") == 0 || strcmp(argv[1 < argc ? 1 : 0], "drip-oom") == 0;

	if (argc != 3 && !(argc == 4 && drips) && !paths) {
		fprintf(stderr, "usage: holder {kmalloc|large|large-drip|cg|msg|msg-keep|msg-keep-thread|sock|sock-drip|tun|epoll|skb|churn|churn-kmalloc|"
				"churn-named|churn-write|churn-acl} COUNT | holder {drip|drip-oom} COUNT [PER_SECOND] | holder paths FIRST COUNT\n");
		return 2;
	}
	const char *vec = argv[1];
	unsigned long count = parse_count(argv[paths ? 3 : 2]);
	unsigned long rate = argc == 4 && !paths ? parse_count(argv[3]) : 20;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;          /* no SA_RESTART: read() sees EINTR */
	sigemptyset(&sa.sa_mask);
	sigemptyset(&g_stopsigs);
	sigaddset(&g_stopsigs, SIGTERM);
	sigaddset(&g_stopsigs, SIGINT);
	sigaddset(&g_stopsigs, SIGHUP);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* A forked parent's 256-slot fd table (2 KiB array, kmalloc-cg-2k)
	 * would otherwise stay with us: replace it with a >= 512-slot one. */
	raise_nofile(64);

	if (paths) {
		count = send_paths(parse_count(argv[2]), count);
		release_all();
	} else if (strcmp(vec, "kmalloc") == 0) {
		alloc_netlink(count, MSG_BYTES);
	} else if (strcmp(vec, "large") == 0) {
		alloc_large(count, 0);
	} else if (strcmp(vec, "large-drip") == 0) {
		alloc_large(count, 1);
		serve_commands();
	} else if (strcmp(vec, "skb") == 0) {
		g_nl_sendmsg = 1;
		alloc_netlink(count, 64);
	} else if (strcmp(vec, "cg") == 0) {
		alloc_cg(count);
	} else if (strcmp(vec, "msg") == 0) {
		alloc_msg(count);
	} else if (strcmp(vec, "sock") == 0) {
		alloc_sock(count);
	} else if (strcmp(vec, "tun") == 0) {
		alloc_tun(count);
	} else if (strcmp(vec, "sock-drip") == 0) {
		alloc_sock_drip(count);
		serve_commands();
	} else if (strcmp(vec, "epoll") == 0) {
		alloc_epoll(count);
	} else if (strcmp(vec, "msg-keep") == 0) {
		keep_msgs(count);
	} else if (strcmp(vec, "msg-keep-thread") == 0) {
		pthread_t worker;
		static unsigned long worker_count;

		worker_count = count;
		if ((errno = pthread_create(&worker, NULL, keep_worker, &worker_count)) != 0)
			die("pthread_create");
		pthread_exit(NULL);  /* the process goes on in the worker */
	} else if (strcmp(vec, "drip") == 0) {
		if (rate == 0) {
			errno = 0;
			die("bad PER_SECOND 0 (1..%lu)", MAX_COUNT);
		}
		g_nl_sendmsg = 1;
		drip(count, rate, 0);
		if (count == 0 && !g_stop) {
			say("held %lu\n", g_held);
			serve_commands();
		}
	} else if (strcmp(vec, "drip-oom") == 0) {
		if (rate == 0) {
			errno = 0;
			die("bad PER_SECOND 0 (1..%lu)", MAX_COUNT);
		}
		g_nl_sendmsg = 1;
		drip(count, rate, 1);
		if (g_stop)
			finish();
		say("held %lu stopped=%s%s%s oom_kill=%ld\n", g_held, g_drip_stopped, *g_drip_error ? " error=" : "",
		    g_drip_error, oom_kills());
		serve_commands();
	} else if (strcmp(vec, "churn-acl") == 0) {
		if (count == 0) {
			errno = 0;
			die("churn-acl needs COUNT > 0");
		}
		churn_acl(count);
	} else if (strcmp(vec, "churn") == 0 || strcmp(vec, "churn-kmalloc") == 0 ||
		   strcmp(vec, "churn-named") == 0 || strcmp(vec, "churn-write") == 0) {
		g_churn_write = strcmp(vec, "churn-write") == 0;
		g_churn_nl = strcmp(vec, "churn-kmalloc") == 0 || g_churn_write;
		g_churn_named = strcmp(vec, "churn-named") == 0;
		g_nl_sendmsg = g_churn_named;  /* the same path as skb */
		churn_setup();
		if (count == 0)
			churn_forever();
		else
			for (unsigned long i = 0; i < count && !g_stop; i++)
				churn_op();
	} else {
		errno = 0;
		die("unknown vector '%s' (kmalloc|large|large-drip|cg|msg|msg-keep|msg-keep-thread|sock|sock-drip|tun|epoll|skb|drip|drip-oom|churn|churn-kmalloc|"
		    "churn-named|churn-write|churn-acl)", vec);
	}
	if (g_stop)
		finish();
	if (count != 0 || strncmp(vec, "churn", 5) != 0)
		say("ready %lu\n", count);
	serve_commands();
}
