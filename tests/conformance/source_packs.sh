# shellcheck shell=bash
# Sourced by the oracles: `landing_packs BIN TARGET` prints the source packs (besides the
# default `aisigma`) that land on TARGET, one per line, as `aisigma sources` lists them.
landing_packs() {
    local bin=$1 target=$2 pack
    for pack in $("$bin" sources | awk '/^[a-z]/ { print $1 }'); do
        [ "$pack" = aisigma ] && continue
        "$bin" sources show "$pack" --target "$target" > /dev/null 2>&1 && echo "$pack"
    done
    return 0
}
