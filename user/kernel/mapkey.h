/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The flow maps' 48-byte key (struct fm_map_key, bpf/flowmaster.h) back
 * into the flow key user space works with (struct fm_flow_key): MACs from
 * the key (FM_KF_L2) or from the value the program wrote on insert, ICMP
 * type and code out of the port fields, direction out of the flags.
 */
#ifndef FM_KERNEL_MAPKEY_H
#define FM_KERNEL_MAPKEY_H

#include <string.h>
#include "bpf/flowmaster.h"

/* smac, dmac: the MACs the program wrote beside the key (value or ring
 * record); unused for FM_KF_L2 keys. */
static inline void mapkey_expand(const struct fm_map_key *mk, const __u8 *smac, const __u8 *dmac,
				 struct fm_flow_key *k)
{
	memset(k, 0, sizeof(*k));
	k->ifindex = mk->ifindex;
	k->eth_type = mk->eth_type;
	k->vlan_id = mk->vlan_id;
	if (mk->flags & FM_KF_L2) {
		memcpy(k->src_mac, mk->src_addr, 6);
		memcpy(k->dst_mac, mk->dst_addr, 6);
	} else {
		memcpy(k->src_mac, smac, 6);
		memcpy(k->dst_mac, dmac, 6);
		memcpy(k->src_addr, mk->src_addr, 16);
		memcpy(k->dst_addr, mk->dst_addr, 16);
	}
	k->protocol = mk->protocol;
	if (mk->protocol == FM_IPPROTO_ICMP || mk->protocol == FM_IPPROTO_ICMPV6) {
		k->icmp_type = (__u8)mk->src_port;
		k->icmp_code = (__u8)mk->dst_port;
	} else {
		k->src_port = mk->src_port;
		k->dst_port = mk->dst_port;
	}
	k->direction = mk->flags & FM_KF_EGRESS ? FM_DIR_EGRESS : FM_DIR_INGRESS;
	k->flags = mk->flags & FM_KF_KEY_MASK;
	k->tos = mk->tos;
}

#endif
