/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Names people see for IP protocols, EtherTypes and TCP flags: one table,
 * used by `top`, the web view and the SQL views alike (the numbers are in
 * bpf/flowmaster.h, shared with the kernel side).
 */
#ifndef FM_PROTO_H
#define FM_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include "bpf/flowmaster.h"

/* "tcp", "udp", "icmpv6", ... or NULL for a number without a name. */
const char *proto_name(int proto);
/* "arp", "lldp", "ipv4", ... or NULL. */
const char *ethertype_name(int eth_type);
/* True for the protocols whose flows have ports (TCP, UDP, SCTP, UDP-Lite). */
bool proto_has_ports(int proto);
/* "SYN,ACK,FIN" for tcp_flags (empty string for 0); returns buf. */
const char *tcp_flags_str(char *buf, size_t len, unsigned flags);
/*
 * An SQL expression naming column col's protocol number by proto_name
 * (the number as text otherwise), for the views; static storage, rebuilt
 * by each call.
 */
const char *proto_sql_case(const char *col);
/* An SQL expression spelling column col's TCP flags as tcp_flags_str
 * does ("FIN,SYN,ACK", '' for 0); static storage, rebuilt by each call. */
const char *tcp_flags_sql(const char *col);

#endif
