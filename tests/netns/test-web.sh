#!/usr/bin/env bash
# flowmaster web: the JSON API against the same questions asked in SQL of
# a database a real run wrote (exact), read also while the run writes it;
# bad input (unknown paths, oversize and malformed query strings,
# SQL-looking values, other methods, a missing, foreign, empty or locked
# database, tokens); and, with `make test-browser` (browser_pages, not
# run by default: about 45 s), every page in headless Chromium (DOM
# filled, charts drawn, no console errors, screenshots).
#
# The server runs in a test host's namespace, listening on that
# namespace's own loopback (nothing outside reaches it), and curl and
# Chromium run there too. WEB_SCREENSHOT_DIR=DIR keeps the screenshots.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

URL=http://127.0.0.1:8080

# web_start HOST ARGS...: flowmaster web ARGS in HOST, waiting until it answers.
web_start()
{
	WEB_HOST=$1
	shift
	WEB_LOG=$LAB_TMP/web-$RANDOM.log
	lab_bg "$WEB_HOST" "$WEB_LOG" "$FM" web "$@"
	WEB_PID=$LAB_PID
	wait_for 10 "flowmaster web answers" web_up
	info "web: $(cat "$WEB_LOG")"
}
web_up() { [[ $(http_code "$URL/static/app.css") != 000 ]]; }
# web_stop: SIGTERM; it must exit 0 (under SAN=1 also without a leak).
web_stop()
{
	local rc
	lab_stop "$WEB_PID"
	rc=$?
	((rc == 0)) || fail "flowmaster web exited $rc after SIGTERM: $(tail -n 20 "$WEB_LOG")"
}

# get PATH [CURL ARGS...]: the body.
get() { lab_nsexec "$WEB_HOST" curl -s --max-time 15 "${@:2}" "$URL$1"; }
# http_code URL [CURL ARGS...]: the HTTP status.
http_code() { lab_nsexec "$WEB_HOST" curl -s -o /dev/null -w '%{http_code}' --max-time 15 "${@:2}" "$1"; }
# expect_code WHAT WANT PATH [CURL ARGS...]
expect_code() { check_eq "$1" "$(http_code "$URL$3" "${@:4}")" "$2"; }

# The traffic: 3 pings, 2000 UDP frames in 10 flows, 500 more in 2 flows
# of 200-byte frames, into b's b-a where flowmaster runs; all written.
real_run()
{
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
	DB=$LAB_TMP/flows.db
	local rx0
	rx0=$(lab_rx_packets b b-a)
	# The browser's run: over some seconds, with metrics each second.
	local rate=20000 metrics=()
	[[ -n ${BROWSER_RUN:-} ]] && rate=700 metrics=(--metrics-interval 1)
	fm_start b -i b-a --db "$DB" --idle-timeout 1 --poll-interval 200 "${metrics[@]}"
	if [[ -n ${WEB_WHILE_WRITING:-} ]]; then
		web_start b --db "$DB"
		poll_while_writing &
		POLLER=$!
	fi
	check "ping a -> b" lab_nsexec a ping -q -c 3 -i 0.2 -W 2 198.18.0.2
	check "trafgen 2000 frames over 10 flows" lab_trafgen a a-b 2000 10 $rate
	check "trafgen 500 frames over 2 flows" lab_trafgen a a-b 500 2 $((rate / 2)) 200
	wait_for 5 "2503 frames at b-a" rx_at_least b b-a $((rx0 + 2503))
	wait_for 20 "every frame written" sql_packets_are 2503
	if [[ -n ${WEB_WHILE_WRITING:-} ]]; then
		sleep 0.5
		kill "$POLLER" 2>/dev/null
		wait "$POLLER" 2>/dev/null
	fi
}
# poll_while_writing: /api/overview every 0.1 s while the daemon writes,
# "STATUS PACKETS" per answer into $LAB_TMP/poll.
poll_while_writing()
{
	local body code
	while :; do
		body=$(get "/api/overview?last=1h" -w '\n%{http_code}')
		code=${body##*$'\n'}
		echo "$code $(head -n -1 <<<"$body" | jq -r '.totals.packets // .error' 2>/dev/null)" >>"$LAB_TMP/poll"
		sleep 0.1
	done
}
sql_packets_are() { [[ $(sql "$DB" "select coalesce(sum(packets), 0) from flows;" 2>/dev/null) == "$1" ]]; }

# The window around every row: [min first_seen, max last_seen + 1 s).
window()
{
	local lo hi
	read -r lo hi < <(sql "$DB" "select min(first_seen_ms), max(last_seen_ms) + 1000 from flows;" | tr '|' ' ')
	S=$lo U=$hi W="since=$lo&until=$hi"
}
WHERE() { echo "first_seen_ms >= $S and first_seen_ms < $U"; }

# same WHAT GOT WANT: like check_eq, for multi-line answers.
same()
{
	if [[ "$2" != "$3" ]]; then
		fail "$1: the API says
$2
and SQL says
$3"
	fi
	echo "ok - $1 ($(wc -l <<<"$2") lines)"
}

# Each endpoint against the same question in SQL, exact; also while the
# daemon writes (WAL), and the file unchanged by reading it.
test_api_matches_sql()
{
	need_fm
	need_cmd trafgen sqlite3 ping curl jq
	WEB_WHILE_WRITING=1 real_run
	window
	# While the daemon wrote: every answer whole, the count only growing,
	# to every packet.
	info "answers while the daemon wrote: $(wc -l <"$LAB_TMP/poll"), $(sort -u "$LAB_TMP/poll" | tr '\n' ' ')"
	check_eq "answers while writing, not 200" "$(awk '$1 != 200' "$LAB_TMP/poll" | wc -l)" 0
	check_eq "packets never went down" "$(awk 'NR > 1 && $2 < prev { n++ } { prev = $2 } END { print n + 0 }' "$LAB_TMP/poll")" 0
	check "at least 20 answers while writing" test "$(wc -l <"$LAB_TMP/poll")" -ge 20
	fm_running || fail "daemon stopped early"
	check_eq "overview while the daemon runs" \
		"$(get "/api/overview?$W" | jq -r '.totals.packets')" 2503
	fm_stop TERM
	check_eq "daemon exit status" "$FM_RC" 0
	local sum0 w
	sum0=$(sha256sum <"$DB")
	w=$(WHERE)

	same "overview totals" "$(get "/api/overview?$W" | jq -r '.totals | "\(.flows)|\(.packets)|\(.bytes)|\(.first_ms)|\(.last_ms)"')" \
		"$(sql "$DB" "select count(*), sum(packets), sum(bytes), min(first_seen_ms), max(last_seen_ms) from flows where $w;")"
	# Each row is spread over the 1 s buckets of its life: per protocol
	# the buckets add up to its rows; in one bucket, to the same SQL.
	same "overview per protocol, 1 s buckets" \
		"$(get "/api/overview?$W&step=1s" | jq -r '.series[] | "\(.name)|\(.packets | add)|\(.bytes | add)"' | sort)" \
		"$(sql "$DB" "select case protocol when 1 then 'icmp' when 17 then 'udp' else protocol end, sum(packets), sum(bytes) from flows where $w group by 1;" | sort)"
	same "overview per protocol, one bucket" \
		"$(get "/api/overview?$W&step=$(((U - S + 999) / 1000))s" | jq -r '.series[] | "\(.name)|\(.packets[0])|\(.bytes[0])"' | sort)" \
		"$(sql "$DB" "select case protocol when 1 then 'icmp' when 17 then 'udp' else protocol end, sum(packets), sum(bytes) from flows where $w group by 1;" | sort)"
	same "a row over several buckets is spread over them" \
		"$(get "/api/overview?$W&step=1s&protocol=udp" | jq -r '[.series[0].packets[] | select(. > 0)] | length > 1')" \
		"$(sql "$DB" "select max((last_seen_ms - $S) / 1000 > (first_seen_ms - $S) / 1000) = 1 from flows where $w and protocol = 17;" | sed 's/1/true/; s/0/false/')"
	same "overview rates are per second of the step" \
		"$(get "/api/overview?$W&step=2s" | jq -r '[.series[] | (.packets | add) as $p | (.packets_per_s | add) * 2 | floor == $p] | all')" true
	same "overview by direction" \
		"$(get "/api/overview?$W&by=direction" | jq -r '.series[] | "\(.name)|\(.packets | add)"')" \
		"$(sql "$DB" "select direction, sum(packets) from flows where $w group by 1;")"
	same "talkers: sources" \
		"$(get "/api/talkers?$W" | jq -r '.sent[] | "\(.addr)|\(.packets)|\(.bytes)|\(.flows)"')" \
		"$(sql "$DB" "select coalesce(src_ip, src_mac) a, sum(packets), sum(bytes) b, count(*) from flows where $w and end_reason is not 'overflow' group by a order by b desc, a limit 25;")"
	same "talkers: destinations by packets" \
		"$(get "/api/talkers?$W&sort=packets" | jq -r '.received[] | "\(.addr)|\(.packets)|\(.bytes)|\(.flows)"')" \
		"$(sql "$DB" "select coalesce(dst_ip, dst_mac) a, sum(packets) p, sum(bytes), count(*) from flows where $w and end_reason is not 'overflow' group by a order by p desc, a limit 25;")"
	same "flows: UDP to port 9, the top 5" \
		"$(get "/api/flows?$W&protocol=udp&port=9&limit=5" | jq -r '.flows[] | "\(.src)|\(.src_port)|\(.dst)|\(.dst_port)|\(.protocol_name)|\(.packets)|\(.bytes)"')" \
		"$(sql "$DB" "select src_ip, src_port, dst_ip, dst_port, 'udp', sum(packets), sum(bytes) b from flows where $w and protocol = 17 and (src_port = 9 or dst_port = 9) group by interface_id, direction, src_mac, dst_mac, vlan_id, eth_type, src_ip, dst_ip, protocol, src_port, dst_port, icmp_type, icmp_code order by b desc, min(first_seen_ms) limit 5;")"
	same "flows: ICMP" \
		"$(get "/api/flows?$W&protocol=icmp" | jq -r '[.flows[].packets] | add')" \
		"$(sql "$DB" "select sum(packets) from flows where $w and protocol = 1;")"
	same "flows: a network (CIDR)" \
		"$(get "/api/flows?$W&addr=198.18.0.0/31&limit=1000" | jq -r '[.flows[].packets] | add')" \
		"$(sql "$DB" "select sum(packets) from flows where $w and (src_ip in ('198.18.0.0', '198.18.0.1') or dst_ip in ('198.18.0.0', '198.18.0.1'));")"
	same "egress: nothing on an ingress-only run" \
		"$(get "/api/overview?$W&direction=egress" | jq -r '.totals.packets')" \
		"$(sql "$DB" "select coalesce(sum(packets), 0) from flows where $w and direction = 'egress';")"
	same "interface filter" \
		"$(get "/api/overview?$W&interface=b-a" | jq -r '.totals.packets')" 2503
	same "host: peers of 198.18.0.1" \
		"$(get "/api/host?$W&addr=198.18.0.1" | jq -r '.peers[] | "\(.addr)|\(.packets)|\(.bytes)|\(.flows)"')" \
		"$(sql "$DB" "select case when src_ip = '198.18.0.1' then dst_ip else src_ip end a, sum(packets), sum(bytes) b, count(*) from flows where $w and (src_ip = '198.18.0.1' or dst_ip = '198.18.0.1') group by a order by b desc, a limit 25;")"
	same "host: sent and received" \
		"$(get "/api/host?$W&addr=198.18.0.1" | jq -r '"\(.sent.packets | add)|\(.sent.bytes | add)|\(.received.packets | add)"')" \
		"$(sql "$DB" "select sum(case when src_ip = '198.18.0.1' then packets else 0 end), sum(case when src_ip = '198.18.0.1' then bytes else 0 end), sum(case when dst_ip = '198.18.0.1' then packets else 0 end) from flows where $w;")"
	same "host: its devices" \
		"$(get "/api/host?$W&addr=198.18.0.2" | jq -r '.devices[] | "\(.mac)|\(.packets_received)|\(.bytes_received)"')" \
		"$(sql "$DB" "select mac, packets_received, bytes_received from devices where ip = '198.18.0.2' order by bytes_sent + bytes_received desc, id;")"
	same "devices" \
		"$(get "/api/devices" | jq -r '.devices[] | "\(.interface)|\(.ip)|\(.mac)|\(.first_seen_ms)|\(.last_seen_ms)|\(.packets_sent)|\(.bytes_sent)|\(.packets_received)|\(.bytes_received)"')" \
		"$(sql "$DB" "select i.name, d.ip, d.mac, d.first_seen_ms, d.last_seen_ms, d.packets_sent, d.bytes_sent, d.packets_received, d.bytes_received from devices d left join interfaces i on i.id = d.interface_id order by d.bytes_sent + d.bytes_received desc, d.id limit 25;")"
	same "health: the run reconciles" \
		"$(get "/api/runs?$W" | jq -r '.runs[0] | "\(.command)|\(.seen_packets)|\(.stored_packets)|\(.retired_packets)"')" \
		"run|2503|2503|0"
	same "health: packets_per_second buckets" \
		"$(get "/api/health?since=$((S - 60000))&until=$((U + 60000))&step=1s" | jq -r '[.metrics.packets_per_second[] | select(. != null)] | length > 0')" true
	same "info: interfaces" "$(get "/api/info" | jq -r '.interfaces[].name')" b-a
	check_eq "the database unchanged by reading it" "$(sha256sum <"$DB")" "$sum0"
	web_stop
}

# Bad input and bad files: clear answers, never a crash; the server still
# answers afterwards.
test_bad_input()
{
	need_fm
	need_cmd sqlite3 curl jq
	lab_host w --no-ipv6
	DB=$LAB_TMP/v1.db
	cp "$ROOT/tests/fixtures/v1.db" "$DB"
	web_start w --db "$DB"
	local W="since=1796212000000&until=1796213000000" long
	expect_code "a page" 200 /
	expect_code "HEAD" 200 / -I
	expect_code "an API answer on schema version 1" 200 "/api/talkers?$W"
	check_eq "v1: the top source" "$(get "/api/talkers?$W" | jq -r '.sent[0].packets')" 3156
	expect_code "unknown path" 404 /nope
	expect_code "unknown API endpoint" 404 /api/nope
	check_eq "unknown endpoint is JSON" "$(get /api/nope | jq -r .error)" \
		"no such API endpoint; see /api/ in the README"
	expect_code "no traversal" 404 /static/../static/app.js --path-as-is
	expect_code "no directory listing" 404 /static/
	expect_code "POST refused" 405 /api/overview -d x=1
	expect_code "DELETE refused" 405 / -X DELETE
	long=$(printf 'a%.0s' {1..3000})
	expect_code "oversize query string" 414 "/api/overview?last=$long"
	expect_code "oversize value" 400 "/api/overview?addr=${long:0:300}"
	check_eq "oversize headers" "$(http_code "$URL/" -H "X-Big: $(printf 'b%.0s' {1..20000})" | cut -c1)" 4
	expect_code "bad escape" 400 "/api/overview?last=%zz"
	expect_code "NUL byte" 400 "/api/overview?last=1h%00"
	expect_code "unknown parameter" 400 "/api/overview?drop=table"
	check_eq "bad parameter says which" "$(get "/api/overview?port=99999" | jq -r .error)" "port: a number 0-65535"
	expect_code "SQL as an address" 400 "/api/flows?addr=1'%20OR%20'1'='1"
	expect_code "SQL as a limit" 400 "/api/flows?limit=1;DROP%20TABLE%20flows"
	expect_code "SQL as an interface: only a value" 200 "/api/flows?$W&interface=x'%20OR%201=1--"
	check_eq "... matching nothing" "$(get "/api/flows?$W&interface=x'%20OR%201=1--" | jq '.flows | length')" 0
	check_eq "flows still there" "$(sql "$DB" "select count(*) from flows;")" 33
	expect_code "still serving" 200 "/api/overview?$W"
	web_stop

	# Files that are not (yet) a flowmaster database.
	web_start w --db "$LAB_TMP/missing.db"
	expect_code "missing database: 503" 503 /api/overview
	check_eq "missing database: says so" "$(get /api/info | jq -r .error)" \
		"$LAB_TMP/missing.db: no such database; start 'flowmaster run --db $LAB_TMP/missing.db' to create it"
	expect_code "missing database: the page still loads" 200 /
	check_log "missing database: logged" "warning: web: .*no such database" "$WEB_LOG"
	cp "$ROOT/tests/fixtures/v1.db" "$LAB_TMP/missing.db"
	expect_code "the file appears: read" 200 /api/overview
	web_stop
	sqlite3 "$LAB_TMP/other.db" "create table notes(x);"
	web_start w --db "$LAB_TMP/other.db"
	expect_code "another application's database" 503 /api/overview
	check_eq "... says so" "$(get /api/overview | jq -r .error)" \
		"$LAB_TMP/other.db: not a flowmaster database (no flows table, or not SQLite)"
	web_stop
	echo "not a database at all, just some text that is long enough" >"$LAB_TMP/text.db"
	web_start w --db "$LAB_TMP/text.db"
	expect_code "a text file" 503 /api/health
	web_stop
	: >"$LAB_TMP/empty.db"
	web_start w --db "$LAB_TMP/empty.db"
	expect_code "an empty file" 503 /api/devices
	web_stop

	# A database another process holds locked (rollback journal, an
	# exclusive transaction for 4 s): 503 after the busy timeout.
	cp "$ROOT/tests/fixtures/v1.db" "$LAB_TMP/locked.db"
	sqlite3 "$LAB_TMP/locked.db" "pragma journal_mode = delete;" >/dev/null
	web_start w --db "$LAB_TMP/locked.db"
	expect_code "before the lock" 200 "/api/overview?$W"
	sqlite3 "$LAB_TMP/locked.db" "begin exclusive; insert into metrics values (1, 'x', 1);" \
		".system sleep 4" "commit;" &
	local locker=$!
	sleep 0.5
	expect_code "locked: 503" 503 "/api/overview?$W"
	check_eq "locked: says so" "$(get "/api/talkers?$W" | jq -r .error)" \
		"$LAB_TMP/locked.db: the database is locked by another process; try again"
	wait "$locker"
	expect_code "after the lock" 200 "/api/overview?$W"
	web_stop
}

# --token: every request carries it (header, cookie, or ?token= which
# sets the cookie); beyond loopback without a token, a warning.
test_token()
{
	need_fm
	need_cmd curl
	lab_host w --no-ipv6
	DB=$LAB_TMP/v1.db
	cp "$ROOT/tests/fixtures/v1.db" "$DB"
	expect_rc_web "a short token refused" 2 --db "$DB" --token short
	expect_rc_web "a token with ; refused" 2 --db "$DB" --token 'abcdefgh;x'
	expect_rc_web "--listen without a port" 2 --db "$DB" --listen 127.0.0.1
	web_start w --db "$DB" --token s3cret-token.1
	expect_code "no token" 401 /api/overview
	expect_code "no token, a page" 401 /
	expect_code "no token, a script" 401 /static/app.js
	expect_code "wrong token" 401 "/api/overview?token=s3cret-token.2"
	expect_code "wrong bearer" 401 /api/overview -H "Authorization: Bearer nope-nope"
	expect_code "a prefix of it" 401 "/api/overview?token=s3cret-token."
	expect_code "bearer" 200 /api/overview -H "Authorization: Bearer s3cret-token.1"
	expect_code "cookie" 200 /static/app.js -H "Cookie: fm_token=s3cret-token.1"
	expect_code "?token=" 200 "/?token=s3cret-token.1"
	get "/?token=s3cret-token.1" -i | grep -qi '^Set-Cookie: fm_token=s3cret-token.1; Path=/; HttpOnly; SameSite=Strict' ||
		fail "?token= sets the cookie"
	echo "ok - ?token= sets the cookie"
	log_has "without --token" "$WEB_LOG" && fail "a warning on loopback"
	web_stop
	FLOWMASTER_WEB_TOKEN=from-the-env web_start w --db "$DB"
	expect_code "FLOWMASTER_WEB_TOKEN: none" 401 /api/info
	expect_code "FLOWMASTER_WEB_TOKEN: given" 200 /api/info -H "Authorization: Bearer from-the-env"
	web_stop
	# Beyond loopback: 0.0.0.0 of this test host's own namespace.
	web_start w --db "$DB" --listen 0.0.0.0:8080
	check_log "no token beyond loopback: warned" \
		"warning: web: listening on 0.0.0.0:8080, beyond this host's loopback, without --token" "$WEB_LOG"
	web_stop
	web_start w --db "$DB" --listen 0.0.0.0:8080 --token s3cret-token.1
	log_has "without --token" "$WEB_LOG" && fail "a warning with a token"
	echo "ok - no warning with a token"
	web_stop
}
# Bounded connections: with --max-connections 4, one address holds at
# most one; the next is refused until it closes.
test_connection_limit()
{
	need_fm
	need_cmd curl
	lab_host w --no-ipv6
	DB=$LAB_TMP/v1.db
	cp "$ROOT/tests/fixtures/v1.db" "$DB"
	web_start w --db "$DB" --max-connections 4
	lab_nsexec w bash -c 'exec 3<>/dev/tcp/127.0.0.1/8080; printf "GET / HTTP/1.1\r\n" >&3; sleep 2' &
	local holder=$!
	sleep 0.5
	check_eq "a second connection from the same address refused" "$(http_code "$URL/")" 000
	wait "$holder"
	wait_for 5 "served again once it closed" web_up
	expect_code "served" 200 /
	web_stop
}

expect_rc_web()
{
	local what=$1 want=$2 rc
	shift 2
	lab_nsexec w timeout 5 "$FM" web "$@" >/dev/null 2>&1
	rc=$?
	check_eq "$what" "$rc" "$want"
}

# Every page in headless Chromium against a real run's database: the
# script finished (data-state=ready), tables filled, charts drawn (canvas),
# no console error (a CSP violation is one), and a screenshot. About 45 s:
# not part of the suite's default tests; `make test-browser` runs it.
browser_pages()
{
	need_fm
	need_cmd trafgen sqlite3 ping curl chromium
	BROWSER_RUN=1 real_run
	fm_stop TERM
	web_start b --db "$DB"
	window
	local p name dom err shots=$LAB_TMP/shots H
	H="since=$((S - 2000))&until=$((U + 2000))"
	mkdir -p "$shots"
	for p in "/?$W" "/talkers?$W" "/flows?$W" "/host?$W&addr=198.18.0.1" "/devices?$W" "/health?$H"; do
		name=${p%%\?*}
		name=${name#/}
		name=${name:-overview}
		dom=$LAB_TMP/$name.html
		err=$LAB_TMP/$name.err
		chrome "$dom" "$err" --dump-dom "$URL$p"
		grep -q 'data-state="ready"' "$dom" || fail "$name: not drawn: $(grep -o 'id="error"[^<]*<' "$dom"; tail -5 "$err")"
		if grep -E 'CONSOLE|Uncaught|Refused to' "$err" | grep -v 'dbus' >&2; then
			fail "$name: console messages"
		fi
		case $name in
		overview | health) check "$name: charts drawn" grep -q '<canvas' "$dom" ;;
		host) check "$name: chart drawn" grep -q '<canvas' "$dom"
			check "$name: peers listed" grep -qE '<table id="peers">.*<td><a href="/host[^"]*">198\.18\.0\.2</a>' "$dom" ;;
		talkers) check "$name: the source listed" grep -qE '<table id="talkers-sent">.*>198\.18\.0\.1</a>' "$dom" ;;
		flows) check "$name: 11 flows in rows" test "$(grep -o '<tr>' "$dom" | wc -l)" -eq 12 ;;
		devices) check "$name: devices listed" grep -qE '<table id="devices">.*<td>b-a</td>' "$dom" ;;
		esac
		grep -q 'nothing in this window' "$dom" && fail "$name: an empty table"
		echo "ok - $name drawn"
	done
	chrome /dev/null "$LAB_TMP/shot.err" --window-size=1280,900 --screenshot="$shots/overview.png" "$URL/?$H&step=1s"
	check "a screenshot" test -s "$shots/overview.png"
	if [[ -n ${WEB_SCREENSHOT_DIR:-} ]]; then
		chrome /dev/null "$LAB_TMP/shot.err" --window-size=1280,900 --screenshot="$shots/host.png" "$URL/host?$H&step=1s&addr=198.18.0.1"
		chrome /dev/null "$LAB_TMP/shot.err" --window-size=1280,1400 --screenshot="$shots/health.png" "$URL/health?$H&step=1s"
		chrome /dev/null "$LAB_TMP/shot.err" --window-size=1280,700 --screenshot="$shots/talkers.png" "$URL/talkers?$H"
		cp "$shots"/*.png "$WEB_SCREENSHOT_DIR"/
	fi
	web_stop
}
# chrome OUT ERR ARGS...: headless Chromium in b, bounded, given time for
# the page's requests (virtual time).
chrome()
{
	local out=$1 err=$2
	shift 2
	lab_nsexec b timeout -k 5 60 chromium --headless --no-sandbox --disable-gpu \
		--user-data-dir="$LAB_TMP/chromium" --no-first-run --virtual-time-budget=8000 \
		--enable-logging=stderr --v=0 "$@" >"$out" 2>"$err"
}

run_tests "$@"
