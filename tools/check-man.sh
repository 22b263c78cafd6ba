#!/usr/bin/env bash
# tools/check-man.sh: check that the man page and the binary's options agree.
#
# usage: tools/check-man.sh [FLOWMASTER] [MANPAGE]
#        (defaults: build/flowmaster and flowmaster.8 in the repo root)
#
# The options come from one source, each command's option table, as
# `flowmaster COMMAND --list-options` prints it (one line per option:
# long, short, argument, kind, default, help; see user/lib/opts.h). For
# every command `flowmaster --help` lists, flowmaster.8 must have a
# subsection `.SS "flowmaster COMMAND"` that (1) documents, as a tagged
# paragraph (.TP), every option of the table with its short form, (2)
# states each default the table gives, as "default" and the value in that
# paragraph (for a value the machine decides, "from memory: N", "default"
# and "memory"), and (3) documents no option the table does not have.
# Every --option `flowmaster COMMAND --help` mentions (usage line, text)
# must be in the table too, and the SYNOPSIS must name every command.
# Needs only bash, grep, sed and awk. Exit status 0 when they agree, 1 with
# one line per disagreement otherwise, 2 for a usage error.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FM=${1:-$ROOT/${BUILD:-build}/flowmaster}
MAN=${2:-$ROOT/flowmaster.8}
(($# <= 2)) || { sed -n 's/^# usage: //p' "$0" >&2; exit 2; }
[[ -x $FM ]] || { echo "check-man: $FM: not built (run make)" >&2; exit 2; }
[[ -r $MAN ]] || { echo "check-man: $MAN: no such man page" >&2; exit 2; }

problems=0 nopts=0 ncmds=0
problem() { echo "check-man: $*"; problems=$((problems + 1)); }

# The page as plain text per line: roff escapes for dashes, fonts, zero
# width and quotes removed, macro lines kept as they are.
plain=$(sed -e 's/\\-/-/g' -e 's/\\(em/--/g' -e 's/\\(en/-/g' -e 's/\\f\[[^]]*\]//g' \
	-e 's/\\f[BIRP]//g' -e 's/\\&//g' -e 's/\\e/\\/g' -e 's/\\ / /g' -e 's/"//g' "$MAN")

# section NAME: the lines of `.SS flowmaster NAME` up to the next .SS/.SH.
section()
{
	awk -v want="flowmaster $1" '
		/^\.S[SH] / { t = $0; sub(/^\.S[SH] +/, "", t); on = ($1 == ".SS" && t == want); next }
		on' <<<"$plain"
}

# items: one line per tagged paragraph of a section on stdin,
# "TAG<TAB>BODY" with the body joined into one line.
items()
{
	awk '
		function out() { if (tag != "") print tag "\t" body; tag = ""; body = "" }
		/^\.TP/ { out(); want = 1; next }
		/^\.(SS|SH|PP|P|LP|RS|RE|IP)( |$)/ { out(); next }
		want { tag = $0; sub(/^\.[A-Z]+ +/, "", tag); want = 0; next }
		tag != "" { b = $0; sub(/^\.[A-Z]+ +/, "", b); body = body " " b }
		END { out() }'
}

synopsis=$(awk '/^\.SH / { on = ($2 == "SYNOPSIS"); next } on' <<<"$plain")
mapfile -t cmds < <("$FM" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }')
((${#cmds[@]})) || problem "'$FM --help' lists no commands"

for c in "${cmds[@]}"; do
	ncmds=$((ncmds + 1))
	grep -qE "(^|[^a-z])flowmaster +$c\b" <<<"$synopsis" || problem "SYNOPSIS does not show 'flowmaster $c'"
	sec=$(section "$c")
	if [[ -z $sec ]]; then
		problem "no subsection .SS \"flowmaster $c\""
		continue
	fi
	help=$("$FM" "$c" --help 2>&1) || { problem "'flowmaster $c --help' failed"; continue; }
	list=$("$FM" "$c" --list-options 2>&1) || { problem "'flowmaster $c --list-options' failed"; continue; }
	its=$(items <<<"$sec")
	tags=$(cut -f1 <<<"$its")
	longs=()

	while IFS=$'\t' read -r long short _arg _kind def _help; do
		[[ $long == --* ]] || { problem "flowmaster $c --list-options: bad line '$long'"; continue; }
		longs+=("$long")
		nopts=$((nopts + 1))
		it=$(grep -E -- "^[^	]*(^|[^-a-z0-9])$long([^-a-z0-9]|$)" <<<"$its" | head -n 1)
		if [[ -z $it ]]; then
			problem "flowmaster $c: $long has no .TP entry in the man page"
			continue
		fi
		tag=${it%%	*} body=${it#*	}
		if [[ $short != - ]] && ! grep -qE -- "(^|[^-a-zA-Z])$short([^-a-zA-Z]|$)" <<<"$tag"; then
			problem "flowmaster $c: $long's entry does not show its short form $short"
		fi
		if [[ $def != - ]]; then
			want=$def
			# "from memory: 1048576": the value is this machine's;
			# the page must say what it comes from.
			[[ $def =~ ^from\ ([a-z]+):\ [0-9]+$ ]] && want=${BASH_REMATCH[1]}
			if ! grep -qi 'default' <<<"$body" || ! grep -qiF -- "$want" <<<"$body"; then
				problem "flowmaster $c: $long: the default is '$def', the man page entry does not say so"
			fi
		fi
	done <<<"$list"

	# Every long option the help mentions, anywhere (usage line included),
	# is one the command has.
	while read -r o; do
		printf '%s\n' "${longs[@]}" | grep -qx -- "$o" ||
			problem "flowmaster $c: --help mentions $o, which is not one of its options"
	done < <(grep -oE -- '(^|[^-a-z])--[a-z][a-z0-9-]*' <<<"$help" | sed 's/^[^-]*//' | sort -u)

	# Nothing documented that the binary does not have.
	mapfile -t documented < <(grep -oE -- '(^|[^-a-z])--[a-z][a-z0-9-]*' <<<"$tags" | sed 's/^[^-]*//' | sort -u)
	for o in "${documented[@]}"; do
		printf '%s\n' "${longs[@]}" | grep -qx -- "$o" ||
			problem "flowmaster $c: the man page documents $o, which the command does not have"
	done
done

if ((problems)); then
	echo "check-man: $problems problem(s) between $MAN and the options of $FM"
	exit 1
fi
echo "check-man: ok: $nopts options of $ncmds commands in $(basename "$MAN") match the option tables"
