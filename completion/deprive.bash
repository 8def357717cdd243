# shellcheck shell=bash
# SPDX-License-Identifier: GPL-3.0-or-later
# bash completion for deprive(1).
#
# Nothing about the commands is written down here: the commands come from
# `deprive --list-commands` and each command's options from `deprive COMMAND --help`, asked of
# the deprive being completed (the first word of the line, so ./build/deprive completes its
# own options), so the completion cannot drift from the binary. Installed by meson as
# share/bash-completion/completions/deprive; tests/test_package.c checks it.

# The options before the command (src/cli/main.c parses them by hand, so --help cannot list
# them as option lines).
_deprive_globals='-q --quiet -v --verbose -h --help -V --version --list-commands'

# Values of the options that take a word from a fixed set (deprive wipe --help and the man page
# name them; tests/test_package.c checks that they still do).
_deprive_methods='nist-clear zero random dod-3'
_deprive_media_classes='hdd ssd flash unknown'

# _deprive_option_table BIN CMD: one line per option of CMD, "OPTION ARG" where ARG is the
# metavariable the help gives it (FILE, LIST, N, ...) or empty when it takes none. Parses the
# option lines of the help: indented, starting with '-', the options separated by ", " and
# ended by two spaces (or by a word that is not a metavariable).
_deprive_option_table()
{
    "$1" "$2" --help 2>/dev/null | awk '
        function flush(arg,    i) {
            for (i = 1; i <= nshort; i++)
                print shorts[i], arg
            nshort = 0
        }
        /^[ \t]+-/ {
            spec = $0
            sub(/^[ \t]+/, "", spec)
            cut = index(spec, "  ")
            if (cut > 0)
                spec = substr(spec, 1, cut - 1)
            n = split(spec, parts, /, */)
            nshort = 0
            for (p = 1; p <= n; p++) {
                m = split(parts[p], w, / +/)
                if (m < 1 || w[1] !~ /^--?[A-Za-z0-9][A-Za-z0-9-]*$/)
                    break
                arg = ""
                if (m >= 2 && w[2] ~ /^[A-Z][A-Z0-9_]*([.][A-Za-z]+)?(\.\.\.)?$/)
                    arg = w[2]
                if (w[1] ~ /^-[A-Za-z0-9]$/ && arg == "") {
                    shorts[++nshort] = w[1]
                    continue
                }
                flush(arg)
                print w[1], arg
            }
            flush("")
        }'
}

_deprive()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev="" bin=${COMP_WORDS[0]}
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    # the word as typed: a leading ~/ is not expanded yet
    # shellcheck disable=SC2088
    [[ $bin == "~/"* ]] && bin=$HOME/${bin#"~/"}
    COMPREPLY=()

    # the command: the first word after the global options
    local i cmd=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        if [[ ${COMP_WORDS[i]} != -* ]]; then
            cmd=${COMP_WORDS[i]}
            break
        fi
    done
    if [[ -z $cmd ]]; then
        local words
        if [[ $cur == -* ]]; then
            words=$_deprive_globals
        else
            words=$("$bin" --list-commands 2>/dev/null | awk '{ print $1 }')
        fi
        mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
        return 0
    fi

    local table
    table=$(_deprive_option_table "$bin" "$cmd")
    # --option=value: bash splits it into "--option" "=" "value"
    local opt=$prev
    if [[ $prev == "=" ]] && ((COMP_CWORD > 1)); then
        opt=${COMP_WORDS[COMP_CWORD - 2]}
    elif [[ $cur == "=" ]]; then
        opt=$prev
        cur=""
    fi
    local arg=""
    if [[ $opt == -* ]]; then
        arg=$(awk -v o="$opt" '$1 == o { print ($2 == "" ? "-" : $2); exit }' <<<"$table")
    fi
    if [[ -n $arg && $arg != "-" ]]; then
        case $opt in
        -m | --method)
            mapfile -t COMPREPLY < <(compgen -W "$_deprive_methods" -- "$cur")
            ;;
        --media-class)
            mapfile -t COMPREPLY < <(compgen -W "$_deprive_media_classes" -- "$cur")
            ;;
        *)
            case $arg in
            N | SIZE | VALUE | TEXT | NAME | ID | COMMENT | M) ;; # nothing to offer
            *)
                compopt -o filenames 2>/dev/null
                mapfile -t COMPREPLY < <(compgen -f -- "$cur")
                ;;
            esac
            ;;
        esac
        return 0
    fi
    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(awk '!seen[$1]++ { print $1 }' <<<"$table")" -- "$cur")
        return 0
    fi
    # operands: files and directories (ROOT, PLAN.json, CERT.json, FILE...)
    compopt -o filenames 2>/dev/null
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    return 0
}

complete -F _deprive deprive
