#!/usr/bin/env bash
# flowmaster run --metrics-listen: /metrics in the Prometheus text format,
# checked by promtool and scraped by Debian's real prometheus inside the
# test namespace, whose HTTP API must return the exact packet count that
# SQLite holds. Daemon in b on b-a, traffic from a.
# shellcheck source=tests/netns/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=9464
PROM_PORT=9090

# get HOST PATH [CURL ARGS...]: curl http://127.0.0.1:PORT/PATH in HOST;
# prints the body, then the status code on a line of its own.
get()
{
	local host=$1 path=$2
	shift 2
	lab_nsexec "$host" curl -s -m 5 -w '\n%{http_code}\n' "$@" "http://127.0.0.1:$PORT$path"
}

# status_of HOST PATH [CURL ARGS...]: the HTTP status only.
status_of() { get "$@" | tail -n 1; }

# scrape HOST: the body of GET /metrics.
scrape() { lab_nsexec "$1" curl -sf -m 5 "http://127.0.0.1:$PORT/metrics"; }

# value_of TEXT NAME{LABELS}: the sample's value in a scraped text.
value_of() { awk -v k="$2" '$1 == k { print $2 }' <<<"$1"; }

# prom_query HOST QUERY: the value of an instant query through the API of
# the prometheus in HOST (empty while it has no sample).
prom_query()
{
	lab_nsexec "$1" curl -s -m 5 -G "http://127.0.0.1:$PROM_PORT/api/v1/query" \
		--data-urlencode "query=$2" | jq -r '.data.result[0].value[1] // empty'
}

# prom_is HOST QUERY VALUE: true once the query returns VALUE.
prom_is() { [[ $(prom_query "$1" "$2") == "$3" ]]; }

scrape_has() { scrape "$1" | grep -q "$2"; }

# The endpoint itself: 200 with the text format, every metric of the
# metrics table and the kernel's counters with HELP and TYPE, promtool
# happy; 404 elsewhere, 405 for other methods; bounded connections.
test_endpoint()
{
	need_fm
	need_cmd curl promtool trafgen sqlite3
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
	local db=$LAB_TMP/flows.db n=3000 text rx0 names missing=() m
	rx0=$(lab_rx_packets b b-a)
	fm_start b -i b-a --db "$db" --metrics-listen ":$PORT" --metrics-interval 1 \
		--idle-timeout 1 --poll-interval 200
	check_log "listening line" "Prometheus text at http://127.0.0.1:$PORT/metrics"
	check "trafgen: $n frames, 30 flows" lab_trafgen a a-b $n 30 10000
	wait_for 5 "$n frames at b-a" rx_at_least b b-a $((rx0 + n))
	wait_for 10 "the metrics table's rows in /metrics" scrape_has b '^flowmaster_packets_processed_total '
	wait_for 10 "all $n packets exported" scrape_has b \
		"^flowmaster_exported_packets_total{interface=\"b-a\",direction=\"ingress\"} $n\$"
	text=$(scrape b) || fail "GET /metrics failed"
	check_eq "GET /metrics" "$(status_of b /metrics)" 200
	check_eq "content type" "$(lab_nsexec b curl -s -m 5 -o /dev/null -w '%{content_type}' \
		"http://127.0.0.1:$PORT/metrics")" "text/plain; version=0.0.4; charset=utf-8"
	check_eq "kernel packets on b-a" \
		"$(value_of "$text" 'flowmaster_kernel_packets_total{interface="b-a",direction="ingress"}')" $n
	check_eq "kernel bytes on b-a" \
		"$(value_of "$text" 'flowmaster_kernel_bytes_total{interface="b-a",direction="ingress"}')" $((n * 60))
	check_eq "parse errors (l4) on b-a" \
		"$(value_of "$text" 'flowmaster_kernel_parse_errors_total{interface="b-a",direction="ingress",reason="l4"}')" 0
	check_eq "overflow fallbacks on b-a" \
		"$(value_of "$text" 'flowmaster_kernel_fallback_packets_total{interface="b-a",direction="ingress",path="overflow"}')" 0
	check_eq "interface attached" \
		"$(value_of "$text" 'flowmaster_interface_attached{interface="b-a",state="attached"}')" 1
	check_eq "TYPE of the packet counter" \
		"$(grep -c '^# TYPE flowmaster_kernel_packets_total counter$' <<<"$text")" 1
	check_eq "TYPE of a gauge" "$(grep -c '^# TYPE flowmaster_active_flows gauge$' <<<"$text")" 1
	check_eq "HELP lines == TYPE lines" "$(grep -c '^# HELP ' <<<"$text")" \
		"$(grep -c '^# TYPE ' <<<"$text")"
	echo "$text" >"$LAB_TMP/metrics.txt"
	check "promtool check metrics" promtool check metrics <"$LAB_TMP/metrics.txt"
	check_eq "GET /other" "$(status_of b /other)" 404
	check_eq "GET /" "$(status_of b /)" 404
	check_eq "POST /metrics" "$(status_of b /metrics -X POST -d x=1)" 405
	check_eq "DELETE /metrics" "$(status_of b /metrics -X DELETE)" 405
	# Bounded: with every connection slot held by an idle client, a new
	# one is turned away; once they go, scrapes work again.
	# shellcheck disable=SC2016 # expanded by the inner bash
	check_eq "with 16 idle connections held, a 17th is refused" "$(lab_nsexec b bash -c '
		for i in $(seq 16); do exec {fd}<>/dev/tcp/127.0.0.1/'$PORT' || exit 1; done
		sleep 0.5
		curl -s -m 3 -o /dev/null -w "%{http_code}" http://127.0.0.1:'$PORT'/metrics')" 000
	check_eq "after they close" "$(status_of b /metrics)" 200
	fm_stop TERM
	check_eq "exit status" "$FM_RC" 0
	check_eq "SQLite packets on b-a" "$(iface_sum "$db" b-a packets)" $n
	# Every name the daemon wrote to the metrics table was served.
	names=$(sql "$db" "select distinct name from metrics order by name;")
	check "the metrics table has >= 30 names" test "$(wc -w <<<"$names")" -ge 30
	for m in $names; do
		grep -qE "^# HELP flowmaster_[a-z_]+ .*\(metrics table: $m\)$" <<<"$text" || missing+=("$m")
	done
	check_eq "metrics table names missing from /metrics" "${missing[*]}" ""
	info "$(wc -w <<<"$names") metrics table names, $(grep -c '^# TYPE' <<<"$text") families served"
}

# An address in use is a runtime error that names it; a bad one a usage error.
test_listen_errors()
{
	need_fm
	lab_host b --no-ipv6
	lab_host a --no-ipv6
	lab_link a b
	fm_run b run -i b-a --db "$LAB_TMP/x.db" --metrics-listen 127.0.0.1:99999
	check_eq "port out of range: usage error" "$FM_RC" 2
	check "message names the option" grep -q -- "--metrics-listen: '127.0.0.1:99999' is not ADDR:PORT" <<<"$FM_OUT"
	fm_run b run -i b-a --db "$LAB_TMP/x.db" --metrics-listen example.org:80
	check_eq "a name, not an address: usage error" "$FM_RC" 2
	lab_bg b "$LAB_TMP/nc.log" timeout 20 socat TCP-LISTEN:$PORT,bind=127.0.0.1,reuseaddr,fork /dev/null
	wait_for 5 "socat on :$PORT" bash -c "nsenter --net=/run/netns/$(lab_ns b) ss -Hltn 'sport = :$PORT' | grep -q ."
	fm_run b run -i b-a --db "$LAB_TMP/x.db" --metrics-listen $PORT --pin-path "$(lab_pin_dir)" --duration 5
	check_eq "address in use: runtime error" "$FM_RC" 1
	check "message says why" grep -q "metrics-listen $PORT: cannot listen: Address already in use" <<<"$FM_OUT"
	check "nothing left attached" bash -c "! ip -n $(lab_ns b) link show dev b-a | grep -q prog/xdp"
}

# An IPv6 address in brackets; HEAD is answered like GET, without a body.
test_ipv6_and_head()
{
	need_fm
	need_cmd curl
	lab_host a
	lab_host b
	lab_link a b
	fm_start b -i b-a --db "$LAB_TMP/flows.db" --metrics-listen "[::1]:$PORT"
	check_log "listening line" "Prometheus text at http://\[::1\]:$PORT/metrics"
	check_eq "GET over IPv6" "$(lab_nsexec b curl -s -m 5 -g -o /dev/null -w '%{http_code}' "http://[::1]:$PORT/metrics")" 200
	check_eq "HEAD" "$(lab_nsexec b curl -s -m 5 -g -I -o /dev/null -w '%{http_code} %{size_download}' "http://[::1]:$PORT/metrics")" "200 0"
	check_eq "nothing on 127.0.0.1" "$(lab_nsexec b curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/metrics")" 000
	fm_stop TERM
	check_eq "exit status" "$FM_RC" 0
}

# Debian's prometheus, in the test namespace, scrapes the daemon every
# second; its HTTP API returns the kernel's packet count, which is exactly
# what SQLite holds for the interface.
test_prometheus_scrapes()
{
	need_fm
	need_cmd prometheus curl jq trafgen sqlite3
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
	local db=$LAB_TMP/flows.db n=4321 rx0 dir cfg q stored rows
	dir=$(lab_tmpdir)
	cfg=$dir/prometheus.yml
	cat >"$cfg" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: flowmaster
    static_configs:
      - targets: ['127.0.0.1:$PORT']
EOF
	rx0=$(lab_rx_packets b b-a)
	fm_start b -i b-a --db "$db" --metrics-listen "127.0.0.1:$PORT" --metrics-interval 1 \
		--idle-timeout 1 --poll-interval 200
	lab_bg b "$dir/prometheus.log" timeout 60 prometheus --config.file="$cfg" \
		--storage.tsdb.path="$dir/tsdb" --web.listen-address="127.0.0.1:$PROM_PORT" \
		--storage.tsdb.retention.time=1h
	wait_for 20 "prometheus ready" lab_nsexec b curl -sf -m 2 -o /dev/null \
		"http://127.0.0.1:$PROM_PORT/-/ready"
	wait_for 10 "prometheus scraping (up == 1)" prom_is b 'up{job="flowmaster"}' 1
	check "trafgen: $n frames, 20 flows" lab_trafgen a a-b $n 20 10000
	wait_for 5 "$n frames at b-a" rx_at_least b b-a $((rx0 + n))
	wait_for 10 "every flow in SQLite (idle timeout 1 s)" sql_at_least "$db" \
		"select coalesce(sum(packets), 0) from flows where $(on_iface b-a);" $n
	stored=$(iface_sum "$db" b-a packets)
	q='flowmaster_kernel_packets_total{job="flowmaster",interface="b-a",direction="ingress"}'
	wait_for 10 "prometheus has the kernel count" prom_is b "$q" "$stored"
	check_eq "prometheus: kernel packets on b-a == SQLite's sum(packets)" "$(prom_query b "$q")" "$stored"
	check_eq "SQLite's sum(packets) == frames sent" "$stored" $n
	q='flowmaster_exported_packets_total{interface="b-a",direction="ingress"}'
	wait_for 5 "prometheus has the exported count" prom_is b "$q" "$stored"
	check_eq "prometheus: exported packets on b-a" "$(prom_query b "$q")" "$stored"
	wait_for 5 "prometheus has packets_processed_total" prom_is b flowmaster_packets_processed_total "$n"
	check_eq "prometheus: packets_processed_total (metrics table)" \
		"$(prom_query b flowmaster_packets_processed_total)" $n
	rows=$(sql "$db" "select count(*) from flows;")
	wait_for 5 "prometheus has flows_stored_total" prom_is b flowmaster_flows_stored_total "$rows"
	check_eq "prometheus: flows_stored_total == flow rows" \
		"$(prom_query b flowmaster_flows_stored_total)" "$rows"
	fm_stop TERM
	check_eq "exit status" "$FM_RC" 0
	check_eq "SQLite after stop" "$(iface_sum "$db" b-a packets)" $n
}

run_tests "$@"
