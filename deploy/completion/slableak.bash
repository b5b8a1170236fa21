# bash completion for slableak(8)                          -*- shell-script -*-
# Installed as /usr/share/bash-completion/completions/slableak.
# The option lists mirror `slableak CMD --help`; tests/ops/completion_test.sh
# checks that they stay in step with the binary.

_slableak_caches()
{
    # Cache names from /proc/slabinfo when readable (root), and the merged
    # names /sys/kernel/slab lists: slableak follows any of them.
    local names
    if [[ -r /proc/slabinfo ]]; then
        names=$(awk 'NR > 2 { print $1 }' /proc/slabinfo 2>/dev/null)
        names+=" $(ls /sys/kernel/slab 2>/dev/null | grep -v '^:')"
    fi
    if [[ -z $names ]]; then
        local s
        for s in 8 16 32 64 96 128 192 256 512 1k 2k 4k 8k; do
            names+=" kmalloc-$s kmalloc-cg-$s kmalloc-rcl-$s"
        done
        names+=" msg_msg-2k memdup_user-2k"
    fi
    printf '%s\n' $names
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
            COMPREPLY=($(compgen -W "$(_slableak_caches)" -- "$cur")); return ;;
        --method)
            COMPREPLY=($(compgen -W "auto kfunc slab derived" -- "$cur")); return ;;
        --by)
            COMPREPLY=($(compgen -W "none comm pid cgroup" -- "$cur")); return ;;
        -f | --format)
            COMPREPLY=($(compgen -W "table json folded svg html pprof" -- "$cur")); return ;;
        --sort)
            COMPREPLY=($(compgen -W "verdict bytes objects age growth" -- "$cur")); return ;;
        -d | --duration | --min-age | -i | --interval | -w | --window | --stack-idle | --push-interval)
            COMPREPLY=($(compgen -W "10s 30s 1m 5m 10m 30m 1h" -- "$cur")); return ;;
        --max-tracked)
            COMPREPLY=($(compgen -W "64k 256k 1M 4M" -- "$cur")); return ;;
        --sample-every)
            COMPREPLY=($(compgen -W "1 8 16 64 256" -- "$cur")); return ;;
        --max-stacks | --max-aggregates | --top | --top-stacks | --max-caches | --by-limit | --ready-fd)
            return ;;
        --textfile-dir | --capture-dir)
            COMPREPLY=($(compgen -d -- "$cur")); return ;;
        --capture-keep)
            COMPREPLY=($(compgen -W "5 10 30" -- "$cur")); return ;;
        --capture-max-bytes)
            COMPREPLY=($(compgen -W "64M 256M 1G" -- "$cur")); return ;;
        --capture-when-sunreclaim)
            COMPREPLY=($(compgen -W "20% 30% 50%" -- "$cur")); return ;;
        --capture-when-growth)
            COMPREPLY=($(compgen -W "256M/10m 512M/10m 1G/1h" -- "$cur")); return ;;
        --listen)
            COMPREPLY=($(compgen -W "127.0.0.1:" -- "$cur")); compopt -o nospace 2>/dev/null; return ;;
        --push-pprof)
            COMPREPLY=($(compgen -W "http://127.0.0.1:" -- "$cur")); compopt -o nospace 2>/dev/null; return ;;
    esac

    local opts
    case $cmd in
        "")
            if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "--help -h --version" -- "$cur"))
            else
                COMPREPLY=($(compgen -W "$commands" -- "$cur"))
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
            if [[ $cur != -* ]]; then COMPREPLY=($(compgen -f -X '!*.json' -- "$cur") $(compgen -d -- "$cur")); return; fi
            opts="--format -f --top --help -h" ;;
        captures)
            if [[ $cur != -* ]]; then COMPREPLY=($(compgen -d -- "$cur")); return; fi
            opts="--help -h" ;;
        caches)   opts="--help -h" ;;
        check)    opts="$tracing --help -h" ;;
    esac
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
} &&
complete -F _slableak slableak
