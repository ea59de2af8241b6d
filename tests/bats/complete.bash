#!/bin/bash
# complete.bash LINE: run mmutils' bash completion as bash would for the
# command line LINE (cursor at its end) and print the candidates, one per
# line; "compopt ARGS" calls go to standard error.
#
# Words are split as bash does with the default COMP_WORDBREAKS for what
# the tests type: at blanks, and "=" as a word of its own.
# Environment: MM_COMPLETION (the script), MM_BASH_COMPLETION (the main
# bash_completion script of the bash-completion package).

# shellcheck source=/dev/null
source "${MM_BASH_COMPLETION:-/usr/share/bash-completion/bash_completion}"
# shellcheck source=/dev/null
source "$MM_COMPLETION"

# Outside a real completion, compopt fails: record what was asked.
compopt() { printf 'compopt %s\n' "$*" >&2; }

COMP_LINE=$1
COMP_POINT=${#COMP_LINE}
COMP_WORDS=()
word=""
for ((k = 0; k < ${#COMP_LINE}; k++)); do
	c=${COMP_LINE:k:1}
	case $c in
	' ')
		[[ -n $word ]] && COMP_WORDS+=("$word")
		word=""
		;;
	'=')
		[[ -n $word ]] && COMP_WORDS+=("$word")
		COMP_WORDS+=("=")
		word=""
		;;
	*)
		word+=$c
		;;
	esac
done
if [[ -n $word ]]; then
	COMP_WORDS+=("$word")
elif [[ $COMP_LINE == *' ' ]]; then
	COMP_WORDS+=("")
fi
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))

# The function bash would call: the one registered for the command.
spec=$(complete -p "${COMP_WORDS[0]}" 2>/dev/null ||
    complete -p "${COMP_WORDS[0]##*/}") || exit 3
func=${spec#*-F }
func=${func%% *}
COMPREPLY=()
"$func" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" \
    "${COMP_WORDS[COMP_CWORD - 1]}"
[[ ${#COMPREPLY[@]} -eq 0 ]] || printf '%s\n' "${COMPREPLY[@]}"
