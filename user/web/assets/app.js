// flowmaster web view: draws each page from the JSON API (/api/...).
// Data only ever reaches the page as textContent, never as HTML.
'use strict';
(function () {
	const $ = (id) => document.getElementById(id);
	const params = new URLSearchParams(location.search);
	const pages = { '/': 'overview', '/talkers': 'talkers', '/flows': 'flows', '/host': 'host',
		'/devices': 'devices', '/health': 'health' };
	const page = pages[location.pathname] || 'overview';
	const FILTERS = ['last', 'since', 'until', 'interface', 'direction', 'protocol', 'addr',
		'port', 'by', 'sort', 'limit'];
	const COLORS = ['#2f6fdf', '#e8663c', '#18a058', '#9b59b6', '#d4a017', '#17a2b8',
		'#c0392b', '#7f8c8d', '#2c3e50', '#e84393', '#00b894', '#6c5ce7', '#fdcb6e',
		'#636e72', '#0984e3', '#b33939'];

	// ---- units ----
	function si(v, unit, steps) {
		if (v === null || v === undefined || !isFinite(v)) return '–';
		const pre = ['', 'k', 'M', 'G', 'T', 'P'];
		let i = 0;
		let a = Math.abs(v);
		while (a >= 1000 && i < pre.length - 1) { a /= 1000; v /= 1000; i++; }
		const d = i === 0 && Number.isInteger(v) ? 0 : (Math.abs(v) < 10 ? 2 : Math.abs(v) < 100 ? 1 : 0);
		return v.toFixed(d) + (steps ? ' ' : '') + pre[i] + unit;
	}
	const fmtBytes = (v) => si(v, 'B', true);
	const fmtBits = (v) => si(v, 'bit/s', true);
	const fmtPps = (v) => si(v, 'p/s', true);
	const fmtCount = (v) => si(v, '', false);
	function fmtNum(v) {
		if (v === null || v === undefined || !isFinite(v)) return '–';
		if (Number.isInteger(v)) return Math.abs(v) >= 10000 ? si(v, '', false) : String(v);
		const a = Math.abs(v);
		return a !== 0 && a < 0.01 ? v.toExponential(1) : String(Number(v.toPrecision(3)));
	}
	function fmtTime(ms) {
		if (ms === null || ms === undefined) return '–';
		const d = new Date(ms);
		const p = (n) => String(n).padStart(2, '0');
		return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' +
			p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds());
	}

	// ---- DOM ----
	function el(tag, attrs, ...kids) {
		const e = document.createElement(tag);
		for (const k in attrs || {}) {
			if (k === 'class') e.className = attrs[k];
			else if (k === 'text') e.textContent = attrs[k];
			else e.setAttribute(k, attrs[k]);
		}
		for (const k of kids) if (k !== null && k !== undefined) e.append(k);
		return e;
	}
	const content = $('content');
	const add = (...n) => content.append(...n);

	function showError(msg) {
		const e = $('error');
		e.textContent = msg;
		e.hidden = false;
		document.body.dataset.state = 'error';
	}

	// A link to a page with the current filters and some changed.
	function link(path, changes) {
		const q = new URLSearchParams();
		for (const k of FILTERS) if (params.get(k)) q.set(k, params.get(k));
		for (const k in changes) {
			if (changes[k] === null) q.delete(k); else q.set(k, changes[k]);
		}
		const s = q.toString();
		return path + (s ? '?' + s : '');
	}
	const hostLink = (addr) => addr ? el('a', { href: link('/host', { addr: addr }), text: addr }) : '–';

	async function api(name, extra) {
		const q = new URLSearchParams();
		for (const k of FILTERS) if (params.get(k)) q.set(k, params.get(k));
		for (const k in extra || {}) q.set(k, extra[k]);
		const r = await fetch('/api/' + name + '?' + q.toString(), { credentials: 'same-origin' });
		let j = null;
		try { j = await r.json(); } catch (e) { /* not JSON */ }
		if (!r.ok || !j) throw new Error((j && j.error) || ('/api/' + name + ': HTTP ' + r.status));
		return j;
	}

	// A table: cols [{key, label, fmt, num, cell}], rows of objects;
	// a click on a header sorts by that column.
	function table(id, cols, rows) {
		const tbody = el('tbody');
		const thead = el('tr');
		let sorted = null;
		let asc = false;
		function fill() {
			tbody.replaceChildren();
			for (const r of rows) {
				const tr = el('tr');
				for (const c of cols) {
					const v = r[c.key];
					const cell = c.cell ? c.cell(r) : (c.fmt ? c.fmt(v) : (v === null || v === undefined ? '–' : String(v)));
					tr.append(el('td', c.num ? { class: 'num' } : {}, cell));
				}
				tbody.append(tr);
			}
			if (!rows.length)
				tbody.append(el('tr', {}, el('td', { colspan: cols.length, class: 'muted', text: 'nothing in this window' })));
		}
		for (const c of cols) {
			const th = el('th', { class: 'sortable' + (c.num ? ' num' : ''), text: c.label, title: 'sort' });
			th.addEventListener('click', () => {
				asc = sorted === c.key ? !asc : !c.num;
				sorted = c.key;
				rows.sort((a, b) => {
					const x = a[c.key], y = b[c.key];
					const r = (x === y) ? 0 : (x === null || x === undefined) ? -1 :
						(y === null || y === undefined) ? 1 : (x < y ? -1 : 1);
					return asc ? r : -r;
				});
				fill();
			});
			thead.append(th);
		}
		fill();
		return el('table', { id: id }, el('thead', {}, thead), tbody);
	}

	// A time chart: t in ms, series [{name, values}], stacked or not.
	function chart(id, title, t, series, fmt, stacked) {
		const box = el('div', { class: 'chart', id: id });
		add(box);
		const xs = t.map((x) => x / 1000);
		let ys = series.map((s) => s.values.map((v) => (v === null || v === undefined) ? null : v));
		const raw = ys;
		let order = ys.map((_, i) => i);
		if (stacked) {
			const acc = xs.map(() => 0);
			ys = ys.map((v) => v.map((x, i) => (acc[i] += x || 0)));
			order = order.reverse(); // the top of the stack first: each fill covers the next
		}
		const width = Math.max(320, (box.clientWidth || content.clientWidth || 900) - 20);
		const opts = {
			title: title, width: width, height: 220,
			scales: { x: { time: true } },
			series: [{}].concat(order.map((i) => ({
				label: series[i].name,
				stroke: COLORS[i % COLORS.length],
				fill: stacked ? COLORS[i % COLORS.length] + '66' : undefined,
				width: 1.5,
				spanGaps: !stacked,
				value: (u, v, si, idx) => idx === null || idx === undefined ? '–' : fmt(raw[i][idx]),
			}))),
			axes: [{}, { size: 80, values: (u, vals) => vals.map(fmt) }],
		};
		if (!series.length) {
			box.append(el('p', { class: 'muted', text: title + ': nothing in this window' }));
			return;
		}
		// eslint-disable-next-line no-undef
		new uPlot(opts, [xs].concat(order.map((i) => ys[i])), box);
	}

	function cards(items) {
		add(el('div', { class: 'cards' }, ...items.map(([k, v]) =>
			el('div', { class: 'card' }, el('div', { class: 'v', text: v }), el('div', { class: 'k', text: k })))));
	}

	const flowCols = [
		{ key: 'interface', label: 'interface' },
		{ key: 'direction', label: 'dir' },
		{ key: 'src', label: 'source', cell: (r) => r.src ? hostLink(r.src) : (r.src_mac || '–') },
		{ key: 'src_port', label: 'sport', num: true },
		{ key: 'dst', label: 'destination', cell: (r) => r.dst ? hostLink(r.dst) : (r.dst_mac || '–') },
		{ key: 'dst_port', label: 'dport', num: true },
		{ key: 'protocol', label: 'protocol', cell: (r) => r.protocol_name || (r.protocol === null ? (r.eth_type !== null ? 'eth 0x' + r.eth_type.toString(16).padStart(4, '0') : '–') : String(r.protocol)) },
		{ key: 'packets', label: 'packets', num: true, fmt: fmtCount },
		{ key: 'bytes', label: 'bytes', num: true, fmt: fmtBytes },
		{ key: 'flows', label: 'rows', num: true },
		{ key: 'first_ms', label: 'first seen', fmt: fmtTime },
		{ key: 'last_ms', label: 'last seen', fmt: fmtTime },
	];
	const talkerCols = [
		{ key: 'addr', label: 'address', cell: (r) => hostLink(r.addr) },
		{ key: 'packets', label: 'packets', num: true, fmt: fmtCount },
		{ key: 'bytes', label: 'bytes', num: true, fmt: fmtBytes },
		{ key: 'flows', label: 'flows', num: true },
	];
	const deviceCols = [
		{ key: 'interface', label: 'interface' },
		{ key: 'ip', label: 'address', cell: (r) => r.ip ? hostLink(r.ip) : '–' },
		{ key: 'mac', label: 'MAC' },
		{ key: 'first_seen_ms', label: 'first seen', fmt: fmtTime },
		{ key: 'last_seen_ms', label: 'last seen', fmt: fmtTime },
		{ key: 'packets_sent', label: 'packets out', num: true, fmt: fmtCount },
		{ key: 'bytes_sent', label: 'bytes out', num: true, fmt: fmtBytes },
		{ key: 'packets_received', label: 'packets in', num: true, fmt: fmtCount },
		{ key: 'bytes_received', label: 'bytes in', num: true, fmt: fmtBytes },
	];

	// ---- pages ----
	async function overview() {
		const o = await api('overview');
		const secs = (o.window.until - o.window.since) / 1000;
		cards([['flow records', fmtCount(o.totals.flows)], ['packets', fmtCount(o.totals.packets)],
			['bytes', fmtBytes(o.totals.bytes)], ['average', fmtBits(o.totals.bytes * 8 / secs)],
			['average', fmtPps(o.totals.packets / secs)]]);
		const by = ' by ' + o.by;
		chart('chart-bits', 'bits/s' + by, o.t, o.series.map((s) => ({ name: s.name, values: s.bits_per_s })), fmtBits, true);
		chart('chart-packets', 'packets/s' + by, o.t, o.series.map((s) => ({ name: s.name, values: s.packets_per_s })), fmtPps, true);
	}

	async function talkers() {
		const o = await api('talkers');
		add(el('div', { class: 'cols' },
			el('div', {}, el('h2', { text: 'Top sources (out)' }), table('talkers-sent', talkerCols, o.sent)),
			el('div', {}, el('h2', { text: 'Top destinations (in)' }), table('talkers-received', talkerCols, o.received))));
	}

	async function flows() {
		const o = await api('flows');
		add(el('h2', { text: 'Top flows' }), table('flows', flowCols, o.flows));
	}

	async function host() {
		const addr = params.get('addr');
		if (!addr) {
			add(el('p', { text: 'Pick a host (or give an address or network in the filters):' }));
			const o = await api('talkers');
			add(table('talkers-sent', talkerCols, o.sent));
			return;
		}
		const o = await api('host');
		add(el('h2', { text: 'Host ' + o.addr + (o.prefix >= 0 ? '/' + o.prefix : '') }));
		cards([['flow records', fmtCount(o.totals.flows)], ['packets', fmtCount(o.totals.packets)],
			['bytes', fmtBytes(o.totals.bytes)], ['peers', String(o.peers.length)]]);
		chart('chart-host', 'bits/s', o.t, [{ name: 'sent', values: o.sent.bits_per_s },
			{ name: 'received', values: o.received.bits_per_s }], fmtBits, false);
		add(el('div', { class: 'cols' },
			el('div', {}, el('h2', { text: 'Peers' }), table('peers', talkerCols, o.peers)),
			el('div', {}, el('h2', { text: 'Devices' }), table('devices', deviceCols, o.devices))));
		add(el('h2', { text: 'Flows' }), table('flows', flowCols, o.flows));
	}

	async function devices() {
		const o = await api('devices');
		add(el('h2', { text: 'Devices' }), table('devices', deviceCols, o.devices));
	}

	async function health() {
		const runs = api('runs'); // a pass over every flow row: in parallel
		const o = await api('health');
		const m = o.metrics;
		const groups = [
			['rates: packets/s', ['packets_per_second'], fmtPps],
			['rates: bits/s', ['bytes_per_second'], (v) => fmtBits(v * 8), 8],
			['flows', ['active_flows', 'flows_stored'], fmtCount],
			['batch size', ['average_batch_size', 'current_batch_size'], fmtNum],
			['batch and drain time (ms)', ['average_batch_processing_ms', 'drain_ms'], fmtNum],
			['ratios', ['cache_hit_ratio', 'map_fill_ratio', 'database_error_ratio'], fmtNum],
			['fallbacks and drops', ['map_full_events', 'ringbuf_events', 'ringbuf_drops', 'overflow_packets', 'unattributed_packets', 'validation_errors'], fmtCount],
			['memory and WAL (MB)', ['memory_usage_mb', 'wal_size_mb'], fmtNum],
			['CPU %', ['cpu_usage_percent'], fmtNum],
			['pending batches', ['pending_batches'], fmtNum],
		];
		const grid = el('div', { class: 'grid', id: 'health-charts' });
		add(grid);
		let n = 0;
		for (const [title, names, fmt] of groups) {
			const box = el('div', { class: 'chart' });
			grid.append(box);
			const series = names.filter((k) => m[k]).map((k) => ({ name: k, values: m[k] }));
			const xs = o.t.map((x) => x / 1000);
			if (!series.length) continue;
			// eslint-disable-next-line no-undef
			new uPlot({
				title: title, width: Math.max(300, box.clientWidth - 20), height: 180, scales: { x: { time: true } },
				series: [{}].concat(series.map((s, i) => ({ label: s.name, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: true,
					value: (u, v) => fmt(v) }))),
				axes: [{}, { size: 90, values: (u, vals) => vals.map(fmt) }],
			}, [xs].concat(series.map((s) => s.values)), box);
			n++;
		}
		add(el('h2', { text: 'Runs and reconciliation' }));
		const runCols = [
			{ key: 'id', label: 'run', num: true },
			{ key: 'command', label: 'command' },
			{ key: 'pid', label: 'pid', num: true },
			{ key: 'started_ms', label: 'started', fmt: fmtTime },
			{ key: 'stopped_ms', label: 'stopped', fmt: fmtTime },
			{ key: 'seen_packets', label: 'packets seen', num: true, fmt: fmtNum },
			{ key: 'stored_packets', label: 'in flows', num: true, fmt: fmtNum },
			{ key: 'retired_packets', label: 'retired', num: true, fmt: fmtNum },
			{ key: 'status', label: 'reconciliation', cell: (r) => {
				if (r.seen_packets === null) return el('span', { class: 'muted', text: 'no metrics' });
				const diff = r.seen_packets - r.stored_packets - r.retired_packets;
				if (diff === 0) return el('span', { class: 'ok', text: 'reconciled' });
				if (r.stopped_ms === null) return el('span', { class: 'warn', text: diff + ' packets on their way (running, or it crashed)' });
				return el('span', { class: 'warn', text: 'differs by ' + diff + ' packets' });
			} },
		];
		add(table('runs', runCols, (await runs).runs));
		if (!n) add(el('p', { class: 'muted', text: 'no metrics in this window' }));
	}

	// ---- filters ----
	function setupFilters(info) {
		const sel = $('f-interface');
		for (const i of info.interfaces) sel.append(el('option', { value: i.name, text: i.name }));
		for (const k of ['interface', 'direction', 'protocol', 'addr', 'port', 'by']) {
			const e = $('f-' + k);
			if (e && params.get(k)) e.value = params.get(k);
		}
		const toLocal = (ms) => { const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000); return d.toISOString().slice(0, 19); };
		if (params.get('since') || params.get('until')) {
			$('f-last').value = 'custom';
			$('f-custom').hidden = false;
			$('f-since').value = toLocal(Number(params.get('since') || info.window.since));
			$('f-until').value = toLocal(Number(params.get('until') || info.window.until));
		} else if (params.get('last')) {
			$('f-last').value = params.get('last');
		}
		$('f-last').addEventListener('change', () => {
			$('f-custom').hidden = $('f-last').value !== 'custom';
			if (!$('f-custom').hidden && !$('f-since').value) {
				$('f-since').value = toLocal(info.window.since);
				$('f-until').value = toLocal(info.window.until);
			}
		});
		$('f-by-label').hidden = page !== 'overview';
		$('filters').addEventListener('submit', (ev) => {
			ev.preventDefault();
			const q = new URLSearchParams();
			if ($('f-last').value === 'custom') {
				const s = new Date($('f-since').value).getTime(), u = new Date($('f-until').value).getTime();
				if (isFinite(s)) q.set('since', String(s));
				if (isFinite(u)) q.set('until', String(u));
			} else {
				q.set('last', $('f-last').value);
			}
			for (const k of ['interface', 'direction', 'protocol', 'addr', 'port']) {
				const v = $('f-' + k).value.trim();
				if (v) q.set(k, v);
			}
			if (page === 'overview' && $('f-by').value !== 'protocol') q.set('by', $('f-by').value);
			location.search = q.toString();
		});
		for (const a of document.querySelectorAll('#nav a')) {
			if (a.dataset.page === page) a.classList.add('active');
			a.href = link(a.getAttribute('href'), {}); // the filters go along
		}
	}

	async function main() {
		let info;
		try {
			info = await api('info');
		} catch (e) {
			showError(e.message);
			return;
		}
		setupFilters(info);
		$('footer').textContent = info.db + ' · schema version ' + info.schema_version + ' · window ' +
			fmtTime(info.window.since) + ' – ' + fmtTime(info.window.until) +
			(info.first_ms !== null ? ' · flows from ' + fmtTime(info.first_ms) + ' to ' + fmtTime(info.last_ms) : ' · no flows yet');
		try {
			await { overview, talkers, flows, host, devices, health }[page]();
			document.body.dataset.state = 'ready';
		} catch (e) {
			showError(e.message);
		}
	}
	main();
})();
