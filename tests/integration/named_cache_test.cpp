// Named (non-kmalloc) caches: objects held through real kernel paths in
// sock_inode_cache, skbuff_head_cache and filp, plus eventpoll_pwq, which
// SLUB merged into anon_vma_chain on this kernel, while churn runs in the
// same caches (tests/support/holder.c, docs/vectors.md).
// eventpoll_epi is left out on purpose: 6.18 frees epitems with kfree_rcu,
// whose batches end in a bulk free with no per-object event, so its churn
// leaves phantoms until the addresses are handed out again (implicit frees);
// measuring and closing that gap is the unannounced-frees issue.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <thread>

#include "live_session.h"
#include "support.h"

namespace slableak::test {
namespace {

constexpr unsigned kHeld = 2000;

std::string dump(const Snapshot& s) {
  std::string out;
  for (const auto& st : s.stacks) {
    if (st.objects < 20 && st.allocs < 1000) continue;
    out += st.cache + " (" + st.requested + ") objects=" + std::to_string(st.objects) +
           " allocs=" + std::to_string(st.allocs) + " [";
    for (size_t i = 0; i < st.frames.size() && i < 6; ++i) out += st.frames[i] + " ";
    out += "]\n";
  }
  return out;
}

// The cache, the function that must be on the stack, and what holds them.
struct Kind {
  const char* cache;
  const char* function;
};
// Each held set and its churn go through a path of their own (socketpair,
// sendmsg, eventfd+epoll): other processes on the machine allocate in the
// same caches through socket() and sendto().
const Kind kSock{"sock_inode_cache", "__sys_socketpair"};
// sendmsg, not sendto: other tests (and other slableak users on this
// machine) hold netlink messages through sendto.
const Kind kSkb{"skbuff_head_cache", "____sys_sendmsg"};
const Kind kFile{"filp", "do_eventfd"};
const Kind kPwq{"anon_vma_chain", "ep_ptable_queue_proc"};  // asked for as eventpoll_pwq

// Free events the kernel dropped because one of our programs was already
// running on that CPU (an RCU callback freeing a socket inode in softirq, on
// top of our program), since attach. A missed free leaves an object that looks
// held until its address is handed out again; slableak counts the misses
// and marks the caches' counts as upper bounds. Seen here now and then:
// 25-50 of 100,000 churned sockets per path, so a difference of two
// snapshots can be off by that much either way.
int64_t missed_so_far(const Snapshot& s) { return static_cast<int64_t>(s.health.missed_frees); }

bool marked_upper_bound(const Snapshot& s, const std::string& cache) {
  for (const auto& c : s.caches)
    if (c.name == cache) return c.upper_bound();
  return false;
}

// Sockets and the churn's frees go back through RCU callbacks: read until
// the counts under @kinds stop moving (no time limit asserted, just a bound
// on how long to wait for the kernel's callbacks). Still for a whole second,
// not one 200 ms read: on a loaded host (CI runs qemu guests beside these
// tests) ksoftirqd runs the callbacks in bursts with pauses between them,
// and one still read once caught 570 sockets not yet freed.
Snapshot settled(Session& session, const std::vector<Kind>& kinds) {
  auto total = [&](const Snapshot& s) {
    int64_t n = 0;
    for (const Kind& k : kinds) n += under(s, k.cache, k.function).objects;
    return n;
  };
  Snapshot s = session.collect();
  int still = 0;
  for (int i = 0; i < 150 && still < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    Snapshot next = session.collect();
    still = total(next) == total(s) ? still + 1 : 0;
    s = std::move(next);
  }
  return s;
}

TEST(NamedCaches, HeldSetsFoundUnderTheirStacksWhileChurnComesBack) {
  REQUIRE_BPF();
  TraceOptions so;
  so.caches = {"sock_inode_cache", "skbuff_head_cache", "filp", "eventpoll_pwq"};
  auto session_owner = open_live_session(so);
  Session& session = *session_owner;

  // 1. Churn alone: sockets, epoll insertions and netlink messages that
  //    all come back. Its stacks are the held sets' stacks, so it is
  //    measured first, on its own.
  {
    Child churn({holder_bin(), "churn-named", "0"});
    ASSERT_FALSE(churn.wait_stdout_line("ready", std::chrono::seconds(30)).empty()) << churn.err();
    std::this_thread::sleep_for(std::chrono::seconds(2));
    churn.write_line("stop");
    ASSERT_FALSE(churn.wait_stdout_line("ops", std::chrono::seconds(30)).empty());
    const Snapshot s = settled(session, {kSock, kSkb, kFile, kPwq});
    SCOPED_TRACE(dump(s));
    const Kind churn_file{"filp", "__sys_socketpair"};  // the churn's sockets' files
    for (const Kind& k : {kSock, kSkb, churn_file, kPwq}) {
      SCOPED_TRACE(k.cache);
      const Under u = under(s, k.cache, k.function);
      EXPECT_GT(u.allocs, 5000u) << "the churn did not run through " << k.function;
      EXPECT_LT(static_cast<double>(u.objects), 0.01 * static_cast<double>(u.allocs));
    }
  }
  const Snapshot base = settled(session, {kSock, kSkb, kFile, kPwq});

  // 2. Held sets, made while the churn runs again.
  Child churn({holder_bin(), "churn-named", "0"});
  ASSERT_FALSE(churn.wait_stdout_line("ready", std::chrono::seconds(30)).empty()) << churn.err();
  Holder sock("sock", kHeld);      // sock_inode_cache (and a filp each, under sock_alloc_file)
  Holder epoll("epoll", kHeld);    // eventpoll_pwq, filp under do_eventfd (and eventpoll_epi)
  Holder netlink("skb", kHeld);    // one skbuff_head_cache head per message
  std::this_thread::sleep_for(std::chrono::seconds(1));
  churn.write_line("stop");
  ASSERT_FALSE(churn.wait_stdout_line("ops", std::chrono::seconds(30)).empty());

  const Snapshot s = settled(session, {kSock, kSkb, kFile, kPwq});
  SCOPED_TRACE(dump(s));
  for (const Kind& k : {kSock, kSkb, kFile, kPwq}) {
    SCOPED_TRACE(k.cache);
    const int64_t held = under(s, k.cache, k.function).objects - under(base, k.cache, k.function).objects;
    const int64_t tolerance = kHeld * 2 / 100;
    // Off by more than the tolerance only by events the kernel did not
    // deliver, and then the report says its counts are upper bounds.
    EXPECT_LE(std::abs(held - int64_t{kHeld}), tolerance + missed_so_far(s)) << held << " held";
    if (std::abs(held - int64_t{kHeld}) > tolerance) EXPECT_TRUE(marked_upper_bound(s, k.cache));
  }
  // Never in the wrong cache.
  EXPECT_EQ(under(s, "filp", "sock_alloc_inode").objects, 0);
  EXPECT_EQ(under(s, "skbuff_head_cache", "__sys_socketpair").objects, 0);
  EXPECT_EQ(under(s, "sock_inode_cache", "do_eventfd").objects, 0);
  // The merged name is reported under the kernel's cache, asked-for name kept.
  const auto pwq = std::find_if(s.caches.begin(), s.caches.end(),
                                [](const CacheHeader& c) { return c.name == "anon_vma_chain"; });
  ASSERT_NE(pwq, s.caches.end());
  EXPECT_EQ(pwq->merged_as, "eventpoll_pwq");
  EXPECT_EQ(pwq->requested, "eventpoll_pwq");
  for (const auto& st : s.stacks)
    if (st.cache == "anon_vma_chain") EXPECT_EQ(st.requested, "eventpoll_pwq");
  // /proc/slabinfo saw the held set too (sock_inode_cache: the quietest of
  // these caches on a busy VM; skbuff_head_cache moves with the network).
  for (const auto& c : s.caches)
    if (c.name == "sock_inode_cache") {
      SCOPED_TRACE(c.name);
      EXPECT_TRUE(c.in_slabinfo);
      EXPECT_GE(c.slab_active_now - c.slab_active_start, static_cast<int64_t>(kHeld) * 9 / 10);
    }
  EXPECT_EQ(s.health.counters[TracerCounter::drop_live_full], 0u);

  // 3. Released: the held stacks fall back to what they held before.
  sock.release();
  epoll.release();
  netlink.release();
  const Snapshot after = settled(session, {kSock, kSkb, kFile, kPwq});
  SCOPED_TRACE(dump(after));
  for (const Kind& k : {kSock, kSkb, kFile, kPwq}) {
    SCOPED_TRACE(k.cache);
    const int64_t left = under(after, k.cache, k.function).objects - under(base, k.cache, k.function).objects;
    const int64_t tolerance = kHeld / 100;
    EXPECT_LE(left, tolerance + missed_so_far(after)) << missed_so_far(after) << " missed";
    if (left > tolerance) EXPECT_TRUE(marked_upper_bound(after, k.cache));
  }
}

// Following a named cache must not attach anything to kmalloc, and
// following only kmalloc caches nothing to kmem_cache_alloc (the cost of
// one never grows with the other).
TEST(NamedCaches, OnlyTheNeededEventsAreAttached) {
  REQUIRE_BPF();
  TraceOptions named;
  named.caches = {"filp"};
  auto a_owner = open_live_session(named);
  Session& a = *a_owner;
  Holder netlink("kmalloc", 200);
  const Snapshot s = a.collect();
  for (const auto& st : s.stacks) EXPECT_EQ(st.cache, "filp");
}

}  // namespace
}  // namespace slableak::test

namespace slableak::test {
namespace {

// triage while a leak grows in one named cache: that cache is picked first,
// with figures, and its report names the leaking stack. AF_UNIX sockets are
// merged into another cache on some kernels: the expected name is whatever
// /proc/slabinfo calls the cache /sys/kernel/slab/UNIX points at.
TEST(Triage, PicksTheGrowingNamedCacheAndNamesTheStack) {
  REQUIRE_BPF();
  std::string unix_cache = "UNIX";
  char target[256];
  const ssize_t n = readlink("/sys/kernel/slab/UNIX", target, sizeof target - 1);
  if (n > 0) {
    const std::string t(target, static_cast<size_t>(n));
    const std::string slabinfo = read_file("/proc/slabinfo");
    std::istringstream lines(slabinfo);
    std::string line;
    while (std::getline(lines, line)) {
      const std::string name = line.substr(0, line.find(' '));
      char other[256];
      const ssize_t m = readlink(("/sys/kernel/slab/" + name).c_str(), other, sizeof other - 1);
      if (m > 0 && std::string(other, static_cast<size_t>(m)) == t) {
        unix_cache = name;
        break;
      }
    }
  }
  Child drip({holder_bin(), "sock-drip", "60000"});  // grows for up to a minute
  ASSERT_FALSE(drip.wait_stdout_line("ready", std::chrono::seconds(30)).empty()) << drip.err();
  const RunResult r = run_slableak({"triage", "--window", "3s", "--duration", "3s", "--top", "3"});
  drip.write_line("quit");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto following = r.out.find("following:\n");
  ASSERT_NE(following, std::string::npos) << r.out;
  // The first picked cache, with its growth figures.
  const std::string first = r.out.substr(following + 11, r.out.find('\n', following + 11) - following - 11);
  EXPECT_EQ(first.substr(2, first.find(' ', 2) - 2), unix_cache) << r.out;
  EXPECT_NE(first.find("% of the growth"), std::string::npos) << first;
  // Its report names the leaking stack.
  const auto section = r.out.find("=== " + unix_cache + " ===");
  ASSERT_NE(section, std::string::npos) << r.out;
  EXPECT_NE(r.out.find("__sys_socketpair", section), std::string::npos) << r.out;
  EXPECT_EQ(slableak_programs_after(std::chrono::seconds(5)), 0);
}

}  // namespace
}  // namespace slableak::test
