/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Types shared by the XDP program and the daemon. Every struct here crosses
 * the kernel/user boundary, so fields are fixed width, explicitly padded (no
 * holes, so hashing and memcmp of keys are sound) and size-checked below.
 */
#ifndef FLOWMASTER_H
#define FLOWMASTER_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define FM_MAX_IFACES 16 /* interfaces one loaded program tells apart */
/* Counter slots per direction: 0 (not ours) and one per interface. The
 * counters map holds ingress slots first, then egress ones. */
#define FM_IFACE_SLOTS (FM_MAX_IFACES + 1)
#define FM_COUNTER_SLOTS (2 * FM_IFACE_SLOTS)
#define FM_MAX_VLAN_TAGS 2 /* 802.1ad outer + 802.1Q inner */
#define FM_MAX_EXT_HDRS 8  /* IPv6 extension headers walked */

/*
 * Wire numbers the key holds (host byte order), for both sides: vmlinux.h
 * has no #defines, and userspace names them from lib/proto.c.
 */
#define FM_ETH_P_IP 0x0800
#define FM_ETH_P_ARP 0x0806
#define FM_ETH_P_8021Q 0x8100
#define FM_ETH_P_IPV6 0x86DD
#define FM_ETH_P_8021AD 0x88A8
#define FM_ETH_P_LLDP 0x88CC

#define FM_IPPROTO_HOPOPTS 0
#define FM_IPPROTO_ICMP 1
#define FM_IPPROTO_TCP 6
#define FM_IPPROTO_UDP 17
#define FM_IPPROTO_ROUTING 43
#define FM_IPPROTO_FRAGMENT 44
#define FM_IPPROTO_AH 51
#define FM_IPPROTO_ICMPV6 58
#define FM_IPPROTO_DSTOPTS 60
#define FM_IPPROTO_SCTP 132
#define FM_IPPROTO_UDPLITE 136

/* TCP flag bits of fm_flow_value.tcp_flags (the header's 13th byte). */
#define FM_TCP_FIN 0x01
#define FM_TCP_SYN 0x02
#define FM_TCP_RST 0x04
#define FM_TCP_PSH 0x08
#define FM_TCP_ACK 0x10
#define FM_TCP_URG 0x20
#define FM_TCP_ECE 0x40
#define FM_TCP_CWR 0x80

enum fm_direction {
	FM_DIR_INGRESS = 0, /* XDP */
	FM_DIR_EGRESS = 1,  /* TC (tcx or clsact) */
};

/* fm_flow_key.flags */
#define FM_KF_VLAN 0x01	     /* vlan_id is valid (frame was tagged) */
#define FM_KF_MALFORMED 0x02 /* parsing stopped early; key holds what was read */
#define FM_KF_FRAG 0x04	     /* IP fragment (non-first ones carry no ports) */
/* Only in struct fm_map_key's flags (user space sees direction and MACs): */
#define FM_KF_L2 0x08	  /* no IP addresses read: the addresses hold the MACs */
#define FM_KF_EGRESS 0x10 /* direction FM_DIR_EGRESS */
#define FM_KF_KEY_MASK (FM_KF_VLAN | FM_KF_MALFORMED | FM_KF_FRAG) /* fm_flow_key's */

/*
 * One flow. Addresses are 16 bytes: IPv6 as is, IPv4 as an IPv4-mapped IPv6
 * address (::ffff:a.b.c.d, RFC 4291 2.5.5.2), so one key serves both
 * families and eth_type says which. Ports and eth_type are host byte order so
 * `bpftool map dump` prints them readably. Non-IP frames carry only MACs and
 * eth_type; addresses and ports are zero.
 */
struct fm_flow_key {
	__u32 ifindex;
	__u16 eth_type; /* after VLAN tags, e.g. 0x0800, 0x86dd, 0x0806 */
	__u16 vlan_id;	/* outer tag's VID; valid with FM_KF_VLAN */
	__u8 src_mac[6];
	__u8 dst_mac[6];
	__u8 src_addr[16];
	__u8 dst_addr[16];
	__u16 src_port; /* 0 where the protocol has none */
	__u16 dst_port;
	__u8 protocol;	/* IP protocol number, 0 for non-IP */
	__u8 icmp_type; /* ICMP/ICMPv6 only, else 0 */
	__u8 icmp_code;
	__u8 direction; /* enum fm_direction */
	__u8 flags;	/* FM_KF_* */
	__u8 tos;	/* IPv4 TOS / IPv6 traffic class (DSCP and ECN), keyed as NetFlow does */
	__u8 reserved[2];
};

/*
 * The flow maps' key: fm_flow_key in 48 bytes, so that the part of the
 * hash element a lookup reads (hash, key, per-CPU pointer) is 64 bytes,
 * not 80, the key hashes in three jhash rounds, not five, and the parser
 * stores less (measured: the ladder of bench_prog and insitu.sh,
 * BENCHMARKS.md). What moved:
 * - MACs: for IP flows (FM_KF_L2 clear) they are not keyed; the value
 *   holds the first packet's, written on insert (fm_flow_value.src_mac).
 *   Frames whose addresses were not read (non-IP, or cut short before
 *   them) set FM_KF_L2 and key their MACs in the first 6 bytes of
 *   src_addr and dst_addr, so they stay apart per MAC pair.
 * - ICMP type and code: in src_port and dst_port (an ICMP key has no ports).
 * - direction: FM_KF_EGRESS in flags.
 * User space expands it into fm_flow_key (kernel/mapkey.h).
 */
struct fm_map_key {
	__u32 ifindex;
	__u16 eth_type;
	__u16 vlan_id;
	__u8 src_addr[16]; /* FM_KF_L2: the source MAC, then zeros */
	__u8 dst_addr[16];
	__u16 src_port; /* ICMP/ICMPv6: type */
	__u16 dst_port; /* ICMP/ICMPv6: code */
	__u8 protocol;
	__u8 flags; /* FM_KF_* including FM_KF_L2, FM_KF_EGRESS */
	__u8 tos;
	__u8 reserved;
};

/*
 * Clock of first_seen, last_seen and fm_event.ts. The default, jiffies
 * (bpf_jiffies64), is inlined by the verifier into one load: it measured
 * ~24 ns cheaper per packet than bpf_ktime_get_coarse_ns, with the same
 * tick resolution (1/HZ). The others exist to measure that choice.
 */
enum fm_clock {
	FM_CLOCK_JIFFIES = 0,
	FM_CLOCK_COARSE_NS = 1, /* bpf_ktime_get_coarse_ns */
	FM_CLOCK_NS = 2,	/* bpf_ktime_get_ns */
	/* replay: the program reads replay_now (.bss), set by the replay loop
	 * before each frame to the capture's time in epoch ns. A load-time
	 * constant: the live program does not contain the branch. */
	FM_CLOCK_REPLAY = 3,
};

/* Per-CPU counters of one flow in one generation; the daemon converts
 * the times to epoch milliseconds. */
struct fm_flow_value {
	__u64 packets;	  /* wire packets: a GSO skb counts as its segments */
	__u64 bytes;	  /* frame length at the hook, FCS excluded (GSO: of every segment) */
	__u64 ip_bytes;	  /* IPv4 total length / IPv6 40 + payload length; 0 non-IP */
	__u64 first_seen; /* enum fm_clock units, jiffies by default */
	__u64 last_seen;
	__u8 tcp_flags; /* OR of all TCP flags seen */
	__u8 reserved;
	/* MACs of the flow's first packet, written on insert by the CPU that
	 * inserted it (the one whose first_seen is set); zero on the others.
	 * Unused with FM_KF_L2 (the key has them). */
	__u8 src_mac[6];
	__u8 dst_mac[6];
	__u8 reserved2[2];
};

enum fm_event_type {
	FM_EV_PACKET = 1,   /* one packet the flow map had no room for */
	FM_EV_DOORBELL = 2, /* active generation passed the fill threshold */
};

/* Ring-buffer record; type comes first so the reader can dispatch. */
struct fm_event {
	__u32 type;	/* enum fm_event_type */
	__u32 len;	/* PACKET: frame bytes (GSO: of all segments); DOORBELL: 0 */
	__u64 ts;	/* same clock as fm_flow_value */
	__u64 inserts;	/* DOORBELL: fm_ctl.inserts when sent */
	__u8 tcp_flags; /* PACKET: TCP flags of this packet */
	__u8 reserved;
	__u16 segs;	       /* PACKET: wire packets (GSO segments; 0 read as 1) */
	__u32 ip_len;	       /* PACKET: IP bytes, as fm_flow_value.ip_bytes */
	struct fm_map_key key; /* PACKET only */
	__u8 src_mac[6];       /* PACKET: the frame's MACs (0 if it had no Ethernet header) */
	__u8 dst_mac[6];
	__u8 reserved2[4];
};

/*
 * Per-CPU counters, one entry per interface slot (slot 0: an interface not
 * in the program's list, slots 1..FM_MAX_IFACES: cfg_ifindex[slot - 1]).
 * All monotonic; userspace sums CPUs and takes deltas.
 */
struct fm_counters {
	__u64 packets; /* frames seen */
	__u64 bytes;
	__u64 map_packets;     /* counted in a flow map */
	__u64 err_eth;	       /* shorter than an Ethernet header */
	__u64 err_vlan;	       /* truncated VLAN tag */
	__u64 err_ipv4;	       /* truncated IPv4 header, bad version or IHL < 5 */
	__u64 err_ipv4_opts;   /* IHL says options past the end of the frame */
	__u64 err_ipv6;	       /* truncated IPv6 header or bad version */
	__u64 err_ipv6_ext;    /* truncated extension header */
	__u64 err_ext_chain;   /* more than FM_MAX_EXT_HDRS extension headers */
	__u64 err_l4;	       /* truncated TCP/UDP/SCTP/ICMP header */
	__u64 map_full;	       /* inserts refused: generation full */
	__u64 ringbuf_packets; /* packets sent as ring records */
	__u64 ringbuf_bytes;
	__u64 ringbuf_drops;	/* ring reservations that failed */
	__u64 overflow_packets; /* neither map nor ring had room */
	__u64 overflow_bytes;
	__u64 doorbells;
	__u64 inserts;	/* new flows inserted */
	__u64 gso_skbs; /* egress: GSO skbs seen (each counted as its segments) */
};

/* A simultaneous reading of the program's clocks, taken by fm_clock. */
struct fm_clock_anchor {
	__u64 jiffies;
	__u64 mono_ns; /* CLOCK_MONOTONIC */
};

/* Shared (not per-CPU) control block, array index 0. */
struct fm_ctl {
	__u64 inserts;	   /* all CPUs, atomic; drives the doorbell */
	__u64 doorbell_at; /* ring when inserts reaches this; set by daemon at each swap */
};

/* fm_daemon_iface.state */
enum fm_iface_state {
	FM_IFS_NONE = 0, /* slot unused */
	FM_IFS_ATTACHED = 1,
	FM_IFS_DETACHED = 2, /* the program was detached from outside; the interface is there */
	FM_IFS_GONE = 3,     /* the interface was deleted or moved to another namespace */
	FM_IFS_WAITING = 4,  /* --wait-interface: not there yet */
};

/* One interface slot as the daemon sees it. */
struct fm_daemon_iface {
	char name[16]; /* IF_NAMESIZE, in the daemon's network namespace */
	__u32 ifindex;
	__u32 state;	       /* enum fm_iface_state */
	char mode[8];	       /* "native", "generic" */
	__u64 exported[2];     /* packets handed to the sinks, per direction */
	__u64 unattributed[2]; /* ...of those, in overflow records */
};

/*
 * Written by the daemon (never by the program) after every drain cycle, for
 * `flowmaster status` to read from the pin: which interfaces it has, what
 * it did with the packets the kernel counted, how full its table is.
 */
struct fm_daemon_state {
	__u64 netns_ino;  /* st_ino of the daemon's /proc/self/ns/net */
	__u64 updated_ms; /* epoch ms */
	__u64 flows;	  /* in the flow table */
	__u64 table_limit;
	__u64 staged; /* records waiting for the sinks */
	__u32 pid;
	__u32 nr_ifaces;
	struct fm_daemon_iface iface[FM_MAX_IFACES + 1]; /* by slot */
};

_Static_assert(sizeof(struct fm_flow_key) == 64, "flow key layout");
_Static_assert(sizeof(struct fm_map_key) == 48, "map key layout");
_Static_assert(sizeof(struct fm_flow_value) == 56, "flow value layout");
_Static_assert(sizeof(struct fm_event) == 96, "event layout");

#endif /* FLOWMASTER_H */
