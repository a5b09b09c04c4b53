# Sourced by the installers: `apt_install COMMAND:PACKAGE ... PACKAGE ...` installs, with
# apt-get (through sudo when not root), the Debian package of every COMMAND that is not on
# PATH, and every bare PACKAGE that dpkg does not list as installed.
apt_install() {
    local missing=() pair
    for pair in "$@"; do
        case "$pair" in
        *:*) command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}") ;;
        *) [ "$(dpkg-query -W -f='${Status}' "$pair" 2>/dev/null)" = "install ok installed" ] \
            || missing+=("$pair") ;;
        esac
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        printf 'already installed: %s (skip)\n' "${*%%:*}"
        return 0
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        printf 'missing %s and no apt-get to install it: install it and re-run\n' "${missing[*]}" >&2
        return 1
    fi
    printf 'apt-get install %s\n' "${missing[*]}"
    local sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
