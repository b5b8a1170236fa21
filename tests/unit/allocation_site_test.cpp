// stack_fn_id on the stacks slableak reported for the holder's paths in
// qemu guests (scripts/slk-lab matrix --scenario books, both arches,
// --scenario large and deploy, x86-64; Debian cloud kernels 5.10.223,
// 6.1.176, 6.12.117, 6.18.15; recorded December 2026): one allocation site, one id on
// every kernel and arch; different sites, different ids.
#include "allocation_site.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "stack_digest.h"
#include "symbolizer.h"

using namespace slableak;

namespace {

struct Recorded {
  std::string path;    // what the holder did
  std::string kernel;  // arch and series
  std::vector<std::string> frames;
};

// As slableak printed them: innermost first, allocator frames already gone.
const std::vector<Recorded>& recorded() {
  static const std::vector<Recorded> r = {
      {"msgsnd",
       "arm64 5.10",
       {"load_msg+0x40", "do_msgsnd+0x7c", "ksys_msgsnd+0x8c", "__arm64_sys_msgsnd+0x28",
        "el0_svc_common.constprop.0+0x80", "do_el0_svc+0x7c", "el0_svc+0x20", "el0_sync_handler+0xb0",
        "el0_sync+0x180"}},
      {"msgsnd",
       "arm64 6.1",
       {"load_msg+0x40", "do_msgsnd+0x80", "ksys_msgsnd+0x64", "__arm64_sys_msgsnd+0x28", "invoke_syscall+0x68",
        "el0_svc_common.constprop.0+0x4c", "do_el0_svc+0x2c", "el0_svc+0x34", "el0t_64_sync_handler+0xf4",
        "el0t_64_sync+0x18c"}},
      {"msgsnd",
       "arm64 6.12",
       {"load_msg+0x4c", "do_msgsnd+0x84", "ksys_msgsnd+0x60", "__arm64_sys_msgsnd+0x28", "invoke_syscall+0x60",
        "el0_svc_common.constprop.0+0x48", "do_el0_svc+0x24", "el0_svc+0xbc", "el0t_64_sync_handler+0xc8",
        "el0t_64_sync+0x190"}},
      {"msgsnd",
       "arm64 6.18",
       {"load_msg+0x50", "do_msgsnd+0x84", "ksys_msgsnd+0x60", "__arm64_sys_msgsnd+0x28", "invoke_syscall+0x6c",
        "el0_svc_common.constprop.0+0x48", "do_el0_svc+0x24", "el0_svc+0x3c", "el0t_64_sync_handler+0xa0",
        "el0t_64_sync+0x198"}},
      {"msgsnd",
       "x86-64 5.10",
       {"load_msg+0x37", "do_msgsnd+0x86", "do_syscall_64+0x33", "entry_SYSCALL_64_after_hwframe+0x67"}},
      {"msgsnd",
       "x86-64 6.1",
       {"load_msg+0x35", "do_msgsnd+0x8e", "do_syscall_64+0x5d", "entry_SYSCALL_64_after_hwframe+0x6e"}},
      {"msgsnd",
       "x86-64 6.12",
       {"load_msg+0x45", "do_msgsnd+0x8d", "do_syscall_64+0x87", "entry_SYSCALL_64_after_hwframe+0x76"}},
      {"msgsnd",
       "x86-64 6.18",
       {"load_msg+0x45", "do_msgsnd+0x8c", "do_syscall_64+0x84", "entry_SYSCALL_64_after_hwframe+0x76"}},
      {"netlink sendto",
       "arm64 5.10",
       {"__alloc_skb+0x8c", "netlink_sendmsg+0x2cc", "__sock_sendmsg+0x5c", "__sys_sendto+0x120",
        "__arm64_sys_sendto+0x30", "el0_svc_common.constprop.0+0x80", "do_el0_svc+0x7c", "el0_svc+0x20",
        "el0_sync_handler+0xb0", "el0_sync+0x180"}},
      {"netlink sendto",
       "arm64 6.1",
       {"__alloc_skb+0x98", "netlink_sendmsg+0x2c8", "__sock_sendmsg+0x5c", "__sys_sendto+0x114",
        "__arm64_sys_sendto+0x30", "invoke_syscall+0x68", "el0_svc_common.constprop.0+0x4c", "do_el0_svc+0x2c",
        "el0_svc+0x34", "el0t_64_sync_handler+0xf4", "el0t_64_sync+0x18c"}},
      {"netlink sendto",
       "arm64 6.12",
       {"__alloc_skb+0x9c", "netlink_alloc_large_skb+0x9c", "netlink_sendmsg+0x114", "__sock_sendmsg+0x64",
        "__sys_sendto+0x120", "__arm64_sys_sendto+0x30", "invoke_syscall+0x60", "el0_svc_common.constprop.0+0x48",
        "do_el0_svc+0x24", "el0_svc+0xbc", "el0t_64_sync_handler+0xc8", "el0t_64_sync+0x190"}},
      {"netlink sendto",
       "arm64 6.18",
       {"__alloc_skb+0x9c", "netlink_alloc_large_skb+0xa0", "netlink_sendmsg+0x114", "__sock_sendmsg+0x64",
        "__sys_sendto+0x120", "__arm64_sys_sendto+0x30", "invoke_syscall+0x6c", "el0_svc_common.constprop.0+0x48",
        "do_el0_svc+0x24", "el0_svc+0x3c", "el0t_64_sync_handler+0xa0", "el0t_64_sync+0x198"}},
      {"netlink sendto",
       "x86-64 5.10",
       {"__alloc_skb+0x79", "netlink_sendmsg+0x352", "__sock_sendmsg+0x62", "__sys_sendto+0xee",
        "__x64_sys_sendto+0x25", "do_syscall_64+0x33", "entry_SYSCALL_64_after_hwframe+0x67"}},
      {"netlink sendto",
       "x86-64 6.1",
       {"__alloc_skb+0x88", "netlink_sendmsg+0x348", "__sock_sendmsg+0x5f", "__sys_sendto+0x122",
        "__x64_sys_sendto+0x20", "do_syscall_64+0x5d", "entry_SYSCALL_64_after_hwframe+0x6e"}},
      {"netlink sendto",
       "x86-64 6.12",
       {"__alloc_skb+0x8a", "netlink_sendmsg+0x156", "__sys_sendto+0x1d7", "__x64_sys_sendto+0x24",
        "do_syscall_64+0x87", "entry_SYSCALL_64_after_hwframe+0x76"}},
      {"netlink sendto",
       "x86-64 6.18",
       {"__alloc_skb+0x89", "netlink_sendmsg+0x155", "__sys_sendto+0x1f1", "__x64_sys_sendto+0x24",
        "do_syscall_64+0x84", "entry_SYSCALL_64_after_hwframe+0x76"}},
      // The fleet test's drip (holder drip: sendmsg) and the exporter's own
      // BTF load, from scripts/slk-lab deploy (x86-64 6.1 and 6.12).
      {"netlink sendmsg",
       "x86-64 6.1",
       {"__alloc_skb+0x88", "netlink_sendmsg+0x348", "__sock_sendmsg+0x5f", "____sys_sendmsg+0x27f",
        "___sys_sendmsg+0x9a", "__sys_sendmsg+0x76", "do_syscall_64+0x5d", "entry_SYSCALL_64_after_hwframe+0x6e"}},
      {"netlink sendmsg",
       "x86-64 6.12",
       {"__alloc_skb+0x8a", "netlink_sendmsg+0x156", "____sys_sendmsg+0x372", "___sys_sendmsg+0x9a",
        "__sys_sendmsg+0x87", "do_syscall_64+0x87", "entry_SYSCALL_64_after_hwframe+0x76"}},
      {"bpf btf load",
       "x86-64 6.1",
       {"btf_new_fd+0x2b7", "__sys_bpf+0xb99", "__x64_sys_bpf+0x1a", "do_syscall_64+0x5d",
        "entry_SYSCALL_64_after_hwframe+0x6e"}},
      {"bpf btf load",
       "x86-64 6.12",
       {"btf_new_fd+0x39d", "__sys_bpf+0x685", "__x64_sys_bpf+0x21", "do_syscall_64+0x87",
        "entry_SYSCALL_64_after_hwframe+0x76"}},
      // holder epoll (slk-lab matrix --scenario named --kinds epoll): epitems,
      // in eventpoll_epi (merged into "pid" before 6.18). The second function
      // is the syscall's arch wrapper, __x64_ or __arm64_sys_epoll_ctl.
      {"epoll watch",
       "arm64 5.10",
       {"do_epoll_ctl+0x3e8", "__arm64_sys_epoll_ctl+0xc4", "el0_svc_common.constprop.0+0x80", "do_el0_svc+0x7c",
        "el0_svc+0x20", "el0_sync_handler+0xb0", "el0_sync+0x180"}},
      {"epoll watch",
       "arm64 6.18",
       {"do_epoll_ctl+0x20c", "__arm64_sys_epoll_ctl+0x9c", "invoke_syscall+0x6c", "el0_svc_common.constprop.0+0x48",
        "do_el0_svc+0x24", "el0_svc+0x3c", "el0t_64_sync_handler+0xa0", "el0t_64_sync+0x198"}},
      {"epoll watch",
       "x86-64 5.10",
       {"do_epoll_ctl+0x3d9", "__x64_sys_epoll_ctl+0x5d", "do_syscall_64+0x33", "entry_SYSCALL_64_after_hwframe+0x67"}},
      {"epoll watch",
       "x86-64 6.1",
       {"do_epoll_ctl+0x4ea", "__x64_sys_epoll_ctl+0x6c", "do_syscall_64+0x5d", "entry_SYSCALL_64_after_hwframe+0x6e"}},
      {"epoll watch",
       "x86-64 6.12",
       {"do_epoll_ctl+0x3bf", "__x64_sys_epoll_ctl+0x73", "do_syscall_64+0x87", "entry_SYSCALL_64_after_hwframe+0x76"}},
      {"epoll watch",
       "x86-64 6.18",
       {"do_epoll_ctl+0x3f1", "__x64_sys_epoll_ctl+0x72", "do_syscall_64+0x84", "entry_SYSCALL_64_after_hwframe+0x76"}},
      {"netlink socket",
       "arm64 5.10",
       {"sk_prot_alloc+0x98", "sk_alloc+0x40", "__netlink_create+0x48", "netlink_create+0x158", "__sock_create+0x160",
        "__sys_socket+0x60", "__arm64_sys_socket+0x28", "el0_svc_common.constprop.0+0x80", "do_el0_svc+0x7c",
        "el0_svc+0x20", "el0_sync_handler+0xb0", "el0_sync+0x180"}},
      {"netlink socket",
       "arm64 6.1",
       {"sk_prot_alloc+0x100", "sk_alloc+0x40", "__netlink_create+0x48", "netlink_create+0x148", "__sock_create+0x120",
        "__sys_socket+0xa0", "__arm64_sys_socket+0x28", "invoke_syscall+0x68", "el0_svc_common.constprop.0+0x4c",
        "do_el0_svc+0x2c", "el0_svc+0x34", "el0t_64_sync_handler+0xf4", "el0t_64_sync+0x18c"}},
      {"netlink socket",
       "arm64 6.12",
       {"sk_prot_alloc+0xfc", "sk_alloc+0x40", "__netlink_create+0x48", "netlink_create+0xf0", "__sock_create+0x100",
        "__sys_socket+0xa8", "__arm64_sys_socket+0x28", "invoke_syscall+0x60", "el0_svc_common.constprop.0+0x48",
        "do_el0_svc+0x24", "el0_svc+0xbc", "el0t_64_sync_handler+0xc8", "el0t_64_sync+0x190"}},
      {"netlink socket",
       "arm64 6.18",
       {"sk_prot_alloc+0x104", "sk_alloc+0x40", "__netlink_create+0x4c", "netlink_create+0x108", "__sock_create+0x184",
        "__sys_socket+0xa8", "__arm64_sys_socket+0x28", "invoke_syscall+0x6c", "el0_svc_common.constprop.0+0x48",
        "do_el0_svc+0x24", "el0_svc+0x3c", "el0t_64_sync_handler+0xa0", "el0t_64_sync+0x198"}},
      {"netlink socket",
       "x86-64 5.10",
       {"sk_prot_alloc+0x83", "sk_alloc+0x2c", "__netlink_create+0x32", "netlink_create+0x168", "__sock_create+0x106",
        "__sys_socket+0x59", "__x64_sys_socket+0x16", "do_syscall_64+0x33", "entry_SYSCALL_64_after_hwframe+0x67"}},
      {"netlink socket",
       "x86-64 6.1",
       {"sk_prot_alloc+0xa9", "sk_alloc+0x2c", "__netlink_create+0x32", "netlink_create+0x15c", "__sock_create+0x10a",
        "__sys_socket+0x85", "__x64_sys_socket+0x13", "do_syscall_64+0x5d", "entry_SYSCALL_64_after_hwframe+0x6e"}},
      {"netlink socket",
       "x86-64 6.12",
       {"sk_prot_alloc+0x6e", "sk_alloc+0x30", "__netlink_create+0x30", "netlink_create+0xfd", "__sock_create+0x10e",
        "__sys_socket+0x8a", "__x64_sys_socket+0x17", "do_syscall_64+0x87", "entry_SYSCALL_64_after_hwframe+0x76"}},
      {"netlink socket",
       "x86-64 6.18",
       {"sk_prot_alloc+0x6e", "sk_alloc+0x30", "__netlink_create+0x30", "netlink_create+0x13c", "__sock_create+0x122",
        "__sys_socket+0x88", "__x64_sys_socket+0x17", "do_syscall_64+0x84", "entry_SYSCALL_64_after_hwframe+0x76"}},
      {"pipe ring",
       "arm64 5.10",
       {"pipe_resize_ring+0x38", "pipe_fcntl+0x13c", "do_fcntl+0x21c", "__arm64_sys_fcntl+0x94",
        "el0_svc_common.constprop.0+0x80", "do_el0_svc+0x7c", "el0_svc+0x20", "el0_sync_handler+0xb0",
        "el0_sync+0x180"}},
      {"pipe ring",
       "arm64 6.1",
       {"pipe_resize_ring+0x38", "pipe_fcntl+0x124", "do_fcntl+0x94", "__arm64_sys_fcntl+0x98", "invoke_syscall+0x68",
        "el0_svc_common.constprop.0+0x4c", "do_el0_svc+0x2c", "el0_svc+0x34", "el0t_64_sync_handler+0xf4",
        "el0t_64_sync+0x18c"}},
      {"pipe ring",
       "arm64 6.12",
       {"pipe_resize_ring+0x38", "pipe_fcntl+0x120", "do_fcntl+0x140", "__arm64_sys_fcntl+0x98", "invoke_syscall+0x60",
        "el0_svc_common.constprop.0+0x48", "do_el0_svc+0x24", "el0_svc+0xbc", "el0t_64_sync_handler+0xc8",
        "el0t_64_sync+0x190"}},
      {"pipe ring",
       "arm64 6.18",
       {"pipe_resize_ring+0x40", "pipe_fcntl+0x134", "do_fcntl+0x13c", "__arm64_sys_fcntl+0x94", "invoke_syscall+0x6c",
        "el0_svc_common.constprop.0+0x48", "do_el0_svc+0x24", "el0_svc+0x3c", "el0t_64_sync_handler+0xa0",
        "el0t_64_sync+0x198"}},
      {"pipe ring",
       "x86-64 5.10",
       {"pipe_resize_ring+0x2d", "pipe_fcntl+0x108", "__x64_sys_fcntl+0x8c", "do_syscall_64+0x33",
        "entry_SYSCALL_64_after_hwframe+0x67"}},
      {"pipe ring",
       "x86-64 6.1",
       {"pipe_resize_ring+0x2d", "pipe_fcntl+0xe6", "do_fcntl+0x230", "__x64_sys_fcntl+0x90", "do_syscall_64+0x5d",
        "entry_SYSCALL_64_after_hwframe+0x6e"}},
      {"pipe ring",
       "x86-64 6.12",
       {"pipe_resize_ring+0x31", "pipe_fcntl+0xe2", "do_fcntl+0x195", "__x64_sys_fcntl+0x9b", "do_syscall_64+0x87",
        "entry_SYSCALL_64_after_hwframe+0x76"}},
      {"pipe ring",
       "x86-64 6.18",
       {"pipe_resize_ring+0x34", "pipe_fcntl+0xa0", "do_fcntl+0x194", "__x64_sys_fcntl+0x80", "do_syscall_64+0x84",
        "entry_SYSCALL_64_after_hwframe+0x76"}},
      {"socket inode",
       "arm64 5.10",
       {"sock_alloc_inode+0x28", "alloc_inode+0x30", "new_inode_pseudo+0x1c", "sock_alloc+0x24", "__sock_create+0xc8",
        "__sys_socket+0x60", "__arm64_sys_socket+0x28", "el0_svc_common.constprop.0+0x80", "do_el0_svc+0x7c",
        "el0_svc+0x20", "el0_sync_handler+0xb0", "el0_sync+0x180"}},
      {"socket inode",
       "arm64 6.1",
       {"sock_alloc_inode+0x2c", "alloc_inode+0x30", "new_inode_pseudo+0x1c", "sock_alloc+0x24", "__sock_create+0xc4",
        "__sys_socket+0xa0", "__arm64_sys_socket+0x28", "invoke_syscall+0x68", "el0_svc_common.constprop.0+0x4c",
        "do_el0_svc+0x2c", "el0_svc+0x34", "el0t_64_sync_handler+0xf4", "el0t_64_sync+0x18c"}},
      {"socket inode",
       "arm64 6.12",
       {"sock_alloc_inode+0x2c", "alloc_inode+0x30", "new_inode_pseudo+0x18", "sock_alloc+0x28", "__sock_create+0xac",
        "__sys_socket+0xa8", "__arm64_sys_socket+0x28", "invoke_syscall+0x60", "el0_svc_common.constprop.0+0x48",
        "do_el0_svc+0x24", "el0_svc+0xbc", "el0t_64_sync_handler+0xc8", "el0t_64_sync+0x190"}},
      {"socket inode",
       "arm64 6.18",
       {"sock_alloc_inode+0x2c", "alloc_inode+0x30", "sock_alloc+0x28", "__sock_create+0xac", "__sys_socket+0xa8",
        "__arm64_sys_socket+0x28", "invoke_syscall+0x6c", "el0_svc_common.constprop.0+0x48", "do_el0_svc+0x24",
        "el0_svc+0x3c", "el0t_64_sync_handler+0xa0", "el0t_64_sync+0x198"}},
      {"socket inode",
       "x86-64 5.10",
       {"sock_alloc_inode+0x18", "alloc_inode+0x1d", "new_inode_pseudo+0xd", "sock_alloc+0x18", "__sock_create+0x80",
        "__sys_socket+0x59", "__x64_sys_socket+0x16", "do_syscall_64+0x33", "entry_SYSCALL_64_after_hwframe+0x67"}},
      {"socket inode",
       "x86-64 6.1",
       {"sock_alloc_inode+0x1e", "alloc_inode+0x1e", "new_inode_pseudo+0xc", "sock_alloc+0x17", "__sock_create+0x7f",
        "__sys_socket+0x85", "__x64_sys_socket+0x13", "do_syscall_64+0x5d", "entry_SYSCALL_64_after_hwframe+0x6e"}},
      {"socket inode",
       "x86-64 6.12",
       {"sock_alloc_inode+0x22", "alloc_inode+0x1e", "sock_alloc+0x1b", "__sock_create+0x83", "__sys_socket+0x8a",
        "__x64_sys_socket+0x17", "do_syscall_64+0x87", "entry_SYSCALL_64_after_hwframe+0x76"}},
      {"socket inode",
       "x86-64 6.18",
       {"sock_alloc_inode+0x22", "alloc_inode+0x22", "sock_alloc+0x1b", "__sock_create+0x83", "__sys_socket+0x88",
        "__x64_sys_socket+0x17", "do_syscall_64+0x84", "entry_SYSCALL_64_after_hwframe+0x76"}},
      {"socketpair inode",
       "arm64 5.10",
       {"sock_alloc_inode+0x28", "alloc_inode+0x30", "new_inode_pseudo+0x1c", "sock_alloc+0x24", "__sock_create+0xc8",
        "__sys_socketpair+0x21c", "__arm64_sys_socketpair+0x2c", "el0_svc_common.constprop.0+0x80", "do_el0_svc+0x7c",
        "el0_svc+0x20", "el0_sync_handler+0xb0", "el0_sync+0x180"}},
      {"socketpair inode",
       "arm64 6.1",
       {"sock_alloc_inode+0x2c", "alloc_inode+0x30", "new_inode_pseudo+0x1c", "sock_alloc+0x24", "__sock_create+0xc4",
        "__sys_socketpair+0x168", "__arm64_sys_socketpair+0x2c", "invoke_syscall+0x68",
        "el0_svc_common.constprop.0+0x4c", "do_el0_svc+0x2c", "el0_svc+0x34", "el0t_64_sync_handler+0xf4",
        "el0t_64_sync+0x18c"}},
      {"socketpair inode",
       "arm64 6.12",
       {"sock_alloc_inode+0x2c", "alloc_inode+0x30", "new_inode_pseudo+0x18", "sock_alloc+0x28", "__sock_create+0xac",
        "__sys_socketpair+0x158", "__arm64_sys_socketpair+0x2c", "invoke_syscall+0x60",
        "el0_svc_common.constprop.0+0x48", "do_el0_svc+0x24", "el0_svc+0xbc", "el0t_64_sync_handler+0xc8",
        "el0t_64_sync+0x190"}},
      {"socketpair inode",
       "arm64 6.18",
       {"sock_alloc_inode+0x2c", "alloc_inode+0x30", "sock_alloc+0x28", "__sock_create+0xac", "__sys_socketpair+0x158",
        "__arm64_sys_socketpair+0x2c", "invoke_syscall+0x6c", "el0_svc_common.constprop.0+0x48", "do_el0_svc+0x24",
        "el0_svc+0x3c", "el0t_64_sync_handler+0xa0", "el0t_64_sync+0x198"}},
      {"socketpair inode",
       "x86-64 5.10",
       {"sock_alloc_inode+0x18", "alloc_inode+0x1d", "new_inode_pseudo+0xd", "sock_alloc+0x18", "__sock_create+0x80",
        "__sys_socketpair+0xca", "__x64_sys_socketpair+0x1a", "do_syscall_64+0x33",
        "entry_SYSCALL_64_after_hwframe+0x67"}},
      {"socketpair inode",
       "x86-64 6.1",
       {"sock_alloc_inode+0x1e", "alloc_inode+0x1e", "new_inode_pseudo+0xc", "sock_alloc+0x17", "__sock_create+0x7f",
        "__sys_socketpair+0xd5", "__x64_sys_socketpair+0x17", "do_syscall_64+0x5d",
        "entry_SYSCALL_64_after_hwframe+0x6e"}},
      {"socketpair inode",
       "x86-64 6.12",
       {"sock_alloc_inode+0x22", "alloc_inode+0x1e", "sock_alloc+0x1b", "__sock_create+0x83", "__sys_socketpair+0xda",
        "__x64_sys_socketpair+0x1b", "do_syscall_64+0x87", "entry_SYSCALL_64_after_hwframe+0x76"}},
      {"socketpair inode",
       "x86-64 6.18",
       {"sock_alloc_inode+0x22", "alloc_inode+0x22", "sock_alloc+0x1b", "__sock_create+0x83", "__sys_socketpair+0xd9",
        "__x64_sys_socketpair+0x1b", "do_syscall_64+0x84", "entry_SYSCALL_64_after_hwframe+0x76"}},
      {"user key",
       "x86-64 5.10",
       {"user_preparse+0x32", "key_create_or_update+0x1cc", "__do_sys_add_key+0xf0", "do_syscall_64+0x33",
        "entry_SYSCALL_64_after_hwframe+0x67"}},
      {"user key",
       "x86-64 6.1",
       {"user_preparse+0x2f", "key_create_or_update+0x20b", "__do_sys_add_key+0x152", "do_syscall_64+0x5d",
        "entry_SYSCALL_64_after_hwframe+0x6e"}},
      {"user key",
       "x86-64 6.12",
       {"user_preparse+0x33", "__key_create_or_update+0x1d5", "key_create_or_update+0x14", "__do_sys_add_key+0x174",
        "do_syscall_64+0x87", "entry_SYSCALL_64_after_hwframe+0x76"}},
      {"user key",
       "x86-64 6.18",
       {"user_preparse+0x33", "__key_create_or_update+0x207", "key_create_or_update+0x14", "__do_sys_add_key+0x17b",
        "do_syscall_64+0x84", "entry_SYSCALL_64_after_hwframe+0x76"}},
  };
  return r;
}

// The id as every output gets it: SymbolizedStack's, from printed frames.
std::string fn_id(const std::vector<std::string>& frames) {
  std::vector<std::string> functions;
  for (const auto& f : frames) functions.push_back(symbol_of_frame(f));
  return digest_hex(SymbolizedStack(frames, functions).fn_digest);
}

bool arm64_netlink_wrapper(const Recorded& r) {
  return r.frames.size() > 1 && r.frames[1].rfind("netlink_alloc_large_skb+", 0) == 0;
}

// The ids of each path; the arm64 builds that call netlink_alloc_large_skb
// as a path of their own (the one split, below).
std::map<std::string, std::set<std::string>> ids_per_path() {
  std::map<std::string, std::set<std::string>> ids;
  for (const auto& r : recorded())
    ids[arm64_netlink_wrapper(r) ? "netlink arm64 wrapper" : r.path].insert(fn_id(r.frames));
  return ids;
}

}  // namespace

TEST(AllocationSite, OnePathHasOneIdOnEveryKernelAndArch) {
  // The one split in the recordings: arm64's 6.12 and 6.18 builds call
  // netlink_alloc_large_skb, which x86-64 and older arm64 builds inline, as
  // the second function (docs/metrics.md). Everything deeper differs freely:
  // __sock_sendmsg (6.1, gone on x86-64 6.12), new_inode_pseudo (gone on
  // 6.18), __key_create_or_update (6.12+), __x64_sys_* vs __arm64_sys_*.
  auto ids = ids_per_path();
  ASSERT_EQ(ids.size(), 11u);
  for (const auto& [path, set] : ids) EXPECT_EQ(set.size(), 1u) << path;
  EXPECT_NE(ids["netlink arm64 wrapper"], ids["netlink sendto"]);
}

TEST(AllocationSite, DifferentSitesHaveDifferentIds) {
  auto ids = ids_per_path();
  // The price of keying by the site: socket() and socketpair() both get
  // their inode from sock_alloc_inode under alloc_inode, so they share one
  // id fleet-wide; stack_id and the frames still tell them apart.
  EXPECT_EQ(ids["socket inode"], ids["socketpair inode"]);
  ids.erase("socketpair inode");
  // Likewise every netlink skb head, sent with sendto() or sendmsg().
  EXPECT_EQ(ids["netlink sendto"], ids["netlink sendmsg"]);
  ids.erase("netlink sendmsg");
  std::set<std::string> all;
  size_t n = 0;
  for (const auto& [path, set] : ids) {
    all.insert(set.begin(), set.end());
    n += set.size();
  }
  EXPECT_EQ(all.size(), n);
}

TEST(AllocationSite, TheSiteIsTheInnermostTwoFunctions) {
  EXPECT_EQ(site_digest({"load_msg", "do_msgsnd", "do_syscall_64"}), site_digest({"load_msg", "do_msgsnd"}));
  EXPECT_NE(site_digest({"load_msg", "do_msgsnd"}), site_digest({"load_msg", "do_msgrcv"}));
  EXPECT_NE(site_digest({"load_msg", "do_msgsnd"}), site_digest({"do_msgsnd", "load_msg"}));
  // Fewer than two: what there is; "[unknown]" is a name like any other.
  EXPECT_NE(site_digest({"load_msg"}), site_digest({}));
  EXPECT_EQ(site_digest({"[unknown]", "do_msgsnd", "x"}), site_digest({"[unknown]", "do_msgsnd"}));
  EXPECT_NE(site_digest({"[unknown]", "do_msgsnd"}), site_digest({"do_msgsnd"}));
  StackDigest one;
  one.add_frame("load_msg");
  EXPECT_EQ(site_digest({"load_msg"}), one.value());
}

TEST(AllocationSite, CopyHelpersGiveWayToTheirCaller) {
  const auto site = site_digest({"setxattr_copy", "path_setxattr"});
  EXPECT_EQ(site_digest({"kvmemdup", "setxattr_copy", "path_setxattr", "__x64_sys_setxattr"}), site);
  EXPECT_EQ(site_digest({"kmemdup_noprof", "setxattr_copy", "path_setxattr"}), site);
  EXPECT_EQ(site_digest({"kstrdup", "kstrdup_const", "setxattr_copy", "path_setxattr"}), site);
  EXPECT_EQ(site_digest({"memdup_user", "setxattr_copy", "path_setxattr"}), site);
  // Only at the innermost end: a helper deeper in is the caller's business.
  EXPECT_NE(site_digest({"setxattr_copy", "kmemdup", "path_setxattr"}), site);
  // Not a helper: __alloc_skb keeps its place, its caller is the second name.
  EXPECT_FALSE(is_copy_helper("__alloc_skb"));
  EXPECT_TRUE(is_copy_helper("krealloc_node_align_noprof"));
  EXPECT_TRUE(is_copy_helper("kasprintf"));
  EXPECT_FALSE(is_copy_helper("kmemdup_foo"));
  // All helpers: no caller to name.
  EXPECT_EQ(site_digest({"kstrdup", "kmemdup"}), site_digest({}));
}

TEST(AllocationSite, OneFunctionUnderItsBuildNames) {
  EXPECT_EQ(site_function_name("el0_svc_common.constprop.0"), "el0_svc_common");
  EXPECT_EQ(site_function_name("foo.isra.0"), "foo");
  EXPECT_EQ(site_function_name("foo.cold"), "foo");
  EXPECT_EQ(site_function_name("__key_create_or_update"), "key_create_or_update");
  EXPECT_EQ(site_function_name("kmemdup_noprof"), "kmemdup");
  // One syscall under its wrappers' names, on every arch.
  EXPECT_EQ(site_function_name("__x64_sys_epoll_ctl"), "sys_epoll_ctl");
  EXPECT_EQ(site_function_name("__arm64_sys_epoll_ctl"), "sys_epoll_ctl");
  EXPECT_EQ(site_function_name("__se_sys_epoll_ctl"), "sys_epoll_ctl");
  EXPECT_EQ(site_function_name("__do_sys_add_key"), "sys_add_key");
  EXPECT_EQ(site_function_name("__x64_compat_sys_sendmsg"), "compat_sys_sendmsg");
  EXPECT_EQ(site_function_name("__sys_sendto"), "sys_sendto");
  EXPECT_EQ(site_function_name("__x64_foo"), "x64_foo");
  EXPECT_EQ(site_digest({"do_epoll_ctl", "__x64_sys_epoll_ctl"}),
            site_digest({"do_epoll_ctl", "__arm64_sys_epoll_ctl"}));
  EXPECT_EQ(site_function_name("_noprof"), "noprof");
  EXPECT_EQ(site_function_name("[unknown]"), "[unknown]");
  EXPECT_EQ(site_function_name("__"), "__");
  EXPECT_EQ(site_function_name(""), "");
}

TEST(AllocationSite, SymbolizerAndPrintedFramesAgree) {
  Symbolizer s(Kallsyms::parse("ffffffff81000000 T __kmalloc_noprof\n"
                               "ffffffff81000200 T load_msg\n"
                               "ffffffff81000300 t do_msgsnd.isra.0\n"
                               "ffffffff81000500 T do_syscall_64\n"),
               false);
  const auto& st = s.symbolize(1, {0xffffffff81000020, 0xffffffff8100025a, 0xffffffff81000310, 0xffffffff81000501, 0});
  EXPECT_EQ(digest_hex(st.fn_digest), fn_id({"load_msg+0x5a", "do_msgsnd+0x10", "do_syscall_64+0x1"}));
  EXPECT_EQ(digest_hex(st.fn_digest), fn_id({"load_msg+0x5a", "do_msgsnd.isra.0+0x10"}));
}
