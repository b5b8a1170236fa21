# bash completion for slableak(8)                          -*- shell-script -*-
# Installed as /usr/share/bash-completion/completions/slableak.
# The option lists mirror `slableak CMD --help`; tests/ops/completion_test.sh
# checks that they stay in step with the binary.

_slableak_caches()
{
    # Cache names from /proc/slabinfo when readable (root), and the merged
    # names /sys/kernel/slab lists: slableak follows any of them.
    local -a names=()
    local n
    if [[ -r /proc/slabinfo ]]; then
        mapfile -t names < <(awk 'NR > 2 { print $1 }' /proc/slabinfo 2>/dev/null)
        for n in /sys/kernel/slab/*; do
            n=${n##*/}
            [[ $n == :* || $n == '*' ]] || names+=("$n")
        done
    fi
    if ((${#names[@]} == 0)); then
        for n in 8 16 32 64 96 128 192 256 512 1k 2k 4k 8k; do
            names+=("kmalloc-$n" "kmalloc-cg-$n" "kmalloc-rcl-$n")
        done
        names+=(msg_msg-2k memdup_user-2k)
    fi
    printf '%s\n' "${names[@]}"
}

# COMPREPLY from compgen ARGS... for the word being completed ($cur).
_slableak_reply()
{
    mapfile -t COMPREPLY < <(compgen "$@" -- "$cur")
}

_slableak()
{
    local cur prev words cword
    if declare -F _init_completion >/dev/null 2>&1; then
        _init_completion || return
    else
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD-1]}
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi

    local commands="snapshot top run diff export captures triage caches check"
    local tracing="--cache -c --max-tracked --sample-every --max-stacks --max-aggregates --stack-idle --method --by --by-limit --no-stack-cache --show-addresses --ready-fd"

    # The subcommand: the first word after "slableak" that is one.
    local cmd="" i
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            snapshot | top | run | diff | export | captures | triage | caches | check) cmd=${words[i]}; break ;;
        esac
    done

    # Values of options.
    case $prev in
        -c | --cache)
            _slableak_reply -W "$(_slableak_caches)"; return ;;
        --method)
            _slableak_reply -W "auto kfunc slab derived"; return ;;
        --by)
            _slableak_reply -W "none comm pid cgroup"; return ;;
        -f | --format)
            _slableak_reply -W "table json folded svg html pprof"; return ;;
        --sort)
            _slableak_reply -W "verdict bytes objects age growth"; return ;;
        -d | --duration | --min-age | -i | --interval | -w | --window | --stack-idle | --push-interval)
            _slableak_reply -W "10s 30s 1m 5m 10m 30m 1h"; return ;;
        --max-tracked)
            _slableak_reply -W "64k 256k 1M 4M"; return ;;
        --sample-every)
            _slableak_reply -W "1 8 16 64 256"; return ;;
        --max-stacks | --max-aggregates | --top | --top-stacks | --max-caches | --by-limit | --ready-fd)
            return ;;
        --textfile-dir | --capture-dir)
            _slableak_reply -d; return ;;
        --capture-keep)
            _slableak_reply -W "5 10 30"; return ;;
        --capture-max-bytes)
            _slableak_reply -W "64M 256M 1G"; return ;;
        --capture-when-sunreclaim)
            _slableak_reply -W "20% 30% 50%"; return ;;
        --capture-when-growth)
            _slableak_reply -W "256M/10m 512M/10m 1G/1h"; return ;;
        --listen)
            _slableak_reply -W "127.0.0.1:"; compopt -o nospace 2>/dev/null; return ;;
        --push-pprof)
            _slableak_reply -W "http://127.0.0.1:"; compopt -o nospace 2>/dev/null; return ;;
    esac

    local opts
    case $cmd in
        "")
            if [[ $cur == -* ]]; then
                _slableak_reply -W "--help -h --version"
            else
                _slableak_reply -W "$commands"
            fi
            return ;;
        snapshot) opts="$tracing --duration -d --min-age --top --format -f --sort --help -h" ;;
        top)      opts="$tracing --interval -i --top --sort --min-age --help -h" ;;
        export)   opts="$tracing --interval -i --textfile-dir --no-textfile --once --listen --top-stacks --capture-dir
                        --capture-keep --capture-max-bytes --no-capture-on-oom --capture-when-sunreclaim
                        --capture-when-growth --capture-on-leaking --push-pprof --push-interval --help -h" ;;
        triage)   opts="${tracing/--cache -c /} --window -w --max-caches --duration -d --top --format -f --sort --help -h" ;;
        run)      opts="$tracing --settle --only-command --min-age --top --format -f --sort --help -h" ;;
        diff)
            if [[ $cur != -* ]]; then mapfile -t COMPREPLY < <(compgen -f -X '!*.json' -- "$cur"; compgen -d -- "$cur"); return; fi
            opts="--format -f --top --help -h" ;;
        captures)
            if [[ $cur != -* ]]; then _slableak_reply -d; return; fi
            opts="--help -h" ;;
        caches)   opts="--help -h" ;;
        check)    opts="$tracing --help -h" ;;
    esac
    _slableak_reply -W "$opts"
} &&
complete -F _slableak slableak
